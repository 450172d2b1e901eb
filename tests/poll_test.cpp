// Tests for netlite/poll.hpp (Poller: epoll and poll(2) backends) and the non-blocking try_* calls of
// TcpStream, TcpListener and UdpSocket. Every registration edge case runs against both backends
// (TEMPLATE_LIST_TEST_CASE over PollPoller and EpollPoller); the echo-loop case uses `netlite::Poller`, so
// the second executable, built with NETLITE_POLLER_USE_POLL, runs it on poll(2). Loopback and temporary
// Unix paths only; every wait has a timeout.
#include "socket_test_support.hpp"
#include "test_support.hpp"

#include <netlite/poll.hpp>
#include <netlite/stop_source.hpp>
#include <netlite/tcp.hpp>
#include <netlite/testing.hpp>
#include <netlite/udp.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <future>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <type_traits>
#include <vector>

#if !defined(_WIN32)
#include <fcntl.h>
#include <unistd.h>
#endif

namespace {

using namespace std::chrono_literals;
using netlite::Event;
using netlite::Interest;
using netlite::IPv4;
using netlite::IPv6;
using netlite::Token;
using netlite::Trigger;
using netlite::Unix;
using netlite::UnixStream;
using Clock = std::chrono::steady_clock;

#if defined(NETLITE_HAS_EPOLL)
using Pollers = std::tuple<netlite::PollPoller, netlite::EpollPoller>;
#else
using Pollers = std::tuple<netlite::PollPoller>;
#endif

#if defined(NETLITE_POLLER_USE_POLL)
static_assert(std::is_same_v<netlite::Poller, netlite::PollPoller>, "the macro selects the poll(2) backend");
#elif defined(NETLITE_HAS_EPOLL)
static_assert(std::is_same_v<netlite::Poller, netlite::EpollPoller>, "Linux defaults to epoll");
#endif

template <class P>
P open_poller() {
    auto poller = P::open();
    REQUIRE_OK(poller);
    return std::move(*poller);
}

// The pollers' tests use connected Unix stream pairs (socketpair) on POSIX. Windows' WSAPoll takes sockets
// of any family and wine has no AF_UNIX, so there they use loopback TCP pairs.
using LocalFamily = std::conditional_t<netlite_test::is_windows, IPv4, Unix>;
using LocalStream = netlite::TcpStream<LocalFamily>;

std::pair<LocalStream, LocalStream> local_pair() {
    return netlite_test::require_loopback_pair<LocalFamily>();
}

/// One wait() with room for 64 events; the events it returned.
template <class P>
std::vector<Event> wait_events(P& poller, std::chrono::milliseconds timeout) {
    std::vector<Event> events(64);
    auto ready = poller.wait(events, timeout);
    REQUIRE_OK(ready);
    events.resize(*ready);
    return events;
}

bool has_token(const std::vector<Event>& events, std::uint64_t token) {
    return std::any_of(events.begin(), events.end(),
                       [&](const Event& e) { return e.token.value() == token; });
}

void send_text(LocalStream& stream, std::string_view text) {
    REQUIRE(stream.write_all(netlite::ConstBuffer(text.data(), text.size())).has_value());
}

}  // namespace

TEMPLATE_LIST_TEST_CASE("A readable socket is reported with its token, an idle one is not", "[poll]",
                        Pollers) {
    auto poller = open_poller<TestType>();
    auto [a, b] = local_pair();
    auto [c, d] = local_pair();
    int marker = 0;
    REQUIRE_OK(poller.add(a, Interest::readable, Token(7)));
    REQUIRE_OK(poller.add(c, Interest::readable, Token(&marker)));

    const auto began = Clock::now();
    CHECK(wait_events(poller, 50ms).empty());
    CHECK(Clock::now() - began >= 45ms);  // a timed-out wait really waited (poll rounds to whole ms)

    send_text(b, "x");
    auto events = wait_events(poller, 5000ms);
    REQUIRE(events.size() == 1);
    CHECK(events[0].token.value() == 7);
    CHECK(events[0].readable);
    CHECK_FALSE(events[0].writable);

    send_text(d, "y");
    char byte;
    REQUIRE(a.read(netlite::MutableBuffer(&byte, 1)) == 1u);
    events = wait_events(poller, 5000ms);
    REQUIRE(events.size() == 1);
    CHECK(events[0].token.template pointer<int>() == &marker);
}

