// Deadlines, timeouts and cancellation (netlite::Until) on every blocking call, Socket::set_timeout, and
// Happy Eyeballs (TcpStream::connect_any): each call gives up no earlier than its deadline and within a
// loose bound after it, a stop_token releases a blocked thread within 100 ms, the socket stays usable
// afterwards, and no descriptor is left behind on any of these paths.
//
// A TCP or Unix listener that is never accepted from, with backlog 0, fills up after a connection or two;
// a further connect to it then hangs (the SYN is dropped; a Unix connect says EAGAIN): that is the
// "address that never answers". Set NETLITE_TEST_TIMINGS=1 to print the measured figures to stderr.
#include "catch.hpp"
#include "test_support.hpp"

#include <netlite/netlite.hpp>
#include <netlite/stop_source.hpp>
#include <netlite/stop_token.hpp>
#include <netlite/testing.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <future>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

using namespace std::chrono_literals;
using netlite::Address;
using netlite::ConstBuffer;
using netlite::Error;
using netlite::IP;
using netlite::IPv4;
using netlite::IPv6;
using netlite::ListenOptions;
using netlite::MutableBuffer;
using netlite::TcpListener;
using netlite::TcpStream;
using netlite::UdpSocket;
using netlite::Unix;
using netlite::Until;
using Clock = std::chrono::steady_clock;

// The cancelling side of these tests: std::stop_source natively; netlite::StopSource on Windows, where
// mingw-w64's libstdc++ 12 (no futex) can lose an atomic wait's wake-up, so that a std::stop_callback's
// destructor racing another thread's request_stop() waits forever (deadline_test hung under wine at 120 s).
// Both go through the same Until/StopTokenLike path in the library; stop_source_test covers netlite's own.
#if defined(_WIN32)
using StopSource = netlite::StopSource;
using StopToken = netlite::StopToken;
#else
using StopSource = std::stop_source;
using StopToken = std::stop_token;
#endif

