// SPDX-License-Identifier: BSL-1.0
// netlite/coro/connect.hpp - the connect races on the loop: async_connect_any (Happy Eyeballs over several
// addresses) and async_connect(host, port). Part of <netlite/coro.hpp>.
#pragma once

#include <netlite/coro/io.hpp>
#include <netlite/coro/loop.hpp>
#include <netlite/coro/scope.hpp>
#include <netlite/deadline.hpp>
#include <netlite/result.hpp>
#include <netlite/tcp.hpp>

#include <cstddef>
#include <cstdint>
#include <netlite/detail/chrono.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace netlite {

namespace detail::coro {
template <Family F>
struct ConnectRace {
    Scope* attempts = nullptr;
    std::optional<TcpStream<F>> winner;
    std::vector<ConnectAttempt<F>> failures;
    Error last{errc::no_addresses, "connect"};
};

/// `first + delay * index`, saturating: time_point::max() (never) when it would overflow, `first` for a
/// delay of zero or less. (A local helper: detail/chrono.hpp has no saturating arithmetic yet.)
inline Clock::time_point attempt_start(Clock::time_point first, std::chrono::milliseconds delay,
                                       std::size_t index) noexcept {
    if (delay <= std::chrono::milliseconds::zero() || index == 0) return first;
    const auto room = Clock::time_point::max() - first;  // first is now(): positive, no overflow
    const auto room_ms = std::chrono::duration_cast<std::chrono::milliseconds>(room);
    const auto times = static_cast<std::chrono::milliseconds::rep>(index);  // a count of addresses
    if (delay > room_ms / times) return Clock::time_point::max();
    return first + delay * times;
}

template <Family F>
Task<void> connect_attempt(Address<F> address, Clock::time_point start, Until until, ConnectRace<F>& race) {
    if (start > Clock::now()) {
        auto waited = co_await async_sleep(until.with_deadline(sys::earlier(start, until.deadline())));
        if (!waited) co_return;  // cancelled: another attempt won, or the whole race was stopped
    }
    auto stream = co_await async_connect(address, until);
    if (stream) {
        if (!race.winner) {
            race.winner.emplace(std::move(*stream));
            race.attempts->cancel();  // the others end with operation_canceled, and are not recorded
        }
    } else if (!race.winner && stream.error() != std::errc::operation_canceled) {
        race.failures.push_back(ConnectAttempt<F>{address, stream.error()});
        race.last = stream.error();
    } else if (!race.winner) {
        race.last = stream.error();
    }
}
}  // namespace detail::coro

/// Connects to the first of `addresses` that answers, racing them Happy-Eyeballs style (RFC 8305) on
/// the loop: families interleaved, attempt i starts i * `attempt_delay` after the first while the earlier
/// ones go on (unlike the blocking connect_any, a failure does not start the next attempt early), the
/// first to connect wins and the others are cancelled and closed; all within `until`. Allocates: a frame
/// per attempt. Errors: the last failure with every attempt in ConnectError::attempts();
/// errc::no_addresses; timed_out; operation_canceled.
template <Family F>
Task<Result<TcpStream<F>, ConnectError<F>>> async_connect_any(
    std::vector<Address<F>> addresses, Until until = {},
    std::chrono::milliseconds attempt_delay = TcpStream<F>::default_attempt_delay) {
    using Outcome = Result<TcpStream<F>, ConnectError<F>>;
    if (addresses.empty())
        co_return Outcome(unexpected<ConnectError<F>>(ConnectError<F>(Error(errc::no_addresses, "connect"))));
    Loop& loop = co_await current_loop();
    detail::coro::ConnectRace<F> race;
    Scope attempts(loop);
    race.attempts = &attempts;
    const auto order = detail::interleave_families<F>(addresses);
    const auto first = detail::coro::Clock::now();
    for (std::size_t i = 0; i < order.size(); ++i)
        attempts.spawn(detail::coro::connect_attempt<F>(
            order[i], detail::coro::attempt_start(first, attempt_delay, i), until, race));
    co_await attempts.join();
    if (race.winner) co_return Outcome(std::move(*race.winner));
    co_return Outcome(unexpected<ConnectError<F>>(ConnectError<F>(race.last, std::move(race.failures))));
}

/// Resolves `host` (blocking: the resolver has no readiness interface) and connects as
/// async_connect_any. Errors: resolve_category errors, then as async_connect_any.
template <Family F = IP>
requires InternetFamily<F> Task<Result<TcpStream<F>, ConnectError<F>>> async_connect(
    std::string host, std::uint16_t port, Until until = {},
    std::chrono::milliseconds attempt_delay = TcpStream<F>::default_attempt_delay) {
    auto addresses = resolve<F>(host, port);
    if (!addresses) co_return unexpected<ConnectError<F>>(ConnectError<F>(addresses.error()));
    co_return co_await async_connect_any<F>(std::move(*addresses), until, attempt_delay);
}

}  // namespace netlite