TEMPLATE_LIST_TEST_CASE("Interest: writable, both, none, and modify switches it", "[poll]", Pollers) {
    auto poller = open_poller<TestType>();
    auto [a, b] = local_pair();
    REQUIRE_OK(poller.add(a, Interest::writable, Token(1)));
    auto events = wait_events(poller, 5000ms);
    REQUIRE(events.size() == 1);
    CHECK(events[0].writable);
    CHECK_FALSE(events[0].readable);

    REQUIRE_OK(poller.modify(a, Interest::none, Token(2)));
    send_text(b, "data");
    CHECK(wait_events(poller, 20ms).empty());  // readable and writable, but nothing is asked for

    REQUIRE_OK(poller.modify(a, Interest::both, Token(3)));
    events = wait_events(poller, 5000ms);
    REQUIRE(events.size() == 1);
    CHECK(events[0].token.value() == 3);
    CHECK(events[0].readable);
    CHECK(events[0].writable);

    REQUIRE_OK(poller.modify(a, Interest::readable | Interest::writable, Token(4)));
    CHECK(wait_events(poller, 5000ms).at(0).token.value() == 4);
}

TEMPLATE_LIST_TEST_CASE("Registration errors: twice, unknown, removed, reserved token, empty span", "[poll]",
                        Pollers) {
    auto poller = open_poller<TestType>();
    auto [a, b] = local_pair();
    REQUIRE_OK(poller.add(a, Interest::readable, Token(1)));
    CHECK_FAILS_WITH(poller.add(a, Interest::readable, Token(1)), std::errc::file_exists);
    CHECK_FAILS_WITH(poller.modify(b, Interest::readable, Token(2)), std::errc::no_such_file_or_directory);
    CHECK_FAILS_WITH(poller.remove(b), std::errc::no_such_file_or_directory);
    CHECK_FAILS_WITH(poller.add(-1, Interest::readable, Token(3)), std::errc::bad_file_descriptor);
    CHECK_FAILS_WITH(poller.add(b, Interest::readable, Token(Token::reserved)), std::errc::invalid_argument);
    std::span<Event> nothing;
    CHECK_FAILS_WITH(poller.wait(nothing, 0ms), std::errc::invalid_argument);

    send_text(b, "z");
    REQUIRE(wait_events(poller, 5000ms).size() == 1);
    REQUIRE_OK(poller.remove(a));
    CHECK(wait_events(poller, 20ms).empty());  // still readable, but no longer registered
    CHECK_FAILS_WITH(poller.remove(a), std::errc::no_such_file_or_directory);
    REQUIRE_OK(poller.add(a, Interest::readable, Token(5)));  // and it can come back
    CHECK(wait_events(poller, 5000ms).at(0).token.value() == 5);
}

