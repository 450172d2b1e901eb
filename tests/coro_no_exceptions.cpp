// Built with -fno-exceptions and NETLITE_POLLER_USE_POLL: the coroutine layer needs no exception support
// and works over the poll(2) backend (the unit tests cover epoll). A loopback TCP pair, so it runs on
// Windows (WSAPoll) too.
#define NETLITE_POLLER_USE_POLL 1
#include <netlite/coro.hpp>
#include <netlite/testing.hpp>

#include <chrono>
#include <cstdio>
#include <cstring>

using namespace std::chrono_literals;

namespace {

using Stream = netlite::TcpStream<netlite::IPv4>;

netlite::Task<bool> echo_once(Stream& stream) {
    char buffer[4];
    auto got = co_await netlite::async_read_exact(stream, netlite::MutableBuffer(buffer, 4), 5s);
    if (!got) co_return false;
    auto sent = co_await netlite::async_write_all(stream, netlite::ConstBuffer(buffer, 4), 5s);
    co_return sent.has_value();
}

netlite::Task<bool> ping(Stream& stream) {
    co_await netlite::async_sleep(1ms);  // the echo side parks first
    if (!co_await netlite::async_write_all(stream, netlite::ConstBuffer("ping", 4), 5s)) co_return false;
    char reply[4];
    if (!co_await netlite::async_read_exact(stream, netlite::MutableBuffer(reply, 4), 5s)) co_return false;
    co_return std::memcmp(reply, "ping", 4) == 0;
}

netlite::Task<int> body(Stream& a, Stream& b) {
    auto [echoed, pinged] = co_await netlite::when_all(echo_once(a), ping(b));
    if (!echoed || !pinged) co_return 1;
    char buffer[8];
    auto late = co_await netlite::async_read(a, netlite::MutableBuffer(buffer, sizeof buffer), 20ms);
    if (late || late.error() != std::errc::timed_out) co_return 2;
    co_return 0;
}

}  // namespace

int main() {
    auto loop = netlite::Loop::open();
    auto pair = netlite::testing::loopback_pair<netlite::IPv4>();
    if (!loop || !pair) return std::puts("setup failed"), 1;
    const int status = loop->run(body(pair->first, pair->second));
    if (status != 0) std::printf("coro_no_exceptions: step %d failed\n", status);
    return status;
}
