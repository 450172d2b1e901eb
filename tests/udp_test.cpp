// Tests for UdpSocket<F> (include/netlite/udp.hpp): binding, datagram round trips, truncation reports,
// connected sockets, ICMP errors, timeouts, empty datagrams, options, Unix-domain datagrams, cloning,
// bursts on loopback and descriptor hygiene. Loopback and temporary Unix paths only.
#include "catch.hpp"
#include "socket_test_support.hpp"
#include "test_platform.hpp"

#include <netlite/testing.hpp>
#include <netlite/udp.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <vector>

namespace Catch {
template <>
struct StringMaker<netlite::Error> {
    static std::string convert(const netlite::Error& error) {
        return error.message() + " [" + error.category().name() + ":" + std::to_string(error.value()) + "]";
    }
};
}  // namespace Catch

namespace {

using namespace netlite_test::socket_names;
using netlite::UnixDatagram;
using Clock = std::chrono::steady_clock;

template <class F>
constexpr bool is_unix = std::is_same_v<F, Unix>;

template <class T>
std::string describe(const netlite::Result<T>& result) {
    return result ? std::string("ok") : result.error().message();
}

// REQUIRE that a Result holds a value, printing its error otherwise. `expr` is evaluated once.
#define REQUIRE_OK(expr)                                \
    do {                                                \
        const auto& required_result_ = (expr);          \
        INFO("result: " << describe(required_result_)); \
        REQUIRE(required_result_.has_value());          \
    } while (false)

/// A bound datagram socket, its address, and (for Unix) the temporary directory that holds its path.
template <class F>
struct Bound {
    std::optional<TempPath> dir;
    UdpSocket<F> socket;
    Address<F> address;
};

/// Binds a datagram socket on loopback port 0, or on a fresh temporary path for Unix.
template <class F>
Bound<F> bind_local() {
    Bound<F> bound;
    if constexpr (is_unix<F>) {
        auto temp = TempPath::create("dgram");
        REQUIRE_OK(temp);
        auto socket = UnixDatagram::bind(temp->address());
        REQUIRE_OK(socket);
        bound.dir.emplace(std::move(*temp));
        bound.socket = std::move(*socket);
    } else {
        auto socket = UdpSocket<F>::bind(netlite::testing::loopback<F>());
        REQUIRE_OK(socket);
        bound.socket = std::move(*socket);
    }
    bound.address = netlite_test::require_local_address(bound.socket);
    return bound;
}

/// Sets a read timeout so that a test waiting for a datagram that never comes fails instead of hanging.
template <class F>
void guard(UdpSocket<F>& socket, std::chrono::milliseconds timeout = 2s) {
    auto set = socket.set_read_timeout(timeout);
    REQUIRE_OK(set);
}

/// Two bound sockets: `a` sends, `b` receives (guarded).
template <class F>
struct BoundPair {
    Bound<F> a;
    Bound<F> b;
};

template <class F>
BoundPair<F> bind_pair() {
    BoundPair<F> pair{bind_local<F>(), bind_local<F>()};
    guard(pair.b.socket);
    return pair;
}

std::vector<std::byte> pattern(std::size_t size, unsigned seed) {
    std::vector<std::byte> bytes(size);
    for (std::size_t i = 0; i < size; ++i) bytes[i] = static_cast<std::byte>((i * 37 + seed * 11 + 5) & 0xff);
    return bytes;
}

std::string text_of(const std::vector<char>& buffer, std::size_t size) {
    return std::string(buffer.data(), size);
}

/// Receives one datagram, checks that it is exactly `expected`, not truncated, and returns its sender.
template <class F>
Address<F> receive_exactly(UdpSocket<F>& socket, std::string_view expected) {
    std::vector<char> buffer(expected.size() + 64, '\x7f');
    auto got = socket.recv_from(buffer);
    REQUIRE_OK(got);
    CHECK(got->size == expected.size());
    CHECK_FALSE(got->truncated);
    CHECK(text_of(buffer, got->size) == expected);
    return got->sender;
}

/// Receives one datagram and checks that it is exactly `expected` from `sender`, not truncated.
template <class F>
void expect_datagram(UdpSocket<F>& socket, std::string_view expected, const Address<F>& sender) {
    CHECK(receive_exactly(socket, expected) == sender);
}

/// A loopback port where nothing listens right now: bound, read, and released.
template <class F>
std::uint16_t dead_port() {
    auto probe = UdpSocket<F>::bind(netlite::testing::loopback<F>());
    REQUIRE_OK(probe);
    auto where = probe->local_address();
    REQUIRE_OK(where);
    auto closed = probe->close();
    REQUIRE_OK(closed);
    return where->port();
}

// --- burst payload: [sequence (4 bytes LE)] [filler derived from it (56 bytes)] [FNV-1a of the first 60 (4
// bytes)]
constexpr std::size_t burst_size = 64;
using BurstDatagram = std::array<unsigned char, burst_size>;

std::uint32_t fnv1a(const unsigned char* data, std::size_t size) {
    std::uint32_t hash = 2166136261u;
    for (std::size_t i = 0; i < size; ++i) hash = (hash ^ data[i]) * 16777619u;
    return hash;
}

void put32(unsigned char* at, std::uint32_t value) {
    for (int i = 0; i < 4; ++i) at[i] = static_cast<unsigned char>(value >> (8 * i));
}

std::uint32_t get32(const unsigned char* at) {
    std::uint32_t value = 0;
    for (int i = 0; i < 4; ++i) value |= static_cast<std::uint32_t>(at[i]) << (8 * i);
    return value;
}

unsigned char filler(std::uint32_t sequence, std::size_t index) {
    return static_cast<unsigned char>((sequence * 131u + index * 7u + (sequence >> 8)) & 0xffu);
}

BurstDatagram make_burst_datagram(std::uint32_t sequence) {
    BurstDatagram datagram{};
    put32(datagram.data(), sequence);
    for (std::size_t i = 4; i < burst_size - 4; ++i) datagram[i] = filler(sequence, i);
    put32(datagram.data() + burst_size - 4, fnv1a(datagram.data(), burst_size - 4));
    return datagram;
}

bool burst_datagram_intact(const unsigned char* data) {
    if (get32(data + burst_size - 4) != fnv1a(data, burst_size - 4)) return false;
    const std::uint32_t sequence = get32(data);
    for (std::size_t i = 4; i < burst_size - 4; ++i)
        if (data[i] != filler(sequence, i)) return false;
    return true;
}

}  // namespace