TEMPLATE_LIST_TEST_CASE(
    "A socket closed or destroyed while registered is forgotten; its number can be reused", "[poll]",
    Pollers) {
    auto poller = open_poller<TestType>();
    auto [a, b] = local_pair();
    const netlite_test::handle number = a.native_handle();
    REQUIRE_OK(poller.add(a, Interest::readable, Token(1)));
    send_text(b, "pending");
    REQUIRE(wait_events(poller, 5000ms).size() == 1);

    REQUIRE_OK(a.close());  // closed while registered, with unread data
    CHECK(wait_events(poller, 20ms).empty());
    auto removed = poller.remove(number);
    CHECK_FALSE(removed.has_value());  // EBADF (epoll) or ENOENT (poll): nothing to remove, nothing changes

    // A new socket on the very same descriptor number registers as new and reports its own token.
    auto [c, d] = local_pair();
    LocalStream reused;
    if (c.native_handle() == number) {
        reused = std::move(c);  // the kernel handed out the lowest free number: the same one
    } else if (netlite_test::is_windows) {
        WARN(
            "skipped: the reuse of the number: Windows gave the new socket another handle value and cannot "
            "place one on a chosen value (no dup3)");
    } else {
        REQUIRE(netlite_test::place_on(c.native_handle(), number));
        reused = LocalStream(number);
    }
    if (reused.is_open()) {
        REQUIRE_OK(poller.add(reused, Interest::readable, Token(2)));
        CHECK(wait_events(poller, 20ms).empty());
        send_text(d, "new");
        auto events = wait_events(poller, 5000ms);
        REQUIRE(events.size() == 1);
        CHECK(events[0].token.value() == 2);
    }

    {  // destroyed while registered (the stream's destructor closes it)
        auto [e, f] = local_pair();
        REQUIRE_OK(poller.add(e, Interest::readable, Token(3)));
        send_text(f, "gone");
        REQUIRE(has_token(wait_events(poller, 5000ms), 3));
    }
    CHECK_FALSE(has_token(wait_events(poller, 20ms), 3));
    if (reused.is_open()) CHECK(has_token(wait_events(poller, 5000ms), 2));  // the others are untouched
}

TEMPLATE_LIST_TEST_CASE("Level-triggered repeats, one-shot fires once until modify re-arms it", "[poll]",
                        Pollers) {
    auto poller = open_poller<TestType>();
    auto [a, b] = local_pair();
    auto [c, d] = local_pair();
    REQUIRE_OK(poller.add(a, Interest::readable, Token(1)));
    REQUIRE_OK(poller.add(c, Interest::readable, Token(2), Trigger::oneshot));
    send_text(b, "x");
    send_text(d, "y");
    auto events = wait_events(poller, 5000ms);
    CHECK(has_token(events, 1));
    CHECK(has_token(events, 2));
    events = wait_events(poller, 20ms);  // nothing was read
    CHECK(has_token(events, 1));         // level: again
    CHECK_FALSE(has_token(events, 2));   // one-shot: disarmed
    send_text(d, "more");
    CHECK_FALSE(has_token(wait_events(poller, 20ms), 2));  // new data does not re-arm it
    REQUIRE_OK(poller.modify(c, Interest::readable, Token(3), Trigger::oneshot));
    events = wait_events(poller, 5000ms);
    CHECK(has_token(events, 3));
    CHECK_FALSE(has_token(wait_events(poller, 20ms), 3));
}

TEMPLATE_LIST_TEST_CASE("Edge-triggered: once per arrival (epoll); refused by the poll backend", "[poll]",
                        Pollers) {
    auto poller = open_poller<TestType>();
    auto [a, b] = local_pair();
    if constexpr (!TestType::supports_edge) {
        CHECK_FAILS_WITH(poller.add(a, Interest::readable, Token(1), Trigger::edge),
                         std::errc::operation_not_supported);
        REQUIRE_OK(poller.add(a, Interest::readable, Token(1)));
        CHECK_FAILS_WITH(poller.modify(a, Interest::readable, Token(1), Trigger::edge),
                         std::errc::operation_not_supported);
    } else {
        REQUIRE_OK(poller.add(a, Interest::readable, Token(1), Trigger::edge));
        send_text(b, "x");
        CHECK(has_token(wait_events(poller, 5000ms), 1));
        CHECK(wait_events(poller, 20ms).empty());  // unread, but no new edge
        send_text(b, "y");
        CHECK(has_token(wait_events(poller, 5000ms), 1));
    }
}

