// Boundaries of time and of empty objects (issue 18): every public call that takes a duration, an Until or
// a time point is tried with the extremes of every std::chrono period (generated: a template over the
// periods times a table of values), and every public type's calls are tried on an empty, moved-from
// object.
//
// What each value must do, for a call that has to wait because nothing arrives:
//   min(), -1, 0          a deadline already past: timed_out at once (well under a second)
//   1 of a unit below 1 s a deadline of at most 1 ms: timed_out, soon
//   1 of a unit >= 1 s,   a wait that has not ended when a stop token stops it 100 ms later:
//   operation_canceled max()                 (never "timed out at once", never a spin)
// A call on an empty object fails with bad_file_descriptor before any wait.
//
// A TCP listener that nobody accepts from, with backlog 0, stops answering once its queue is full: that is
// the "address that never answers" of the connect cases (where the system refuses instead, e.g. wine,
// those cases are skipped with a warning).
#include "catch.hpp"
#include "test_support.hpp"

#include <netlite/netlite.hpp>
#include <netlite/stop_source.hpp>
#include <netlite/testing.hpp>

#include <array>
#include <chrono>
#include <cstddef>
#include <limits>
#include <optional>
#include <ratio>
#include <string>
#include <system_error>
#include <thread>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

using namespace std::chrono_literals;
using netlite::Address;
using netlite::IPv4;
using netlite::TcpListener;
using netlite::TcpStream;
using netlite::UdpSocket;
using netlite::Until;
using Clock = std::chrono::steady_clock;

