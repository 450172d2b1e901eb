// Tests for the resolver's full vocabulary (issue 21, item 4; include/netlite/resolver.hpp): service names,
// getaddrinfo's flags as options, canonical names, reverse lookup, the host name and the interface list.
// Loopback only: "localhost", 127.0.0.1 and ::1, which the hosts file and the system answer without DNS.
//
// The hidden "[.nodns]" cases ask what would reach the machine's DNS server (a reverse lookup of a
// documentation address) or what depends on the machine's network (AI_ADDRCONFIG). CTest runs them only
// inside a fresh, empty network namespace (tests/run_in_netns.sh, as resolver_without_dns), and they skip
// themselves wherever an interface other than loopback is visible.
#include "catch.hpp"
#include "test_support.hpp"

#include <netlite/interfaces.hpp>
#include <netlite/resolver.hpp>
#include <netlite/testing.hpp>

#include <algorithm>
#include <set>
#include <string>
#include <string_view>
#include <system_error>

namespace {

using netlite::Address;
using netlite::IP;
using netlite::IPv4;
using netlite::IPv6;
using netlite::resolve_errc;

/// True when every interface this process sees is a loopback one (inside `unshare -n`).
bool network_isolated() {
    auto interfaces = netlite::network_interfaces();
    return interfaces && std::all_of(interfaces->begin(), interfaces->end(),
                                     [](const netlite::NetworkInterface& i) { return i.loopback; });
}

/// Whether `error` is one of getaddrinfo's codes (the "resolve" category).
bool is_resolve_error(const netlite::Error& error) {
    return error.code().category() == netlite::resolve_category();
}

}  // namespace

TEST_CASE("a service name gives its port: \"https\" is 443", "[resolver][service]") {
    auto found = netlite::resolve("localhost", "https");
    if (!found && found.error() == resolve_errc::service)
        NETLITE_SKIP("this system's services database (/etc/services) does not list https");
    REQUIRE_OK(found);
    netlite_test::check_all_loopback(*found, 443);
    // The same port for UDP (HTTP/3), and from the literal addresses of either family.
    auto datagram = netlite::resolve<IPv4>("127.0.0.1", "https", {.datagram = true});
    REQUIRE_OK(datagram);
    CHECK(datagram->front().to_string() == "127.0.0.1:443");
    auto v6 = netlite::resolve<IPv6>("::1", "https");
    REQUIRE_OK(v6);
    CHECK(v6->front().to_string() == "[::1]:443");
}

TEST_CASE("a port's digits work as a service; \"\" is port 0", "[resolver][service]") {
    auto digits = netlite::resolve<IPv4>("127.0.0.1", "8443");
    REQUIRE_OK(digits);
    CHECK(digits->front().to_string() == "127.0.0.1:8443");
    auto none = netlite::resolve<IPv4>("127.0.0.1", "");
    REQUIRE_OK(none);
    CHECK(none->front().port() == 0);
}

TEST_CASE("an unknown service name fails with resolve_errc::service", "[resolver][service]") {
    auto found = netlite::resolve("localhost", "no-such-service-netlite");
    REQUIRE_FALSE(found);
    CHECK(found.error() == resolve_errc::service);
    CHECK(is_resolve_error(found.error()));
    CHECK(found.error().operation() == std::string_view("resolve"));
}

TEST_CASE("a NUL inside a host or service is refused before any lookup", "[resolver]") {
    CHECK_FAILS_WITH(netlite::resolve(std::string_view("local\0host", 10), "80"),
                     netlite::errc::invalid_address);
    CHECK_FAILS_WITH(netlite::resolve("localhost", std::string_view("ht\0tps", 6)),
                     netlite::errc::invalid_address);
    CHECK_FAILS_WITH(netlite::canonical_name(std::string_view("a\0b", 3)), netlite::errc::invalid_address);
}