TEMPLATE_LIST_TEST_CASE("End of stream and reset are reported and try_read says which", "[poll]", Pollers) {
    auto poller = open_poller<TestType>();
    auto [a, b] = local_pair();
    REQUIRE_OK(poller.add(a, Interest::readable, Token(1)));
    REQUIRE_OK(b.shutdown(netlite::Shutdown::write));
    auto events = wait_events(poller, 5000ms);
    REQUIRE(events.size() == 1);
    CHECK(events[0].readable);
    char buffer[8];
    auto got = a.try_read(buffer);
    REQUIRE_OK(got);
    REQUIRE(got->has_value());
    CHECK(**got == 0u);  // end of stream, not "would block"

    // TCP reset: the peer closes with SO_LINGER 0.
    auto tcp = netlite::testing::loopback_pair<IPv4>();
    REQUIRE_OK(tcp);
    auto& [client, server] = *tcp;
    REQUIRE_OK(poller.add(server, Interest::readable, Token(2)));
    REQUIRE_OK(client.set_linger(std::chrono::seconds(0)));
    REQUIRE_OK(client.close());
    events = wait_events(poller, 5000ms);
    REQUIRE(has_token(events, 2));
    auto reset = server.try_read(buffer);
    if (netlite_test::under_wine()) {  // documented: wine sends FIN, not RST, so the peer sees end of stream
        REQUIRE_OK(reset);
        CHECK(*reset == std::optional<std::size_t>(0));
        return;
    }
    REQUIRE_FALSE(reset.has_value());
    CHECK(reset.error() == std::errc::connection_reset);
}

TEMPLATE_LIST_TEST_CASE("wake() ends a wait from another thread; a Waker survives moving the poller",
                        "[poll]", Pollers) {
    auto poller = open_poller<TestType>();
    auto [a, b] = local_pair();
    REQUIRE_OK(poller.add(a, Interest::readable, Token(1)));

    std::promise<void> waiting;
    auto waker = poller.waker();
    std::thread other([&waker, ready = waiting.get_future()]() mutable {
        ready.wait();
        waker.wake();
    });
    waiting.set_value();
    const auto began = Clock::now();
    auto events = wait_events(poller, 30000ms);  // returns at the wake, long before the timeout
    other.join();
    CHECK(events.empty());  // a wake-up is not an event
    CHECK(Clock::now() - began < 20s);

    // Sticky: a wake before the wait ends the next wait at once, and only that one.
    poller.wake();
    CHECK(wait_events(poller, 30000ms).empty());
    const auto again = Clock::now();
    CHECK(wait_events(poller, 50ms).empty());
    CHECK(Clock::now() - again >= 45ms);  // drained: this one timed out

    auto moved = std::move(poller);
    waker.wake();
    const auto after_move = Clock::now();
    CHECK(wait_events(moved, 30000ms).empty());
    CHECK(Clock::now() - after_move < 20s);
    send_text(b, "still registered");
    CHECK(has_token(wait_events(moved, 5000ms), 1));
}

TEMPLATE_LIST_TEST_CASE("More ready sockets than room: every one is reported over a few waits", "[poll]",
                        Pollers) {
    auto poller = open_poller<TestType>();
    constexpr int count = 40;
    std::vector<std::pair<LocalStream, LocalStream>> pairs;
    for (int i = 0; i < count; ++i) {
        pairs.push_back(local_pair());
        REQUIRE_OK(poller.add(pairs.back().first, Interest::readable, Token(i)));
    }
    for (auto& pair : pairs) send_text(pair.second, "!");
    std::multiset<std::uint64_t> seen;
    std::array<Event, 8> room;
    for (int round = 0; round < 50 && seen.size() < count; ++round) {
        auto ready = poller.wait(room, 5000ms);
        REQUIRE_OK(ready);
        CHECK(*ready <= room.size());
        for (std::size_t i = 0; i < *ready; ++i) {
            seen.insert(room[i].token.value());
            char byte;
            auto got = pairs[room[i].token.value()].first.try_read(netlite::MutableBuffer(&byte, 1));
            REQUIRE_OK(got);
            CHECK(*got == std::optional<std::size_t>(1));
        }
    }
    CHECK(seen.size() == count);
    for (int i = 0; i < count; ++i) CHECK(seen.count(static_cast<std::uint64_t>(i)) == 1);
}