// =========================================================================================================
// Binding

TEMPLATE_TEST_CASE("UdpSocket::bind on port 0 gets a port chosen by the OS", "[udp][bind]", IPv4, IPv6) {
    SKIP_UNLESS_AVAILABLE(TestType);
    auto socket = UdpSocket<TestType>::bind(Address<TestType>::loopback(0));
    REQUIRE_OK(socket);
    CHECK(socket->is_open());
    auto where = socket->local_address();
    REQUIRE_OK(where);
    CHECK(where->port() != 0);
    CHECK(where->is_loopback());

    // A second socket on port 0 gets a different port.
    auto other = UdpSocket<TestType>::bind(Address<TestType>::loopback(0));
    REQUIRE_OK(other);
    auto other_where = other->local_address();
    REQUIRE_OK(other_where);
    CHECK(other_where->port() != 0);
    CHECK(other_where->port() != where->port());
}

TEMPLATE_TEST_CASE("UdpSocket::bind(host, port) accepts literals, names and \"\"", "[udp][bind]", IPv4,
                   IPv6) {
    SKIP_UNLESS_AVAILABLE(TestType);
    constexpr bool v6 = std::is_same_v<TestType, IPv6>;
    const std::string_view literal = v6 ? "::1" : "127.0.0.1";

    // Whatever was bound must be reachable on loopback at its port: send a datagram there and read it back.
    auto reachable = [](UdpSocket<TestType>& socket, std::uint16_t port) {
        guard(socket);
        auto sender = UdpSocket<TestType>::bind(Address<TestType>::loopback(0));
        REQUIRE_OK(sender);
        auto from = sender->local_address();
        REQUIRE_OK(from);
        auto sent = sender->send_to("reach", Address<TestType>::loopback(port));
        REQUIRE_OK(sent);
        expect_datagram(socket, "reach", *from);
    };

    SECTION("an IP literal") {
        auto socket = UdpSocket<TestType>::bind(literal, 0);
        REQUIRE_OK(socket);
        auto where = socket->local_address();
        REQUIRE_OK(where);
        CHECK(where->ip() == literal);
        CHECK(where->port() != 0);
        reachable(*socket, where->port());
    }
    SECTION("the name localhost") {
        // /etc/hosts decides whether localhost has an IPv6 address; a machine without one is not a bug.
        auto addresses = netlite::resolve<TestType>("localhost", 0);
        if (!addresses) NETLITE_SKIP("localhost has no address of this family here");
        auto socket = UdpSocket<TestType>::bind("localhost", 0);
        REQUIRE_OK(socket);
        auto where = socket->local_address();
        REQUIRE_OK(where);
        CHECK(where->is_loopback());
        CHECK(where->port() != 0);
        reachable(*socket, where->port());
    }
    SECTION("\"\" binds every interface") {
        auto socket = UdpSocket<TestType>::bind("", 0);
        REQUIRE_OK(socket);
        auto where = socket->local_address();
        REQUIRE_OK(where);
        CHECK(where->ip() == (v6 ? "::" : "0.0.0.0"));
        CHECK(where->port() != 0);
        reachable(*socket, where->port());
    }
    SECTION("an explicit port is kept") {
        auto probe = UdpSocket<TestType>::bind(literal, 0);
        REQUIRE_OK(probe);
        auto probe_where = probe->local_address();
        REQUIRE_OK(probe_where);
        const std::uint16_t port = probe_where->port();
        REQUIRE_OK(probe->close());
        // The port was just released; another process could take it in between, so only a successful bind
        // is checked for the port it asked for.
        auto socket = UdpSocket<TestType>::bind(literal, port);
        if (socket) {
            auto where = socket->local_address();
            REQUIRE_OK(where);
            CHECK(where->port() == port);
        } else {
            CHECK(socket.error() == std::errc::address_in_use);
        }
    }
}