TEST_CASE("numeric_host: an IP literal is parsed, a name is refused without a lookup", "[resolver][flags]") {
    auto literal = netlite::resolve("127.0.0.1", 80, {.numeric_host = true});
    REQUIRE_OK(literal);
    REQUIRE(literal->size() == 1);
    CHECK(literal->front().to_string() == "127.0.0.1:80");
    auto v6 = netlite::resolve("::1", "443", {.numeric_host = true});
    REQUIRE_OK(v6);
    CHECK(v6->front().to_string() == "[::1]:443");
    // "localhost" is in every hosts file: only AI_NUMERICHOST makes it fail.
    auto name = netlite::resolve("localhost", 80, {.numeric_host = true});
    REQUIRE_FALSE(name);
    CHECK(name.error() == resolve_errc::no_name);
    CHECK_OK(netlite::resolve("localhost", 80, {}));
}

TEST_CASE("passive: an empty host is every address (to bind), not loopback", "[resolver][flags]") {
    auto any = netlite::resolve<IPv4>("", 8080, {.passive = true});
    REQUIRE_OK(any);
    CHECK(any->front().to_string() == "0.0.0.0:8080");
    auto loopback = netlite::resolve<IPv4>("", 8080, {});
    REQUIRE_OK(loopback);
    CHECK(loopback->front().to_string() == "127.0.0.1:8080");
}

TEST_CASE("canonical_name: the host's canonical name, or the literal itself", "[resolver][canonical]") {
    auto localhost = netlite::canonical_name("localhost");
    REQUIRE_OK(localhost);
    INFO(*localhost);
    CHECK(
        localhost->starts_with("localhost"));  // "localhost", or "localhost.localdomain" in some hosts files
    auto literal = netlite::canonical_name("127.0.0.1", {.numeric_host = true});
    REQUIRE_OK(literal);
    CHECK(*literal == "127.0.0.1");
    CHECK_FAILS_WITH(netlite::canonical_name("localhost", {.numeric_host = true}), resolve_errc::no_name);
}

TEST_CASE("reverse_lookup of 127.0.0.1 and ::1, numeric", "[resolver][reverse]") {
    auto numeric = netlite::reverse_lookup(Address<IPv4>::loopback(443),
                                           {.numeric_host = true, .numeric_service = true});
    REQUIRE_OK(numeric);
    CHECK(numeric->host == "127.0.0.1");
    CHECK(numeric->service == "443");

    auto named_port =
        netlite::reverse_lookup(Address<IP>(Address<IPv4>::loopback(443)), {.numeric_host = true});
    REQUIRE_OK(named_port);
    CHECK(named_port->host == "127.0.0.1");
    if (named_port->service == "443")
        WARN("this system's services database does not name port 443 (no /etc/services?)");
    else
        CHECK(named_port->service == "https");

    auto v6 =
        netlite::reverse_lookup(Address<IPv6>::loopback(8), {.numeric_host = true, .numeric_service = true});
    REQUIRE_OK(v6);
    CHECK(v6->host == "::1");
    CHECK(v6->service == "8");
}

TEST_CASE("host_name: this machine's name, the same each time", "[resolver][host_name]") {
    auto name = netlite::host_name();
    REQUIRE_OK(name);
    INFO(*name);
    CHECK_FALSE(name->empty());
    CHECK(name->size() <= 255);
    CHECK(name->find('\0') == std::string::npos);
    auto again = netlite::host_name();
    REQUIRE_OK(again);
    CHECK(*again == *name);
}