// --- the non-blocking calls ----------------------------------------------------------------------------

TEMPLATE_TEST_CASE("try_read and try_write say 'would block' with an empty optional", "[try]", IPv4, IPv6,
                   Unix) {
    SKIP_UNLESS_AVAILABLE(TestType);
    auto [client, server] = netlite_test::require_loopback_pair<TestType>();
    auto poller = open_poller<netlite::Poller>();
    REQUIRE_OK(poller.add(server, Interest::readable, Token(1)));

    char buffer[64];
    auto nothing = server.try_read(buffer);
    REQUIRE_OK(nothing);
    CHECK_FALSE(nothing->has_value());

    auto sent = client.try_write(netlite::ConstBuffer("hello", 5));
    REQUIRE_OK(sent);
    REQUIRE(*sent == std::optional<std::size_t>(5));
    REQUIRE(has_token(wait_events(poller, 5000ms), 1));
    auto got = server.try_read(buffer);
    REQUIRE_OK(got);
    REQUIRE(*got == std::optional<std::size_t>(5));
    CHECK(std::string(buffer, 5) == "hello");

    // Fill the path until the sender would block (nobody reads): bounded at 256 MiB.
    std::vector<char> chunk(64 * 1024, 'x');
    std::size_t total = 0;
    bool blocked = false;
    while (total < 256u * 1024 * 1024) {
        auto more = client.try_write(chunk);
        REQUIRE_OK(more);
        if (!more->has_value()) {
            blocked = true;
            break;
        }
        total += **more;
    }
    CHECK(blocked);
    CHECK(total > 0);
    // The socket stayed in blocking mode: try_* never changed it.
    auto mode = client.nonblocking();
    REQUIRE_OK(mode);
    CHECK_FALSE(*mode);
}

TEMPLATE_TEST_CASE("try_accept and try_accept_batch drain the backlog without waiting", "[try]", IPv4, IPv6,
                   Unix) {
    SKIP_UNLESS_AVAILABLE(TestType);
    auto path = netlite::testing::TempPath::create("listener");
    REQUIRE_OK(path);
    auto listener = [&] {
        if constexpr (std::is_same_v<TestType, Unix>)
            return netlite::TcpListener<Unix>::bind(path->address());
        else
            return netlite::TcpListener<TestType>::bind(netlite::testing::loopback<TestType>());
    }();
    REQUIRE_OK(listener);
    auto where = listener->local_address();
    REQUIRE_OK(where);

    for (bool nonblocking : {false, true}) {
        INFO("listener non-blocking: " << nonblocking);
        REQUIRE_OK(listener->set_nonblocking(nonblocking));
        const auto began = Clock::now();
        auto none = listener->try_accept();  // a blocking listener must not block either
        REQUIRE_OK(none);
        CHECK_FALSE(none->has_value());
        CHECK(Clock::now() - began < 5s);

        std::vector<netlite::TcpStream<TestType>> clients;
        for (int i = 0; i < 3; ++i) {
            auto client = netlite::TcpStream<TestType>::connect(*where);
            REQUIRE_OK(client);
            clients.push_back(std::move(*client));
        }
        auto poller = open_poller<netlite::Poller>();
        REQUIRE_OK(poller.add(*listener, Interest::readable, Token(9)));
        std::vector<netlite::Accepted<TestType>> accepted;
        for (int round = 0; round < 100 && accepted.size() < 3; ++round) {
            REQUIRE(has_token(wait_events(poller, 5000ms), 9));
            const std::size_t before = accepted.size();
            auto batch = listener->try_accept_batch(accepted, 2);
            REQUIRE_OK(batch);
            CHECK(*batch <= 2u);
            CHECK(accepted.size() == before + *batch);
        }
        CHECK(accepted.size() == 3);
        auto empty = listener->try_accept_batch(accepted);
        REQUIRE_OK(empty);
        CHECK(*empty == 0u);
        // Each accepted stream is connected to one of the clients.
        for (auto& connection : accepted) {
            auto sent = connection.stream.try_write(netlite::ConstBuffer("k", 1));
            REQUIRE_OK(sent);
            CHECK(*sent == std::optional<std::size_t>(1));
        }
        for (auto& client : clients) {
            char byte = 0;
            REQUIRE(client.read_exact(netlite::MutableBuffer(&byte, 1), 5000ms).has_value());
            CHECK(byte == 'k');
        }
    }
}

