// Tests for netlite::resolve and connecting by name.
//
// Normal cases use only "localhost", "" and IP literals, none of which needs a DNS server.
// The hidden "[.nxdomain]" case resolves a name that cannot exist; CTest runs it only inside a fresh,
// empty network namespace (tests/run_in_netns.sh), and it skips itself anywhere a network is visible.
#include "catch.hpp"
#include "test_support.hpp"

#include <netlite/address.hpp>
#include <netlite/tcp.hpp>
#include <netlite/testing.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#if !defined(_WIN32)
#include <net/if.h>
#endif

using netlite::Address;
using netlite::IP;
using netlite::IPv4;
using netlite::IPv6;

namespace {

// True when this process sees no network interface but "lo", so no name server can be reached and a
// lookup of a non-existent name never leaves the machine.
bool network_isolated() {
#if defined(_WIN32)
    return false;  // no network namespaces there: the "[.nxdomain]" cases never run on Windows
#else
    struct if_nameindex* interfaces = ::if_nameindex();
    if (interfaces == nullptr) return false;
    bool only_loopback = true;
    for (const struct if_nameindex* i = interfaces; i->if_index != 0 || i->if_name != nullptr; ++i)
        if (std::string_view(i->if_name) != "lo") only_loopback = false;
    ::if_freenameindex(interfaces);
    return only_loopback;
#endif
}

// A name under the reserved ".invalid" top-level domain (RFC 6761): it can never resolve.
constexpr std::string_view no_such_host = "no-such-host.invalid";

}  // namespace

TEST_CASE("resolve(\"localhost\") gives loopback addresses with the port", "[resolve]") {
    auto found = netlite::resolve("localhost", 80);
    REQUIRE(found);
    netlite_test::check_all_loopback(*found, 80);
}

TEST_CASE("resolve<IPv4>(\"localhost\") gives 127.0.0.1", "[resolve]") {
    auto found = netlite::resolve<IPv4>("localhost", 8088);
    REQUIRE(found);
    netlite_test::check_all_loopback(*found, 8088);
    CHECK(std::any_of(found->begin(), found->end(),
                      [](const Address<IPv4>& address) { return address.to_string() == "127.0.0.1:8088"; }));
    CHECK(std::find(found->begin(), found->end(), Address<IPv4>::loopback(8088)) != found->end());
}

TEST_CASE("resolve of an empty host gives loopback", "[resolve]") {
    auto found = netlite::resolve("", 443);
    REQUIRE(found);
    netlite_test::check_all_loopback(*found, 443);
}

TEST_CASE("resolve of an IPv4 literal returns exactly that address", "[resolve]") {
    for (const std::uint16_t port : {std::uint16_t{0}, std::uint16_t{80}, std::uint16_t{65535}}) {
        INFO("port " << port);
        auto any = netlite::resolve("127.0.0.1", port);
        REQUIRE(any);
        REQUIRE(any->size() == 1);
        CHECK(any->front() == Address<IP>(Address<IPv4>::loopback(port)));
        CHECK(any->front().is_v4());

        auto v4 = netlite::resolve<IPv4>("127.0.0.1", port);
        REQUIRE(v4);
        REQUIRE(v4->size() == 1);
        CHECK(v4->front() == Address<IPv4>::loopback(port));
    }
    auto other = netlite::resolve<IPv4>("192.0.2.33", 7);  // documentation range; never contacted
    REQUIRE(other);
    REQUIRE(other->size() == 1);
    CHECK(other->front().to_string() == "192.0.2.33:7");
}

TEST_CASE("resolve of an IPv6 literal returns exactly that address", "[resolve][ipv6]") {
    if (!netlite::testing::available<IPv6>()) NETLITE_SKIP("IPv6 is not available on this machine");
    auto any = netlite::resolve("::1", 80);
    REQUIRE(any);
    REQUIRE(any->size() == 1);
    CHECK(any->front().is_v6());
    CHECK(any->front() == Address<IP>(Address<IPv6>::loopback(80)));
    CHECK(any->front().to_string() == "[::1]:80");

    auto v6 = netlite::resolve<IPv6>("::1", 8088);
    REQUIRE(v6);
    REQUIRE(v6->size() == 1);
    CHECK(v6->front() == Address<IPv6>::loopback(8088));
    CHECK(v6->front().scope_id() == 0);
}

