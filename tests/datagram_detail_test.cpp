// Tests for per-datagram details (issue 21, item 5; include/netlite/udp.hpp): peek_from, the destination
// address and arriving interface of each datagram (IP_PKTINFO / IPV6_RECVPKTINFO), and replying from a
// chosen source address, as a multi-homed UDP server must; source-specific multicast joins; vectored
// send_to/recv_from. Loopback only (127.0.0.1, 127.0.0.2 where the
// system answers on all of 127/8, ::1).
#include "catch.hpp"
#include "socket_test_support.hpp"
#include "test_support.hpp"

#include <netlite/interfaces.hpp>
#include <netlite/resolver.hpp>
#include <netlite/testing.hpp>
#include <netlite/udp.hpp>

#include <chrono>
#include <climits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace {

using namespace netlite_test::socket_names;

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
    if (!netlite_test::require_ok_where_supported(server->set_receive_destination(true), has_packet_info))
        return;
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

// --- source-specific multicast joins ---------------------------------------------------------------------

/// The loopback interface's index (lo, lo0, or Windows' Loopback Pseudo-Interface), or nothing.
std::optional<unsigned> loopback_index() {
    auto all = netlite::network_interfaces();
    if (!all) return std::nullopt;
    for (const netlite::NetworkInterface& entry : *all)
        if (entry.loopback && entry.index != 0) return entry.index;
    return std::nullopt;
}

/// A UDP socket bound to every IPv4 address and a port of the OS's choice, joined to `group` for datagrams
/// from `source` only on interface `lo`; the join's Result comes back in `joined`.
UdpSocket<IPv4> ssm_receiver(const Address<IPv4>& group, const Address<IPv4>& source, unsigned lo,
                             netlite::Result<void>& joined) {
    auto receiver = UdpSocket<IPv4>::bind(Address<IPv4>::any(0));
    REQUIRE_OK(receiver);
    joined = receiver->join_source_multicast(group, source, lo);
    return std::move(*receiver);
}

/// Makes `sender` send multicast by the loopback interface `lo` and hear it there. Where IP_MULTICAST_IF
/// by index is refused (wine), the sender's bound loopback address still takes its multicast out by
/// loopback (Linux routes a multicast from a bound source by the interface that has that address).
void send_by_loopback(UdpSocket<IPv4>& sender, unsigned lo) {
    auto chosen = sender.set_multicast_interface(lo);
    if (!netlite_test::under_wine()) REQUIRE_OK(chosen);
    if (!chosen)
        WARN("IP_MULTICAST_IF by index refused (" << chosen.error().message()
                                                  << "): the bound 127.0.0.x chooses the interface");
    REQUIRE_OK(sender.set_multicast_loop(true));
    REQUIRE_OK(sender.set_multicast_ttl(1));
}