TEMPLATE_TEST_CASE("try_recv_from and try_send_to on datagram sockets", "[try]", IPv4, IPv6, Unix) {
    SKIP_UNLESS_AVAILABLE(TestType);
    auto path_a = netlite::testing::TempPath::create("a");
    auto path_b = netlite::testing::TempPath::create("b");
    REQUIRE_OK(path_a);
    REQUIRE_OK(path_b);
    auto bind = [&](netlite::testing::TempPath& path) {
        if constexpr (std::is_same_v<TestType, Unix>)
            return netlite::UdpSocket<Unix>::bind(path.address());
        else
            return netlite::UdpSocket<TestType>::bind(netlite::testing::loopback<TestType>());
    };
    auto a = bind(*path_a);
    auto b = bind(*path_b);
    REQUIRE_OK(a);
    REQUIRE_OK(b);
    auto a_address = a->local_address();
    auto b_address = b->local_address();
    REQUIRE_OK(a_address);
    REQUIRE_OK(b_address);

    char buffer[4];
    auto nothing = b->try_recv_from(buffer);
    REQUIRE_OK(nothing);
    CHECK_FALSE(nothing->has_value());

    auto poller = open_poller<netlite::Poller>();
    REQUIRE_OK(poller.add(*b, Interest::readable, Token(1)));
    auto sent = a->try_send_to(netlite::ConstBuffer("datagram", 8), *b_address);
    REQUIRE_OK(sent);
    CHECK(*sent == std::optional<std::size_t>(8));
    REQUIRE(has_token(wait_events(poller, 5000ms), 1));
    auto got = b->try_recv_from(buffer);
    REQUIRE_OK(got);
    REQUIRE(got->has_value());
    CHECK((*got)->size == 4u);
    CHECK((*got)->truncated);
    CHECK((*got)->sender == *a_address);
    CHECK(std::string(buffer, 4) == "data");
    auto after = b->try_recv_from(buffer);
    REQUIRE_OK(after);
    CHECK_FALSE(after->has_value());
}

