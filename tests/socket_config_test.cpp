// Tests for configuring a socket before it binds, listens or connects (issue 21, item 1): TcpSocket
// (include/netlite/tcp_socket.hpp), TcpStream::connect with ConnectOptions (a source address),
// UdpSocket::bind with BindOptions and UdpSocket::bind_to on an opened socket, a dual-stack UDP socket, and
// two multicast receivers sharing one port on the loopback interface. Loopback addresses only.
#include "catch.hpp"
#include "socket_test_support.hpp"
#include "test_support.hpp"

#include <netlite/interfaces.hpp>
#include <netlite/tcp_socket.hpp>
#include <netlite/testing.hpp>
#include <netlite/udp.hpp>

#include <chrono>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>

namespace {

using namespace netlite_test::socket_names;
using netlite::BindOptions;
using netlite::ConnectOptions;
using netlite::TcpListener;
using netlite::TcpSocket;

/// Accepts one connection within 5 s; the test fails if none comes.
template <class F>
netlite::Accepted<F> accept_one(TcpListener<F>& listener) {
    auto accepted = listener.accept(5s);
    REQUIRE_OK(accepted);
    return std::move(*accepted);
}

TEMPLATE_TEST_CASE("TcpSocket: options set before bind are kept by the listener it becomes", "[config][tcp]",
                   IPv4, IPv6) {
    SKIP_UNLESS_AVAILABLE(TestType);
    auto socket = TcpSocket<TestType>::open();
    REQUIRE_OK(socket);
    REQUIRE_OK(socket->set_reuse_address(true));
    REQUIRE_OK(socket->set_recv_buffer_size(64 * 1024));
    REQUIRE_OK(socket->bind(netlite::testing::loopback<TestType>()));
    auto bound = socket->local_address();
    REQUIRE_OK(bound);
    CHECK(bound->port() != 0);

    auto listener = std::move(*socket).listen(4);
    REQUIRE_OK(listener);
    CHECK_FALSE(socket->is_open());  // the descriptor moved to the listener
    CHECK(listener->reuse_address() == netlite::Result<bool>(true));
    CHECK(listener->local_address() == bound);

    auto client = TcpStream<TestType>::connect(*bound, 5s);
    REQUIRE_OK(client);
    auto accepted = accept_one(*listener);
    CHECK(accepted.peer == client->local_address());
}

TEST_CASE("TcpSocket: listen without bind listens on a port the OS picks", "[config][tcp]") {
    auto socket = TcpSocket<IPv4>::open();
    REQUIRE_OK(socket);
    if (netlite_test::is_windows) {  // Winsock wants a bind first
        CHECK_FAILS_WITH(std::move(*socket).listen(), std::errc::invalid_argument);
        return;
    }
    auto listener = std::move(*socket).listen();
    REQUIRE_OK(listener);
    auto where = listener->local_address();
    REQUIRE_OK(where);
    CHECK(where->port() != 0);
}

TEMPLATE_TEST_CASE("TcpSocket: bind a source address, then connect from it", "[config][tcp]", IPv4, IPv6,
                   IP) {
    using Listening = std::conditional_t<std::is_same_v<TestType, IP>, IPv4, TestType>;
    SKIP_UNLESS_AVAILABLE(Listening);
    auto listener = TcpListener<TestType>::bind(Address<TestType>(netlite::testing::loopback<Listening>()));
    REQUIRE_OK(listener);
    auto server = listener->local_address();
    REQUIRE_OK(server);

    auto socket = TcpSocket<TestType>::open_for(*server);
    REQUIRE_OK(socket);
    REQUIRE_OK(socket->set_nodelay(true));
    REQUIRE_OK(socket->bind(Address<TestType>(netlite::testing::loopback<Listening>())));
    auto source = socket->local_address();
    REQUIRE_OK(source);

    SECTION("with an Until") {
        auto stream = std::move(*socket).connect(*server, 5s);
        REQUIRE_OK(stream);
        CHECK(stream->local_address() == source);
        CHECK(stream->nodelay() == netlite::Result<bool>(true));
        CHECK(accept_one(*listener).peer == *source);
    }
    SECTION("waiting as long as the OS does") {
        auto stream = std::move(*socket).connect(*server);
        REQUIRE_OK(stream);
        CHECK(accept_one(*listener).peer == *source);
    }
}

TEST_CASE("TcpSocket: a refused connect leaves the socket with its owner", "[config][tcp]") {
    // A bound socket that does not listen: connecting to its port is refused, and nobody else takes it.
    auto holder = TcpSocket<IPv4>::open();
    REQUIRE_OK(holder);
    REQUIRE_OK(holder->bind(Address<IPv4>::loopback(0)));
    auto refusing = holder->local_address();
    REQUIRE_OK(refusing);

    auto socket = TcpSocket<IPv4>::open();
    REQUIRE_OK(socket);
    CHECK_FAILS_WITH(std::move(*socket).connect(*refusing, 5s), std::errc::connection_refused);
    CHECK(socket->is_open());
    CHECK_OK(socket->close());
}

TEST_CASE("TcpSocket: misuse reports errors instead of crashing", "[config][tcp]") {
    SECTION("an empty socket") {
        TcpSocket<IPv4> empty;
        CHECK_FAILS_WITH(empty.bind(Address<IPv4>::loopback(0)), std::errc::bad_file_descriptor);
        CHECK_FAILS_WITH(std::move(empty).listen(), std::errc::bad_file_descriptor);
        CHECK_FAILS_WITH(std::move(empty).connect(Address<IPv4>::loopback(9), 1s),
                         std::errc::bad_file_descriptor);
    }
    SECTION("binding twice") {
        auto socket = TcpSocket<IPv4>::open();
        REQUIRE_OK(socket);
        REQUIRE_OK(socket->bind(Address<IPv4>::loopback(0)));
        CHECK_FAILS_WITH(socket->bind(Address<IPv4>::loopback(0)), std::errc::invalid_argument);
    }
    SECTION("an address in use") {
        auto first = TcpListener<IPv4>::bind(Address<IPv4>::loopback(0));
        REQUIRE_OK(first);
        auto taken = first->local_address();
        REQUIRE_OK(taken);
        auto socket = TcpSocket<IPv4>::open();
        REQUIRE_OK(socket);
        CHECK_FAILS_WITH(socket->bind(*taken), std::errc::address_in_use);
    }
    SECTION("the largest and smallest backlogs are accepted (the OS clamps them)") {
        for (int backlog : {std::numeric_limits<int>::max(), 0, -1, std::numeric_limits<int>::min()}) {
            auto socket = TcpSocket<IPv4>::open();
            REQUIRE_OK(socket);
            REQUIRE_OK(socket->bind(Address<IPv4>::loopback(0)));
            CHECK_OK(std::move(*socket).listen(backlog));
        }
    }
}

TEST_CASE("TcpSocket<Unix>: bind a path, then listen", "[config][unix]") {
    SKIP_UNLESS_AVAILABLE(Unix);
    auto path = netlite::testing::TempPath::create();
    REQUIRE_OK(path);
    auto socket = TcpSocket<Unix>::open();
    REQUIRE_OK(socket);
    REQUIRE_OK(socket->bind(path->address()));
    auto listener = std::move(*socket).listen();
    REQUIRE_OK(listener);
    auto client = TcpStream<Unix>::connect(path->address(), 5s);
    REQUIRE_OK(client);
    auto accepted = listener->accept(5s);
    REQUIRE_OK(accepted);
}

/// 127.0.0.2 when this host answers on the whole of 127/8 (Linux, Windows), else 127.0.0.1.
Address<IPv4> second_loopback() {
    const Address<IPv4> wanted = *Address<IPv4>::parse("127.0.0.2", 0);
    auto probe = UdpSocket<IPv4>::bind(wanted);
    return probe ? wanted : Address<IPv4>::loopback(0);
}

TEST_CASE("TcpStream::connect with a source address (create_connection(source_address=))", "[config][tcp]") {
    auto listener = TcpListener<IPv4>::bind(Address<IPv4>::loopback(0));
    REQUIRE_OK(listener);
    auto server = listener->local_address();
    REQUIRE_OK(server);
    const Address<IPv4> source = second_loopback();
    INFO("source " << source.to_string());

    SECTION("within an Until") {
        auto stream = TcpStream<IPv4>::connect(*server, ConnectOptions<IPv4>{.source_address = source}, 5s);
        REQUIRE_OK(stream);
        const auto peer = accept_one(*listener).peer;
        CHECK(peer.ip() == source.ip());
        CHECK(stream->local_address() == peer);
    }
    SECTION("waiting as long as the OS does, reusing the source address") {
        auto stream = TcpStream<IPv4>::connect(
            *server, ConnectOptions<IPv4>{.source_address = source, .reuse_address = true});
        REQUIRE_OK(stream);
        CHECK(stream->reuse_address() == netlite::Result<bool>(true));
        CHECK(accept_one(*listener).peer.ip() == source.ip());
    }
    SECTION("no source address: the OS picks, as connect(address) does") {
        auto stream = TcpStream<IPv4>::connect(*server, ConnectOptions<IPv4>{}, 5s);
        REQUIRE_OK(stream);
        CHECK(accept_one(*listener).peer == stream->local_address());
    }
    SECTION("a source address this host does not have") {
        const Address<IPv4> foreign = *Address<IPv4>::parse("192.0.2.1", 0);  // TEST-NET-1: never bound here
        CHECK_FAILS_WITH(
            TcpStream<IPv4>::connect(*server, ConnectOptions<IPv4>{.source_address = foreign}, 5s),
            std::errc::address_not_available);
    }
}

TEST_CASE("TcpStream<IP>::connect with a source of the other family fails, leaking nothing",
          "[config][tcp]") {
    if (!netlite::testing::available<IPv6>()) NETLITE_SKIP("IPv6 is not available here");
    auto listener = TcpListener<IP>::bind(Address<IP>(Address<IPv4>::loopback(0)));
    REQUIRE_OK(listener);
    auto server = listener->local_address();
    REQUIRE_OK(server);
    const int before = open_fd_count();
    auto stream = TcpStream<IP>::connect(
        *server, ConnectOptions<IP>{.source_address = Address<IP>(Address<IPv6>::loopback(0))}, 5s);
    REQUIRE_FALSE(stream);
    INFO(stream.error().message());
    CHECK((stream.error() == std::errc::address_family_not_supported ||
           stream.error() == std::errc::invalid_argument ||
           stream.error() == std::errc::operation_not_supported));  // wine: WSAEOPNOTSUPP
    CHECK(open_fd_count() == before);
}

// --- UDP ---------------------------------------------------------------------------------------------------

/// Receives one datagram within 5 s as text; the test fails if none comes.
template <class F>
std::string receive_text(UdpSocket<F>& socket) {
    char buffer[256];
    auto got = socket.recv_from(buffer, 5s);
    REQUIRE_OK(got);
    return std::string(buffer, got->size);
}

TEST_CASE("UdpSocket::bind with reuse options: two sockets share one port", "[config][udp]") {
    auto first = UdpSocket<IPv4>::bind(Address<IPv4>::loopback(0), BindOptions{.reuse_address = true});
    REQUIRE_OK(first);
    auto port = first->local_address();
    REQUIRE_OK(port);
    CHECK(first->reuse_address() == netlite::Result<bool>(true));

    SECTION("without the options the port is taken") {
        CHECK_FAILS_WITH(UdpSocket<IPv4>::bind(*port), std::errc::address_in_use);
    }
    SECTION("with SO_REUSEADDR on both (where SO_REUSEPORT is not needed for it)") {
        auto second = UdpSocket<IPv4>::bind(*port, BindOptions{.reuse_address = true});
        if (!netlite_test::is_windows && !second && second.error() == std::errc::address_in_use)
            SUCCEED("this system wants SO_REUSEPORT too for two unicast binds");
        else if (netlite_test::under_wine() && !second && second.error() == std::errc::permission_denied)
            SUCCEED("wine refuses a SO_REUSEADDR bind on a live port (WSAEACCES); Windows allows it");
        else
            CHECK_OK(second);
    }
    SECTION("with SO_REUSEPORT") {
        auto shared = UdpSocket<IPv4>::bind(Address<IPv4>::loopback(0),
                                            BindOptions{.reuse_address = true, .reuse_port = true});
        if (netlite_test::is_windows) {
            CHECK_FAILS_WITH(shared, std::errc::no_protocol_option);
            return;
        }
        REQUIRE_OK(shared);
        auto where = shared->local_address();
        REQUIRE_OK(where);
        auto second = UdpSocket<IPv4>::bind(*where, BindOptions{.reuse_address = true, .reuse_port = true});
        REQUIRE_OK(second);
        CHECK(second->reuse_port() == netlite::Result<bool>(true));
    }
}

TEST_CASE("UdpSocket::bind(host, port, options)", "[config][udp]") {
    auto socket = UdpSocket<IP>::bind("127.0.0.1", 0, BindOptions{.reuse_address = true});
    REQUIRE_OK(socket);
    CHECK(socket->reuse_address() == netlite::Result<bool>(true));
    if (netlite_test::under_wine()) NETLITE_SKIP("wine binds addresses the host does not have");
    CHECK_FAILS_WITH(UdpSocket<IP>::bind("192.0.2.1", 0, BindOptions{}), std::errc::address_not_available);
}

TEMPLATE_TEST_CASE("UdpSocket opened, configured, then bound with bind_to", "[config][udp]", IPv4, IPv6) {
    SKIP_UNLESS_AVAILABLE(TestType);
    auto socket = UdpSocket<TestType>::open();
    REQUIRE_OK(socket);
    REQUIRE_OK(socket->set_recv_buffer_size(128 * 1024));
    REQUIRE_OK(socket->bind_to(netlite::testing::loopback<TestType>()));
    auto where = socket->local_address();
    REQUIRE_OK(where);
    CHECK(where->port() != 0);
    CHECK_FAILS_WITH(socket->bind_to(netlite::testing::loopback<TestType>()), std::errc::invalid_argument);

    auto sender = UdpSocket<TestType>::open();
    REQUIRE_OK(sender);
    REQUIRE_OK(sender->send_to(std::string_view("bound later"), *where));
    CHECK(receive_text(*socket) == "bound later");

    UdpSocket<TestType> empty;
    CHECK_FAILS_WITH(empty.bind_to(netlite::testing::loopback<TestType>()), std::errc::bad_file_descriptor);
}

TEST_CASE("UdpSocket<IPv6> dual-stack: an IPv4 sender reaches it as an IPv4-mapped address",
          "[config][udp]") {
    if (!netlite::testing::available<IPv6>()) NETLITE_SKIP("IPv6 is not available here");
    auto dual = UdpSocket<IPv6>::bind(Address<IPv6>::any(0), BindOptions{.ipv6_only = false});
    REQUIRE_OK(dual);
    CHECK(dual->ipv6_only() == netlite::Result<bool>(false));
    auto where = dual->local_address();
    REQUIRE_OK(where);

    auto v4 = UdpSocket<IPv4>::open();
    REQUIRE_OK(v4);
    REQUIRE_OK(v4->send_to(std::string_view("over IPv4"), Address<IPv4>::loopback(where->port())));
    char buffer[64];
    auto got = dual->recv_from(buffer, 5s);
    REQUIRE_OK(got);
    CHECK(std::string(buffer, got->size) == "over IPv4");
    CHECK(got->sender.ip() == "::ffff:127.0.0.1");
    REQUIRE_OK(dual->send_to(std::string_view("reply"), got->sender));  // back to the IPv4 peer
    CHECK(receive_text(*v4) == "reply");

    auto v6 = UdpSocket<IPv6>::open();
    REQUIRE_OK(v6);
    REQUIRE_OK(v6->send_to(std::string_view("over IPv6"), Address<IPv6>::loopback(where->port())));
    CHECK(receive_text(*dual) == "over IPv6");

    SECTION("ipv6_only = true refuses the IPv4 side") {
        auto only = UdpSocket<IPv6>::bind(Address<IPv6>::any(0), BindOptions{.ipv6_only = true});
        REQUIRE_OK(only);
        CHECK(only->ipv6_only() == netlite::Result<bool>(true));
    }
}

TEST_CASE("interface_index names the loopback interface and rejects unknown names", "[config][interface]") {
    CHECK_FAILS_WITH(netlite::interface_index(""), std::errc::no_such_device);
    CHECK_FAILS_WITH(netlite::interface_index("no-such-interface0"), std::errc::no_such_device);
    CHECK_FAILS_WITH(netlite::interface_index(std::string(1000, 'x')), std::errc::no_such_device);
    if (netlite_test::is_windows) NETLITE_SKIP("Windows names its loopback interface differently");
    auto lo = netlite::interface_index("lo");
    if (!lo) lo = netlite::interface_index("lo0");  // the BSDs
    REQUIRE_OK(lo);
    CHECK(*lo > 0);
}

TEST_CASE("two multicast receivers share one port on the loopback interface", "[config][multicast]") {
    if (netlite_test::is_windows) NETLITE_SKIP("the loopback interface has no portable name on Windows");
    auto lo = netlite::interface_index("lo");
    if (!lo) lo = netlite::interface_index("lo0");
    if (!lo) NETLITE_SKIP("no loopback interface named lo or lo0");
    const Address<IPv4> group_any_port = *Address<IPv4>::parse("239.255.21.1", 0);  // organisation-local
    const BindOptions shared{.reuse_address = true, .reuse_port = true};

    auto first = UdpSocket<IPv4>::bind(Address<IPv4>::any(0), shared);
    REQUIRE_OK(first);
    auto port = first->local_address();
    REQUIRE_OK(port);
    auto second = UdpSocket<IPv4>::bind(*port, shared);
    REQUIRE_OK(second);
    const Address<IPv4> group = *Address<IPv4>::parse("239.255.21.1", port->port());
    for (UdpSocket<IPv4>* receiver : {&*first, &*second}) {
        auto joined = receiver->join_multicast(group_any_port, *lo);
        if (!joined)
            NETLITE_SKIP("cannot join a multicast group on loopback here: " + joined.error().message());
    }

    auto sender = UdpSocket<IPv4>::open();
    REQUIRE_OK(sender);
    REQUIRE_OK(sender->set_multicast_ttl(1));
    const std::string cannot =
        netlite_test::multicast_round_trip(*sender, *lo, group, *first, "to the group");
    if (!cannot.empty()) NETLITE_SKIP(cannot);
    CHECK(receive_text(*second) == "to the group");  // each receiver gets its own copy
    // (No check that a receiver which left stops receiving: Linux's IP_MULTICAST_ALL, on by default,
    // delivers a group joined by any socket to every socket bound to the port.)
    REQUIRE_OK(first->leave_multicast(group_any_port, *lo));
    CHECK_FAILS_WITH(first->leave_multicast(group_any_port, *lo), std::errc::address_not_available);
}

}  // namespace