TEMPLATE_TEST_CASE("UdpSocket::bind of an address in use fails with EADDRINUSE", "[udp][bind]", IPv4, IPv6,
                   Unix) {
    SKIP_UNLESS_AVAILABLE(TestType);
    auto first = bind_local<TestType>();

    auto second = UdpSocket<TestType>::bind(first.address);
    REQUIRE_FALSE(second.has_value());
    CHECK(second.error() == std::errc::address_in_use);
    CHECK(std::string_view(second.error().operation()) == "bind");

    if constexpr (is_unix<TestType>) {
        auto by_path = UnixDatagram::bind(first.dir->path());
        REQUIRE_FALSE(by_path.has_value());
        CHECK(by_path.error() == std::errc::address_in_use);
    } else {
        const std::string_view literal = std::is_same_v<TestType, IPv6> ? "::1" : "127.0.0.1";
        auto by_host = UdpSocket<TestType>::bind(literal, first.address.port());
        REQUIRE_FALSE(by_host.has_value());
        CHECK(by_host.error() == std::errc::address_in_use);
    }

    // The failed binds did not disturb the first socket.
    guard(first.socket);
    auto sender = bind_local<TestType>();
    auto sent = sender.socket.send_to("still here", first.address);
    REQUIRE_OK(sent);
    expect_datagram(first.socket, "still here", sender.address);
}

// =========================================================================================================
// Datagrams

TEMPLATE_TEST_CASE("send_to/recv_from round trip: content, size and sender", "[udp]", IPv4, IPv6, Unix) {
    SKIP_UNLESS_AVAILABLE(TestType);
    auto [a, b] = bind_pair<TestType>();
    guard(a.socket);

    const auto payload = pattern(300, 1);  // binary, NUL bytes included
    auto sent = a.socket.send_to(payload, b.address);
    REQUIRE_OK(sent);
    CHECK(*sent == payload.size());

    std::vector<std::byte> buffer(1024, std::byte{0xee});
    auto got = b.socket.recv_from(buffer);
    REQUIRE_OK(got);
    CHECK(got->size == payload.size());
    CHECK_FALSE(got->truncated);
    CHECK(got->sender == a.address);
    CHECK(std::equal(payload.begin(), payload.end(), buffer.begin()));
    CHECK(buffer[payload.size()] == std::byte{0xee});  // nothing written past the datagram

    // The reply goes back to the address recv_from reported.
    auto replied = b.socket.send_to("reply", got->sender);
    REQUIRE_OK(replied);
    CHECK(*replied == 5);
    expect_datagram(a.socket, "reply", b.address);

    // Datagram boundaries are kept: two sends are two receives.
    REQUIRE_OK(a.socket.send_to("one", b.address));
    REQUIRE_OK(a.socket.send_to("two!", b.address));
    expect_datagram(b.socket, "one", a.address);
    expect_datagram(b.socket, "two!", a.address);
}

TEMPLATE_TEST_CASE("open_for(peer) gives an unbound client that sends and gets the reply", "[udp]", IPv4,
                   IPv6) {
    SKIP_UNLESS_AVAILABLE(TestType);
    auto server = bind_local<TestType>();
    guard(server.socket);

    auto client = UdpSocket<TestType>::open_for(server.address);
    REQUIRE_OK(client);
    guard(*client);
    auto sent = client->send_to("ping", server.address);
    REQUIRE_OK(sent);
    CHECK(*sent == 4);

    std::vector<char> buffer(64);
    auto request = server.socket.recv_from(buffer);
    REQUIRE_OK(request);
    CHECK(text_of(buffer, request->size) == "ping");
    CHECK(request->sender.port() != 0);
    // The OS bound the client on its first send; that is the address the server saw.
    auto client_where = client->local_address();
    REQUIRE_OK(client_where);
    CHECK(client_where->port() != 0);
    CHECK(request->sender.port() == client_where->port());

    REQUIRE_OK(server.socket.send_to("pong", request->sender));
    expect_datagram(*client, "pong", server.address);
}