TEST_CASE("a source-specific join receives its source's datagrams and not another's", "[udp][ssm]") {
    const auto lo = loopback_index();
    if (!lo) NETLITE_SKIP("no loopback interface found by network_interfaces()");
    const Address<IPv4> group = *Address<IPv4>::parse("232.1.21.5", 0);  // the SSM range, 232/8
    const Address<IPv4> one = Address<IPv4>::loopback(0);
    const Address<IPv4> two = *Address<IPv4>::parse("127.0.0.2", 0);

    netlite::Result<void> joined;
    UdpSocket<IPv4> wants_one = ssm_receiver(group, one, *lo, joined);
    if (!joined) NETLITE_SKIP("source-specific join refused on loopback here: " + joined.error().message());
    UdpSocket<IPv4> wants_two = ssm_receiver(group, two, *lo, joined);
    REQUIRE_OK(joined);
    REQUIRE_OK(wants_one.set_timeout(5s));

    auto sender = UdpSocket<IPv4>::bind(one);  // the datagrams' source is 127.0.0.1
    REQUIRE_OK(sender);
    send_by_loopback(*sender, *lo);
    Address<IPv4> to_one = group;
    to_one.set_port(wants_one.local_address()->port());
    Address<IPv4> to_two = group;
    to_two.set_port(wants_two.local_address()->port());

    auto sent = sender->send_to(std::string_view("from one"), to_one);
    if (!sent) NETLITE_SKIP("cannot send multicast on loopback here: " + sent.error().message());
    char buffer[32];
    auto got = wants_one.recv_from(buffer, 5s);
    if (!got && got.error() == std::errc::timed_out && netlite_test::under_wine())
        NETLITE_SKIP(
            "wine 8 hands Windows' ip_mreq_source to Linux unconverted (the two order its source "
            "and interface fields differently), so the join filters for source 0.0.0.n");
    if (!got && got.error() == std::errc::timed_out)
        NETLITE_SKIP("this system does not loop multicast back on the loopback interface");
    REQUIRE_OK(got);
    CHECK(std::string(buffer, got->size) == "from one");
    CHECK(got->sender == *sender->local_address());

    // The same source to the receiver that asked for 127.0.0.2 only: the kernel's filter drops it.
    REQUIRE_OK(sender->send_to(std::string_view("not for two"), to_two));
    CHECK_FAILS_WITH(wants_two.recv_from(buffer, 300ms), std::errc::timed_out);

    // Its own source does reach it (where this host answers on 127.0.0.2): the silence above was the
    // filter, not a receiver that hears nothing.
    if (auto second = second_loopback()) {
        auto other = UdpSocket<IPv4>::bind(*second);
        REQUIRE_OK(other);
        send_by_loopback(*other, *lo);
        REQUIRE_OK(other->send_to(std::string_view("from two"), to_two));
        auto heard = wants_two.recv_from(buffer, 5s);
        REQUIRE_OK(heard);
        CHECK(std::string(buffer, heard->size) == "from two");
        CHECK(heard->sender.ip() == "127.0.0.2");
    } else {
        WARN("127.0.0.2 is not this host's: the positive check for the second source is left out");
    }

    REQUIRE_OK(wants_one.leave_source_multicast(group, one, *lo));
    auto again = wants_one.leave_source_multicast(group, one, *lo);
    REQUIRE_FALSE(again);  // no such join any more
    INFO(again.error().message());
    CHECK(
        (again.error() == std::errc::address_not_available || again.error() == std::errc::invalid_argument));
}

TEST_CASE("source-specific joins refuse what is not a source-specific join", "[udp][ssm]") {
    auto socket = UdpSocket<IPv4>::bind(Address<IPv4>::any(0));
    REQUIRE_OK(socket);
    const Address<IPv4> group = *Address<IPv4>::parse("232.1.21.6", 0);
    const Address<IPv4> source = Address<IPv4>::loopback(0);
    CHECK_FAILS_WITH(socket->join_source_multicast(group, source, 1u + INT_MAX), std::errc::invalid_argument);
    CHECK_FAILS_WITH(socket->leave_source_multicast(group, source, UINT_MAX), std::errc::invalid_argument);
    auto unicast = socket->join_source_multicast(source, source);  // 127.0.0.1 is no group
    REQUIRE_FALSE(unicast);
    INFO(unicast.error().message());
    CHECK((unicast.error() == std::errc::invalid_argument || unicast.error() == std::errc::no_such_device ||
           unicast.error() == std::errc::operation_not_supported));

    auto either = UdpSocket<IP>::bind(Address<IP>(Address<IPv4>::any(0)));
    REQUIRE_OK(either);
    CHECK_FAILS_WITH(
        either->join_source_multicast(Address<IP>(group), Address<IP>(Address<IPv6>::loopback(0))),
        std::errc::invalid_argument);  // a group and a source of two families

    UdpSocket<IPv4> empty;
    CHECK_FAILS_WITH(empty.join_source_multicast(group, source), std::errc::bad_file_descriptor);
}

TEST_CASE("a source-specific join on IPv6", "[udp][ssm]") {
    if (!netlite::testing::available<IPv6>()) NETLITE_SKIP("IPv6 is not available here");
    const auto lo = loopback_index();
    if (!lo) NETLITE_SKIP("no loopback interface found by network_interfaces()");
    auto receiver = UdpSocket<IPv6>::bind(Address<IPv6>::any(0));
    REQUIRE_OK(receiver);
    const Address<IPv6> group = *Address<IPv6>::parse("ff35::8000:2115", 0);  // ff3x::/96, SSM
    const Address<IPv6> source = Address<IPv6>::loopback(0);
    auto joined = receiver->join_source_multicast(group, source, *lo);
    if (!joined) NETLITE_SKIP("IPv6 source-specific join refused here: " + joined.error().message());
    auto sender = UdpSocket<IPv6>::bind(source);
    REQUIRE_OK(sender);
    Address<IPv6> to = group;
    to.set_port(receiver->local_address()->port());
    const std::string cannot = netlite_test::multicast_round_trip(*sender, *lo, to, *receiver, "six");
    if (!cannot.empty()) NETLITE_SKIP("IPv6: " + cannot);
    REQUIRE_OK(receiver->leave_source_multicast(group, source, *lo));
}

