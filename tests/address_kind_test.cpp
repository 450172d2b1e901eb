// Tests for address classification and IPv4-mapped conversion (include/netlite/address_kind.hpp),
// against the answers Python's ipaddress and Rust's Ipv4Addr/Ipv6Addr give for the same addresses
// (is_private as Rust: RFC 1918 / fc00::/7). Pure computation: no sockets.
#include "catch.hpp"

#include <netlite/address_kind.hpp>

#include <string>
#include <vector>

namespace {

using netlite::Address;
using netlite::IP;
using netlite::IPv4;
using netlite::IPv6;

Address<IPv4> v4(const char* text) {
    return *Address<IPv4>::parse(text, 0);
}
Address<IPv6> v6(const char* text) {
    return *Address<IPv6>::parse(text, 0);
}

/// One classification and the addresses at the edges of its block(s): the first and last inside, and the
/// ones just outside.
template <class F>
struct Block {
    const char* kind;
    bool (*is_kind)(const Address<F>&) noexcept;
    std::vector<const char*> inside;
    std::vector<const char*> outside;
};

template <class F>
void check_blocks(const std::vector<Block<F>>& blocks) {
    for (const Block<F>& block : blocks) {
        for (const char* text : block.inside) {
            INFO(block.kind << "(" << text << ")");
            CHECK(block.is_kind(*Address<F>::parse(text, 0)));
        }
        for (const char* text : block.outside) {
            INFO(block.kind << "(" << text << ")");
            CHECK_FALSE(block.is_kind(*Address<F>::parse(text, 0)));
        }
    }
}

TEST_CASE("IPv4 classification at the edges of each block", "[address][kind]") {
    check_blocks<IPv4>({
        {"is_unspecified", netlite::is_unspecified, {"0.0.0.0"}, {"0.0.0.1"}},
        {"is_multicast",
         netlite::is_multicast,
         {"224.0.0.0", "239.255.255.255"},
         {"223.255.255.255", "240.0.0.0"}},
        {"is_private",
         netlite::is_private,
         {"10.0.0.0", "10.255.255.255", "172.16.0.0", "172.31.255.255", "192.168.0.0", "192.168.255.255"},
         {"9.255.255.255", "11.0.0.0", "172.15.255.255", "172.32.0.0", "192.167.255.255", "192.169.0.0",
          "127.0.0.1", "169.254.1.1", "0.0.0.0", "255.255.255.255"}},
        {"is_link_local",
         netlite::is_link_local,
         {"169.254.0.0", "169.254.255.255"},
         {"169.253.255.255", "169.255.0.0"}},
    });
}

TEST_CASE("IPv6 classification at the edges of each block", "[address][kind]") {
    check_blocks<IPv6>({
        {"is_unspecified", netlite::is_unspecified, {"::"}, {"::1"}},
        {"is_multicast",
         netlite::is_multicast,
         {"ff00::", "ff02::1"},
         {"feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"}},
        {"is_private",
         netlite::is_private,
         {"fc00::", "fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"},
         {"fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "fe00::"}},
        {"is_link_local",
         netlite::is_link_local,
         {"fe80::", "febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff"},
         {"fe7f:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "fec0::"}},
        {"is_ipv4_mapped",
         netlite::is_ipv4_mapped,
         {"::ffff:0.0.0.0", "::ffff:255.255.255.255"},
         {"::fffe:255.255.255.255", "::1", "64:ff9b::1.2.3.4"}},  // 64:ff9b::/96 is NAT64, not mapped
    });
}

TEST_CASE("IPv4-mapped conversion both ways keeps the port", "[address][kind]") {
    for (const char* text : {"0.0.0.0", "127.0.0.1", "192.0.2.33", "255.255.255.255"}) {
        INFO(text);
        Address<IPv4> original = v4(text);
        original.set_port(65535);
        const Address<IPv6> mapped = netlite::to_ipv4_mapped(original);
        // Compared as addresses, not as text: wine's inet_ntop prints ::ffff:0.0.0.0 as "::ffff:0:0".
        CHECK(mapped.ip() == v6((std::string("::ffff:") + text).c_str()).ip());
        CHECK(mapped.port() == 65535);
        CHECK(netlite::is_ipv4_mapped(mapped));
        REQUIRE(netlite::to_ipv4(mapped).has_value());
        CHECK(*netlite::to_ipv4(mapped) == original);
        CHECK(netlite::unmapped(Address<IP>(mapped)) == Address<IP>(original));
    }
    CHECK_FALSE(netlite::to_ipv4(v6("::1")).has_value());
    CHECK_FALSE(netlite::to_ipv4(v6("::")).has_value());
    CHECK(netlite::unmapped(Address<IP>(v6("::1"))) == Address<IP>(v6("::1")));
    CHECK(netlite::unmapped(Address<IP>(v4("10.0.0.1"))) == Address<IP>(v4("10.0.0.1")));
}

TEST_CASE("Address<IP> answers for the address it holds", "[address][kind]") {
    CHECK(netlite::is_multicast(Address<IP>(v4("239.1.2.3"))));
    CHECK(netlite::is_multicast(Address<IP>(v6("ff05::2"))));
    CHECK(netlite::is_private(Address<IP>(v4("192.168.1.1"))));
    CHECK(netlite::is_private(Address<IP>(v6("fd00::1"))));
    CHECK(netlite::is_link_local(Address<IP>(v6("fe80::1"))));
    CHECK(netlite::is_unspecified(Address<IP>(v4("0.0.0.0"))));
    CHECK_FALSE(netlite::is_unspecified(Address<IP>(v6("::1"))));
}

}  // namespace
