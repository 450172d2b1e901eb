// SPDX-License-Identifier: BSL-1.0
// netlite/detail/sys.hpp - the one operating-system interface every other netlite header includes.
//
// Each platform implements the same functions, with the same signatures, in its own file; this header only
// chooses the file. What needs no OS call lives in sys_common.hpp; what is built only on the platform's
// functions follows the choice below, so no platform repeats it.
//
//   sys_posix.hpp    Linux; with __APPLE__/BSD macros, or NETLITE_PORTABLE_POSIX, the macOS/BSD paths
//   sys_winsock.hpp  Windows (Winsock 2)
#pragma once

#include <netlite/deadline.hpp>
#include <netlite/detail/sys_common.hpp>
#include <netlite/result.hpp>

#include <cstddef>
#include <cstring>
#include <span>

#if defined(_WIN32)
#include <netlite/detail/sys_winsock.hpp>
#else
#include <netlite/detail/sys_posix.hpp>
#endif

namespace netlite::detail {
/// Fills `out` (room for sys::max_io_buffers) with the OS's vectored-I/O records (their layout differs
/// from Buffer's) for what one call can take: empty buffers are skipped (they would use up the OS's count
/// and make a call that moves nothing look like end of stream), at most sys::max_io_buffers records and
/// sys::max_io_bytes in all, the last one cut to fit. Returns how many records; 0 means no room at all.
template <class Buffer>
std::size_t to_iovecs(std::span<const Buffer> buffers, sys::io_buffer* out) noexcept {
    std::size_t count = 0;
    std::size_t room = sys::max_io_bytes;
    for (const Buffer& buffer : buffers) {
        if (count == sys::max_io_buffers || room == 0) break;
        if (buffer.size() == 0) continue;
        const std::size_t take = buffer.size() < room ? buffer.size() : room;
        out[count++] = sys::make_io_buffer(buffer.data(), take);
        room -= take;
    }
    return count;
}

/// to_iovecs() for the buffers of one datagram, which cannot be split across calls as a stream's bytes
/// can: more non-empty buffers than sys::max_io_buffers is EINVAL rather than a shorter datagram.
/// A send (`sending`) larger than sys::max_io_bytes is EMSGSIZE; a receive's room beyond it is unused.
/// Returns how many records (0: an empty datagram, or no room). Errors: EINVAL, EMSGSIZE.
template <class Buffer>
Result<std::size_t> datagram_iovecs(std::span<const Buffer> buffers, sys::io_buffer* out, bool sending,
                                    const char* operation) noexcept {
    std::size_t nonempty = 0;
    std::size_t total = 0;
    for (const Buffer& buffer : buffers) {
        if (buffer.size() == 0) continue;
        if (++nonempty > sys::max_io_buffers) return fail(std::errc::invalid_argument, operation);
        total += buffer.size() < sys::max_io_bytes ? buffer.size() : sys::max_io_bytes;
        if (sending && total > sys::max_io_bytes) return fail(std::errc::message_size, operation);
    }
    return to_iovecs(buffers, out);
}
}  // namespace netlite::detail

// --- built on the platform interface
// -----------------------------------------------------------------------------------------------------

