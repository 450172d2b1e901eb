// Tests for per-datagram details (issue 21, item 5; include/netlite/udp.hpp): peek_from, the destination
// address and arriving interface of each datagram (IP_PKTINFO / IPV6_RECVPKTINFO), and replying from a
// chosen source address, as a multi-homed UDP server must. Loopback only (127.0.0.1, 127.0.0.2 where the
// system answers on all of 127/8, ::1).
#include "catch.hpp"
#include "test_support.hpp"

#include <netlite/interfaces.hpp>
#include <netlite/testing.hpp>
#include <netlite/udp.hpp>

#include <chrono>
#include <string>
#include <string_view>
#include <system_error>

namespace {

using namespace std::chrono_literals;
using netlite::Address;
using netlite::IP;
using netlite::IPv4;
using netlite::IPv6;
using netlite::UdpSocket;

#if defined(_WIN32)
constexpr bool has_packet_info = false;
#else
constexpr bool has_packet_info = true;
#endif

TEST_CASE("peek_from leaves the datagram for the next receive", "[udp][peek]") {
    auto receiver = UdpSocket<IPv4>::bind(Address<IPv4>::loopback(0));
    REQUIRE_OK(receiver);
    auto where = receiver->local_address();
    REQUIRE_OK(where);
    auto sender = UdpSocket<IPv4>::bind(Address<IPv4>::loopback(0));
    REQUIRE_OK(sender);
    REQUIRE_OK(sender->send_to(std::string_view("peek me"), *where));
    char buffer[16];
    REQUIRE_OK(receiver->set_timeout(5s));
    for (int i = 0; i < 2; ++i) {
        auto peeked = receiver->peek_from(buffer);
        REQUIRE_OK(peeked);
        CHECK(std::string(buffer, peeked->size) == "peek me");
        CHECK(peeked->sender == sender->local_address());
    }
    char small[4];
    auto cut = receiver->peek_from(small);
    REQUIRE_OK(cut);
    CHECK(cut->truncated);
    auto got = receiver->recv_from(buffer);
    REQUIRE_OK(got);
    CHECK(std::string(buffer, got->size) == "peek me");
    REQUIRE_OK(receiver->set_nonblocking(true));
    CHECK_FAILS_WITH(receiver->peek_from(buffer), std::errc::resource_unavailable_try_again);  // it was taken
}

/// 127.0.0.2 when this host answers on the whole of 127/8, else nothing.
std::optional<Address<IPv4>> second_loopback() {
    const Address<IPv4> wanted = *Address<IPv4>::parse("127.0.0.2", 0);
    if (!UdpSocket<IPv4>::bind(wanted)) return std::nullopt;
    return wanted;
}

TEST_CASE("recv_with_destination tells which address a datagram was sent to; send_from answers from it",
          "[udp][pktinfo]") {
    auto server = UdpSocket<IPv4>::bind(Address<IPv4>::any(0));
    REQUIRE_OK(server);
    auto set = server->set_receive_destination(true);
    if (!has_packet_info) {
        CHECK_FAILS_WITH(set, std::errc::operation_not_supported);
        return;
    }
    REQUIRE_OK(set);
    const std::uint16_t port = server->local_address()->port();
    auto client = UdpSocket<IPv4>::bind(Address<IPv4>::loopback(0));
    REQUIRE_OK(client);
    REQUIRE_OK(client->set_timeout(5s));
    REQUIRE_OK(server->set_timeout(5s));

    std::vector<Address<IPv4>> asked{Address<IPv4>::loopback(port)};
    if (auto second = second_loopback()) {
        second->set_port(port);
        asked.push_back(*second);
    }
    for (const Address<IPv4>& target : asked) {
        INFO("asked at " << target.to_string());
        REQUIRE_OK(client->send_to(std::string_view("question"), target));
        char buffer[32];
        auto got = server->recv_with_destination(buffer);
        REQUIRE_OK(got);
        CHECK(std::string(buffer, got->size) == "question");
        REQUIRE(got->destination.has_value());
        CHECK(got->destination->ip() == target.ip());
        CHECK(got->destination->port() == 0);
        auto lo = netlite::interface_index("lo");
        if (lo) CHECK(got->interface_index == *lo);

        REQUIRE_OK(server->send_from(std::string_view("answer"), got->sender, *got->destination));
        auto reply = client->recv_from(buffer);
        REQUIRE_OK(reply);
        CHECK(std::string(buffer, reply->size) == "answer");
        CHECK(reply->sender == target);  // from the address it was asked on, and the server's port
    }

    SECTION("without set_receive_destination there is no destination") {
        REQUIRE_OK(server->set_receive_destination(false));
        REQUIRE_OK(client->send_to(std::string_view("q"), asked.front()));
        char buffer[8];
        auto got = server->recv_with_destination(buffer);
        REQUIRE_OK(got);
        CHECK_FALSE(got->destination.has_value());
    }
    SECTION("a source address this host does not have") {
        auto sent = server->send_from(std::string_view("x"), *client->local_address(),
                                      *Address<IPv4>::parse("192.0.2.1", 0));
        REQUIRE_FALSE(sent);
        INFO(sent.error().message());  // Linux: no route from that source
        CHECK((sent.error() == std::errc::invalid_argument ||
               sent.error() == std::errc::network_unreachable ||
               sent.error() == std::errc::address_not_available));
    }
}

TEST_CASE("recv_with_destination on IPv6 and on an Address<IP> socket", "[udp][pktinfo]") {
    if (!has_packet_info) NETLITE_SKIP("IP_PKTINFO is not offered on Windows yet");
    if (!netlite::testing::available<IPv6>()) NETLITE_SKIP("IPv6 is not available here");
    auto server = UdpSocket<IP>::bind(Address<IP>(Address<IPv6>::any(0)));
    REQUIRE_OK(server);
    REQUIRE_OK(server->set_receive_destination(true));
    REQUIRE_OK(server->set_timeout(5s));
    const std::uint16_t port = server->local_address()->port();
    auto client = UdpSocket<IPv6>::bind(Address<IPv6>::loopback(0));
    REQUIRE_OK(client);
    REQUIRE_OK(client->send_to(std::string_view("six"), Address<IPv6>::loopback(port)));
    char buffer[8];
    auto got = server->recv_with_destination(buffer);
    REQUIRE_OK(got);
    REQUIRE(got->destination.has_value());
    CHECK(got->destination->ip() == "::1");
    REQUIRE_OK(server->send_from(std::string_view("back"), got->sender, *got->destination));
    REQUIRE_OK(client->set_timeout(5s));
    auto reply = client->recv_from(buffer);
    REQUIRE_OK(reply);
    CHECK(reply->sender.port() == port);
    CHECK(std::string(buffer, reply->size) == "back");
}

TEST_CASE("the datagram calls on an empty socket fail with EBADF", "[udp][pktinfo]") {
    UdpSocket<IPv4> empty;
    char buffer[4];
    CHECK_FAILS_WITH(empty.peek_from(buffer), std::errc::bad_file_descriptor);
    if (!has_packet_info) return;
    CHECK_FAILS_WITH(empty.set_receive_destination(true), std::errc::bad_file_descriptor);
    CHECK_FAILS_WITH(empty.recv_with_destination(buffer), std::errc::bad_file_descriptor);
    CHECK_FAILS_WITH(
        empty.send_from(std::string_view("x"), Address<IPv4>::loopback(9), Address<IPv4>::loopback(0)),
        std::errc::bad_file_descriptor);
}

}  // namespace