TEMPLATE_TEST_CASE("open() makes an unbound socket of the fixed family", "[udp]", IPv4, IPv6, Unix) {
    SKIP_UNLESS_AVAILABLE(TestType);
    auto server = bind_local<TestType>();
    guard(server.socket);

    auto socket = UdpSocket<TestType>::open();
    REQUIRE_OK(socket);
    CHECK(socket->is_open());
    auto before = socket->local_address();
    REQUIRE_OK(before);
    if constexpr (is_unix<TestType>)
        CHECK(before->is_unnamed());
    else
        CHECK(before->port() == 0);

    REQUIRE_OK(socket->send_to("from open", server.address));
    const Address<TestType> sender = receive_exactly(server.socket, "from open");
    if constexpr (is_unix<TestType>) {
        CHECK(sender.is_unnamed());
    } else {
        auto after = socket->local_address();
        REQUIRE_OK(after);
        CHECK(after->port() != 0);
        CHECK(sender.port() == after->port());
    }
}

TEST_CASE("UdpSocket<IP> chooses IPv4 or IPv6 from the address", "[udp][ip]") {
    std::vector<Address<IP>> addresses;
    if (netlite::testing::available<IPv4>()) addresses.emplace_back(Address<IPv4>::loopback(0));
    if (netlite::testing::available<IPv6>()) addresses.emplace_back(Address<IPv6>::loopback(0));
    if (addresses.empty()) NETLITE_SKIP("no IP family available");

    for (const Address<IP>& loopback : addresses) {
        INFO(
            "family of "
            << loopback.to_string());  // not `<< loopback`: ambiguous with Catch's MessageBuilder under clang
        auto a = UdpSocket<IP>::bind(loopback);
        auto b = UdpSocket<IP>::bind(loopback);
        REQUIRE_OK(a);
        REQUIRE_OK(b);
        guard(*b);
        auto a_where = a->local_address();
        auto b_where = b->local_address();
        REQUIRE_OK(a_where);
        REQUIRE_OK(b_where);
        CHECK(a_where->is_v4() == loopback.is_v4());
        CHECK(a_where->is_v6() == loopback.is_v6());
        REQUIRE_OK(a->send_to("either", *b_where));
        expect_datagram(*b, "either", *a_where);

        auto client = UdpSocket<IP>::open_for(*b_where);
        REQUIRE_OK(client);
        REQUIRE_OK(client->send_to("unbound", *b_where));
        std::vector<char> buffer(32);
        auto got = b->recv_from(buffer);
        REQUIRE_OK(got);
        CHECK(text_of(buffer, got->size) == "unbound");
        CHECK(got->sender.is_v4() == loopback.is_v4());
    }
}

// =========================================================================================================
// Truncation

TEMPLATE_TEST_CASE("recv_from reports an oversized datagram as truncated and loses nothing else",
                   "[udp][truncation]", IPv4, IPv6, Unix) {
    SKIP_UNLESS_AVAILABLE(TestType);
    auto [a, b] = bind_pair<TestType>();

    const auto big = pattern(100, 2);
    REQUIRE_OK(a.socket.send_to(big, b.address));
    REQUIRE_OK(a.socket.send_to("the next one", b.address));
    const auto exact = pattern(10, 3);
    REQUIRE_OK(a.socket.send_to(exact, b.address));

    std::array<std::byte, 10> small{};
    auto cut = b.socket.recv_from(small);
    REQUIRE_OK(cut);
    CHECK(cut->truncated);
    CHECK(cut->size == small.size());
    CHECK(cut->sender == a.address);
    CHECK(std::equal(small.begin(), small.end(), big.begin()));

    // The tail of the big datagram is gone; the next datagram arrives whole.
    expect_datagram(b.socket, "the next one", a.address);

    // A datagram exactly the buffer's size is not truncated.
    small.fill(std::byte{0});
    auto fits = b.socket.recv_from(small);
    REQUIRE_OK(fits);
    CHECK_FALSE(fits->truncated);
    CHECK(fits->size == exact.size());
    CHECK(std::equal(small.begin(), small.end(), exact.begin()));

    // A zero-byte buffer cannot hold any of a non-empty datagram.
    REQUIRE_OK(a.socket.send_to("x", b.address));
    auto nothing = b.socket.recv_from(netlite::MutableBuffer());
    REQUIRE_OK(nothing);
    CHECK(nothing->size == 0);
    CHECK(nothing->truncated);
}