namespace netlite::detail::sys {

/// Waits over `entries` (at most max_wait_entries) until one is ready (returns how many), `until`'s
/// deadline passes (timed_out) or its stop is requested (operation_canceled). POLLERR/POLLHUP count as
/// ready: the next call on that socket reports the reason. With no entries it sleeps. A stop is seen
/// through one more descriptor the platform's wait_entries() watches: the stop source's shared wake-up
/// (netlite::StopToken), or one of this wait's own, signalled by a stop callback. Errors: EBADF (an empty
/// handle), EINVAL (too many entries), the OS's, timed_out, operation_canceled.
inline Result<int> poll_until(poll_entry* entries, std::size_t count, const Until& until,
                              const char* operation) {
    if (auto valid = refuse_empty(entries, count, operation); !valid) return fail(valid.error());
    if (until.stop_requested()) return fail(std::errc::operation_canceled, operation);
    const auto wait_on = [&](native_handle wake) -> Result<int> {
        bool woken = false;
        auto ready = wait_entries(entries, count, wake, until.deadline(), woken, operation);
        if (!ready) return ready;
        if (woken || (wake != invalid_handle && until.stop_requested()))
            return fail(std::errc::operation_canceled, operation);
        if (*ready == 0) return fail(std::errc::timed_out, operation);
        return ready;
    };
    if (!until.stop_possible()) return wait_on(invalid_handle);
    const SharedWake shared = until.shared_wake();
    if (shared.error) return fail(Error(shared.error, operation));
    if (shared.handle >= 0) return wait_on(static_cast<native_handle>(shared.handle));
    WakeFd wake;  // declared before the callback, so it outlives a callback still running in another thread
    if (!wake.ok()) return fail(wake.error());
    const StopGuard on_stop(until,
                            StopWake{[](void* w) noexcept { static_cast<WakeFd*>(w)->signal(); }, &wake});
    return wait_on(wake.fd());
}

/// Waits until `fd` is ready for `events`, within `until`. Errors: poll_until's.
inline Result<void> wait(native_handle fd, short events, const Until& until, const char* operation) {
    poll_entry entry{fd, events, 0};
    if (auto ready = poll_until(&entry, 1, until, operation); !ready) return fail(ready.error());
    return {};
}

/// Runs `attempt(dont_wait)` and, while it would block, waits for `events` within `until` and tries
/// again: the call is tried before any poll, so a ready socket costs no extra system call. A forever
/// `until` runs `attempt(0)`, the plain blocking call. Errors: attempt's, timed_out, operation_canceled.
template <class Attempt>
auto when_ready(native_handle fd, short events, const Until& until, const char* operation, Attempt&& attempt)
    -> decltype(attempt(0)) {
    if (until.is_forever()) return attempt(0);
    if (until.stop_requested()) return fail(std::errc::operation_canceled, operation);
    for (bool polled = false;; polled = true) {
        auto result = attempt(dont_wait);
        if (result || !would_block(result.error())) return result;
        if (Clock::now() >= until.deadline()) return fail(std::errc::timed_out, operation);
        if (polled) {  // poll said ready, yet the call would block (e.g. an unconnected Unix datagram sender:
                       // poll cannot see the receiver's full queue): pause 5 ms rather than spin
            const auto pause = earlier(Clock::now() + std::chrono::milliseconds(5), until.deadline());
            auto slept = poll_until(nullptr, 0, until.with_deadline(pause), operation);
            if (!slept && slept.error() != std::errc::timed_out) return fail(slept.error());
        }
        if (auto ready = wait(fd, events, until, operation); !ready) return fail(ready.error());
    }
}

/// Whether a connect that went on in the background has finished, once `fd` polled writable: true when
/// connected; false when it goes on -- it had never begun and is started again here -- so wait for
/// writability and ask again. A never-connected socket polls writable (POLLOUT|POLLHUP) with SO_ERROR 0,
/// so SO_ERROR alone would report a connection that never happened: getpeername confirms it. Every connect
/// completes through this function: the blocking one, connect_until, Happy Eyeballs (tcp.hpp) and the
/// coroutine loop. Errors: the connect's own (SO_ERROR, or those of starting it again).
inline Result<bool> connect_finished(native_handle fd, const sockaddr* address, socklen size) noexcept {
    if (auto pending = connect_result(fd); !pending) return fail(pending.error());
    sockaddr_storage peer{};
    socklen peer_size = sizeof peer;
    auto named = peer_name(fd, reinterpret_cast<sockaddr*>(&peer), &peer_size);
    if (named) return true;
    if (named.error() != std::errc::not_connected) return fail(Error(named.error().code(), "connect"));
    return connect_start(fd, address, size);
}

/// Waits within `until` for a connect that connect_start() left in the background, and confirms it with
/// connect_finished(). Errors: the connect's, timed_out, operation_canceled.
inline Result<void> connect_wait(native_handle fd, const sockaddr* address, socklen size,
                                 const Until& until) {
    for (;;) {
        if (auto ready = wait(fd, poll_out, until, "connect"); !ready) return ready;
        auto done = connect_finished(fd, address, size);
        if (!done) return fail(done.error());
        if (*done) return {};
    }
}

/// Joins (or leaves) the multicast `group_address` (a sockaddr_in or sockaddr_in6 of `size` bytes) on
/// interface `interface_index`. The address is copied into a sockaddr_storage first, so no branch reads
/// past the caller's object (g++ -O3 checks what each would read through a smaller Address).
/// Errors: the platform's setsockopt errors (EADDRNOTAVAIL, EINVAL, ENODEV).
inline Result<void> multicast_membership(native_handle fd, const sockaddr* group_address, socklen size,
                                         unsigned interface_index, bool join) noexcept {
    sockaddr_storage storage{};
    std::memcpy(&storage, group_address,
                static_cast<std::size_t>(size) < sizeof storage ? size : sizeof storage);
    return multicast_group_option(fd, storage, interface_index, join);
}

/// Joins (or leaves) the multicast `group_address` for datagrams from `source_address` only (both
/// sockaddr_in or both sockaddr_in6, of `group_size` and `source_size` bytes) on interface
/// `interface_index`. Both are copied into sockaddr_storage first, as multicast_membership does.
/// Errors: EINVAL (the two are of different families), the platform's setsockopt errors,
/// operation_not_supported.
inline Result<void> source_multicast_membership(native_handle fd, const sockaddr* group_address,
                                                socklen group_size, const sockaddr* source_address,
                                                socklen source_size, unsigned interface_index,
                                                bool join) noexcept {
    const char* what = join ? "join_source_multicast" : "leave_source_multicast";
    if (group_address->sa_family != source_address->sa_family) return fail(std::errc::invalid_argument, what);
    sockaddr_storage group{};
    std::memcpy(&group, group_address,
                static_cast<std::size_t>(group_size) < sizeof group ? group_size : sizeof group);
    sockaddr_storage source{};
    std::memcpy(&source, source_address,
                static_cast<std::size_t>(source_size) < sizeof source ? source_size : sizeof source);
    return source_multicast_option(fd, group, source, interface_index, join);
}

}  // namespace netlite::detail::sys