namespace {

constexpr auto timeout = 300ms;  // the timeout the timing cases use
constexpr auto slack = 2s;       // how late after its deadline a call may give up (a loaded machine)
constexpr auto release_bound = 100ms;

double millis(Clock::duration d) {
    return std::chrono::duration<double, std::milli>(d).count();
}

/// Prints a measured figure when NETLITE_TEST_TIMINGS is set (for reports; the assertions do not need it).
void report(const std::string& what, Clock::duration took) {
    if (std::getenv("NETLITE_TEST_TIMINGS") != nullptr)
        std::fprintf(stderr, "timing: %s: %.1f ms\n", what.c_str(), millis(took));
}

/// Runs `call()`, returning its result and how long it took.
template <class Call>
auto timed(Call&& call) {
    const auto start = Clock::now();
    auto result = call();
    return std::pair{std::move(result), Clock::now() - start};
}

/// The result is timed_out, and it came no earlier than `limit` and not much later.
template <class R>
void check_timed_out(const R& result, Clock::duration took, Clock::duration limit, const std::string& what) {
    report(what, took);
    INFO(what << ": took " << millis(took) << " ms, limit " << millis(limit) << " ms");
    REQUIRE_FALSE(result.has_value());
    INFO("error: " << result.error().message());
    CHECK(result.error() == std::errc::timed_out);
    CHECK(took >= limit);
    CHECK(took < limit + slack);
}

/// `wait(until)`, a call that may wait, gives up with timed_out three ways: `until` a timeout (after it),
/// a deadline (at it) and a deadline already past (at once). `what` names the call in the messages.
template <class Wait>
void check_times_out(Wait&& wait, const std::string& what) {
    auto [by_timeout, took] = timed([&] { return wait(timeout); });
    check_timed_out(by_timeout, took, timeout, what + ", 300 ms timeout");
    const auto deadline = Clock::now() + timeout;
    auto by_deadline = wait(deadline);
    check_timed_out(by_deadline, Clock::now() - deadline + timeout, timeout, what + ", deadline");
    auto [past, took_past] = timed([&] { return wait(Clock::now() - 1s); });
    CHECK_FAILS_WITH(past, std::errc::timed_out);
    CHECK(took_past < 100ms);
}

/// Waits (bounded) until `fd` has something to read: the ready signal before a "data already there" case.
bool wait_readable(netlite_test::handle fd) {
    auto poller = netlite::PollPoller::open();
    if (!poller || !poller->add(fd, netlite::Interest::readable, netlite::Token(1))) return false;
    std::array<netlite::Event, 1> events;
    auto ready = poller->wait(events, 5000ms);
    return ready && *ready == 1;
}

// Skips a family-parameterised test when TestType's family is unavailable here: IPv6 switched off, or
// AF_UNIX missing (wine has none).
#define SKIP_UNAVAILABLE(F)                                                                   \
    SKIP_WITHOUT_IPV6(F)                                                                      \
    if constexpr (std::is_same_v<F, Unix>) {                                                  \
        if (!netlite::testing::available<Unix>())                                             \
            NETLITE_SKIP("Unix-domain sockets are not available here (wine has no AF_UNIX)"); \
    }

/// Where a listener or datagram socket of family F binds: loopback port 0, or a path in a private temp dir.
template <netlite::Family F>
class Place {
public:
    Place() {
        if constexpr (std::is_same_v<F, Unix>) {
            auto temp = netlite::testing::TempPath::create();
            REQUIRE_OK(temp);
            temp_.emplace(std::move(*temp));
        }
    }
    Address<F> address() const {
        if constexpr (std::is_same_v<F, Unix>)
            return temp_->address();
        else
            return netlite::testing::loopback<F>();
    }

private:
    std::optional<netlite::testing::TempPath> temp_;
};

template <netlite::Family F>
TcpListener<F> listen_at(const Address<F>& address, int backlog = SOMAXCONN) {
    auto listener = TcpListener<F>::bind(address, ListenOptions{.backlog = backlog});
    REQUIRE_OK(listener);
    return std::move(*listener);
}

template <netlite::Family F>
Address<F> where(const TcpListener<F>& listener) {
    auto address = listener.local_address();
    REQUIRE_OK(address);
    return *address;
}

template <netlite::Family F>
std::pair<TcpStream<F>, TcpStream<F>> stream_pair() {
    auto pair = netlite::testing::loopback_pair<F>();
    REQUIRE_OK(pair);
    return std::move(*pair);
}

template <netlite::Family F>
UdpSocket<F> udp_at(const Address<F>& address) {
    auto socket = UdpSocket<F>::bind(address);
    REQUIRE_OK(socket);
    return std::move(*socket);
}

/// An unbound socket to send to `receiver` with, and the receiver's address.
template <netlite::Family F>
std::pair<UdpSocket<F>, Address<F>> sender_for(const UdpSocket<F>& receiver) {
    auto to = receiver.local_address();
    REQUIRE_OK(to);
    auto sender = UdpSocket<F>::open_for(*to);
    REQUIRE_OK(sender);
    return {std::move(*sender), *to};
}

/// Connects to `address` (a listener nobody accepts from) until a connect hangs: its queue is then full and
/// every further connect waits until its deadline. Returns the connections that got in, to keep them open.
template <netlite::Family F>
std::vector<TcpStream<F>> fill_backlog(const Address<F>& address) {
    std::vector<TcpStream<F>> held;
    for (int i = 0; i < 256; ++i) {
        auto stream = TcpStream<F>::connect(address, 100ms);
        if (!stream) {
            INFO("connect: " << stream.error().message());
            REQUIRE(stream.error() == std::errc::timed_out);
            return held;
        }
        held.push_back(std::move(*stream));
    }
    FAIL("the listener's queue did not fill up after 256 connections");
    return held;
}

/// A listener with a full queue: connects to it hang. Keep the object alive while it is used.
template <netlite::Family F>
struct DeadListener {
    TcpListener<F> listener;
    std::vector<TcpStream<F>> held;
    Address<F> address;
};

template <netlite::Family F>
DeadListener<F> dead_listener(const Address<F>& at) {
    DeadListener<F> dead{listen_at(at, 0), {}, {}};
    dead.address = where(dead.listener);
    dead.held = fill_backlog(dead.address);
    return dead;
}

/// A one-shot latch: count_down() once, wait() until it was. Not std::latch: under mingw-w64 (libstdc++ 12,
/// no futex, so atomic waits go through its condvar-based waiter pool) a wait() hung under wine after the
/// only other thread had counted down and exited (seen in release_after_stop, intermittently).
class OneShotLatch {
public:
    void count_down() {
        {
            const std::lock_guard lock(mutex_);
            open_ = true;
        }
        opened_.notify_all();
    }
    void wait() {
        std::unique_lock lock(mutex_);
        opened_.wait(lock, [this] { return open_; });
    }

private:
    std::mutex mutex_;
    std::condition_variable opened_;
    bool open_ = false;
};

/// What a cancelled call returned and how long after request_stop() it did.
struct Release {
    Error error;
    Clock::duration latency;
};

/// Runs `call(token)` in a thread, lets it block, requests stop from this thread and measures the time from
/// request_stop() to the call's return. `call` returns the Error it failed with (an empty Error on success).
/// A machine under load may be slow once: up to 3 attempts while the release takes >= 100 ms.
template <class Call>
Release release_after_stop(Call call, const std::string& what) {
    Release last{Error(), Clock::duration::max()};
    for (int attempt = 0; attempt < 3; ++attempt) {
        StopSource source;
        OneShotLatch calling;
        Error error;
        Clock::time_point returned{};
        std::thread worker([&] {
            calling.count_down();
            error = call(source.get_token());
            returned = Clock::now();
        });
        calling.wait();
        // Not synchronisation: gives the worker time to block in the call, so the stop has to wake it.
        std::this_thread::sleep_for(150ms);
        const auto requested = Clock::now();
        source.request_stop();
        worker.join();
        last = Release{error, returned - requested};
        report(what + " (release after request_stop)", last.latency);
        if (last.latency < release_bound) break;
    }
    return last;
}

/// True when `result` failed with `code`.
template <class R, class Code>
bool failed_with(const R& result, Code code) {
    return !result.has_value() && result.error() == code;
}

template <class R>
Error error_of(const R& result) {
    return result ? Error() : Error(result.error());
}

void check_cancelled(const Release& release, const std::string& what) {
    INFO(what << ": released " << millis(release.latency)
              << " ms after request_stop(); error: " << release.error.message());
    CHECK(release.error == std::errc::operation_canceled);
    CHECK(release.latency >= Clock::duration::zero());  // it really waited for the stop
    CHECK(release.latency < release_bound);
}

std::string text(const char* data, std::size_t size) {
    return std::string(data, size);
}

/// REQUIREs that a read succeeded and CHECKs that the bytes it put in `buffer` are `expected`.
template <class R>
void check_read(const R& got, const char* buffer, std::string_view expected) {
    REQUIRE_OK(got);
    CHECK(text(buffer, *got) == expected);
}

}  // namespace

// --- deadlines and timeouts -----------------------------------------------------------------------------

TEMPLATE_TEST_CASE("connect gives up at its timeout while the listener's queue is full",
                   "[deadline][connect]", IPv4, IPv6, Unix) {
    SKIP_UNAVAILABLE(TestType)
    Place<TestType> place;
    auto dead = dead_listener(place.address());
    const int fds = open_fd_count();

    check_times_out([&](auto until) { return TcpStream<TestType>::connect(dead.address, until); }, "connect");
    CHECK(open_fd_count() == fds);  // the sockets of the failed attempts are closed

    // A listener that answers: the timed connect succeeds and leaves the stream in blocking mode.
    Place<TestType> other;
    auto alive = listen_at(other.address());
    auto stream = TcpStream<TestType>::connect(where(alive), 2s);
    REQUIRE_OK(stream);
    CHECK(stream->nonblocking() == netlite::Result<bool>(false));
}

TEMPLATE_TEST_CASE("accept gives up at its timeout and the listener accepts afterwards", "[deadline][accept]",
                   IPv4, IPv6, Unix) {
    SKIP_UNAVAILABLE(TestType)
    Place<TestType> place;
    auto listener = listen_at(place.address());

    auto [none, took] = timed([&] { return listener.accept(timeout); });
    check_timed_out(none, took, timeout, "accept, 300 ms timeout");
    auto [past, took2] = timed([&] { return listener.accept(Clock::now() - 1s); });
    CHECK_FAILS_WITH(past, std::errc::timed_out);
    CHECK(took2 < 100ms);

    auto client = TcpStream<TestType>::connect(where(listener));
    REQUIRE_OK(client);
    REQUIRE(wait_readable(listener.native_handle()));    // the connection is queued
    auto accepted = listener.accept(Clock::now() - 1s);  // a past deadline: fine when nothing need wait
    REQUIRE_OK(accepted);
    REQUIRE_OK(client->write_all("hi"));
    char buffer[8];
    auto got = accepted->stream.read(buffer, 2s);
    check_read(got, buffer, "hi");
}