TEMPLATE_TEST_CASE("recv_from, try_recv_from and recv_batch give one record: buffer, size, sender, truncated",
                   "[udp][truncation]", IPv4, IPv6, Unix) {
    SKIP_UNLESS_AVAILABLE(TestType);
    static_assert(std::is_same_v<netlite::Received<TestType>, netlite::DatagramIn<TestType>>);
    auto [a, b] = bind_pair<TestType>();
    const auto big = pattern(100, 5);
    for (int i = 0; i < 3; ++i) REQUIRE_OK(a.socket.send_to(big, b.address));

    std::array<std::byte, 10> first{};
    auto from = b.socket.recv_from(first);
    REQUIRE_OK(from);
    std::array<std::byte, 10> second{};
    auto tried = b.socket.try_recv_from(second);
    REQUIRE_OK(tried);
    REQUIRE(tried->has_value());
    std::array<std::byte, 10> third{};
    std::array<netlite::DatagramIn<TestType>, 1> slots{};
    slots[0].buffer = netlite::MutableBuffer(third.data(), third.size());
    auto batch = b.socket.recv_batch(slots);
    REQUIRE_OK(batch);
    REQUIRE(*batch == 1);

    const std::array<netlite::DatagramIn<TestType>, 3> records{*from, **tried, slots[0]};
    const std::array<std::byte*, 3> buffers{first.data(), second.data(), third.data()};
    for (std::size_t i = 0; i < records.size(); ++i) {
        CHECK(records[i].buffer.data() == buffers[i]);
        CHECK(records[i].buffer.size() == 10);
        CHECK(records[i].size == 10);
        CHECK(records[i].sender == a.address);
        CHECK(records[i].truncated);
        CHECK(std::equal(buffers[i], buffers[i] + 10, big.begin()));
    }
}

TEMPLATE_TEST_CASE("connected recv of an oversized datagram fails with errc::message_truncated",
                   "[udp][truncation]", IPv4, IPv6, Unix) {
    SKIP_UNLESS_AVAILABLE(TestType);
    auto [a, b] = bind_pair<TestType>();
    REQUIRE_OK(a.socket.connect(b.address));
    REQUIRE_OK(b.socket.connect(a.address));

    const auto big = pattern(100, 4);
    REQUIRE_OK(a.socket.send(big));
    REQUIRE_OK(a.socket.send("next"));
    REQUIRE_OK(a.socket.send("0123456789"));

    std::array<std::byte, 10> small{};
    auto cut = b.socket.recv(small);
    REQUIRE_FALSE(cut.has_value());
    const netlite::Error error = cut.error();
    CHECK(error == netlite::errc::message_truncated);
    CHECK(error.category() == netlite::netlite_category());
    CHECK(std::string(error.category().name()) == "netlite");
    // Portable code can test for the standard condition instead.
    CHECK(error == std::errc::message_size);
    CHECK(error.code() == std::errc::message_size);
    CHECK(error.code().default_error_condition() == std::make_error_condition(std::errc::message_size));
    CHECK(std::string_view(error.operation()) == "recv");
    // The buffer still holds the datagram's head.
    CHECK(std::equal(small.begin(), small.end(), big.begin()));

    std::vector<char> buffer(64);
    auto next = b.socket.recv(buffer);
    REQUIRE_OK(next);
    CHECK(text_of(buffer, *next) == "next");

    std::array<char, 10> exact{};
    auto fits = b.socket.recv(exact);
    REQUIRE_OK(fits);
    CHECK(*fits == exact.size());
    CHECK(std::string_view(exact.data(), exact.size()) == "0123456789");
}

// =========================================================================================================
// Connected sockets

TEMPLATE_TEST_CASE("connected sockets use send/recv and hear only their peer", "[udp][connect]", IPv4, IPv6,
                   Unix) {
    SKIP_UNLESS_AVAILABLE(TestType);
    auto [a, b] = bind_pair<TestType>();
    guard(a.socket);

    REQUIRE_OK(a.socket.connect(b.address));
    REQUIRE_OK(b.socket.connect(a.address));
    auto a_peer = a.socket.peer_address();
    REQUIRE_OK(a_peer);
    CHECK(*a_peer == b.address);

    if constexpr (!is_unix<TestType>) {
        // A stranger's datagram is not delivered to b, which listens to a alone.
        auto stranger = bind_local<TestType>();
        REQUIRE_OK(stranger.socket.send_to("stranger", b.address));
    }

    auto sent = a.socket.send("hello peer");
    REQUIRE_OK(sent);
    CHECK(*sent == 10);
    std::vector<char> buffer(64);
    auto got = b.socket.recv(buffer);
    REQUIRE_OK(got);
    CHECK(text_of(buffer, *got) == "hello peer");

    REQUIRE_OK(b.socket.send("and back"));
    auto back = a.socket.recv(buffer);
    REQUIRE_OK(back);
    CHECK(text_of(buffer, *back) == "and back");

    // recv_from on a connected socket still names the sender.
    REQUIRE_OK(a.socket.send("named"));
    expect_datagram(b.socket, "named", a.address);

    if constexpr (!is_unix<TestType>) {
        REQUIRE_OK(b.socket.set_read_timeout(200ms));
        auto none = b.socket.recv(buffer);
        REQUIRE_FALSE(none.has_value());
        CHECK(none.error() == std::errc::timed_out);
    }
}

