// SPDX-License-Identifier: BSL-1.0
// netlite/detail/chrono.hpp - std::chrono's clocks, durations and time points, without the calendar,
// time-zone and formatting parts that make <chrono> one of the slowest standard headers to compile.
// (User code that writes 2s or 250ms includes <chrono> for the literals, as always.)
#pragma once

#include <netlite/detail/config.hpp>  // first: the C++20 floor, with a readable message

#include <version>  // defines __GLIBCXX__ when the standard library is libstdc++

#if defined(__GLIBCXX__) && __has_include(<bits/chrono.h>)
#include <bits/chrono.h>  // libstdc++ 11+: everything but the C++20 calendar and I/O
#else
#include <chrono>
#endif

#include <cstdint>
#include <limits>
#include <ratio>
#include <type_traits>

// netlite's one saturating time arithmetic. Every conversion of a caller's duration or time point, and
// every "deadline - now" or "now + timeout", goes through these, so that no value of any std::chrono
// type is undefined behaviour: what is beyond the target's range becomes its min() or max(), which the
// callers read as "already past: try once, do not wait" and "no limit".
namespace netlite::detail {

/// `value` in units of To, rounded up (a timeout never ends early) and clamped to [To::min(), To::max()].
/// Any representation (integer, unsigned, floating point: NaN counts as zero) and any period (std::pico,
/// hours, ...).
template <class To, class Rep, class Period>
To saturating_ceil(std::chrono::duration<Rep, Period> value) noexcept {
    using ToRep = typename To::rep;
    static_assert(std::is_integral_v<ToRep> && std::is_signed_v<ToRep>,
                  "netlite converts to signed integer durations only");
    static_assert(std::is_arithmetic_v<Rep>, "netlite takes durations of arithmetic representations");
    using Scale = std::ratio_divide<Period, typename To::period>;  // To's count = value's count * Scale
    constexpr std::intmax_t num = Scale::num;
    constexpr std::intmax_t den = Scale::den;
    constexpr std::intmax_t low = std::numeric_limits<ToRep>::min();
    constexpr std::intmax_t high = std::numeric_limits<ToRep>::max();
    const auto clamp = [](std::intmax_t count) { return To(static_cast<ToRep>(count)); };
    if constexpr (std::is_floating_point_v<Rep>) {
        const long double scaled = static_cast<long double>(value.count()) * num / den;
        if (scaled != scaled) return To::zero();  // NaN
        if (scaled >= static_cast<long double>(high)) return clamp(high);
        if (scaled <= static_cast<long double>(low)) return clamp(low);
        auto whole = static_cast<std::intmax_t>(scaled);  // toward zero, then up
        if (static_cast<long double>(whole) < scaled && whole < high) ++whole;
        return clamp(whole);
    } else {
        if constexpr (std::is_unsigned_v<Rep> && sizeof(Rep) >= sizeof(std::intmax_t))
            if (value.count() > static_cast<Rep>(std::numeric_limits<std::intmax_t>::max()))
                return clamp(high);
        const auto count = static_cast<std::intmax_t>(value.count());
        const std::intmax_t quotient = count / den;  // count = quotient * den + remainder
        const std::intmax_t remainder = count % den;
        if (quotient > high / num) return clamp(high);
        if (quotient < low / num) return clamp(low);
        std::intmax_t whole = quotient * num;  // in [low, high]
        if (remainder != 0) {                  // the fraction remainder * num / den, of magnitude below num
            std::intmax_t part = 0;
            if constexpr (num <= std::numeric_limits<std::intmax_t>::max() / den) {
                part = remainder * num / den + (remainder > 0 && remainder * num % den != 0 ? 1 : 0);
            } else {  // remainder * num would overflow (exotic periods only): the fraction in floating point
                const long double fraction = static_cast<long double>(remainder) * num / den;
                part = static_cast<std::intmax_t>(fraction);
                if (static_cast<long double>(part) < fraction) ++part;
            }
            if (part > 0 && whole > high - part) return clamp(high);
            if (part < 0 && whole < low - part) return clamp(low);
            whole += part;
        }
        return clamp(whole);
    }
}

/// `a + b` clamped to [D::min(), D::max()].
template <class D>
constexpr D saturating_plus(D a, D b) noexcept {
    using Rep = typename D::rep;
    constexpr Rep high = std::numeric_limits<Rep>::max();
    constexpr Rep low = std::numeric_limits<Rep>::min();
    if (b.count() > 0 && a.count() > high - b.count()) return D(high);
    if (b.count() < 0 && a.count() < low - b.count()) return D(low);
    return D(a.count() + b.count());
}

/// `base + amount` for a steady_clock deadline: time_point::max() (no limit) when the sum is beyond the
/// clock, time_point::min() (long past) when below it.
template <class Rep, class Period>
std::chrono::steady_clock::time_point saturating_add(std::chrono::steady_clock::time_point base,
                                                     std::chrono::duration<Rep, Period> amount) noexcept {
    using Clock = std::chrono::steady_clock;
    return Clock::time_point(
        saturating_plus(base.time_since_epoch(), saturating_ceil<Clock::duration>(amount)));
}

/// The steady_clock deadline `timeout` from now (see saturating_add): time_point::max() means none.
template <class Rep, class Period>
std::chrono::steady_clock::time_point deadline_after(std::chrono::duration<Rep, Period> timeout) noexcept {
    return saturating_add(std::chrono::steady_clock::now(), timeout);
}

/// A steady_clock time point of any duration type as the clock's own, rounded up and saturated.
template <class Duration>
std::chrono::steady_clock::time_point to_steady_deadline(
    std::chrono::time_point<std::chrono::steady_clock, Duration> deadline) noexcept {
    using Clock = std::chrono::steady_clock;
    return Clock::time_point(saturating_ceil<Clock::duration>(deadline.time_since_epoch()));
}

/// How long until `deadline`, seen at `now`: zero once it has passed, duration::max() for
/// time_point::max() (no limit) or a difference too large for the clock's duration.
inline std::chrono::steady_clock::duration time_left(std::chrono::steady_clock::time_point deadline,
                                                     std::chrono::steady_clock::time_point now) noexcept {
    using Duration = std::chrono::steady_clock::duration;
    if (deadline <= now) return Duration::zero();
    if (deadline == std::chrono::steady_clock::time_point::max()) return Duration::max();
    const auto until = deadline.time_since_epoch().count();
    const auto from = now.time_since_epoch().count();
    // until > from, so the difference is positive; it can exceed the duration only when `from` is negative.
    if (from < 0 && until > Duration::max().count() + from) return Duration::max();
    return Duration(until - from);
}

}  // namespace netlite::detail