TEST_CASE("An echo loop on netlite::Poller serves many clients on one thread, stopped by a Waker", "[poll]") {
    auto listener = netlite::TcpListener<IPv4>::bind(netlite::testing::loopback<IPv4>());
    REQUIRE_OK(listener);
    REQUIRE_OK(listener->set_nonblocking(true));
    auto where = listener->local_address();
    REQUIRE_OK(where);
    auto poller = open_poller<netlite::Poller>();
    REQUIRE_OK(poller.add(*listener, Interest::readable, Token(nullptr)));
    std::promise<netlite::Waker> waker_out;
    auto waker_in = waker_out.get_future();
    waker_out.set_value(poller.waker());

    struct Connection {
        netlite::TcpStream<IPv4> stream;
        std::string pending;
    };
    std::atomic<bool> stop{false};
    std::atomic<int> failures{0};
    std::thread loop([&] {  // assertions stay on the main thread; the loop counts failures
        std::vector<std::unique_ptr<Connection>> connections;
        std::vector<Event> events(32);
        std::vector<netlite::Accepted<IPv4>> accepted;
        char buffer[4096];
        while (!stop) {
            auto ready = poller.wait(events, std::chrono::milliseconds(10000));
            if (!ready) {
                ++failures;
                return;
            }
            for (std::size_t i = 0; i < *ready; ++i) {
                auto* connection = events[i].token.pointer<Connection>();
                if (connection == nullptr) {
                    accepted.clear();
                    if (!listener->try_accept_batch(accepted)) ++failures;
                    for (auto& [stream, peer] : accepted) {
                        connections.push_back(
                            std::make_unique<Connection>(Connection{std::move(stream), {}}));
                        if (!poller.add(connections.back()->stream, Interest::readable,
                                        connections.back().get()))
                            ++failures;
                    }
                    continue;
                }
                auto got = connection->stream.try_read(buffer);
                if (!got || !*got) continue;
                if (**got == 0) {
                    (void)poller.remove(connection->stream);
                    (void)connection->stream.close();
                    continue;
                }
                if (!connection->stream.write_all(netlite::ConstBuffer(buffer, **got), 5000ms)) ++failures;
            }
        }
    });

    constexpr int clients = 24;
    std::vector<netlite::TcpStream<IPv4>> streams;
    for (int i = 0; i < clients; ++i) {
        auto stream = netlite::TcpStream<IPv4>::connect(*where);
        REQUIRE_OK(stream);
        streams.push_back(std::move(*stream));
    }
    for (int round = 0; round < 3; ++round) {
        for (int i = 0; i < clients; ++i) {
            const std::string message = "client " + std::to_string(i) + " round " + std::to_string(round);
            REQUIRE(streams[i].write_all(netlite::ConstBuffer(message.data(), message.size()), 5000ms));
        }
        for (int i = 0; i < clients; ++i) {
            const std::string message = "client " + std::to_string(i) + " round " + std::to_string(round);
            std::string reply(message.size(), '\0');
            REQUIRE(streams[i].read_exact(netlite::MutableBuffer(reply.data(), reply.size()), 5000ms));
            CHECK(reply == message);
        }
    }
    stop = true;
    waker_in.get().wake();
    loop.join();
    CHECK(failures == 0);
}

// The coroutine loop keys its slot table by detail::sys::handle_index: on Windows, where SOCKET values are
// multiples of 4, the raw value left 3/4 of the table empty (issue 20). Distinct sockets must keep distinct
// indexes, and the indexes of sockets opened one after another must span about as many slots as there are
// sockets (3x leaves room for handles the platform makes beside each socket; the raw values span 4x).
TEST_CASE("handle_index: distinct sockets get distinct, dense table slots", "[poll][handle_index]") {
    constexpr std::size_t count = 200;
    std::vector<netlite::UdpSocket<netlite::IPv4>> sockets;
    std::set<std::size_t> indexes;
    for (std::size_t i = 0; i < count; ++i) {
        auto socket = netlite::UdpSocket<netlite::IPv4>::open();
        REQUIRE(socket);
        REQUIRE(indexes.insert(netlite::detail::sys::handle_index(socket->native_handle())).second);
        sockets.push_back(std::move(*socket));
    }
    const std::size_t span = *indexes.rbegin() - *indexes.begin() + 1;
    INFO("indexes span " << span << " slots for " << count << " sockets");
    CHECK(span < 3 * count);
}

