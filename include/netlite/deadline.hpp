// SPDX-License-Identifier: BSL-1.0
// netlite/deadline.hpp - Until: how long a blocking call may wait (a deadline, a timeout) and whether
// another thread may cancel it (a stop token). Every blocking call has an overload taking one.
//
// This header does not include <stop_token> (it alone costs more to compile than the rest of netlite):
// a stop token is stored type-erased, and <netlite/stop_token.hpp> supplies the std::stop_token hooks.
#pragma once

#include <netlite/detail/chrono.hpp>

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <new>
#include <system_error>
#include <type_traits>
#include <utility>

namespace netlite {

namespace detail {

/// Tag that makes netlite::detail an associated namespace of the hook calls below, so that hooks declared
/// later (netlite/stop_token.hpp) are found where the calls are instantiated.
struct StopHook {};

/// What a stopping thread calls to wake a cancellable wait.
struct StopWake {
    void (*wake)(void* context) noexcept;
    void* context;
    void operator()() const noexcept { wake(context); }
};

/// A stop token's own wake-up descriptor (netlite::StopToken has one per stop source): every wait on the
/// same source polls it, so a cancellable wait opens no descriptor of its own. It becomes readable when the
/// stop is requested and stays so.
struct SharedWake {
    std::intptr_t handle = -1;  // -1: the token has none, or `error` says why it could not be made
    std::error_code error{};
};

/// Room for a stop token (std::stop_token is one pointer) and for one registered stop callback.
inline constexpr std::size_t stop_token_capacity = 2 * sizeof(void*);
inline constexpr std::size_t stop_callback_capacity = 16 * sizeof(void*);

// Without netlite/stop_token.hpp (or hooks of your own for another token type), these are chosen and say so.
template <class Token>
void attach_stop(StopHook, const Token&, void*, StopWake) noexcept {
    static_assert(sizeof(Token) == 0,
                  "netlite: #include <netlite/stop_token.hpp> to cancel with a stop token");
}
template <class Token>
void detach_stop(StopHook, const Token&, void*) noexcept {
    static_assert(sizeof(Token) == 0,
                  "netlite: #include <netlite/stop_token.hpp> to cancel with a stop token");
}

/// True for a token type that offers a SharedWake (through a `shared_wake(StopHook, token)` hook).
template <class Token>
concept HasSharedWake = requires(const Token& token) {
    { shared_wake(StopHook{}, token) } -> std::same_as<SharedWake>;
};

/// A stop token type Until can hold: std::stop_token, or anything with the same two queries.
template <class T>
concept StopTokenLike = std::is_nothrow_copy_constructible_v<T> && requires(const T& token) {
    { token.stop_requested() } -> std::convertible_to<bool>;
    { token.stop_possible() } -> std::convertible_to<bool>;
} && sizeof(T) <= stop_token_capacity && alignof(T) <= alignof(void*);

/// The operations on a type-erased stop token.
struct StopOps {
    void (*copy)(void* to, const void* from) noexcept;
    void (*destroy)(void* token) noexcept;
    bool (*requested)(const void* token) noexcept;
    bool (*possible)(const void* token) noexcept;
    void (*attach)(const void* token, void* callback, StopWake wake) noexcept;
    void (*detach)(const void* token, void* callback) noexcept;
    SharedWake (*shared_wake)(const void* token) noexcept;
};

template <StopTokenLike Token>
struct StopOpsFor {
    static const Token& token(const void* p) noexcept { return *static_cast<const Token*>(p); }
    static void copy(void* to, const void* from) noexcept { ::new (to) Token(token(from)); }
    static void destroy(void* p) noexcept { static_cast<Token*>(p)->~Token(); }
    static bool requested(const void* p) noexcept { return token(p).stop_requested(); }
    static bool possible(const void* p) noexcept { return token(p).stop_possible(); }
    static void attach(const void* p, void* callback, StopWake wake) noexcept {
        attach_stop(StopHook{}, token(p), callback, wake);
    }
    static void detach(const void* p, void* callback) noexcept {
        detach_stop(StopHook{}, token(p), callback);
    }
    static SharedWake wake(const void* p) noexcept {
        if constexpr (HasSharedWake<Token>) {
            return shared_wake(StopHook{}, token(p));
        } else {
            return {};
        }
    }
    static constexpr StopOps ops{copy, destroy, requested, possible, attach, detach, wake};
};

class StopGuard;

}  // namespace detail

/// When a blocking call gives up: at a deadline (std::errc::timed_out), when a stop is requested
/// (std::errc::operation_canceled), whichever comes first, or never (the default). Converts implicitly
/// from a duration (counted from now), a steady_clock time point and a stop token, so
/// `stream.read(buffer, 2s)` and `listener.accept(stop.get_token())` read naturally. A std::stop_token
/// needs `#include <netlite/stop_token.hpp>`.
// Moving copies, on purpose: the token copy is small and cheap, and the source stays a valid Until.
// NOLINTNEXTLINE(cppcoreguidelines-special-member-functions)
class Until {
public:
    /// The clock of every deadline: steady, so changing the wall clock moves no deadline.
    using Clock = std::chrono::steady_clock;