TEMPLATE_TEST_CASE("send on an unconnected UDP socket fails with EDESTADDRREQ", "[udp][connect]", IPv4,
                   IPv6) {
    SKIP_UNLESS_AVAILABLE(TestType);
    auto a = bind_local<TestType>();
    auto sent = a.socket.send("nowhere");
    REQUIRE_FALSE(sent.has_value());
    CHECK(sent.error() == std::errc::destination_address_required);
}

TEMPLATE_TEST_CASE("an ICMP port unreachable surfaces as connection_refused", "[udp][connect][icmp]", IPv4,
                   IPv6) {
    SKIP_UNLESS_AVAILABLE(TestType);
    const std::uint16_t port = dead_port<TestType>();
    auto socket = UdpSocket<TestType>::bind(Address<TestType>::loopback(0));
    REQUIRE_OK(socket);
    REQUIRE_OK(socket->connect(Address<TestType>::loopback(port)));
    REQUIRE_OK(socket->set_read_timeout(2s));

    // Linux reports the ICMP error on the call after the send that caused it; a few rounds absorb ICMP
    // rate limiting without ever waiting more than 2 s per round.
    bool refused = false;
    std::vector<char> buffer(64);
    for (int round = 0; round < 5 && !refused; ++round) {
        auto sent = socket->send("anyone?");
        if (!sent) {
            INFO("send: " << sent.error().message());
            REQUIRE(sent.error() == std::errc::connection_refused);
            refused = true;
            break;
        }
        auto got = socket->recv(buffer);
        REQUIRE_FALSE(got.has_value());  // nothing listens: no datagram can arrive
        INFO("recv: " << got.error().message());
        if (got.error() == std::errc::connection_refused) {
            refused = true;
        } else {
            REQUIRE(got.error() == std::errc::timed_out);
        }
    }
    CHECK(refused);
}

// =========================================================================================================
// Timeouts

TEMPLATE_TEST_CASE("recv_from with a read timeout and nothing sent fails with timed_out", "[udp][timeout]",
                   IPv4, IPv6, Unix) {
    SKIP_UNLESS_AVAILABLE(TestType);
    auto b = bind_local<TestType>();
    REQUIRE_OK(b.socket.set_read_timeout(200ms));
    auto timeout = b.socket.read_timeout();
    REQUIRE_OK(timeout);
    REQUIRE(timeout->has_value());
    CHECK(**timeout == 200ms);

    std::vector<char> buffer(64);
    const auto start = Clock::now();
    auto got = b.socket.recv_from(buffer);
    const auto elapsed = Clock::now() - start;
    REQUIRE_FALSE(got.has_value());
    CHECK(got.error() == std::errc::timed_out);
    INFO("waited " << std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count() << " ms");
    CHECK(elapsed >= 190ms);  // SO_RCVTIMEO never fires early; 10 ms of slack for clock granularity
    CHECK(elapsed < 5s);

    // The socket is still usable after a timeout.
    auto a = bind_local<TestType>();
    REQUIRE_OK(a.socket.send_to("late", b.address));
    expect_datagram(b.socket, "late", a.address);
}

// =========================================================================================================
// Empty datagrams

TEMPLATE_TEST_CASE("an empty datagram is delivered with size 0, not truncated", "[udp]", IPv4, IPv6, Unix) {
    SKIP_UNLESS_AVAILABLE(TestType);
    auto [a, b] = bind_pair<TestType>();

    auto sent = a.socket.send_to(netlite::ConstBuffer(), b.address);
    REQUIRE_OK(sent);
    CHECK(*sent == 0);
    REQUIRE_OK(a.socket.send_to("after", b.address));

    std::vector<char> buffer(16, 'z');
    auto empty = b.socket.recv_from(buffer);
    REQUIRE_OK(empty);
    CHECK(empty->size == 0);
    CHECK_FALSE(empty->truncated);
    CHECK(empty->sender == a.address);
    CHECK(buffer[0] == 'z');
    expect_datagram(b.socket, "after", a.address);

    // Into a zero-byte buffer, an empty datagram still fits.
    REQUIRE_OK(a.socket.send_to(netlite::ConstBuffer(), b.address));
    auto into_nothing = b.socket.recv_from(netlite::MutableBuffer());
    REQUIRE_OK(into_nothing);
    CHECK(into_nothing->size == 0);
    CHECK_FALSE(into_nothing->truncated);

    // Connected: recv returns 0 for it, without an error.
    REQUIRE_OK(a.socket.connect(b.address));
    REQUIRE_OK(b.socket.connect(a.address));
    REQUIRE_OK(a.socket.send(netlite::ConstBuffer()));
    auto connected_empty = b.socket.recv(buffer);
    REQUIRE_OK(connected_empty);
    CHECK(*connected_empty == 0);
}

