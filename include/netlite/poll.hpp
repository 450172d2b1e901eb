// SPDX-License-Identifier: BSL-1.0
/// @file
/// netlite/poll.hpp - Poller: waits until any of many sockets is ready, for one-thread event loops.
///
/// A Poller holds registrations: a socket (or raw descriptor), what it waits for (Interest), a Token the
/// caller chooses (an integer or a pointer, given back with every event so the caller finds its connection
/// without a lookup) and a Trigger (level by default, edge or one-shot). wait() fills a caller-provided
/// span with the events that are ready. Pair it with the non-blocking try_read/try_write/try_accept/
/// try_recv_from/try_send_to of TcpStream, TcpListener and UdpSocket, which say "would block" with an
/// empty std::optional instead of an error.
///
/// Backends, same interface: EpollPoller (Linux epoll) and PollPoller (poll(2), portable). `Poller` is
/// EpollPoller on Linux and PollPoller elsewhere, or everywhere when NETLITE_POLLER_USE_POLL is defined
/// (to 1, or empty) before this header is included.
///
/// Lifetime rules (the same with both backends):
///  * remove() a socket before closing it: that is always right and costs one system call.
///  * Closing (or destroying) a registered socket is safe: the poller forgets it and reports no event for
///    it after the close; a socket that later gets the same descriptor number can be add()ed as new. (epoll
///    drops the registration in the kernel; PollPoller drops an entry whose descriptor is closed, and tells
///    a reused number from the old socket by its inode.) remove() of such a descriptor then fails with
///    ENOENT or EBADF and changes nothing.
///  * Exception, epoll: a registration belongs to the socket, not to the number. If the socket has another
///    descriptor (try_clone, fork), closing one of them does not unregister it: remove() it first.
///  * Events of one wait() are a snapshot: when handling one event frees another connection of the same
///    batch, its token still arrives later in that batch. Defer the free to the end of the batch.
///  * add/modify/remove/wait belong to one thread (the loop's); wake() may be called from any thread and
///    from a signal handler.
#pragma once

#include <netlite/detail/poll_backends.hpp>
#include <netlite/detail/poll_types.hpp>  // Interest, Trigger, Token, Event
#include <netlite/detail/sys.hpp>
#include <netlite/result.hpp>

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <netlite/detail/chrono.hpp>
#include <optional>
#include <span>
#include <utility>
#include <vector>

namespace netlite {

/// Anything with a native_handle(): every netlite socket.
template <class S>
concept Pollable = requires(const S& socket) {
    { socket.native_handle() } -> std::convertible_to<detail::sys::native_handle>;
};

/// What a Poller registers: a netlite socket or a native descriptor.
template <class S>
concept PollTarget = Pollable<S> || std::convertible_to<S, detail::sys::native_handle>;

namespace detail {
/// The descriptor of a PollTarget.
template <PollTarget S>
sys::native_handle handle_of(const S& target) noexcept {
    if constexpr (Pollable<S>)
        return target.native_handle();
    else
        return target;
}
}  // namespace detail

/// Wakes a Poller's wait() from another thread or a signal handler. Valid while its Poller lives
/// (moving the Poller keeps it valid); an empty Waker does nothing.
class Waker {
public:
    Waker() noexcept = default;
    /// A Waker that writes to `signal_fd` (made by Poller::waker()).
    explicit Waker(detail::sys::native_handle signal_fd) noexcept : signal_fd_(signal_fd) {}
    /// Async-signal-safe: one write(2). A wake() while nobody waits makes the next wait() return at once.
    void wake() const noexcept {
        if (signal_fd_ != detail::sys::invalid_handle) detail::sys::WakeFd::signal(signal_fd_);
    }

private:
    // The poller's wake-up descriptor, which moves with the poller.
    detail::sys::native_handle signal_fd_ = detail::sys::invalid_handle;
};

namespace detail {

/// Starts connecting `fd` to `address` without waiting (the socket is left non-blocking): true when it
/// connected at once, false when the connection goes on in the background (wait until the socket is
/// writable, then take_error() says how it ended). For readiness loops (netlite/coro.hpp).
/// Errors: as connect(2) (ECONNREFUSED, ENETUNREACH, EAGAIN for a Unix socket whose listener is full).
inline Result<bool> start_connect(sys::native_handle fd, const sockaddr* address,
                                  sys::socklen size) noexcept {
    if (auto ok = sys::set_nonblocking(fd, true); !ok) return fail(ok.error());
    return sys::connect_start(fd, address, size);  // EINTR: it goes on in the background
}

}  // namespace detail

/// A set of registrations and a wait for readiness (the lifetime rules are in poll.hpp's description).
/// Move-only; the destructor closes its descriptors (the registered sockets stay open). A moved-from
/// poller is empty: every call on it fails with bad_file_descriptor at once.
template <class Backend>
class BasicPoller {
public:
    /// A new, empty poller with its wake-up descriptor. Errors: EMFILE, ENFILE, ENOMEM.
    static Result<BasicPoller> open() {
        BasicPoller poller;
        if (auto ok = poller.backend_.open(); !ok) return fail(ok.error());
        if (!poller.wake_.ok()) return fail(poller.wake_.error());
        if (auto ok = poller.backend_.add(poller.wake_.fd(), Interest::readable, Token(Token::reserved),
                                          Trigger::level);
            !ok)
            return fail(ok.error());
        return poller;
    }

    /// Whether Trigger::edge is available (EpollPoller: yes; PollPoller: no).
    static constexpr bool supports_edge = Backend::supports_edge;

