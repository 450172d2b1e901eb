// SPDX-License-Identifier: BSL-1.0
// netlite/detail/sys_common.hpp - what every platform's sys file shares and that calls no OS function:
// the clock, timeout arithmetic, the "would block" test. Included by sys.hpp before the platform file.
#pragma once

#include <netlite/deadline.hpp>
#include <netlite/result.hpp>

#include <cstddef>
#include <cstdint>
#include <netlite/detail/chrono.hpp>
#include <system_error>

// Keeps a slow path out of the caller so the inline fast path stays as small as the raw call.
#if defined(__GNUC__) || defined(__clang__)
#define NETLITE_NOINLINE [[gnu::noinline]]
#else
#define NETLITE_NOINLINE
#endif

namespace netlite::detail::sys {

using Clock = std::chrono::steady_clock;

inline Clock::time_point earlier(Clock::time_point a, Clock::time_point b) noexcept {
    return b < a ? b : a;
}

/// Milliseconds left until `deadline`, rounded up so poll never wakes early; 0 once it has passed (a
/// deadline of time_point::min() included); INT_MAX at most, so a wait for a farther deadline loops.
inline int remaining_ms(Clock::time_point deadline) noexcept {
    return saturating_ceil<std::chrono::duration<int, std::milli>>(time_left(deadline, Clock::now())).count();
}

/// poll's timeout argument for `deadline`; Clock::time_point::max() means none (-1).
inline int timeout_ms(Clock::time_point deadline) noexcept {
    return deadline == Clock::time_point::max() ? -1 : remaining_ms(deadline);
}

/// True when a wait whose OS call returned "nothing ready" must go on: its deadline lies beyond the
/// largest timeout the call takes (about 24.8 days of int milliseconds), which is not "timed out".
inline bool wait_goes_on(Clock::time_point deadline) noexcept {
    return deadline != Clock::time_point::max() && Clock::now() < deadline;
}

/// The most entries one cancellable wait (sys::poll_until) takes, on every platform: each primitive adds
/// the wake-up descriptor to a fixed array (poll's pollfd[65]; select's fd_set of 65 under Windows' 64).
inline constexpr std::size_t max_wait_entries = 64;

/// bad_file_descriptor when an entry is an empty socket's handle (-1, INVALID_SOCKET): poll(2) and select
/// skip such an entry, so without this a call on an empty (moved-from) socket would wait for nothing
/// instead of failing at once.
template <class Entry>
inline Result<void> refuse_empty(const Entry* entries, std::size_t count, const char* operation) noexcept {
    for (std::size_t i = 0; i < count; ++i)
        if (static_cast<std::intptr_t>(entries[i].fd) < 0)
            return fail(std::errc::bad_file_descriptor, operation);
    return {};
}

/// True for the errors a non-blocking call gives when it would have to wait.
inline bool would_block(const Error& error) noexcept {
    return error == std::errc::resource_unavailable_try_again || error == std::errc::operation_would_block;
}

/// A try_* call's outcome from a plain call's: the value, an empty `Optional` (std::optional<T>) when the
/// call would have had to wait (EAGAIN/EWOULDBLOCK), or any other error as it was.
template <class Optional, class T>
inline Result<Optional> unless_would_block(Result<T>&& result) noexcept {
    if (result) return Optional(std::move(*result));
    if (would_block(result.error())) return Optional();
    return fail(result.error());
}

/// A datagram received: bytes copied and the datagram's full size (larger when it was truncated).
struct DatagramSize {
    std::size_t copied;
    std::size_t full_size;
};

/// TCP keep-alive timing in whole seconds, as the platform's options take it.
struct KeepAliveTiming {
    int idle;
    int interval;
    int count;
};

/// SO_LINGER as netlite reads and writes it: whether close waits, and for how many seconds.
struct Linger {
    bool on;
    int seconds;
};

/// The portable part of a TCP connection's state (TCP_INFO and its relatives).
struct TcpInfoFields {
    std::chrono::microseconds rtt;  ///< smoothed round-trip time
    std::uint64_t retransmits;      ///< segments retransmitted over the connection's life
    std::uint64_t congestion_window_bytes;
};

/// Where a datagram was sent: the destination address in its IP header (port left 0) and the interface
/// it arrived on (0 when the platform does not say); `known` is false when no such record came with it.
/// (A template because the platform headers that declare sockaddr_storage come after this file: each
/// platform file names DatagramDestination = DatagramDestinationOf<sockaddr_storage>.)
template <class Storage>
struct DatagramDestinationOf {
    Storage address;
    unsigned interface_index;
    bool known;
};

/// Owns a list a C library allocated (getaddrinfo's, getifaddrs') and frees it with `Free` when it goes
/// out of scope, also when the code walking it throws (std::bad_alloc from a vector).
template <class T, auto Free>
class FreeOnExit {
public:
    explicit FreeOnExit(T* list) noexcept : list_(list) {}
    FreeOnExit(const FreeOnExit&) = delete;
    FreeOnExit& operator=(const FreeOnExit&) = delete;
    ~FreeOnExit() { Free(list_); }

private:
    T* list_;
};

}  // namespace netlite::detail::sys
