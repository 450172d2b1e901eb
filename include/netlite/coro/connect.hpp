// SPDX-License-Identifier: BSL-1.0
// netlite/coro/connect.hpp - the connect races on the loop: async_connect_any (Happy Eyeballs over several
// addresses, on the blocking race's schedule: detail/connect_race.hpp) and async_connect(host, port). Part
// of <netlite/coro.hpp>.
#pragma once

#include <netlite/coro/io.hpp>
#include <netlite/coro/loop.hpp>
#include <netlite/coro/operation.hpp>
#include <netlite/coro/scope.hpp>
#include <netlite/deadline.hpp>
#include <netlite/detail/connect_race.hpp>
#include <netlite/result.hpp>
#include <netlite/tcp.hpp>

#include <cstddef>
#include <cstdint>
#include <netlite/detail/chrono.hpp>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace netlite {

namespace detail::coro {
template <Family F>
class RacePause;

/// What the attempts of one async_connect_any share with the task that starts them.
template <Family F>
struct ConnectRace {
    ConnectRace(std::span<const Address<F>> addresses, std::chrono::milliseconds delay)
        : schedule(addresses, delay) {}
    AttemptSchedule<F> schedule;  // the same schedule as the blocking race (detail/connect_race.hpp)
    Scope* attempts = nullptr;
    RacePause<F>* pause = nullptr;  // the starting task, while it waits for the next address to be due
    bool changed = false;           // an attempt ended since the starting task last looked
    std::optional<TcpStream<F>> winner;
    std::vector<ConnectAttempt<F>> failures;
    Error last{errc::no_addresses, "connect"};

    /// An attempt ended (won or failed): wake the starting task if it waits.
    void ended() noexcept {
        changed = true;
        if (pause != nullptr && pause->state == Waiter::State::parked && pause->on_ready(pause))
            pause->loop->finish(pause);
    }
};

/// The starting task's wait: until the next address is due (its deadline), an attempt ends, or the race
/// is stopped or cancelled. Empty when it is time to look at the schedule again.
template <Family F>
class RacePause : public Operation<RacePause<F>> {
public:
    RacePause(ConnectRace<F>& race, const Until& until) noexcept
        : Operation<RacePause>("connect", no_handle, Interest::none, until), race_(&race) {
        race.pause = this;
    }
    RacePause(RacePause&& other) noexcept : Operation<RacePause>(other), race_(other.race_) {
        race_->pause = this;
    }
    RacePause(const RacePause&) = delete;
    RacePause& operator=(const RacePause&) = delete;
    RacePause& operator=(RacePause&&) = delete;
    ~RacePause() {
        if (race_->pause == this) race_->pause = nullptr;
    }
    bool attempt() noexcept {
        if (!std::exchange(race_->changed, false)) return false;
        result_.emplace();
        return true;
    }
    void fail_with(const Error& error) noexcept {
        if (error == std::errc::timed_out)
            result_.emplace();  // the next address is due (or the race's deadline passed: the caller looks)
        else
            result_.emplace(unexpected<Error>(error));
    }
    Result<void> await_resume() noexcept { return std::move(*result_); }

private:
    ConnectRace<F>* race_;
    std::optional<Result<void>> result_;
};

template <Family F>
Task<void> connect_attempt(Address<F> address, Until until, ConnectRace<F>& race) {
    auto stream = co_await async_connect(address, until);
    if (race.winner) co_return;  // lost: closed with `stream`, not recorded
    if (stream) {
        race.winner.emplace(std::move(*stream));
        race.attempts->cancel();  // the others end with operation_canceled, and are not recorded
    } else {
        if (stream.error() != std::errc::operation_canceled)
            race.failures.push_back(ConnectAttempt<F>{address, stream.error()});
        race.last = stream.error();
        race.schedule.failed(Clock::now());  // the next address is due at once
    }
    race.ended();
}
}  // namespace detail::coro

/// Connects to the first of `addresses` that answers, racing them Happy-Eyeballs style (RFC 8305) on
/// the loop with the blocking connect_any's schedule: families interleaved, the next attempt started
/// `attempt_delay` after the previous one while it is pending, or at once when an attempt fails (zero or
/// negative: all at once; milliseconds::max(): only when the previous one fails), at most 32 pending;
/// the first to connect wins and the others are cancelled and closed; all within `until`. Allocates: a
/// frame per attempt. Errors: the last failure with every attempt in ConnectError::attempts();
/// errc::no_addresses; timed_out; operation_canceled.
template <Family F>
Task<Result<TcpStream<F>, ConnectError<F>>> async_connect_any(
    std::vector<Address<F>> addresses, Until until = {},
    std::chrono::milliseconds attempt_delay = TcpStream<F>::default_attempt_delay) {
    using Outcome = Result<TcpStream<F>, ConnectError<F>>;
    using detail::coro::Clock;
    if (addresses.empty())
        co_return Outcome(unexpected<ConnectError<F>>(ConnectError<F>(Error(errc::no_addresses, "connect"))));
    Loop& loop = co_await current_loop();
    detail::coro::ConnectRace<F> race(addresses, attempt_delay);
    Scope attempts(loop);
    race.attempts = &attempts;
    for (;;) {
        while (!race.winner)  // an attempt may end (win or fail) inside spawn
            if (const Address<F>* next = race.schedule.start(Clock::now()))
                attempts.spawn(detail::coro::connect_attempt<F>(*next, until, race));
            else
                break;
        if (race.winner || !race.schedule.more()) break;  // the pending attempts decide
        const auto due = detail::sys::earlier(race.schedule.next_due(), until.deadline());
        auto paused = co_await detail::coro::RacePause<F>(race, until.with_deadline(due));
        if (!paused) {  // stopped, or this task was cancelled: so are the attempts
            race.last = paused.error();
            attempts.cancel();
            break;
        }
        if (until.has_deadline() && Clock::now() >= until.deadline()) break;  // the attempts time out too
    }
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