TEMPLATE_TEST_CASE("read gives up at its timeout or deadline and the stream reads afterwards",
                   "[deadline][read]", IPv4, IPv6, Unix) {
    SKIP_UNAVAILABLE(TestType)
    auto [a, b] = stream_pair<TestType>();
    char buffer[64];

    check_times_out([&](auto until) { return a.read(buffer, until); }, "read");

    REQUIRE_OK(b.write_all("after the timeouts"));
    REQUIRE(wait_readable(a.native_handle()));
    auto got = a.read(buffer, Clock::now() - 1s);  // already there: a past deadline still reads it
    check_read(got, buffer, "after the timeouts");
    REQUIRE_OK(b.write_all("and plain"));
    got = a.read(buffer, 0ms);  // may or may not have arrived; if it has not, timed_out at once
    if (!got) {
        CHECK(got.error() == std::errc::timed_out);
        got = a.read(buffer, 5s);
    }
    check_read(got, buffer, "and plain");
}

TEMPLATE_TEST_CASE("read_exact reports the bytes that arrived before its deadline", "[deadline][read]", IPv4,
                   IPv6, Unix) {
    SKIP_UNAVAILABLE(TestType)
    auto [a, b] = stream_pair<TestType>();
    REQUIRE_OK(b.write_all("abc"));
    char buffer[10] = {};

    auto [partial, took] = timed([&] { return a.read_exact(buffer, timeout); });
    check_timed_out(partial, took, timeout, "read_exact, 300 ms timeout, 3 of 10 bytes");
    CHECK(partial.error().bytes_transferred() == 3);
    CHECK(text(buffer, 3) == "abc");

    REQUIRE_OK(b.write_all("0123456789"));
    auto whole = a.read_exact(buffer, 5s);
    REQUIRE_OK(whole);
    CHECK(text(buffer, 10) == "0123456789");
}