    /// Registers `target` (a netlite socket or a descriptor). Errors: EEXIST (already registered), EBADF
    /// (also for an empty socket), invalid_argument (the reserved token), operation_not_supported (edge with
    /// PollPoller), EPERM (epoll: a descriptor that cannot be polled).
    template <PollTarget S>
    Result<void> add(const S& target, Interest interest, Token token, Trigger trigger = Trigger::level) {
        return change(&Backend::add, detail::handle_of(target), interest, token, trigger);
    }
    /// Changes a registration (and re-arms a one-shot one). Errors: ENOENT (not registered), EBADF (also an
    /// empty socket), as add.
    template <PollTarget S>
    Result<void> modify(const S& target, Interest interest, Token token, Trigger trigger = Trigger::level) {
        return change(&Backend::modify, detail::handle_of(target), interest, token, trigger);
    }
    /// Unregisters `target`; no event for it comes after this. Errors: ENOENT (not registered), EBADF
    /// (closed, or an empty socket).
    template <PollTarget S>
    Result<void> remove(const S& target) {
        const auto fd = detail::handle_of(target);
        if (auto usable = check_handles(fd); !usable) return usable;
        if (fd == wake_.fd()) return fail(std::errc::invalid_argument, "poll");
        return backend_.remove(fd);
    }

    /// Waits until a registration is ready, `until` ends (a timeout or deadline: zero, negative or past
    /// means just look, one beyond the clock's range such as milliseconds::max() no limit; a stop token:
    /// operation_canceled) or wake() is called, and fills `events` with the ready ones (at most
    /// events.size(); the rest come next time). Returns how many: 0 at the deadline or after a wake-up;
    /// ready events come back even when a stop came with them (the next wait reports it). Signals do not
    /// end the wait. Errors: invalid_argument (empty `events`), bad_file_descriptor (a moved-from poller),
    /// operation_canceled, ENOMEM; EINTR never.
    Result<std::size_t> wait(std::span<Event> events, const Until& until = Until()) {
        if (events.empty()) return fail(std::errc::invalid_argument, "poll");
        if (!wake_.ok()) return fail(std::errc::bad_file_descriptor, "poll");  // a moved-from poller
        if (until.stop_requested()) return fail(std::errc::operation_canceled, "poll");
        if (!until.stop_possible()) return wait_until(events, until.deadline());
        const detail::StopGuard on_stop(until, detail::StopWake{wake_on_stop, &wake_});
        auto ready = wait_until(events, until.deadline());
        if (ready && *ready == 0 && until.stop_requested())
            return fail(std::errc::operation_canceled, "poll");
        return ready;
    }
    /// wait() with an optional timeout of any duration type, std::nullopt meaning no limit (the coroutine
    /// loop's form). Errors: as wait(events, until).
    template <class Rep, class Period>
    Result<std::size_t> wait(std::span<Event> events,
                             const std::optional<std::chrono::duration<Rep, Period>>& timeout) {
        return wait(events, timeout ? Until(*timeout) : Until());
    }
    /// wait() with no limit. Errors: as wait(events, until).
    Result<std::size_t> wait(std::span<Event> events, std::nullopt_t) { return wait(events, Until()); }

    /// Makes a wait() in progress (or the next one) return. Thread-safe and async-signal-safe.
    void wake() const noexcept {
        if (wake_.ok()) wake_.signal();
    }
    /// A handle for another thread or a signal handler to call wake() with; valid while this poller lives.
    Waker waker() const noexcept { return Waker(wake_.signal_fd()); }

private:
    BasicPoller() = default;

    static void wake_on_stop(void* wake) noexcept { static_cast<const detail::sys::WakeFd*>(wake)->signal(); }

    /// The wait itself: until `deadline` or wake(); the wake-up registration's own event is dropped.
    Result<std::size_t> wait_until(std::span<Event> events, detail::sys::Clock::time_point deadline) {
        auto ready = backend_.wait(events, deadline);
        if (!ready) return ready;
        std::size_t kept = 0;  // drop the wake-up registration's event, keep the order of the others
        for (std::size_t i = 0; i < *ready; ++i) {
            if (events[i].token.value() == Token::reserved) {
                detail::sys::drain(wake_.fd());
                continue;
            }
            if (kept != i) events[kept] = events[i];
            ++kept;
        }
        return kept;
    }

    // add() or modify() through `apply`, after the checks both need.
    template <class Apply>
    Result<void> change(Apply apply, detail::sys::native_handle fd, Interest interest, Token token,
                        Trigger trigger) {
        if (auto usable = check_handles(fd); !usable) return usable;
        if (token.value() == Token::reserved) return fail(std::errc::invalid_argument, "poll");
        return (backend_.*apply)(fd, interest, token, trigger);
    }

    /// bad_file_descriptor for an empty socket, or when this poller is empty (moved from): poll(2) would
    /// skip the one and wait on nothing for the other.
    Result<void> check_handles(detail::sys::native_handle fd) const noexcept {
        if (fd == detail::sys::invalid_handle || !wake_.ok())
            return fail(std::errc::bad_file_descriptor, "poll");
        return {};
    }

    Backend backend_;
    detail::sys::WakeFd wake_;  // a Waker keeps its descriptor, so it survives moving the poller
};

/// The default poller: EpollPoller on Linux, PollPoller elsewhere or with NETLITE_POLLER_USE_POLL.
using Poller = BasicPoller<detail::DefaultPollBackend>;

}  // namespace netlite
