// SPDX-License-Identifier: BSL-1.0
// netlite/detail/poll_types.hpp - the vocabulary of netlite/poll.hpp (Interest, Trigger, Token, Event),
// in a header of its own so that the backends in detail/poll_backends.hpp can use it. Include
// <netlite/poll.hpp>, not this.
#pragma once

#include <netlite/detail/config.hpp>  // first: the C++20 floor, with a readable message

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <limits>

namespace netlite {

/// What a registration waits for. Errors and hang-ups are always reported, even for `none`.
enum class Interest : std::uint8_t { none = 0, readable = 1, writable = 2, both = 3 };

/// Both interests: `Interest::readable | Interest::writable` is `Interest::both`.
constexpr Interest operator|(Interest a, Interest b) noexcept {
    return static_cast<Interest>(static_cast<std::uint8_t>(a) | static_cast<std::uint8_t>(b));
}
/// The interests in both `a` and `b`.
constexpr Interest operator&(Interest a, Interest b) noexcept {
    return static_cast<Interest>(static_cast<std::uint8_t>(a) & static_cast<std::uint8_t>(b));
}
/// True when `set` includes every bit of `part` (`part` none: always true).
constexpr bool includes(Interest set, Interest part) noexcept {
    return (set & part) == part;
}

/// How readiness is reported.
enum class Trigger : std::uint8_t {
    level,    ///< every wait() while the socket is ready (the default: nothing can be missed)
    edge,     ///< once per change: read/write until std::nullopt before waiting again (EpollPoller only)
    oneshot,  ///< once, then the registration is disarmed until modify() arms it again
};

/// The caller's name for a registration: an integer or a pointer, handed back in every Event.
class Token {
public:
    constexpr Token() noexcept = default;
    /// The token 0.
    constexpr Token(std::nullptr_t) noexcept {}
    /// An integer token (stored as 64 bits).
    template <std::integral I>
    constexpr Token(I value) noexcept : value_(static_cast<std::uint64_t>(value)) {}
    /// A pointer token; pointer<T>() gives it back.
    template <class T>
    Token(T* pointer) noexcept : value_(reinterpret_cast<std::uintptr_t>(pointer)) {}

    /// The token as an integer.
    constexpr std::uint64_t value() const noexcept { return value_; }
    /// The pointer this token was made from (as T*).
    template <class T>
    T* pointer() const noexcept {
        return reinterpret_cast<T*>(static_cast<std::uintptr_t>(value_));
    }
    /// Tokens are equal when their values are.
    friend constexpr bool operator==(Token, Token) noexcept = default;

    /// Used by the poller itself for its wake-up descriptor: add() refuses it (invalid_argument).
    static constexpr std::uint64_t reserved = std::numeric_limits<std::uint64_t>::max();

private:
    std::uint64_t value_ = 0;
};

/// One ready registration. `readable` also covers end of stream and a queued connection; `hangup` and
/// `error` come whatever the interest (the next read or write on the socket says what happened).
struct Event {
    /// The token the registration was made with.
    Token token{};
    /// Ready to read (data, end of stream, or a queued connection).
    bool readable = false;
    /// Ready to write.
    bool writable = false;
    bool hangup = false;  ///< the peer closed both directions (or the connection is gone)
    bool error = false;   ///< a pending socket error (take_error(), or the next call, reports it)
    /// The peer shut down its sending side (end of stream is queued). epoll only, with readable interest;
    /// false where the backend cannot tell (poll(2)).
    bool read_closed = false;
};

}  // namespace netlite