TEMPLATE_TEST_CASE("write and write_all give up when the peer never reads", "[deadline][write]", IPv4, IPv6,
                   Unix) {
    SKIP_UNAVAILABLE(TestType)
    auto [a, b] = stream_pair<TestType>();
    REQUIRE_OK(a.set_send_buffer_size(32 * 1024));
    REQUIRE_OK(b.set_recv_buffer_size(32 * 1024));
    std::vector<char> payload(32 * 1024 * 1024);
    for (std::size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<char>('a' + i % 23);

    auto [all, took] = timed([&] { return a.write_all(payload, timeout); });
    check_timed_out(all, took, timeout, "write_all of 32 MiB, 300 ms timeout, peer not reading");
    const std::size_t sent = all.error().bytes_transferred();
    INFO("write_all sent " << sent << " bytes before its deadline");
    CHECK(sent > 0);
    CHECK(sent < payload.size());

    // write: the peer's side may still take a little as its buffers settle; the first write that cannot
    // send anything for 300 ms times out.
    std::size_t total = sent;
    std::optional<std::pair<netlite::Result<std::size_t>, Clock::duration>> stuck;
    for (int i = 0; i < 1000 && !stuck; ++i) {
        auto attempt = timed([&] { return a.write(ConstBuffer(payload).advanced(total), timeout); });
        if (attempt.first)
            total += *attempt.first;
        else
            stuck.emplace(std::move(attempt));
    }
    REQUIRE(stuck.has_value());
    check_timed_out(stuck->first, stuck->second, timeout, "write, 300 ms timeout, buffers full");
    auto [past, took3] = timed([&] { return a.write("more", Clock::now() - 1s); });
    CHECK_FAILS_WITH(past, std::errc::timed_out);
    CHECK(took3 < 100ms);

    // Still usable: once the peer reads, the rest goes through, byte for byte.
    auto drained = std::async(std::launch::async, [&b = b, total] {
        std::string got(total + 4, '\0');
        auto done = b.read_exact(got, 30s);
        return done ? got : std::string("read_exact failed: ") + done.error().message();
    });
    REQUIRE_OK(a.write_all("tail", 30s));
    const std::string got = drained.get();
    REQUIRE(got.size() == total + 4);
    CHECK(std::equal(got.begin(), got.begin() + static_cast<std::ptrdiff_t>(total), payload.begin()));
    CHECK(got.substr(total) == "tail");
}

TEMPLATE_TEST_CASE("recv_from and recv give up at their timeout and receive afterwards", "[deadline][udp]",
                   IPv4, IPv6, Unix) {
    SKIP_UNAVAILABLE(TestType)
    Place<TestType> place;
    auto receiver = udp_at(place.address());
    auto [sender, to] = sender_for(receiver);
    char buffer[64];

    check_times_out([&](auto until) { return receiver.recv_from(buffer, until); }, "recv_from");

    REQUIRE_OK(sender.send_to("ping", to, 2s));
    REQUIRE(wait_readable(receiver.native_handle()));
    auto got = receiver.recv_from(buffer, Clock::now() - 1s);  // already there: a past deadline receives it
    REQUIRE_OK(got);
    CHECK(text(buffer, got->size) == "ping");

    // recv on a connected pair.
    std::optional<UdpSocket<TestType>> one, two;
    Place<TestType> place2;
    if constexpr (std::is_same_v<TestType, Unix>) {
        auto pair = netlite::UnixDatagram::pair();
        REQUIRE_OK(pair);
        one.emplace(std::move(pair->first));
        two.emplace(std::move(pair->second));
    } else {
        one.emplace(udp_at(place2.address()));
        two.emplace(std::move(sender));
        REQUIRE_OK(two->connect(*one->local_address()));
        REQUIRE_OK(two->send("hello"));  // binds two, so one can connect back to it
        REQUIRE_OK(one->recv_from(buffer, 5s));
        REQUIRE_OK(one->connect(*two->local_address()));
    }
    auto [quiet, took4] = timed([&] { return one->recv(buffer, timeout); });
    check_timed_out(quiet, took4, timeout, "recv (connected), 300 ms timeout");
    REQUIRE_OK(two->send("pong", 2s));
    auto got2 = one->recv(buffer, 5s);
    check_read(got2, buffer, "pong");
}

TEMPLATE_TEST_CASE("send_to and send give up while the receiver's queue is full", "[deadline][udp]", IPv4,
                   IPv6, Unix) {
    SKIP_UNAVAILABLE(TestType)
    Place<TestType> place;
    auto receiver = udp_at(place.address());
    auto [sender, to] = sender_for(receiver);
    const std::string datagram(1000, 'd');
    // Windows: 2 MB, past any socket buffer; 20000 sends take about 6 s under wine, where UDP drops.
    const int attempts = netlite_test::is_windows ? 2000 : 20000;
    int sent = 0;
    netlite::Result<std::size_t> last = 0;
    for (; sent < attempts; ++sent) {  // without waiting, until a send would have to wait
        last = sender.send_to(datagram, to, 0ms);
        if (!last) break;
    }
    if (last)
        NETLITE_SKIP(
            attempts << " datagrams went without the sender ever having to wait (UDP drops instead)");
    // Regression: poll says an unconnected Unix datagram sender is writable while the receiver's queue is
    // full; send_to used to retry at once, forever, even past its deadline.
    INFO("the queue took " << sent << " datagrams: " << last.error().message());
    REQUIRE(last.error() == std::errc::timed_out);

    auto [full, took] = timed([&] { return sender.send_to(datagram, to, timeout); });
    check_timed_out(full, took, timeout, "send_to, 300 ms timeout, receiver's queue full");
    char buffer[2000];
    auto got = receiver.recv_from(buffer, 5s);
    REQUIRE_OK(got);
    CHECK(got->size == datagram.size());
    REQUIRE_OK(sender.send_to(datagram, to, 5s));  // room again: it goes

    // The same through send on a connected socket (Unix datagram pair: the sender's poll sees the queue).
    if constexpr (std::is_same_v<TestType, Unix>) {
        auto pair = netlite::UnixDatagram::pair();
        REQUIRE_OK(pair);
        auto& [one, two] = *pair;
        for (int i = 0; i < 20000; ++i)
            if (!one.send(datagram, 0ms)) break;
        auto [full2, took2] = timed([&] { return one.send(datagram, timeout); });
        check_timed_out(full2, took2, timeout, "send (connected Unix datagram), 300 ms timeout");
        REQUIRE_OK(two.recv(buffer, 5s));
        REQUIRE_OK(one.send(datagram, 5s));
    }
}

TEST_CASE("Until converts from a duration, a time point, a stop_token and combinations", "[deadline]") {
    CHECK(Until().is_forever());
    CHECK_FALSE(Until().has_deadline());
    CHECK(Until().deadline() == Clock::time_point::max());

    const auto before = Clock::now();
    const Until in_a_second(1s);
    CHECK(in_a_second.has_deadline());
    CHECK(in_a_second.deadline() >= before + 1s);
    CHECK(in_a_second.deadline() <= Clock::now() + 1s);
    CHECK_FALSE(in_a_second.stop_possible());

    StopSource source;
    const Until both(1s, source.get_token());  // regression: this constructor did not compile
    CHECK(both.has_deadline());
    CHECK(both.stop_possible());
    CHECK_FALSE(both.stop_requested());
    CHECK_FALSE(both.is_forever());
    const Until point(before + 5s, source.get_token());
    CHECK(point.deadline() == before + 5s);
    CHECK(point.stop_possible());
    const Until just_stop(source.get_token());
    CHECK_FALSE(just_stop.has_deadline());
    CHECK_FALSE(just_stop.is_forever());

    // A timeout too long to add to now() means no deadline rather than an overflow into the past.
    const Until forever(std::chrono::hours::max());
    CHECK_FALSE(forever.has_deadline());
    const Until forever_or_stop(std::chrono::hours::max(), source.get_token());
    CHECK_FALSE(forever_or_stop.has_deadline());
    CHECK(forever_or_stop.stop_possible());

    // Copies and with_deadline share the stop token; a stop shows through all of them.
    const Until copy = both;  // NOLINT(performance-unnecessary-copy-initialization): the copy is the test
    Until assigned;
    assigned = just_stop;
    const Until moved_deadline = just_stop.with_deadline(before + 2s);
    CHECK(moved_deadline.deadline() == before + 2s);
    CHECK_FALSE(copy.stop_requested());
    source.request_stop();
    CHECK(both.stop_requested());
    CHECK(copy.stop_requested());
    CHECK(assigned.stop_requested());
    CHECK(moved_deadline.stop_requested());
    CHECK_FALSE(Until(1s).stop_requested());
    // Sub-millisecond timeouts are kept (rounded up), not dropped.
    const Until tiny(std::chrono::microseconds(10));
    CHECK(tiny.has_deadline());
}

TEMPLATE_TEST_CASE("a deadline combined with a stop_token: whichever comes first", "[deadline][cancel]", IPv4,
                   IPv6, Unix) {
    SKIP_UNAVAILABLE(TestType)
    auto [a, b] = stream_pair<TestType>();
    char buffer[16];
    StopSource never_stopped;
    auto [expired, took] = timed([&] { return a.read(buffer, Until(timeout, never_stopped.get_token())); });
    check_timed_out(expired, took, timeout, "read, 300 ms timeout + stop_token never stopped");

    const auto release = release_after_stop(
        [&a = a, &buffer](StopToken stop) { return error_of(a.read(buffer, Until(10s, stop))); },
        "read, 10 s timeout + stop_token");
    check_cancelled(release, "read(buffer, Until(10s, stop))");
}

// --- cancellation -----------------------------------------------------------------------------------------

TEMPLATE_TEST_CASE("request_stop releases a thread blocked in accept, and the listener accepts afterwards",
                   "[cancel][accept]", IPv4, IPv6, Unix) {
    SKIP_UNAVAILABLE(TestType)
    Place<TestType> place;
    auto listener = listen_at(place.address());
    const auto release = release_after_stop([&](StopToken stop) { return error_of(listener.accept(stop)); },
                                            "accept(stop_token)");
    check_cancelled(release, "accept(stop_token)");

    auto client = TcpStream<TestType>::connect(where(listener));
    REQUIRE_OK(client);
    StopSource unused;
    auto accepted = listener.accept(unused.get_token());
    REQUIRE_OK(accepted);
}

TEMPLATE_TEST_CASE("request_stop releases a thread blocked in connect", "[cancel][connect]", IPv4, IPv6,
                   Unix) {
    SKIP_UNAVAILABLE(TestType)
    Place<TestType> place;
    auto dead = dead_listener(place.address());
    const int fds = open_fd_count();
    const auto release = release_after_stop(
        [&](StopToken stop) { return error_of(TcpStream<TestType>::connect(dead.address, stop)); },
        "connect(stop_token)");
    check_cancelled(release, "connect(address, stop_token) to a full queue");
    CHECK(open_fd_count() == fds);
}

TEMPLATE_TEST_CASE("request_stop releases a thread blocked in read, and the stream reads afterwards",
                   "[cancel][read]", IPv4, IPv6, Unix) {
    SKIP_UNAVAILABLE(TestType)
    auto [a, b] = stream_pair<TestType>();
    char buffer[64];
    const auto release = release_after_stop(
        [&a = a, &buffer](StopToken stop) { return error_of(a.read(buffer, stop)); }, "read(stop_token)");
    check_cancelled(release, "read(buffer, stop_token)");

    REQUIRE_OK(b.write_all("still here"));
    StopSource unused;
    auto got = a.read(buffer, unused.get_token());
    check_read(got, buffer, "still here");
    // Nothing was lost or reordered by the cancelled call.
    REQUIRE_OK(a.write_all("and back"));
    auto back = b.read(buffer, 5s);
    check_read(back, buffer, "and back");
}

TEMPLATE_TEST_CASE("recv_batch and send_batch take an Until, and the plain recv_batch follows set_timeout",
                   "[deadline][cancel][udp][batch]", IPv4, IPv6, Unix) {
    SKIP_UNAVAILABLE(TestType)
    Place<TestType> place;
    auto receiver = udp_at(place.address());
    auto [sender, to] = sender_for(receiver);
    std::array<std::array<char, 16>, 4> storage{};
    std::array<netlite::DatagramIn<TestType>, 4> slots;
    for (std::size_t i = 0; i < slots.size(); ++i) slots[i].buffer = netlite::MutableBuffer(storage[i]);

    auto [none, took] = timed([&] { return receiver.recv_batch(slots, timeout); });
    check_timed_out(none, took, timeout, "recv_batch, 300 ms timeout");
    REQUIRE_OK(receiver.set_timeout(timeout));
    auto [plain, took2] = timed([&] { return receiver.recv_batch(slots); });
    check_timed_out(plain, took2, timeout, "plain recv_batch after set_timeout(300ms)");
    REQUIRE_OK(receiver.set_timeout(std::nullopt));
    const auto release = release_after_stop(
        [&](StopToken stop) { return error_of(receiver.recv_batch(slots, stop)); }, "recv_batch(stop_token)");
    check_cancelled(release, "recv_batch(slots, stop_token)");

    const std::array<netlite::DatagramOut<TestType>, 2> out{{{"one", to}, {"two", to}}};
    auto sent = sender.send_batch(out, 2s);
    REQUIRE_OK(sent);
    CHECK(*sent == 2);
    REQUIRE(wait_readable(receiver.native_handle()));
    auto got = receiver.recv_batch(slots, Clock::now() - 1s);  // queued: a past deadline receives them
    REQUIRE_OK(got);
    REQUIRE(*got >= 1);
    CHECK(text(storage[0].data(), slots[0].size) == "one");
}

TEMPLATE_TEST_CASE("request_stop releases a thread blocked in recv_from, and the socket receives afterwards",
                   "[cancel][udp]", IPv4, IPv6, Unix) {
    SKIP_UNAVAILABLE(TestType)
    Place<TestType> place;
    auto receiver = udp_at(place.address());
    char buffer[64];
    const auto release = release_after_stop(
        [&](StopToken stop) { return error_of(receiver.recv_from(buffer, stop)); }, "recv_from(stop_token)");
    check_cancelled(release, "recv_from(buffer, stop_token)");

    auto [sender, to] = sender_for(receiver);
    REQUIRE_OK(sender.send_to("after", to));
    auto got = receiver.recv_from(buffer, 5s);
    REQUIRE_OK(got);
    CHECK(text(buffer, got->size) == "after");
}

TEMPLATE_TEST_CASE("incoming(stop_token) yields connections and ends when stop is requested",
                   "[cancel][accept]", IPv4, IPv6, Unix) {
    SKIP_UNAVAILABLE(TestType)
    Place<TestType> place;
    auto listener = listen_at(place.address());
    auto first = TcpStream<TestType>::connect(where(listener));  // queued before the loop starts
    REQUIRE_OK(first);

    Release last{Error(), Clock::duration::max()};
    for (int attempt = 0; attempt < 3; ++attempt) {
        StopSource source;
        std::promise<void> accepted_one;
        OneShotLatch calling;
        int count = 0;
        Error ended;
        Clock::time_point returned{};
        std::thread server([&] {
            auto range = listener.incoming(source.get_token());
            calling.count_down();
            for (auto&& [stream, peer] : range) {
                (void)stream;
                (void)peer;
                if (++count == 1) accepted_one.set_value();
            }
            returned = Clock::now();
            ended = range.error();
        });
        calling.wait();
        std::optional<netlite::Result<TcpStream<TestType>>> later;
        if (attempt > 0) later.emplace(TcpStream<TestType>::connect(where(listener)));  // the next one
        const bool yielded = accepted_one.get_future().wait_for(10s) == std::future_status::ready;
        std::this_thread::sleep_for(150ms);  // let the loop block waiting for the next connection
        const auto requested = Clock::now();
        source.request_stop();
        server.join();
        REQUIRE(yielded);
        CHECK(count == 1);
        last = Release{ended, returned - requested};
        report("incoming(stop_token) (release after request_stop)", last.latency);
        if (last.latency < release_bound) break;
    }
    check_cancelled(last, "for (auto&& [stream, peer] : listener.incoming(stop))");
}

TEMPLATE_TEST_CASE("a stop requested before the call cancels it at once", "[cancel]", IPv4, IPv6, Unix) {
    SKIP_UNAVAILABLE(TestType)
    StopSource source;
    source.request_stop();
    const StopToken stop = source.get_token();
    Place<TestType> place;
    auto listener = listen_at(place.address());
    auto [a, b] = stream_pair<TestType>();
    Place<TestType> udp_place;
    auto udp = udp_at(udp_place.address());
    char buffer[16];
    const auto start = Clock::now();
    CHECK_FAILS_WITH(listener.accept(stop), std::errc::operation_canceled);
    CHECK_FAILS_WITH(a.read(buffer, stop), std::errc::operation_canceled);
    CHECK_FAILS_WITH(a.read_exact(buffer, stop), std::errc::operation_canceled);
    CHECK_FAILS_WITH(udp.recv_from(buffer, stop), std::errc::operation_canceled);
    // Regression: a connect that completes at once (Unix, or connect_any below) ignored the stop.
    CHECK_FAILS_WITH(TcpStream<TestType>::connect(where(listener), stop), std::errc::operation_canceled);
    CHECK_FAILS_WITH(a.write("x", Until(10s, stop)), std::errc::operation_canceled);
    CHECK(Clock::now() - start < 100ms);
    std::vector<Address<TestType>> addresses{where(listener)};
    auto any = TcpStream<TestType>::connect_any(addresses, stop);
    REQUIRE_FALSE(any);
    CHECK(any.error() == std::errc::operation_canceled);
    // Nothing happened to the sockets: the pair still talks.
    REQUIRE_OK(b.write_all("ok"));
    auto got = a.read(buffer, 5s);
    check_read(got, buffer, "ok");
}

// --- set_timeout ------------------------------------------------------------------------------------------

TEMPLATE_TEST_CASE("set_timeout makes the plain calls time out; nullopt restores blocking", "[timeout]", IPv4,
                   IPv6, Unix) {
    SKIP_UNAVAILABLE(TestType)
    auto [a, b] = stream_pair<TestType>();
    CHECK(a.timeout() == std::nullopt);
    REQUIRE_OK(a.set_timeout(timeout));
    CHECK(a.timeout() == std::optional<std::chrono::milliseconds>(timeout));
    char buffer[16];

    auto [none, took] = timed([&] { return a.read(buffer); });
    check_timed_out(none, took, timeout, "plain read after set_timeout(300ms)");
    REQUIRE_OK(b.write_all("ab"));
    auto [partial, took2] = timed([&] { return a.read_exact(buffer); });
    check_timed_out(partial, took2, timeout, "plain read_exact after set_timeout(300ms)");
    CHECK(partial.error().bytes_transferred() == 2);

    // Invalid timeouts are refused and change nothing.
    CHECK_FAILS_WITH(a.set_timeout(0ms), std::errc::invalid_argument);
    CHECK_FAILS_WITH(a.set_timeout(-5ms), std::errc::invalid_argument);
    CHECK(a.timeout() == std::optional<std::chrono::milliseconds>(timeout));

    // A clone and a moved-to socket keep it.
    auto clone = a.try_clone();
    REQUIRE_OK(clone);
    CHECK(clone->timeout() == std::optional<std::chrono::milliseconds>(timeout));
    TcpStream<TestType> moved(std::move(*clone));
    CHECK(moved.timeout() == std::optional<std::chrono::milliseconds>(timeout));

    // A call given its own Until ignores the default.
    REQUIRE_OK(a.set_timeout(10s));
    auto [own, took3] = timed([&] { return a.read(buffer, timeout); });
    check_timed_out(own, took3, timeout, "read(buffer, 300ms) with set_timeout(10s)");
    CHECK(took3 < 5s);

    // nullopt: the plain read blocks again, past the old timeout, until data comes.
    REQUIRE_OK(a.set_timeout(std::nullopt));
    CHECK(a.timeout() == std::nullopt);
    OneShotLatch calling;
    auto reader = std::async(std::launch::async, [&a = a, &calling] {
        char got[16];
        calling.count_down();
        const auto start = Clock::now();
        auto n = a.read(got);
        return std::pair{n ? std::string(got, *n) : "error: " + n.error().message(), Clock::now() - start};
    });
    calling.wait();
    std::this_thread::sleep_for(500ms);  // what is measured: longer than any timeout it had
    REQUIRE_OK(b.write_all("late"));
    REQUIRE(reader.wait_for(10s) == std::future_status::ready);
    const auto [got, waited] = reader.get();
    CHECK(got == "late");
    CHECK(waited >= 450ms);
}

TEMPLATE_TEST_CASE("set_timeout applies to accept, recv_from and the connected recv", "[timeout]", IPv4, IPv6,
                   Unix) {
    SKIP_UNAVAILABLE(TestType)
    Place<TestType> place;
    auto listener = listen_at(place.address());
    REQUIRE_OK(listener.set_timeout(timeout));
    auto [none, took] = timed([&] { return listener.accept(); });
    check_timed_out(none, took, timeout, "plain accept after set_timeout(300ms)");
    auto client = TcpStream<TestType>::connect(where(listener));
    REQUIRE_OK(client);
    REQUIRE_OK(listener.accept());  // a waiting connection is accepted as before

    Place<TestType> udp_place;
    auto udp = udp_at(udp_place.address());
    REQUIRE_OK(udp.set_timeout(timeout));
    char buffer[16];
    auto [quiet, took2] = timed([&] { return udp.recv_from(buffer); });
    check_timed_out(quiet, took2, timeout, "plain recv_from after set_timeout(300ms)");
    REQUIRE_OK(udp.set_timeout(std::nullopt));
    auto [sender, to] = sender_for(udp);
    REQUIRE_OK(sender.send_to("x", to));
    REQUIRE_OK(udp.recv_from(buffer));

    // The connected recv: times out, then returns a datagram that is already queued.
    Place<TestType> peer_place;
    auto peer = udp_at(peer_place.address());
    auto peer_address = peer.local_address();
    REQUIRE_OK(peer_address);
    REQUIRE_OK(udp.connect(*peer_address));
    REQUIRE_OK(udp.set_timeout(timeout));
    auto [silent, took3] = timed([&] { return udp.recv(buffer); });
    check_timed_out(silent, took3, timeout, "plain connected recv after set_timeout(300ms)");
    REQUIRE_OK(peer.send_to("yz", to));
    CHECK(udp.recv(buffer) == std::size_t{2});
}

// --- Happy Eyeballs
// -----------------------------------------------------------------------------------------

namespace {

/// A TCP port on 127.0.0.1 that refuses connections while this socket holds it (bound, not listening).
struct RefusedPort {
    netlite::Socket<IPv4, netlite::Stream> socket;
    Address<IP> address;
};

RefusedPort refused_port() {
    auto socket = netlite::Socket<IPv4, netlite::Stream>::open();
    REQUIRE_OK(socket);
    const auto loopback = Address<IPv4>::loopback(0);
    REQUIRE(::bind(socket->native_handle(), loopback.data(), loopback.size()) == 0);
    auto bound = socket->local_address();
    REQUIRE_OK(bound);
    return RefusedPort{std::move(*socket), Address<IP>(*bound)};
}

/// A working listener: on ::1 when IPv6 is there (so the race crosses families), else on 127.0.0.1.
TcpListener<IP> alive_listener() {
    if (netlite::testing::available<IPv6>()) return listen_at(Address<IP>(Address<IPv6>::loopback(0)));
    return listen_at(Address<IP>(Address<IPv4>::loopback(0)));
}

}  // namespace

TEST_CASE("connect_any: a dead address delays a working one by the attempt delay only", "[happy-eyeballs]") {
    auto dead = dead_listener(Address<IP>(Address<IPv4>::loopback(0)));
    auto alive = alive_listener();
    const auto alive_at = where(alive);
    const std::vector<Address<IP>> addresses{dead.address, alive_at};
    const int fds = open_fd_count();

    for (const auto delay : {250ms, 50ms}) {
        auto [stream, took] = timed([&] { return TcpStream<IP>::connect_any(addresses, 5s, delay); });
        report("connect_any {dead, alive}, attempt delay " + std::to_string(delay.count()) + " ms", took);
        INFO("attempt delay " << delay.count() << " ms; took " << millis(took) << " ms");
        REQUIRE(stream.has_value());
        CHECK(stream->peer_address() == netlite::Result<Address<IP>>(alive_at));
        CHECK(stream->nonblocking() == netlite::Result<bool>(false));
        CHECK(took >= delay);
        CHECK(took < delay + 400ms);
        auto accepted = alive.accept(5s);  // the winner really is connected to the working listener
        REQUIRE_OK(accepted);
        REQUIRE_OK(stream->write_all("won"));
        char buffer[8];
        auto got = accepted->stream.read_exact(MutableBuffer(buffer, 3), 5s);
        REQUIRE_OK(got);
        CHECK(text(buffer, 3) == "won");
    }
    CHECK(open_fd_count() == fds);  // the losing attempts to the dead address were closed
}

TEST_CASE("connect_any: a refused address starts the next attempt at once", "[happy-eyeballs]") {
    auto refused = refused_port();
    auto alive = alive_listener();
    const std::vector<Address<IP>> addresses{refused.address, where(alive)};
    const int fds = open_fd_count();
    {
        auto [stream, took] = timed([&] { return TcpStream<IP>::connect_any(addresses, 5s); });
        report("connect_any {refused, alive}, attempt delay 250 ms", took);
        INFO("took " << millis(took) << " ms");
        REQUIRE(stream.has_value());
        CHECK(stream->peer_address() == netlite::Result<Address<IP>>(where(alive)));
        CHECK(took < 250ms);
    }
    REQUIRE_OK(alive.accept(5s));
    CHECK(open_fd_count() == fds);
}

// The shared schedule (detail/connect_race.hpp): an attempt that fails as it starts (a TCP connect to a
// multicast address: ENETUNREACH from connect(2) itself, no packet sent) makes the next address due at
// once, even while an earlier attempt is pending. The blocking race used to wait one more delay.
TEST_CASE("connect_any: an attempt that fails as it starts starts the next at once", "[happy-eyeballs]") {
    const auto multicast = *Address<IPv4>::parse("224.0.0.1:9");
    if (auto at_once = TcpStream<IPv4>::connect(multicast, Until(0ms));
        at_once || at_once.error() != std::errc::network_unreachable) {
        WARN("skipped: a connect to 224.0.0.1 does not fail at once here (Linux refuses TCP to multicast)");
        return;
    }
    auto dead = dead_listener(Address<IP>(Address<IPv4>::loopback(0)));
    auto alive = listen_at(Address<IP>(Address<IPv4>::loopback(0)));
    const std::vector<Address<IP>> addresses{dead.address, Address<IP>(multicast), where(alive)};
    constexpr auto delay = 1000ms;
    auto [stream, took] = timed([&] { return TcpStream<IP>::connect_any(addresses, 10s, delay); });
    report("connect_any {dead, failing at once, alive}, attempt delay 1 s", took);
    INFO("took " << millis(took) << " ms");
    REQUIRE(stream.has_value());
    CHECK(stream->peer_address() == netlite::Result<Address<IP>>(where(alive)));
    CHECK(took >= delay);         // the second address waited for the first one's delay
    CHECK(took < delay + 700ms);  // but the third did not wait another (it took 2 s before)
    REQUIRE_OK(alive.accept(5s));
}

TEST_CASE("connect_any: every address refused lists them all", "[happy-eyeballs]") {
    std::vector<RefusedPort> ports;
    for (int i = 0; i < 3; ++i) ports.push_back(refused_port());
    std::vector<Address<IP>> addresses;
    for (const auto& port : ports) addresses.push_back(port.address);
    const int fds = open_fd_count();

    auto [stream, took] = timed([&] { return TcpStream<IP>::connect_any(addresses, 5s); });
    report("connect_any {refused x3}", took);
    REQUIRE_FALSE(stream.has_value());
    const auto& error = stream.error();
    const std::string message = error.message();
    INFO(message);
    CHECK(error == std::errc::connection_refused);
    REQUIRE(error.attempts().size() == addresses.size());
    for (const auto& address : addresses) {
        CHECK(message.find(address.to_string()) != std::string::npos);
        const auto tried = std::find_if(error.attempts().begin(), error.attempts().end(),
                                        [&](const auto& attempt) { return attempt.address == address; });
        REQUIRE(tried != error.attempts().end());
        CHECK(tried->error == std::errc::connection_refused);
    }
    CHECK(took < 1s);
    CHECK(open_fd_count() == fds);

    const std::vector<Address<IP>> none;
    auto empty = TcpStream<IP>::connect_any(none, 1s);
    REQUIRE_FALSE(empty.has_value());
    CHECK(empty.error() == netlite::errc::no_addresses);
}

TEST_CASE("connect_any: only dead addresses - timed_out at the deadline, or cancelled", "[happy-eyeballs]") {
    auto dead1 = dead_listener(Address<IP>(Address<IPv4>::loopback(0)));
    auto dead2 = dead_listener(Address<IP>(Address<IPv4>::loopback(0)));
    const std::vector<Address<IP>> addresses{dead1.address, dead2.address};
    const int fds = open_fd_count();

    auto [expired, took] = timed([&] { return TcpStream<IP>::connect_any(addresses, 700ms, 250ms); });
    check_timed_out(expired, took, 700ms, "connect_any {dead x2}, 700 ms deadline");
    REQUIRE(expired.error().attempts().size() == 2);
    for (const auto& attempt : expired.error().attempts()) CHECK(attempt.error == std::errc::timed_out);
    CHECK(open_fd_count() == fds);

    // Stop mid-race (after both attempts have started).
    std::size_t attempts = 0;
    const auto release = release_after_stop(
        [&](StopToken stop) {
            auto result = TcpStream<IP>::connect_any(addresses, Until(10s, stop), 50ms);
            if (result) return Error();
            attempts = result.error().attempts().size();
            return Error(result.error());
        },
        "connect_any {dead x2}");
    check_cancelled(release, "connect_any with a stop_token");
    CHECK(attempts == 2);  // both had started (50 ms apart) and are listed
    CHECK(open_fd_count() == fds);
}

TEST_CASE("connect(host, port) races the addresses of localhost", "[happy-eyeballs]") {
    // Listeners on 127.0.0.1 and, when there is IPv6, on ::1 with the same port: whichever address
    // "localhost" resolves to first, the connection lands on one of ours.
    const bool v6 = netlite::testing::available<IPv6>();
    std::vector<TcpListener<IP>> listeners;
    for (int attempt = 0; attempt < 20 && listeners.empty(); ++attempt) {
        listeners.push_back(listen_at(Address<IP>(Address<IPv4>::loopback(0))));
        if (!v6) break;
        auto six = TcpListener<IP>::bind(Address<IP>(Address<IPv6>::loopback(where(listeners[0]).port())));
        if (six)
            listeners.push_back(std::move(*six));
        else
            listeners.clear();  // that port is taken on ::1: try another
    }
    REQUIRE_FALSE(listeners.empty());
    const auto port = where(listeners[0]).port();
    auto [stream, took] = timed([&] { return TcpStream<IP>::connect("localhost", port, 5s); });
    report("connect(\"localhost\", port)", took);
    INFO((stream ? std::string("ok") : stream.error().message()));
    REQUIRE(stream.has_value());
    auto peer = stream->peer_address();
    REQUIRE_OK(peer);
    CHECK(std::any_of(listeners.begin(), listeners.end(),
                      [&](const TcpListener<IP>& listener) { return where(listener) == *peer; }));
    CHECK(took < 1s);
}

// --- no descriptor leaks
// --------------------------------------------------------------------------------------

TEST_CASE("100 timed-out and cancelled calls of each kind leave no descriptor behind",
          "[deadline][cancel][leak]") {
    auto [a, b] = stream_pair<IPv4>();
    auto listener = listen_at(Address<IPv4>::loopback(0));
    auto udp = udp_at(Address<IPv4>::loopback(0));
    auto dead = dead_listener(Address<IPv4>::loopback(0));
    const std::vector<Address<IPv4>> dead_addresses{dead.address};
    auto [full, sink] = stream_pair<IPv4>();  // `full` cannot send: its peer never reads
    REQUIRE_OK(full.set_send_buffer_size(16 * 1024));
    std::vector<char> payload(32 * 1024 * 1024, 'x');
    REQUIRE_FALSE(full.write_all(payload, 300ms));
    char buffer[16];

    // Each call is timed out (a 1 ms deadline, with a stop_token that can stop, so the wake-up descriptor is
    // made), or cancelled by another thread.
    StopSource never;
    const auto t = [&] { return Until(1ms, never.get_token()); };
    // netlite::StopSource (Windows here) makes its wake-up once, on the first wait, and keeps it while the
    // source lives: make it before counting, so that what is counted afterwards is what the calls leave.
    // With 200 ms, not t()'s 1 ms: on a loaded machine 1 ms can pass before the read's first poll, which
    // then never waits, and the wake-up pair was made by the loop's first read instead (counted 10 for 8).
    REQUIRE(failed_with(a.read(buffer, Until(200ms, never.get_token())), std::errc::timed_out));
    const int fds = open_fd_count();
    // Cancelled: another thread requests stop while the call starts or waits (before, during or after
    // the poll: every path must clean up).
    const auto cancel = [](auto call) {
        StopSource source;
        OneShotLatch go;
        std::thread stopper([&] {
            go.wait();
            source.request_stop();
        });
        go.count_down();
        const bool ok = failed_with(call(source.get_token()), std::errc::operation_canceled);
        stopper.join();
        return ok;
    };
    const auto timeout_error = std::errc::timed_out;
    int timed_out = 0, cancelled = 0;
    for (int i = 0; i < 100; ++i) {
        timed_out += failed_with(a.read(buffer, t()), timeout_error);
        timed_out += failed_with(a.read_exact(buffer, t()), timeout_error);
        timed_out += failed_with(full.write_all(payload, t()), timeout_error);
        timed_out += failed_with(listener.accept(t()), timeout_error);
        timed_out += failed_with(udp.recv_from(buffer, t()), timeout_error);
        timed_out += failed_with(TcpStream<IPv4>::connect(dead.address, t()), timeout_error);
        timed_out += failed_with(TcpStream<IPv4>::connect_any(dead_addresses, t()), timeout_error);
        timed_out += failed_with(a.read(buffer, 1ms), timeout_error);  // the path without a stop_token

        cancelled += cancel([&a = a, &buffer](StopToken stop) { return a.read(buffer, stop); });
        cancelled += cancel([&](StopToken stop) { return listener.accept(stop); });
        cancelled += cancel([&](StopToken stop) { return udp.recv_from(buffer, stop); });
        cancelled += cancel([&](StopToken stop) { return TcpStream<IPv4>::connect(dead.address, stop); });
        cancelled +=
            cancel([&](StopToken stop) { return TcpStream<IPv4>::connect_any(dead_addresses, stop); });
    }
    CHECK(timed_out == 800);
    CHECK(cancelled == 500);
    CHECK(open_fd_count() == fds);
}