// The cancellable wait (detail::sys::poll_until) is one function over each platform's wait_entries(): it
// takes up to max_wait_entries entries on every platform, with or without a stop that can come (the POSIX
// and Windows copies used to disagree: 63 and 64 with a stop, unbounded and 64 without).
TEST_CASE("poll_until takes max_wait_entries entries, cancellable or not, on every platform",
          "[poll][poll_until]") {
    namespace sys = netlite::detail::sys;
    auto receiver = netlite::UdpSocket<IPv4>::bind(netlite::Address<IPv4>::loopback(0));
    REQUIRE(receiver);
    auto sender = netlite::UdpSocket<IPv4>::open();
    REQUIRE(sender);
    auto to = receiver->local_address();
    REQUIRE(to);
    REQUIRE(sender->send_to(netlite::ConstBuffer("ready", 5), *to));  // the receiver polls readable

    std::vector<sys::poll_entry> entries(sys::max_wait_entries + 1);
    for (auto& entry : entries) entry = sys::poll_entry{receiver->native_handle(), sys::poll_in, 0};
    netlite::StopSource never;
    for (const bool cancellable : {false, true}) {
        INFO((cancellable ? "with a stop_token that can stop" : "with a deadline only"));
        const netlite::Until until = cancellable ? netlite::Until(5s, never.get_token()) : netlite::Until(5s);
        auto all = sys::poll_until(entries.data(), sys::max_wait_entries, until, "poll");
        REQUIRE(all);
        CHECK(*all == static_cast<int>(sys::max_wait_entries));
        CHECK(std::all_of(entries.begin(), entries.end() - 1,
                          [](const sys::poll_entry& entry) { return (entry.revents & sys::poll_in) != 0; }));
        auto too_many = sys::poll_until(entries.data(), entries.size(), until, "poll");
        REQUIRE_FALSE(too_many);
        CHECK(too_many.error() == std::errc::invalid_argument);
    }
    // A stop already requested wins over ready entries, as it does for every blocking call.
    never.request_stop();
    auto stopped = sys::poll_until(entries.data(), 1, netlite::Until(5s, never.get_token()), "poll");
    REQUIRE_FALSE(stopped);
    CHECK(stopped.error() == std::errc::operation_canceled);
}

// Poller::wait takes the Until every blocking call takes (issue 22): a deadline (0 events after it), a stop
// token (operation_canceled, from another thread too), and ready events win over a stop that came with them.
TEMPLATE_LIST_TEST_CASE("Poller::wait with an Until: deadline, stop token, ready events first",
                        "[poll][until]", Pollers) {
    auto poller = open_poller<TestType>();
    std::vector<Event> events(8);

    // The optional forms stay: any duration type, and std::nullopt for no limit (ended here by wake()).
    auto looked = poller.wait(events, std::optional<std::chrono::seconds>(0s));
    REQUIRE_OK(looked);
    CHECK(*looked == 0);
    poller.wake();
    auto woken = poller.wait(events, std::nullopt);
    REQUIRE_OK(woken);
    CHECK(*woken == 0);

    const auto start = std::chrono::steady_clock::now();
    auto idle = poller.wait(events, netlite::Until(50ms));
    REQUIRE_OK(idle);
    CHECK(*idle == 0);
    CHECK(std::chrono::steady_clock::now() - start >= 50ms);

    netlite::StopSource source;
    std::thread stopper([&] {
        std::this_thread::sleep_for(
            20ms);  // not synchronisation: a stop while the wait is blocked, or before
        source.request_stop();
    });
    auto stopped = poller.wait(events, netlite::Until(10s, source.get_token()));
    stopper.join();
    REQUIRE_FALSE(stopped);
    CHECK(stopped.error() == std::errc::operation_canceled);
    CHECK(std::chrono::steady_clock::now() - start < 5s);
    auto at_once = poller.wait(events, netlite::Until(source.get_token()));
    REQUIRE_FALSE(at_once);
    CHECK(at_once.error() == std::errc::operation_canceled);

    auto receiver = netlite::UdpSocket<IPv4>::bind(netlite::Address<IPv4>::loopback(0));
    REQUIRE(receiver);
    auto to = receiver->local_address();
    REQUIRE(to);
    REQUIRE_OK(poller.add(*receiver, Interest::readable, Token(7)));
    REQUIRE(receiver->send_to(netlite::ConstBuffer("x", 1), *to));
    netlite::StopSource later;
    auto ready = poller.wait(events, netlite::Until(10s, later.get_token()));
    REQUIRE_OK(ready);
    REQUIRE(*ready == 1);
    CHECK(events[0].token == Token(7));
}