// =========================================================================================================
// Options

TEMPLATE_TEST_CASE("broadcast and multicast options round trip", "[udp][options]", IPv4, IPv6) {
    SKIP_UNLESS_AVAILABLE(TestType);
    // Only the options are set and read back: nothing is ever sent to a broadcast or multicast address.
    auto socket = UdpSocket<TestType>::bind(Address<TestType>::loopback(0));
    REQUIRE_OK(socket);

    if constexpr (std::is_same_v<TestType, IPv4>) {
        auto initially = socket->broadcast();
        REQUIRE_OK(initially);
        CHECK_FALSE(*initially);
        CHECK_OPTION_ROUND_TRIP(*socket, broadcast, {true, false});
    }

    REQUIRE_OK(socket->set_multicast_ttl(7));
    auto ttl = socket->multicast_ttl();
    REQUIRE_OK(ttl);
    CHECK(*ttl == 7);

    CHECK_OPTION_ROUND_TRIP(*socket, multicast_loop, {false, true});

    // The options leave ordinary unicast alone.
    auto peer = bind_local<TestType>();
    guard(peer.socket);
    auto where = socket->local_address();
    REQUIRE_OK(where);
    REQUIRE_OK(socket->send_to("unicast", peer.address));
    expect_datagram(peer.socket, "unicast", *where);
}

// =========================================================================================================
// Unix-domain datagrams

TEST_CASE("UnixDatagram::bind(path) on both ends: the sender is named by its path", "[udp][unix]") {
    SKIP_UNLESS_AVAILABLE(Unix);
    auto path_a = TempPath::create("a");
    auto path_b = TempPath::create("b");
    REQUIRE_OK(path_a);
    REQUIRE_OK(path_b);
    auto a = UnixDatagram::bind(path_a->path());
    auto b = UnixDatagram::bind(path_b->path());
    REQUIRE_OK(a);
    REQUIRE_OK(b);
    guard(*a);
    guard(*b);

    auto a_where = a->local_address();
    REQUIRE_OK(a_where);
    CHECK(a_where->path() == path_a->path());

    REQUIRE_OK(a->send_to("over a path", path_b->address()));
    std::vector<char> buffer(64);
    auto got = b->recv_from(buffer);
    REQUIRE_OK(got);
    CHECK(text_of(buffer, got->size) == "over a path");
    CHECK_FALSE(got->truncated);
    CHECK(got->sender.path() == path_a->path());
    CHECK(got->sender == *a_where);
    CHECK_FALSE(got->sender.is_unnamed());

    REQUIRE_OK(b->send_to("answer", got->sender));
    expect_datagram(*a, "answer", path_b->address());
}

TEST_CASE("UnixDatagram::pair gives two connected, unnamed sockets", "[udp][unix]") {
    SKIP_UNLESS_AVAILABLE(Unix);
    auto pair = UnixDatagram::pair();
    REQUIRE_OK(pair);
    auto& [left, right] = *pair;
    CHECK(left.is_open());
    CHECK(right.is_open());
    CHECK(left.native_handle() != right.native_handle());
    guard(left);
    guard(right);

    REQUIRE_OK(left.send("left to right"));
    std::vector<char> buffer(64);
    auto got = right.recv(buffer);
    REQUIRE_OK(got);
    CHECK(text_of(buffer, *got) == "left to right");

    REQUIRE_OK(right.send("right to left"));
    auto from = left.recv_from(buffer);
    REQUIRE_OK(from);
    CHECK(text_of(buffer, from->size) == "right to left");
    CHECK(from->sender.is_unnamed());

    // Boundaries hold here too: two datagrams, two receives.
    REQUIRE_OK(left.send("1"));
    REQUIRE_OK(left.send("22"));
    auto first = right.recv(buffer);
    REQUIRE_OK(first);
    CHECK(text_of(buffer, *first) == "1");
    auto second = right.recv(buffer);
    REQUIRE_OK(second);
    CHECK(text_of(buffer, *second) == "22");
}

TEST_CASE("recv_from an unbound Unix sender yields an unnamed address", "[udp][unix]") {
    SKIP_UNLESS_AVAILABLE(Unix);
    auto server = bind_local<Unix>();
    guard(server.socket);
    auto client = UnixDatagram::open();
    REQUIRE_OK(client);

    REQUIRE_OK(client->send_to("anonymous", server.address));
    const Address<Unix> sender = receive_exactly(server.socket, "anonymous");
    CHECK(sender.is_unnamed());
    CHECK_FALSE(sender.is_abstract());
    CHECK(sender.path().empty());
    CHECK(sender == Address<Unix>());
    CHECK(sender.to_string() == "(unnamed)");
}