// --- vectored datagrams -----------------------------------------------------------------------------------

/// Two IPv4 UDP sockets on loopback, each with a 5 s timeout.
struct UdpPair {
    UdpSocket<IPv4> a;
    UdpSocket<IPv4> b;
    Address<IPv4> b_address;
};
UdpPair udp_pair() {
    auto a = UdpSocket<IPv4>::bind(Address<IPv4>::loopback(0));
    REQUIRE_OK(a);
    auto b = UdpSocket<IPv4>::bind(Address<IPv4>::loopback(0));
    REQUIRE_OK(b);
    REQUIRE_OK(a->set_timeout(5s));
    REQUIRE_OK(b->set_timeout(5s));
    auto where = b->local_address();
    REQUIRE_OK(where);
    return UdpPair{std::move(*a), std::move(*b), *where};
}

TEST_CASE("send_to gathers buffers into one datagram; recv_from scatters one over buffers",
          "[udp][vectored]") {
    UdpPair pair = udp_pair();
    using netlite::ConstBuffer;
    using netlite::MutableBuffer;

    const ConstBuffer pieces[] = {ConstBuffer("head"), ConstBuffer(), ConstBuffer("-body-"),
                                  ConstBuffer(),       ConstBuffer(), ConstBuffer("tail")};
    auto sent = pair.a.send_to(pieces, pair.b_address);
    REQUIRE_OK(sent);
    CHECK(*sent == 14);
    char whole[32];
    auto one = pair.b.recv_from(whole);  // the plain receive sees one datagram, the concatenation
    REQUIRE_OK(one);
    CHECK(std::string(whole, one->size) == "head-body-tail");
    CHECK_FALSE(one->truncated);
    CHECK(one->sender == *pair.a.local_address());

    // Where the scattering sections receive: 2 + 0 + 5 bytes.
    char first[2];
    char last[5];
    const MutableBuffer room[] = {MutableBuffer(first), MutableBuffer(), MutableBuffer(last)};

    SECTION("scattered over 2 + 0 + 5 bytes") {
        REQUIRE_OK(pair.a.send_to(std::string_view("abcdefg"), pair.b_address));
        auto got = pair.b.recv_from(room);
        REQUIRE_OK(got);
        CHECK(got->size == 7);
        CHECK_FALSE(got->truncated);
        CHECK(got->buffer.size() == 0);  // the bytes are in the caller's buffers
        CHECK(std::string(first, 2) == "ab");
        CHECK(std::string(last, 5) == "cdefg");
        CHECK(got->sender == *pair.a.local_address());
    }
    SECTION("a datagram larger than the buffers is flagged, its tail discarded") {
        REQUIRE_OK(pair.a.send_to(std::string_view("abcdefghij"), pair.b_address));
        REQUIRE_OK(pair.a.send_to(std::string_view("next"), pair.b_address));
        auto got = pair.b.recv_from(room);
        REQUIRE_OK(got);
        CHECK(got->truncated);
        CHECK(got->size == 7);
        CHECK(std::string(first, 2) + std::string(last, 5) == "abcdefg");
        auto next = pair.b.recv_from(whole);  // the tail went with it
        REQUIRE_OK(next);
        CHECK(std::string(whole, next->size) == "next");
    }
    SECTION(
        "no buffers: an empty datagram goes; a receive into none takes one datagram, flagged if not empty") {
        REQUIRE_OK(pair.a.send_to(std::span<const ConstBuffer>(), pair.b_address));
        auto empty = pair.b.recv_from(whole);
        REQUIRE_OK(empty);
        CHECK(empty->size == 0);
        CHECK_FALSE(empty->truncated);

        REQUIRE_OK(pair.a.send_to(std::string_view("lost"), pair.b_address));
        REQUIRE_OK(pair.a.send_to(std::string_view("kept"), pair.b_address));
        auto none = pair.b.recv_from(std::span<const MutableBuffer>());
        REQUIRE_OK(none);
        CHECK(none->size == 0);
        CHECK(none->truncated);
        CHECK(none->sender == *pair.a.local_address());
        auto kept = pair.b.recv_from(whole);
        REQUIRE_OK(kept);
        CHECK(std::string(whole, kept->size) == "kept");
    }
    SECTION("more non-empty buffers than one call takes: invalid_argument, nothing sent or taken") {
        const std::size_t too_many = UdpSocket<IPv4>::max_datagram_buffers + 1;
        std::vector<char> bytes(too_many, 'x');
        std::vector<ConstBuffer> out;
        std::vector<MutableBuffer> in;
        for (char& byte : bytes) {
            out.emplace_back(&byte, 1);
            in.emplace_back(&byte, 1);
        }
        CHECK_FAILS_WITH(pair.a.send_to(out, pair.b_address), std::errc::invalid_argument);
        REQUIRE_OK(pair.a.send_to(std::string_view("still here"), pair.b_address));
        CHECK_FAILS_WITH(pair.b.recv_from(in), std::errc::invalid_argument);
        auto still = pair.b.recv_from(whole);
        REQUIRE_OK(still);
        CHECK(std::string(whole, still->size) == "still here");  // the refused send sent nothing

        // Empty entries do not count: max_datagram_buffers non-empty ones among many empty ones go.
        out.resize(UdpSocket<IPv4>::max_datagram_buffers);
        out.insert(out.begin(), 50, ConstBuffer());
        auto most = pair.a.send_to(out, pair.b_address);
        REQUIRE_OK(most);
        CHECK(*most == UdpSocket<IPv4>::max_datagram_buffers);
        std::vector<char> sink(2 * too_many);
        auto arrived = pair.b.recv_from(sink);
        REQUIRE_OK(arrived);
        CHECK(arrived->size == UdpSocket<IPv4>::max_datagram_buffers);
    }
    SECTION("with a deadline, the scatter receive times out and the socket stays usable") {
        char small[4];
        const MutableBuffer small_room[] = {MutableBuffer(small)};
        CHECK_FAILS_WITH(pair.b.recv_from(small_room, 50ms), std::errc::timed_out);
        REQUIRE_OK(pair.a.send_to(pieces, pair.b_address, 5s));
        auto got = pair.b.recv_from(small_room, 5s);
        REQUIRE_OK(got);
        CHECK(got->truncated);
        CHECK(std::string(small, 4) == "head");
    }
}

