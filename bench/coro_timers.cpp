// SPDX-License-Identifier: BSL-1.0
// coro_timers [TRIPS [N...]]: how the coroutine loop's deadlines scale (issue 20). For each N (default
// 0 1000 10000 50000), N tasks park on async_sleep with random deadlines 1-2 h away (N idle connections
// with idle timeouts), then two tasks ping-pong one byte TRIPS times (default 20000) over a Unix stream
// pair, every read and write with its own random 1-2 h deadline. Prints microseconds per round trip and
// the ratio to N = 0. A timer structure that costs O(n) per park shows as a ratio growing with N.
// Instructions per round trip: run it under `valgrind --tool=callgrind` with TRIPS and 2*TRIPS and one N;
// the difference of the two totals divided by TRIPS is the cost of one round trip.
#include <netlite/coro.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

/// A deadline 1-2 h from now, at a random point (milliseconds apart).
class RandomDeadline {
public:
    Clock::time_point next() {
        return Clock::now() + std::chrono::hours(1) + std::chrono::milliseconds(spread_(rng_));
    }

private:
    std::mt19937_64 rng_{20};
    std::uniform_int_distribution<long> spread_{0, 3'600'000};
};

netlite::Task<> sleeper(netlite::Until until) {
    (void)co_await netlite::async_sleep(until);  // cancelled at the end
}

netlite::Task<> echo(netlite::TcpStream<netlite::Unix>& stream, std::size_t trips, RandomDeadline& deadline) {
    char byte = 0;
    const netlite::MutableBuffer buffer(&byte, 1);
    for (std::size_t i = 0; i < trips; ++i) {
        if (!co_await netlite::async_read_exact(stream, buffer, deadline.next())) std::abort();
        if (!co_await netlite::async_write_all(stream, buffer, deadline.next())) std::abort();
    }
}

netlite::Task<> ping(netlite::TcpStream<netlite::Unix>& stream, std::size_t trips, RandomDeadline& deadline) {
    char byte = 'x';
    const netlite::MutableBuffer buffer(&byte, 1);
    for (std::size_t i = 0; i < trips; ++i) {
        if (!co_await netlite::async_write_all(stream, buffer, deadline.next())) std::abort();
        if (!co_await netlite::async_read_exact(stream, buffer, deadline.next())) std::abort();
    }
}

/// Parks `parked` sleepers, then times `trips` round trips; gives microseconds per round trip.
netlite::Task<double> measure(std::size_t parked, std::size_t trips) {
    netlite::Loop& loop = co_await netlite::current_loop();
    RandomDeadline deadline;
    netlite::Scope sleepers(loop);
    for (std::size_t i = 0; i < parked; ++i) sleepers.spawn(sleeper(deadline.next()));
    auto pair = netlite::TcpStream<netlite::Unix>::pair();
    if (!pair) std::abort();
    const auto start = Clock::now();
    auto client = ping(pair->first, trips, deadline);
    auto server = echo(pair->second, trips, deadline);
    co_await netlite::when_all(std::move(client), std::move(server));
    const std::chrono::duration<double, std::micro> took = Clock::now() - start;
    sleepers.cancel();
    co_await sleepers.join();
    co_return took.count() / static_cast<double>(trips);
}

}  // namespace

int main(int argc, char** argv) {
    const std::size_t trips = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 20000;
    std::vector<std::size_t> counts;
    for (int i = 2; i < argc; ++i) counts.push_back(std::strtoull(argv[i], nullptr, 10));
    if (counts.empty()) counts = {0, 1000, 10000, 50000};
    auto loop = netlite::Loop::open();
    if (!loop) return 1;
    double base = 0;
    std::printf("%10s %14s %8s\n", "parked", "us/round trip", "ratio");
    for (const std::size_t parked : counts) {
        const double us = loop->run(measure(parked, trips));
        if (parked == 0) base = us;
        std::printf("%10zu %14.2f %8.2f\n", parked, us, base > 0 ? us / base : 0.0);
    }
}
