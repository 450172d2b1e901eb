// netlite/deadline.hpp - Until: how long a blocking call may wait (a deadline, a timeout) and whether
// another thread may cancel it (a std::stop_token). Every blocking call has an overload taking one.
#pragma once

#include <netlite/detail/chrono.hpp>
#include <stop_token>
#include <utility>

namespace netlite {

/// When a blocking call gives up: at a deadline (std::errc::timed_out), when a stop is requested
/// (std::errc::operation_canceled), whichever comes first, or never (the default). Converts implicitly
/// from a duration (counted from now), a steady_clock time point and a std::stop_token, so
/// `stream.read(buffer, 2s)` and `listener.accept(stop.get_token())` read naturally.
class Until {
public:
    using Clock = std::chrono::steady_clock;

    /// Wait as long as it takes; not cancellable.
    Until() noexcept = default;
    /// Give up at `deadline` (a deadline already past still lets a call succeed if it need not wait).
    Until(Clock::time_point deadline) noexcept : deadline_(deadline), has_deadline_(true) {}
    /// Give up `timeout` from now. A negative or zero timeout means "only if it need not wait".
    template <class Rep, class Period>
    Until(std::chrono::duration<Rep, Period> timeout) noexcept : Until(from_now(timeout)) {}
    /// Give up when `stop` is requested.
    Until(std::stop_token stop) noexcept : stop_(std::move(stop)) {}
    /// Give up at `deadline` or when `stop` is requested, whichever is first.
    Until(Clock::time_point deadline, std::stop_token stop) noexcept
        : deadline_(deadline), stop_(std::move(stop)), has_deadline_(true) {}
    /// Give up `timeout` from now or when `stop` is requested, whichever is first.
    template <class Rep, class Period>
    Until(std::chrono::duration<Rep, Period> timeout, std::stop_token stop) noexcept
        : Until(from_now(timeout)) {
        stop_ =
            std::move(stop);  // from_now may give "no deadline" (a huge timeout): keep the stop either way
    }

    bool has_deadline() const noexcept { return has_deadline_; }
    /// The deadline; Clock::time_point::max() when there is none.
    Clock::time_point deadline() const noexcept {
        return has_deadline_ ? deadline_ : Clock::time_point::max();
    }
    const std::stop_token& stop_token() const noexcept { return stop_; }
    /// True when this waits forever and cannot be cancelled: the plain blocking call does the job.
    bool is_forever() const noexcept { return !has_deadline_ && !stop_.stop_possible(); }

private:
    // Durations too long to add to now() without overflow mean "no deadline".
    template <class Rep, class Period>
    static Until from_now(std::chrono::duration<Rep, Period> timeout) noexcept {
        constexpr auto century = std::chrono::hours(24 * 365 * 100);
        if (timeout > century) return Until();
        return Until(Clock::now() + std::chrono::ceil<Clock::duration>(timeout));
    }

    Clock::time_point deadline_{};
    std::stop_token stop_{};
    bool has_deadline_ = false;
};

}  // namespace netlite