TEST_CASE("vectored datagrams on a Unix datagram socket", "[udp][vectored][unix]") {
    auto pair = netlite::UnixDatagram::pair();
    if (!pair) NETLITE_SKIP("no Unix datagram socket pair here: " + pair.error().message());
    using netlite::ConstBuffer;
    using netlite::MutableBuffer;
    const ConstBuffer pieces[] = {ConstBuffer("un"), ConstBuffer(), ConstBuffer("ix")};
    REQUIRE_OK(pair->first.send_to(pieces, Address<netlite::Unix>()));
    char one[1];
    char three[3];
    const MutableBuffer room[] = {MutableBuffer(one), MutableBuffer(three)};
    REQUIRE_OK(pair->second.set_timeout(5s));
    auto got = pair->second.recv_from(room);
    REQUIRE_OK(got);
    CHECK(got->size == 4);
    CHECK(std::string(one, 1) + std::string(three, 3) == "unix");
}

TEST_CASE("vectored datagram calls on an empty socket fail with EBADF", "[udp][vectored]") {
    UdpSocket<IPv4> empty;
    char byte[1];
    const netlite::MutableBuffer room[] = {netlite::MutableBuffer(byte)};
    const netlite::ConstBuffer pieces[] = {netlite::ConstBuffer("x")};
    CHECK_FAILS_WITH(empty.recv_from(room), std::errc::bad_file_descriptor);
    CHECK_FAILS_WITH(empty.send_to(pieces, Address<IPv4>::loopback(9)), std::errc::bad_file_descriptor);
}

}  // namespace