namespace {

// --- the generated cases --------------------------------------------------------------------------------

using Picoseconds = std::chrono::duration<long long, std::pico>;
using FloatSeconds = std::chrono::duration<double>;
using FloatMilliseconds = std::chrono::duration<float, std::milli>;
/// Every duration type a time parameter is tried with: a new one here reaches every call below.
using Durations = std::tuple<std::chrono::nanoseconds, std::chrono::microseconds, std::chrono::milliseconds,
                             std::chrono::seconds, std::chrono::minutes, std::chrono::hours, Picoseconds,
                             FloatSeconds, FloatMilliseconds>;

/// What a call that would have to wait must do with a value (see the file's comment).
enum class Expect { past, short_wait, long_wait };

template <class D>
struct Case {
    D value;
    const char* name;
    Expect expect;
};

/// The five values of D every time parameter gets, each with its promised outcome.
template <class D>
std::array<Case<D>, 5> cases_of() {
    constexpr bool unit_below_second = std::ratio_less_v<typename D::period, std::ratio<1>>;
    return {{{D::min(), "min()", Expect::past},
             {D(-1), "-1", Expect::past},
             {D::zero(), "0", Expect::past},
             {D(1), "1", unit_below_second ? Expect::short_wait : Expect::long_wait},
             {D::max(), "max()", Expect::long_wait}}};
}

constexpr auto at_once = 3s;        // "at once", with room for ASan, wine and a loaded machine
constexpr auto stop_after = 100ms;  // when a long wait is stopped

/// Requests a stop `stop_after` from now, from another thread; joins it on destruction.
class StopLater {
public:
    StopLater()
        : due_(Clock::now() + stop_after), thread_([this] {
              std::this_thread::sleep_for(stop_after);  // the time the call must survive
              source_.request_stop();
          }) {}
    StopLater(const StopLater&) = delete;
    StopLater& operator=(const StopLater&) = delete;
    ~StopLater() { thread_.join(); }
    netlite::StopToken token() const { return source_.get_token(); }
    /// No stop comes before this: a call that ended earlier did not wait for the stop.
    Clock::time_point due() const { return due_; }

private:
    netlite::StopSource source_;
    Clock::time_point due_;
    std::thread thread_;
};

/// The error of a Result of any type (an empty error_code when it holds a value).
template <class R>
std::error_code error_of(const R& result) {
    if (result) return {};
    return result.error().code();
}

struct Outcome {
    std::error_code error;
    Clock::duration elapsed;
    Clock::time_point end;
};

/// Runs `call(until)` and says how it ended, how long it took and when it returned.
template <class Call>
Outcome measure(Call& call, const Until& until) {
    const auto start = Clock::now();
    const std::error_code error = error_of(call(until));
    const auto end = Clock::now();
    return {error, end - start, end};
}

/// Checks the promise of `c` on `call`, a call that has to wait (nothing will arrive). `what` names it.
template <class D, class Call>
void check_wait(const std::string& what, const Case<D>& c, Call&& call) {
    INFO(what << " with " << c.name);
    if (c.expect == Expect::long_wait) {
        const StopLater stop;
        const Outcome stopped = measure(call, Until(c.value, stop.token()));
        INFO("error: " << stopped.error.message());
        CHECK(stopped.error == std::errc::operation_canceled);
        CHECK(stopped.end >= stop.due());
        return;
    }
    const Outcome plain = measure(call, Until(c.value));
    INFO("error: " << plain.error.message());
    CHECK(plain.error == std::errc::timed_out);
    CHECK(plain.elapsed < at_once);
    const netlite::StopSource never;  // the cancellable wait's path, with a stop that never comes
    const Outcome cancellable = measure(call, Until(c.value, never.get_token()));
    INFO("cancellable, error: " << cancellable.error.message());
    CHECK(cancellable.error == std::errc::timed_out);
    CHECK(cancellable.elapsed < at_once);
}

// --- sockets that make a call wait ----------------------------------------------------------------------

TcpListener<IPv4> idle_listener(int backlog = 16) {
    auto listener =
        TcpListener<IPv4>::bind(Address<IPv4>::loopback(0), netlite::ListenOptions{.backlog = backlog});
    REQUIRE_OK(listener);
    return std::move(*listener);
}

Address<IPv4> address_of(const TcpListener<IPv4>& listener) {
    auto address = listener.local_address();
    REQUIRE_OK(address);
    return *address;
}

/// Fills `stream`'s send buffer (and the peer's receive buffer) so that the next write has to wait. Fixed,
/// small buffer sizes keep it full: the kernel then grows neither buffer later.
void fill(TcpStream<IPv4>& stream, TcpStream<IPv4>& peer) {
    REQUIRE_OK(stream.set_send_buffer_size(4096));
    REQUIRE_OK(peer.set_recv_buffer_size(4096));
    static std::vector<char> chunk(64 * 1024, 'x');
    for (int i = 0; i < 4096; ++i) {
        auto sent = stream.try_write(netlite::ConstBuffer(chunk.data(), chunk.size()));
        REQUIRE_OK(sent);
        if (!*sent) return;
    }
    FAIL("the send buffer did not fill up after 256 MiB");
}

/// A listener with a full queue: a connect to it waits until its deadline. Empty where the system refuses
/// such a connect instead (then the connect cases are skipped).
struct DeadListener {
    TcpListener<IPv4> listener;
    std::vector<TcpStream<IPv4>> held;
    Address<IPv4> address;
};
std::optional<DeadListener> dead_listener() {
    DeadListener dead{idle_listener(0), {}, {}};
    dead.address = address_of(dead.listener);
    for (int i = 0; i < 256; ++i) {
        auto stream = TcpStream<IPv4>::connect(dead.address, 100ms);
        if (stream) {
            dead.held.push_back(std::move(*stream));
            continue;
        }
        if (stream.error() == std::errc::timed_out) return dead;
        WARN("a connect to a full listener fails with '" << stream.error().message()
                                                         << "' here, not by waiting: connect cases skipped");
        return std::nullopt;
    }
    WARN("the listener's queue did not fill up after 256 connections: connect cases skipped");
    return std::nullopt;
}

}  // namespace

// --- Until itself ---------------------------------------------------------------------------------------

TEMPLATE_LIST_TEST_CASE("Until: every period's extremes give a deadline in the past or none, never UB",
                        "[boundary][until]", Durations) {
    for (const auto& c : cases_of<TestType>()) {
        INFO(c.name);
        const auto before = Clock::now();
        const Until until(c.value);
        if (c.expect == Expect::past) {
            REQUIRE(until.has_deadline());
            CHECK(until.deadline() <= Clock::now());
        } else if (c.value == TestType::max()) {
            // Beyond the clock: no limit; within it (picoseconds::max() is 106 days), far away.
            CHECK((!until.has_deadline() || until.deadline() > before + 24h));
            if (!until.has_deadline()) CHECK(until.deadline() == Clock::time_point::max());
        } else {
            REQUIRE(until.has_deadline());
            CHECK(until.deadline() > before);
        }
    }
}