// =========================================================================================================
// Cloning

TEMPLATE_TEST_CASE("try_clone: the clone sends and receives as the same socket", "[udp][clone]", IPv4, IPv6,
                   Unix) {
    SKIP_UNLESS_AVAILABLE(TestType);
    auto [a, b] = bind_pair<TestType>();

    auto clone = a.socket.try_clone();
    REQUIRE_OK(clone);
    CHECK(clone->is_open());
    CHECK(clone->native_handle() != a.socket.native_handle());
    auto clone_where = clone->local_address();
    REQUIRE_OK(clone_where);
    CHECK(*clone_where == a.address);

    REQUIRE_OK(clone->send_to("from the clone", b.address));
    expect_datagram(b.socket, "from the clone", a.address);

    // The clone outlives the original and still owns the same socket.
    REQUIRE_OK(a.socket.close());
    CHECK_FALSE(a.socket.is_open());
    guard(*clone);
    REQUIRE_OK(clone->send_to("original closed", b.address));
    expect_datagram(b.socket, "original closed", a.address);
    REQUIRE_OK(b.socket.send_to("to the clone", a.address));
    expect_datagram(*clone, "to the clone", b.address);
}

// =========================================================================================================
// A burst on loopback

TEMPLATE_TEST_CASE("a burst of datagrams arrives intact and in order, or not at all", "[udp][burst]", IPv4,
                   IPv6, Unix) {
    SKIP_UNLESS_AVAILABLE(TestType);
    auto a = bind_local<TestType>();
    auto b = bind_local<TestType>();
    constexpr std::uint32_t count = 2000;

    // Nothing reads while sending, so the receive queue fills up. A full UDP queue drops datagrams; a full
    // Unix queue makes the sender wait instead, so the sender is non-blocking and a refused send is counted.
    REQUIRE_OK(a.socket.set_nonblocking(true));
    std::uint32_t sent = 0;
    std::uint32_t refused = 0;
    for (std::uint32_t sequence = 0; sequence < count; ++sequence) {
        const BurstDatagram datagram = make_burst_datagram(sequence);
        auto result = a.socket.send_to(datagram, b.address);
        if (result) {
            REQUIRE(*result == burst_size);
            ++sent;
        } else {
            INFO("send " << sequence << ": " << result.error().message());
            REQUIRE((result.error() == std::errc::resource_unavailable_try_again ||
                     result.error() == std::errc::no_buffer_space));
            ++refused;
        }
    }
    REQUIRE(sent > 0);

    REQUIRE_OK(b.socket.set_read_timeout(200ms));
    std::array<unsigned char, 2 * burst_size> buffer{};
    std::uint32_t received = 0;
    std::optional<std::uint32_t> last;
    bool drained = false;
    for (std::uint32_t i = 0; i <= count && !drained; ++i) {
        auto got = b.socket.recv_from(buffer);
        if (!got) {
            INFO("recv_from: " << got.error().message());
            REQUIRE(got.error() == std::errc::timed_out);
            drained = true;
            break;
        }
        ++received;
        REQUIRE(got->size == burst_size);
        REQUIRE_FALSE(got->truncated);
        REQUIRE(got->sender == a.address);
        REQUIRE(burst_datagram_intact(buffer.data()));
        const std::uint32_t sequence = get32(buffer.data());
        REQUIRE(sequence < count);
        if (last) REQUIRE(sequence > *last);
        last = sequence;
    }
    INFO("sent " << sent << " (refused " << refused << "), received " << received << ", lost "
                 << sent - received);
    CHECK(drained);
    CHECK(received >= 1);
    CHECK(received <= sent);
}

// =========================================================================================================
// Descriptor hygiene

TEMPLATE_TEST_CASE("open/bind/close cycles and failed binds leak no descriptors", "[udp][fd]", IPv4, IPv6,
                   Unix) {
    SKIP_UNLESS_AVAILABLE(TestType);
    // One cycle first, so that anything opened once and kept (by the C library, say) is counted in `before`.
    { auto warm = bind_local<TestType>(); }
    const int before = netlite_test::open_descriptor_count();
    REQUIRE(before >= 0);

    for (int cycle = 0; cycle < 200; ++cycle) {
        auto bound = bind_local<TestType>();
        auto again = UdpSocket<TestType>::bind(bound.address);  // in use: must fail and close its socket
        REQUIRE_FALSE(again.has_value());
        REQUIRE(again.error() == std::errc::address_in_use);

        auto opened = UdpSocket<TestType>::open();
        REQUIRE_OK(opened);
        auto clone = bound.socket.try_clone();
        REQUIRE_OK(clone);
        if (cycle % 2 == 0) REQUIRE_OK(bound.socket.close());  // half closed explicitly, half by destructors
    }

    const int after = netlite_test::open_descriptor_count();
    CHECK(after == before);
}