TEST_CASE("network_interfaces lists a loopback interface with 127.0.0.1/8", "[resolver][interfaces]") {
    auto interfaces = netlite::network_interfaces();
    REQUIRE_OK(interfaces);
    REQUIRE_FALSE(interfaces->empty());
    std::set<std::string> names;
    for (const netlite::NetworkInterface& i : *interfaces) {
        INFO(i.name);
        CHECK_FALSE(i.name.empty());
        CHECK(names.insert(i.name).second);  // each interface once
        for (const netlite::InterfaceAddress& a : i.addresses) {
            CHECK(a.address.port() == 0);
            CHECK(a.prefix_length <= (a.address.is_v4() ? 32u : 128u));
        }
    }
    const auto lo =
        std::find_if(interfaces->begin(), interfaces->end(), [](const netlite::NetworkInterface& i) {
            return i.loopback && std::any_of(i.addresses.begin(), i.addresses.end(),
                                             [](const netlite::InterfaceAddress& a) {
                                                 return a.address.ip() == "127.0.0.1";
                                             });
        });
    REQUIRE(lo != interfaces->end());
    INFO(lo->name);
    CHECK(lo->up);
    CHECK(lo->index != 0);
    const auto v4 =
        std::find_if(lo->addresses.begin(), lo->addresses.end(),
                     [](const netlite::InterfaceAddress& a) { return a.address.ip() == "127.0.0.1"; });
    CHECK(v4->prefix_length == 8);
    // Its name is the one interface_index() takes, and gives the same index.
    auto index = netlite::interface_index(lo->name);
    REQUIRE_OK(index);
    CHECK(*index == lo->index);
    // Where IPv6 is on, the loopback interface has ::1/128 as well.
    if (netlite::testing::available<IPv6>()) {
        const auto v6 =
            std::find_if(lo->addresses.begin(), lo->addresses.end(),
                         [](const netlite::InterfaceAddress& a) { return a.address.ip() == "::1"; });
        if (v6 == lo->addresses.end())
            WARN("IPv6 sockets open, but the loopback interface lists no ::1");
        else
            CHECK(v6->prefix_length == 128);
    }
}

// --- hidden: inside an empty network namespace only (CTest: resolver_without_dns) -------------------------

TEST_CASE("reverse_lookup asks the hosts file, then DNS; without a name server it says so", "[.nodns]") {
    if (!network_isolated())
        NETLITE_SKIP("an interface other than loopback is visible: run this inside `unshare -n` only");
    // 127.0.0.1 is in the hosts file: its name comes back, and resolves to it again.
    auto named = netlite::reverse_lookup(Address<IPv4>::loopback(80));
    REQUIRE_OK(named);
    INFO(named->host);
    CHECK(named->host != "127.0.0.1");
    if (named->service == "80")
        WARN("this system's services database does not name port 80 (no /etc/services?)");
    else
        CHECK(named->service == "http");
    auto back = netlite::resolve<IPv4>(named->host, "80");
    REQUIRE_OK(back);
    CHECK(std::find(back->begin(), back->end(), Address<IPv4>::loopback(80)) != back->end());
    // 192.0.2.1 (TEST-NET-1) is in no hosts file: only a PTR query could name it, and no server answers.
    auto documentation = Address<IPv4>::parse("192.0.2.1:80");
    REQUIRE_OK(documentation);
    auto required = netlite::reverse_lookup(*documentation, {.name_required = true});
    REQUIRE_FALSE(required);
    INFO(required.error().message());
    CHECK(is_resolve_error(required.error()));
    CHECK((required.error() == resolve_errc::again || required.error() == resolve_errc::no_name));
    CHECK(required.error().operation() == std::string_view("getnameinfo"));
}

TEST_CASE("address_configured: no IPv4 address configured, so no IPv4 answer", "[.nodns]") {
    if (!network_isolated())
        NETLITE_SKIP("an interface other than loopback is visible: run this inside `unshare -n` only");
    // Here no interface has an address but loopback's, which AI_ADDRCONFIG does not count (glibc, and as
    // RFC 3493 asks): even a literal is refused with the flag, and accepted without it.
    auto filtered = netlite::resolve<IPv4>("127.0.0.1", "80", {.address_configured = true});
    REQUIRE_FALSE(filtered);
    CHECK(is_resolve_error(filtered.error()));
    CHECK(filtered.error() == resolve_errc::no_name);
    CHECK_OK(netlite::resolve<IPv4>("127.0.0.1", "80", {}));
}