TEST_CASE("Until: a sub-nanosecond period keeps its deadline (200 ms in picoseconds)", "[boundary][until]") {
    const auto before = Clock::now();
    const Until until(Picoseconds(200'000'000'000LL));
    REQUIRE(until.has_deadline());  // was taken as "no deadline": the comparison with a century overflowed
    CHECK(until.deadline() >= before + 200ms);
    CHECK(until.deadline() <= Clock::now() + 200ms);
    const Until rounded(Picoseconds(1));  // rounded up to the clock's unit: never earlier than asked
    CHECK(rounded.deadline() > before);
}

TEST_CASE("Until: time points of any duration type, at their extremes", "[boundary][until]") {
    using Seconds = std::chrono::time_point<Clock, std::chrono::seconds>;
    using Hours = std::chrono::time_point<Clock, std::chrono::hours>;
    CHECK(Until(Clock::time_point::min()).deadline() == Clock::time_point::min());
    CHECK(Until(Seconds::min()).deadline() == Clock::time_point::min());
    CHECK(Until(Hours::min()).deadline() == Clock::time_point::min());
    CHECK(Until(Seconds::max()).deadline() == Clock::time_point::max());
    CHECK(Until(Hours::max()).deadline() == Clock::time_point::max());
    const auto soon = std::chrono::time_point_cast<std::chrono::seconds>(Clock::now()) + 3s;
    CHECK(Until(soon).deadline() == soon);  // exact where it fits
}

TEST_CASE("The saturating conversion: odd periods round up, exactly", "[boundary][until]") {
    using netlite::detail::saturating_ceil;
    using std::chrono::nanoseconds;
    using Thirds = std::chrono::duration<long long, std::ratio<1, 3>>;
    CHECK(saturating_ceil<nanoseconds>(Thirds(1)) == nanoseconds(333'333'334));
    CHECK(saturating_ceil<nanoseconds>(Thirds(-1)) == nanoseconds(-333'333'333));
    // A period whose ratio to nanoseconds has a numerator and denominator whose product overflows.
    using Odd = std::chrono::duration<long long, std::ratio<4'294'967'311, 4'294'967'296'000'000'000>>;
    CHECK(saturating_ceil<nanoseconds>(Odd(1)) == nanoseconds(2));
    CHECK(saturating_ceil<nanoseconds>(Odd(-1)) == nanoseconds(-1));
    CHECK(saturating_ceil<nanoseconds>(Odd(4'294'967'296)) == nanoseconds(4'294'967'311));
    CHECK(saturating_ceil<nanoseconds>(Odd::max()) == nanoseconds::max());
    CHECK(saturating_ceil<nanoseconds>(Odd::min()) == nanoseconds::min());
    using Unsigned = std::chrono::duration<unsigned long long, std::micro>;
    CHECK(saturating_ceil<nanoseconds>(Unsigned::max()) == nanoseconds::max());
    CHECK(saturating_ceil<std::chrono::duration<int, std::milli>>(std::chrono::hours::max()).count() ==
          std::numeric_limits<int>::max());
    CHECK(saturating_ceil<nanoseconds>(std::chrono::duration<double>(
              std::numeric_limits<double>::quiet_NaN())) == nanoseconds::zero());
    CHECK(saturating_ceil<nanoseconds>(std::chrono::duration<double>(-1e300)) == nanoseconds::min());
}

// --- every timed call, generated over the periods -------------------------------------------------------

TEMPLATE_LIST_TEST_CASE("Timed calls: stream, listener and datagram calls at every period's extremes",
                        "[boundary][calls]", Durations) {
    auto [client, server] = netlite_test::require_loopback_pair<IPv4>();  // nothing is sent to `server`
    auto [full, sink] = netlite_test::require_loopback_pair<IPv4>();      // `full` cannot send
    fill(full, sink);
    auto listener = idle_listener();
    auto udp = UdpSocket<IPv4>::bind(Address<IPv4>::loopback(0));
    REQUIRE_OK(udp);
    auto connected = UdpSocket<IPv4>::bind(Address<IPv4>::loopback(0));
    REQUIRE_OK(connected);
    const auto udp_address = udp->local_address();
    REQUIRE_OK(udp_address);
    REQUIRE_OK(connected->connect(*udp_address));
    char byte = 0;
    std::array<netlite::DatagramIn<IPv4>, 2> slots{
        {{netlite::MutableBuffer(&byte, 1)}, {netlite::MutableBuffer(&byte, 1)}}};
    for (const auto& c : cases_of<TestType>()) {
        check_wait("read", c,
                   [&](const Until& until) { return server.read(netlite::MutableBuffer(&byte, 1), until); });
        check_wait("read_exact", c, [&](const Until& until) {
            return server.read_exact(netlite::MutableBuffer(&byte, 1), until);
        });
        check_wait("write", c, [&](const Until& until) {
            fill(full, sink);  // still full
            return full.write(netlite::ConstBuffer(&byte, 1), until);
        });
        check_wait("accept", c, [&](const Until& until) { return listener.accept(until); });
        check_wait("recv_from", c, [&](const Until& until) {
            return udp->recv_from(netlite::MutableBuffer(&byte, 1), until);
        });
        check_wait("write_all", c, [&](const Until& until) {
            fill(full, sink);
            return full.write_all(netlite::ConstBuffer(&byte, 1), until);
        });
        check_wait("read_to_end", c, [&](const Until& until) { return server.read_to_end(until); });
        check_wait("recv (connected UDP)", c, [&](const Until& until) {
            return connected->recv(netlite::MutableBuffer(&byte, 1), until);
        });
        check_wait("recv_batch", c, [&](const Until& until) { return udp->recv_batch(slots, until); });
    }
}

TEMPLATE_LIST_TEST_CASE("Timed calls: connect and connect(host, port) at every period's extremes",
                        "[boundary][calls][connect]", Durations) {
    auto dead = dead_listener();
    if (!dead) return;
    const std::string host = dead->address.ip();
    for (const auto& c : cases_of<TestType>()) {
        check_wait("connect", c,
                   [&](const Until& until) { return TcpStream<IPv4>::connect(dead->address, until); });
        check_wait("connect(host, port)", c, [&](const Until& until) {
            return TcpStream<IPv4>::connect(host, dead->address.port(), until);
        });
    }
}

TEST_CASE("Timed calls: time points at the clock's extremes", "[boundary][calls]") {
    auto listener = idle_listener();
    auto [client, server] = netlite_test::require_loopback_pair<IPv4>();
    char byte = 0;
    const auto accept = [&](const Until& until) { return listener.accept(until); };
    const auto read = [&](const Until& until) {
        return server.read(netlite::MutableBuffer(&byte, 1), until);
    };
    for (const Clock::time_point past : {Clock::time_point::min(), Clock::now() - 1h}) {
        for (auto&& outcome : {measure(accept, Until(past)), measure(read, Until(past))}) {
            CHECK(outcome.error == std::errc::timed_out);
            CHECK(outcome.elapsed < at_once);
        }
    }
    {
        const StopLater stop;
        const Outcome forever = measure(accept, Until(Clock::time_point::max(), stop.token()));
        CHECK(forever.error == std::errc::operation_canceled);
        CHECK(forever.end >= stop.due());
    }
    const StopLater stop;
    const Outcome forever = measure(read, Until(Clock::time_point::max(), stop.token()));
    CHECK(forever.error == std::errc::operation_canceled);
    CHECK(forever.end >= stop.due());
}

TEST_CASE("Poller::wait: milliseconds' extremes and a wait of 300 years", "[boundary][poll]") {
    auto poller = netlite::Poller::open();
    REQUIRE_OK(poller);
    std::array<netlite::Event, 4> events{};
    for (const auto past : {std::chrono::milliseconds::min(), -1ms, 0ms, 1ms}) {
        const auto start = Clock::now();
        auto ready = poller->wait(events, past);
        REQUIRE_OK(ready);
        CHECK(*ready == 0);
        CHECK(Clock::now() - start < at_once);
    }
    for (const auto forever :
         {std::chrono::milliseconds::max(), std::chrono::milliseconds(std::chrono::hours(24 * 365 * 300))}) {
        INFO(forever.count() << " ms");
        const netlite::Waker waker = poller->waker();
        const auto start = Clock::now();
        std::thread later([&] {
            std::this_thread::sleep_for(stop_after);  // the time the wait must survive
            waker.wake();
        });
        auto ready = poller->wait(events, forever);  // returned 0 at once: now() + timeout overflowed
        const auto elapsed = Clock::now() - start;
        later.join();
        REQUIRE_OK(ready);
        CHECK(*ready == 0);
        CHECK(elapsed >= stop_after);  // `start` was taken before the waking thread started
    }
}

TEST_CASE("set_timeout and set_read_timeout at microseconds' and milliseconds' extremes",
          "[boundary][options]") {
    auto [client, server] = netlite_test::require_loopback_pair<IPv4>();
    for (const auto bad : {std::chrono::microseconds::min(), -1us, 0us}) {
        CHECK(error_of(server.set_read_timeout(bad)) == std::errc::invalid_argument);
        CHECK(error_of(server.set_write_timeout(bad)) == std::errc::invalid_argument);
    }
    for (const auto bad : {std::chrono::milliseconds::min(), -1ms, 0ms})
        CHECK(error_of(server.set_timeout(bad)) == std::errc::invalid_argument);

    REQUIRE_OK(server.set_read_timeout(1us));
    auto tiny = server.read_timeout();
    REQUIRE_OK(tiny);
    REQUIRE(tiny->has_value());
    CHECK(**tiny >= 1us);

    REQUIRE_OK(server.set_read_timeout(std::chrono::microseconds::max()));
    REQUIRE_OK(server.set_write_timeout(std::chrono::microseconds::max()));
    for (auto&& got : {server.read_timeout(), server.write_timeout()}) {
        REQUIRE_OK(got);
        if (!got->has_value()) continue;  // kept as "forever" (Linux's largest value reads back as off)
        INFO((*got)->count() << " us");
        CHECK(**got > 24h * 49);  // was negative: the getter's seconds + microseconds overflowed
    }

    // set_timeout(milliseconds::max()): the plain calls wait as long as it takes, here for a late peer.
    REQUIRE_OK(server.set_read_timeout(std::nullopt));
    REQUIRE_OK(server.set_timeout(std::chrono::milliseconds::max()));
    CHECK(server.timeout() == std::chrono::milliseconds::max());
    char byte = 0;
    const auto start = Clock::now();  // before the peer starts its clock
    std::thread peer([&client = client] {
        std::this_thread::sleep_for(stop_after);  // answers later: the read must still be waiting
        (void)client.write(netlite::ConstBuffer("!", 1));
    });
    auto got = server.read(netlite::MutableBuffer(&byte, 1));
    const auto elapsed = Clock::now() - start;
    peer.join();
    REQUIRE_OK(got);
    CHECK(*got == 1);
    CHECK(elapsed >= stop_after);
}

TEST_CASE("connect_any: the attempt delay at milliseconds' extremes", "[boundary][connect]") {
    auto dead = dead_listener();
    if (!dead) return;
    auto live = idle_listener();
    const std::array<Address<IPv4>, 2> addresses{dead->address, address_of(live)};
    // At once (or 1 ms later) the second, live address is tried and wins.
    for (const auto soon : {std::chrono::milliseconds::min(), -1ms, 0ms, 1ms}) {
        INFO(soon.count() << " ms");
        auto stream = TcpStream<IPv4>::connect_any(addresses, 5s, soon);
        CHECK_OK(stream);
    }
    // milliseconds::max(): the second address waits for the first to fail, which it never does.
    const StopLater stop;
    auto stream = TcpStream<IPv4>::connect_any(addresses, stop.token(), std::chrono::milliseconds::max());
    REQUIRE_FALSE(stream);  // connected at once: now() + delay overflowed, so the second started at once
    CHECK(stream.error() == std::errc::operation_canceled);
    CHECK(Clock::now() >= stop.due());
}

// --- empty (moved-from) objects -------------------------------------------------------------------------

namespace {

/// Checks that `call` on an empty object fails with bad_file_descriptor at once.
template <class Call>
void check_empty(const char* what, Call&& call) {
    INFO(what);
    const auto start = Clock::now();
    const std::error_code error = error_of(call());
    INFO("error: " << error.message());
    CHECK(error == std::errc::bad_file_descriptor);
    CHECK(Clock::now() - start < at_once);
}

/// Moves `real` away (into the returned object, which keeps the descriptor open) and leaves it empty:
/// the moved-from `real` is what the tests then call. REQUIREs that a socket left behind is not open.
template <class T>
T move_away(T& real) {
    T taken = std::move(real);
    if constexpr (requires { real.is_open(); })
        REQUIRE_FALSE(real.is_open());  // NOLINT(bugprone-use-after-move)
    return taken;
}

}  // namespace

TEST_CASE("Empty TcpListener: every call fails at once with bad_file_descriptor", "[boundary][empty]") {
    auto empty = idle_listener();
    const auto kept = move_away(empty);  // NOLINT(bugprone-use-after-move): `empty` is what is tested
    const StopLater stop;  // ends a wait that should not happen: the test then fails instead of hanging
    check_empty("accept()", [&] { return empty.accept(); });
    check_empty("accept(200ms)", [&] { return empty.accept(200ms); });  // waited 200 ms, then timed_out
    check_empty("accept(stop)", [&] { return empty.accept(stop.token()); });
    check_empty("accept(time_point::max())",
                [&] { return empty.accept(Until(Clock::time_point::max(), stop.token())); });
    check_empty("try_accept", [&] { return empty.try_accept(); });  // said "would block"
    std::vector<netlite::Accepted<IPv4>> out;
    check_empty("try_accept_batch", [&] { return empty.try_accept_batch(out); });  // returned 0
    CHECK(out.empty());
    {
        INFO("incoming(stop)");
        auto range = empty.incoming(stop.token());
        const auto start = Clock::now();
        CHECK(range.begin() == range.end());
        CHECK(range.error() == std::errc::bad_file_descriptor);
        CHECK(Clock::now() - start < at_once);
    }
    {
        INFO("incoming()");
        auto range = empty.incoming();
        CHECK(range.begin() == range.end());
        CHECK(range.error() == std::errc::bad_file_descriptor);
    }
    REQUIRE_OK(empty.set_timeout(200ms));
    check_empty("accept() after set_timeout", [&] { return empty.accept(); });
    check_empty("local_address", [&] { return empty.local_address(); });
    check_empty("try_clone", [&] { return empty.try_clone(); });
    check_empty("set_nonblocking", [&] { return empty.set_nonblocking(true); });
    check_empty("close", [&] { return empty.close(); });
}

TEST_CASE("Empty TcpStream: every call fails at once with bad_file_descriptor", "[boundary][empty]") {
    auto [empty, peer] = netlite_test::require_loopback_pair<IPv4>();
    const auto kept = move_away(empty);
    const StopLater stop;
    char byte = 0;
    const netlite::MutableBuffer in(&byte, 1);
    const netlite::ConstBuffer out(&byte, 1);
    check_empty("read", [&] { return empty.read(in); });
    check_empty("read(200ms)", [&] { return empty.read(in, 200ms); });
    check_empty("read(stop)", [&] { return empty.read(in, stop.token()); });
    check_empty("read(time_point::min())", [&] { return empty.read(in, Clock::time_point::min()); });
    check_empty("write", [&] { return empty.write(out); });
    check_empty("write(200ms)", [&] { return empty.write(out, 200ms); });
    check_empty("write_all", [&] { return empty.write_all(out); });
    check_empty("write_all(stop)", [&] { return empty.write_all(out, stop.token()); });
    check_empty("read_exact", [&] { return empty.read_exact(in); });
    check_empty("read_exact(200ms)", [&] { return empty.read_exact(in, 200ms); });
    check_empty("peek", [&] { return empty.peek(in); });
    check_empty("try_read", [&] { return empty.try_read(in); });
    check_empty("try_write", [&] { return empty.try_write(out); });
    check_empty("read_to_end(stop)", [&] { return empty.read_to_end(stop.token()); });
    check_empty("shutdown", [&] { return empty.shutdown(netlite::Shutdown::read); });
    check_empty("peer_address", [&] { return empty.peer_address(); });
    check_empty("try_clone", [&] { return empty.try_clone(); });
    check_empty("set_nodelay", [&] { return empty.set_nodelay(true); });
    check_empty("set_read_timeout", [&] { return empty.set_read_timeout(1s); });
    check_empty("read_timeout", [&] { return empty.read_timeout(); });
    check_empty("take_error", [&] { return empty.take_error(); });
    REQUIRE_OK(empty.set_timeout(200ms));
    check_empty("read after set_timeout", [&] { return empty.read(in); });
    check_empty("write after set_timeout", [&] { return empty.write(out); });
}

TEST_CASE("Empty UdpSocket: every call fails at once with bad_file_descriptor", "[boundary][empty]") {
    auto bound = UdpSocket<IPv4>::bind(Address<IPv4>::loopback(0));
    REQUIRE_OK(bound);
    const auto to = bound->local_address();
    REQUIRE_OK(to);
    UdpSocket<IPv4>& empty = *bound;
    const auto kept = move_away(empty);
    const StopLater stop;
    char byte = 0;
    const netlite::MutableBuffer in(&byte, 1);
    const netlite::ConstBuffer out(&byte, 1);
    check_empty("send_to", [&] { return empty.send_to(out, *to); });
    check_empty("send_to(200ms)", [&] { return empty.send_to(out, *to, 200ms); });
    check_empty("recv_from", [&] { return empty.recv_from(in); });
    check_empty("recv_from(200ms)", [&] { return empty.recv_from(in, 200ms); });
    check_empty("recv_from(stop)", [&] { return empty.recv_from(in, stop.token()); });
    check_empty("connect", [&] { return empty.connect(*to); });
    check_empty("send", [&] { return empty.send(out); });
    check_empty("recv(200ms)", [&] { return empty.recv(in, 200ms); });
    check_empty("try_recv_from", [&] { return empty.try_recv_from(in); });
    check_empty("try_send_to", [&] { return empty.try_send_to(out, *to); });
    const std::array<netlite::DatagramOut<IPv4>, 1> outgoing{{{out, *to}}};
    check_empty("send_batch(200ms)", [&] { return empty.send_batch(outgoing, 200ms); });
    std::array<netlite::DatagramIn<IPv4>, 1> incoming{{{in}}};
    check_empty("recv_batch(200ms)", [&] { return empty.recv_batch(incoming, 200ms); });
    check_empty("set_broadcast", [&] { return empty.set_broadcast(true); });
}

TEMPLATE_TEST_CASE("Empty sockets and an empty Poller: every Poller call fails with bad_file_descriptor",
                   "[boundary][empty][poll]", netlite::Poller, netlite::PollPoller) {
    auto poller = TestType::open();
    REQUIRE_OK(poller);
    auto empty = idle_listener();
    const auto kept = move_away(empty);
    check_empty("add", [&] { return poller->add(empty, netlite::Interest::readable, 1); });
    check_empty("modify", [&] { return poller->modify(empty, netlite::Interest::readable, 1); });
    check_empty("remove", [&] { return poller->remove(empty); });  // PollPoller said "not registered"

    TestType& moved = *poller;
    auto gone = move_away(moved);
    auto listener = idle_listener();
    std::array<netlite::Event, 4> events{};
    check_empty("wait on a moved-from poller", [&] { return moved.wait(events, 200ms); });  // slept 200 ms
    check_empty("add to a moved-from poller",
                [&] { return moved.add(listener, netlite::Interest::readable, 1); });
    CHECK_OK(gone.add(listener, netlite::Interest::readable, 1));
}

// --- item 6: ending a blocked read from another thread, portably ---------------------------------------

TEST_CASE("A read blocked in another thread ends with a stop token, on every platform",
          "[boundary][cancel]") {
    // shutdown(read) from another thread wakes a blocked read on Linux only: Windows documents it for later
    // calls, not for one in progress (docs/platforms.md, Windows table). A stop token is the portable way.
    auto [client, server] = netlite_test::require_loopback_pair<IPv4>();
    const StopLater stop;
    char byte = 0;
    auto got = server.read(netlite::MutableBuffer(&byte, 1), stop.token());
    REQUIRE_FALSE(got);
    CHECK(got.error() == std::errc::operation_canceled);
    CHECK(Clock::now() >= stop.due());
    REQUIRE_OK(client.write(netlite::ConstBuffer("!", 1)));  // the stream stays usable
    auto after = server.read(netlite::MutableBuffer(&byte, 1), 5s);
    REQUIRE_OK(after);
    CHECK(*after == 1);
}