    /// Wait as long as it takes; not cancellable.
    Until() noexcept = default;
    /// Give up at `deadline` (a deadline already past still lets a call succeed if it need not wait;
    /// time_point::min() is such a deadline, time_point::max() never comes).
    Until(Clock::time_point deadline) noexcept : deadline_(deadline), has_deadline_(true) {}
    /// Give up at `deadline`, a steady_clock time point of any duration type (seconds, std::pico, ...),
    /// rounded up to the clock's unit; one beyond the clock's range saturates to its min() or max().
    template <class Duration>
    Until(std::chrono::time_point<Clock, Duration> deadline) noexcept
        : Until(detail::to_steady_deadline(deadline)) {}
    /// Give up `timeout` from now. A negative or zero timeout (down to `min()`) means "only if it need not
    /// wait"; one that reaches beyond the clock's range (hours::max(), ...) means no deadline. Any period
    /// and representation, std::pico and floating point included (NaN counts as zero).
    template <class Rep, class Period>
    Until(std::chrono::duration<Rep, Period> timeout) noexcept : Until(from_now(timeout)) {}
    /// Give up when `stop` is requested.
    template <class Token>  // not Until itself, checked first: a copy must not ask whether Until is a token
    requires(!std::is_same_v<Token, Until> && detail::StopTokenLike<Token>) Until(const Token& stop)
    noexcept { hold(stop); }
    /// Give up at `deadline` or when `stop` is requested, whichever is first.
    template <detail::StopTokenLike Token>
    Until(Clock::time_point deadline, const Token& stop) noexcept : Until(deadline) {
        hold(stop);
    }
    /// Give up `timeout` from now or when `stop` is requested, whichever is first.
    template <class Rep, class Period, detail::StopTokenLike Token>
    Until(std::chrono::duration<Rep, Period> timeout, const Token& stop) noexcept : Until(from_now(timeout)) {
        hold(stop);  // from_now may give "no deadline" (a huge timeout): keep the stop either way
    }

    /// A copy has the same deadline and the same stop token.
    Until(const Until& other) noexcept
        : deadline_(other.deadline_), stop_(other.stop_), has_deadline_(other.has_deadline_) {
        if (stop_) stop_->copy(token_, other.token_);
    }
    /// Takes the deadline and stop token of `other`.
    Until& operator=(const Until& other) noexcept {
        if (this != &other) {
            release();
            deadline_ = other.deadline_;
            has_deadline_ = other.has_deadline_;
            stop_ = other.stop_;
            if (stop_) stop_->copy(token_, other.token_);
        }
        return *this;
    }
    ~Until() { release(); }

    /// True when there is a deadline (from a time point or a timeout).
    bool has_deadline() const noexcept { return has_deadline_; }
    /// The deadline; Clock::time_point::max() when there is none.
    Clock::time_point deadline() const noexcept {
        return has_deadline_ ? deadline_ : Clock::time_point::max();
    }
    /// True once a stop was requested through the stop token this holds.
    bool stop_requested() const noexcept { return stop_ != nullptr && stop_->requested(token_); }
    /// True when a stop can still be requested (this holds a token whose source is alive).
    bool stop_possible() const noexcept { return stop_ != nullptr && stop_->possible(token_); }
    /// True when this waits forever and cannot be cancelled: the plain blocking call does the job.
    bool is_forever() const noexcept { return !has_deadline_ && !stop_possible(); }
    /// The stop token's shared wake-up descriptor, if it has one (netlite::StopToken does); else handle -1.
    detail::SharedWake shared_wake() const noexcept {
        return stop_ != nullptr ? stop_->shared_wake(token_) : detail::SharedWake{};
    }
    /// The same stop token (if any) with `deadline` instead.
    Until with_deadline(Clock::time_point deadline) const noexcept {
        Until copy(*this);
        copy.deadline_ = deadline;
        copy.has_deadline_ = true;
        return copy;
    }

private:
    friend class detail::StopGuard;

    // Durations too long to add to now() without overflow mean "no deadline" (saturating arithmetic: no
    // comparison or sum here may overflow, whatever the period).
    template <class Rep, class Period>
    static Until from_now(std::chrono::duration<Rep, Period> timeout) noexcept {
        const Clock::time_point deadline = detail::deadline_after(timeout);
        if (deadline == Clock::time_point::max()) return Until();
        return Until(deadline);
    }
    template <class Token>
    void hold(const Token& stop) noexcept {
        ::new (static_cast<void*>(token_)) Token(stop);
        stop_ = &detail::StopOpsFor<Token>::ops;
    }
    void release() noexcept {
        if (stop_) stop_->destroy(token_);
        stop_ = nullptr;
    }

    Clock::time_point deadline_{};
    const detail::StopOps* stop_ = nullptr;  // null: no stop token
    alignas(void*) unsigned char token_[detail::stop_token_capacity];
    bool has_deadline_ = false;
};

namespace detail {

/// While it lives, a stop requested through `until` calls `wake` (in the stopping thread, or at once when
/// the stop was already requested). `until` must hold a stop token and outlive the guard.
class StopGuard {
public:
    StopGuard(const Until& until, StopWake wake) noexcept : until_(until) {
        until_.stop_->attach(until_.token_, callback_, wake);
    }
    StopGuard(const StopGuard&) = delete;
    StopGuard& operator=(const StopGuard&) = delete;
    ~StopGuard() { until_.stop_->detach(until_.token_, callback_); }

private:
    const Until& until_;
    alignas(std::max_align_t) unsigned char callback_[stop_callback_capacity];
};

}  // namespace detail

}  // namespace netlite