TEST_CASE("resolve refuses a host name with an embedded NUL", "[resolve]") {
    const std::string_view with_nul("local\0host", 10);
    auto any = netlite::resolve(with_nul, 80);
    REQUIRE_FALSE(any);
    CHECK(any.error() == netlite::errc::invalid_address);
    auto v4 = netlite::resolve<IPv4>(std::string_view("127.0.0.1\0", 10), 80);
    REQUIRE_FALSE(v4);
    CHECK(v4.error() == netlite::errc::invalid_address);
    auto v6 = netlite::resolve<IPv6>(std::string_view("::1\0evil", 8), 80);
    REQUIRE_FALSE(v6);
    CHECK(v6.error() == netlite::errc::invalid_address);

    auto stream = netlite::TcpStream<>::connect(with_nul, 80);
    REQUIRE_FALSE(stream);
    CHECK(stream.error() == netlite::errc::invalid_address);
}

TEST_CASE("TcpStream connects by name through resolve", "[resolve][tcp]") {
    auto listener = netlite::TcpListener<IPv4>::bind(Address<IPv4>::loopback(0));  // bound before connecting
    REQUIRE(listener);
    REQUIRE(listener->set_read_timeout(std::chrono::seconds(10)));
    auto where = listener->local_address();
    REQUIRE(where);
    REQUIRE(where->port() != 0);

    auto client = netlite::TcpStream<IPv4>::connect("localhost", where->port(), std::chrono::seconds(10));
    INFO((client ? std::string("connected") : client.error().message()));
    REQUIRE(client);
    auto accepted = listener->accept();
    REQUIRE(accepted);
    auto peer = client->local_address();
    REQUIRE(peer);
    CHECK(accepted->peer == *peer);
    auto connected_to = client->peer_address();
    REQUIRE(connected_to);
    CHECK(*connected_to == *where);

    auto literal = netlite::TcpStream<>::connect("127.0.0.1", where->port(), std::chrono::seconds(10));
    REQUIRE(literal);
    auto second = listener->accept();
    REQUIRE(second);
}

// ---------------------------------------------------------------------------------------------------------
// Hidden: run with `unshare -n resolve_test "[.nxdomain]"` (CTest: resolve_unresolvable).

TEST_CASE("resolving a name that cannot exist fails with a resolve-category error", "[.nxdomain]") {
    if (!network_isolated())
        NETLITE_SKIP("a network interface other than lo is visible: run this inside `unshare -n` only");

    auto check_resolve_error = [](const netlite::Error& error) {
        INFO("error: " << error.message() << " (category " << error.category().name() << ", value "
                       << error.value() << ")");
        CHECK(error.category() == netlite::resolve_category());
        CHECK(std::string(error.category().name()) == "resolve");
        CHECK_FALSE(error.category() == std::system_category());
        CHECK(error.value() != 0);
        const std::string message = error.message();
        CHECK_FALSE(message.empty());
        CHECK(message.find("resolve") != std::string::npos);
        CHECK_FALSE(error.code().message().empty());  // gai_strerror's text
    };

    SECTION("resolve") {
        auto any = netlite::resolve(no_such_host, 80);
        REQUIRE_FALSE(any);
        check_resolve_error(any.error());
        auto v4 = netlite::resolve<IPv4>(no_such_host, 80);
        REQUIRE_FALSE(v4);
        check_resolve_error(v4.error());
        auto v6 = netlite::resolve<IPv6>(no_such_host, 80);
        REQUIRE_FALSE(v6);
        check_resolve_error(v6.error());
    }
    SECTION("TcpStream::connect by name") {
        auto stream = netlite::TcpStream<>::connect(no_such_host, 80);
        REQUIRE_FALSE(stream);
        check_resolve_error(stream.error());
        auto timed = netlite::TcpStream<>::connect(no_such_host, 80, std::chrono::seconds(10));
        REQUIRE_FALSE(timed);
        check_resolve_error(timed.error());
    }
    SECTION("IP literals still resolve: they never needed a name server") {
        auto v4 = netlite::resolve("127.0.0.1", 80);
        REQUIRE(v4);
        REQUIRE(v4->size() == 1);
        CHECK(v4->front().to_string() == "127.0.0.1:80");
        auto v6 = netlite::resolve<IPv6>("::1", 80);
        REQUIRE(v6);
        REQUIRE(v6->size() == 1);
        CHECK(v6->front().to_string() == "[::1]:80");
    }
}
