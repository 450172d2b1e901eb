// Tests for netlite/address.hpp: Address<IPv4>, Address<IPv6>, Address<IP> and Address<Unix>: parsing
// (including malformed text), printing, accessors, native conversion, comparison and hashing.
// Pure address arithmetic: no socket is opened and no name is resolved here.
#include "catch.hpp"

#include <netlite/address.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_set>
#include <utility>
#include <vector>

using netlite::Address;
using netlite::errc;
using netlite::IP;
using netlite::IPv4;
using netlite::IPv6;
using netlite::Unix;

namespace {

// The name of interface `index`, or nothing.
std::optional<std::string> interface_name(unsigned index) {
    char name[256] = {};  // IF_NAMESIZE: 16 on Linux, 256 on Windows
    if (!netlite::detail::sys::interface_name(index, name)) return std::nullopt;
    return std::string(name);
}

// The loopback interface's name: "lo" on Linux; on Windows "loopback_<n>" (wine 8 calls it loopback_1,
// Windows loopback_0), found among the first interface indexes.
const std::string& loopback_name() {
    static const std::string name = [] {
#if defined(_WIN32)
        for (unsigned index = 1; index < 64; ++index) {
            const std::optional<std::string> found = interface_name(index);
            if (found && found->rfind("loopback_", 0) == 0) return *found;
        }
        return std::string("loopback_0");
#else
        return std::string("lo");
#endif
    }();
    return name;
}

// The loopback interface's index (0 if this machine has no such interface).
unsigned loopback_interface() {
    return netlite::detail::sys::interface_index(loopback_name().c_str());
}

// `text` with every "%lo" (the loopback scope) spelled as this platform names the loopback interface.
std::string with_loopback(std::string text) {
    const std::string scope = "%" + loopback_name();
    for (std::size_t at = text.find("%lo"); at != std::string::npos; at = text.find("%lo", at + scope.size()))
        text.replace(at, 3, scope);
    return text;
}

// Distinct addresses of each family, in canonical text form (to_string gives the text back).
template <class F>
std::vector<std::string> sample_texts();
template <>
std::vector<std::string> sample_texts<IPv4>() {
    return {"127.0.0.1:80", "127.0.0.1:81", "127.0.0.1:256",
            "10.0.0.1:80",  "0.0.0.0:0",    "255.255.255.255:65535"};
}
template <>
std::vector<std::string> sample_texts<IPv6>() {
    return {"[::1]:80",
            "[::1]:81",
            "[::1]:256",
            "[::]:0",
            "[2001:db8::1]:65535",
            "[fe80::1]:80",
            with_loopback("[fe80::1%lo]:80")};
}
template <>
std::vector<std::string> sample_texts<IP>() {
    return {"127.0.0.1:80", "127.0.0.1:81", "10.0.0.1:80", "[::1]:80", "[::1]:81", "[2001:db8::1]:80"};
}
template <>
std::vector<std::string> sample_texts<Unix>() {
    std::vector<std::string> texts{"/tmp/netlite-a", "/tmp/netlite-b", "netlite-relative"};
    if (Address<Unix>::has_abstract_names)  // Linux only (not in NETLITE_PORTABLE_POSIX builds)
        texts.insert(texts.end(), {"@netlite-a", "@netlite-b", "@/tmp/netlite-a"});
    return texts;
}

template <class F>
std::vector<Address<F>> samples() {
    std::vector<Address<F>> out;
    for (const std::string& text : sample_texts<F>()) {
        auto parsed = Address<F>::parse(text);
        INFO("sample \"" << text << '"');
        REQUIRE(parsed);
        out.push_back(*parsed);
    }
    return out;
}

// Parses `text` with Address<F> and checks it fails with `expected`.
template <class F>
void check_parse_fails(std::string_view text, errc expected) {
    auto parsed = Address<F>::parse(text);
    INFO("parsing \"" << std::string(text.substr(0, 60)) << (text.size() > 60 ? "...\"" : "\"") << " ("
                      << text.size() << " bytes)");
    REQUIRE_FALSE(parsed);
    CHECK(parsed.error() == expected);
    CHECK(parsed.error().category() == netlite::netlite_category());
    CHECK_FALSE(std::string(parsed.error().operation()).empty());
}

/// check_parse_fails for each of `texts`.
template <class F>
void check_each_parse_fails(std::initializer_list<std::string_view> texts, errc expected) {
    for (std::string_view text : texts) check_parse_fails<F>(text, expected);
}

/// CHECKs what a loopback IP address (Address<IPv4>, <IPv6> or <IP>) says of itself: its text, ip and port,
/// and the domain and size of its native form.
template <class A>
void check_loopback_accessors(const A& a, std::string_view text, std::string_view ip, std::uint16_t port,
                              int domain, std::size_t size) {
    CHECK(a.to_string() == text);
    CHECK(a.port() == port);
    CHECK(a.ip() == ip);
    CHECK(a.is_loopback());
    CHECK(a.domain() == domain);
    CHECK(static_cast<std::size_t>(a.size()) == size);
    CHECK(a.data()->sa_family == domain);
}

/// CHECKs that Address<F>::parse(ip, port) gives `expected`.
template <class F>
void check_parse_gives(std::string_view ip, std::uint16_t port, const Address<F>& expected) {
    auto parsed = Address<F>::parse(ip, port);
    INFO("parsing \"" << std::string(ip) << "\", port " << port);
    REQUIRE(parsed);
    CHECK(*parsed == expected);
}

/// a.as_v4() or a.as_v6(): the address of family F that `a` holds, if it holds one.
template <class F>
auto held_as(const Address<IP>& a) {
    if constexpr (std::is_same_v<F, IPv4>)
        return a.as_v4();
    else
        return a.as_v6();
}

/// CHECKs that `a` holds `held` (a loopback Address<IPv4> or <IPv6>; Other is the other family) and answers
/// for it: see check_loopback_accessors.
template <class F, class Other>
void check_holds(const Address<IP>& a, const Address<F>& held, std::string_view text, std::string_view ip,
                 std::uint16_t port, int domain, std::size_t size) {
    CHECK(a.is_v4() == std::is_same_v<F, IPv4>);
    CHECK(a.is_v6() == std::is_same_v<F, IPv6>);
    REQUIRE(held_as<F>(a));
    CHECK(*held_as<F>(a) == held);
    CHECK_FALSE(held_as<Other>(a));
    check_loopback_accessors(a, text, ip, port, domain, size);
    CHECK(a == *Address<IP>::parse(text));
}

}  // namespace

// ---------------------------------------------------------------------------------------------------------
// Properties every family shares.

TEMPLATE_TEST_CASE("to_string and parse round trip", "[address]", IPv4, IPv6, IP, Unix) {
    if constexpr (std::is_same_v<TestType, IPv6>) REQUIRE(loopback_interface() != 0);  // "%lo" in the samples
    for (const std::string& text : sample_texts<TestType>()) {
        INFO("text \"" << text << '"');
        auto parsed = Address<TestType>::parse(text);
        REQUIRE(parsed);
        CHECK(parsed->to_string() == text);
        auto again = Address<TestType>::parse(parsed->to_string());
        REQUIRE(again);
        CHECK(*again == *parsed);
    }
}

TEMPLATE_TEST_CASE("operator<< writes to_string", "[address]", IPv4, IPv6, IP, Unix) {
    std::vector<Address<TestType>> all = samples<TestType>();
    all.push_back(Address<TestType>());
    for (const auto& address : all) {
        std::ostringstream out;
        out << "<" << address << ">";
        // Appended, not "<" + to_string(): g++ 12 -O3 warns falsely (-Wrestrict) on operator+ with a
        // temporary string here.
        std::string expected = "<";
        expected.append(address.to_string()).append(">");
        CHECK(out.str() == expected);
        CHECK_FALSE(address.to_string().empty());
    }
}

// A configuration whose standard library has std::format (clang16-libcxx) must offer the formatter.
#if defined(NETLITE_TEST_EXPECT_FORMAT) && !defined(NETLITE_HAS_FORMAT)
#error "this configuration's std::format works, but <netlite/address.hpp> offers no std::formatter"
#endif

#if defined(NETLITE_HAS_FORMAT)
TEMPLATE_TEST_CASE("std::format prints to_string", "[address][format]", IPv4, IPv6, IP, Unix) {
    for (const auto& address : samples<TestType>()) CHECK(std::format("{}", address) == address.to_string());
}

TEST_CASE("std::format takes the string specs: fill, alignment, width, precision", "[address][format]") {
    const auto address = netlite::Address<IPv4>::loopback(80);  // "127.0.0.1:80", 12 characters
    CHECK(std::format("{:>16}", address) == "    127.0.0.1:80");
    CHECK(std::format("{:*<16}", address) == "127.0.0.1:80****");
    CHECK(std::format("{:-^16}", address) == "--127.0.0.1:80--");
    CHECK(std::format("{:4}", address) == "127.0.0.1:80");  // a width never cuts
    CHECK(std::format("{:.9}", address) == "127.0.0.1");
    CHECK(std::format("[{:>{}}]", address, 14) == "[  127.0.0.1:80]");
    const auto v6 = netlite::Address<IPv6>::loopback(443);
    CHECK(std::format("{:>12}|{}", v6, v6) == "   [::1]:443|[::1]:443");
}
#else
TEST_CASE("std::format prints to_string", "[address][format]") {
    WARN(
        "skipped: this standard library has no usable std::format (libstdc++ 12 has no <format>), so "
        "<netlite/address.hpp> offers no std::formatter here; the clang16-libcxx configuration tests it");
}
#endif

TEMPLATE_TEST_CASE("comparison is a consistent total order", "[address]", IPv4, IPv6, IP, Unix) {
    const std::vector<Address<TestType>> all = samples<TestType>();
    for (std::size_t i = 0; i < all.size(); ++i) {
        for (std::size_t j = 0; j < all.size(); ++j) {
            const auto& a = all[i];
            const auto& b = all[j];
            INFO(a << " vs " << b);
            CHECK((a == b) == (i == j));  // the samples are distinct
            CHECK((a != b) == (i != j));
            CHECK(int(a < b) + int(b < a) + int(a == b) == 1);  // exactly one holds
            CHECK((a < b) == (b > a));
            CHECK((a <= b) == !(b < a));
        }
    }
    std::vector<Address<TestType>> sorted = all;
    std::sort(sorted.begin(), sorted.end());
    for (std::size_t i = 1; i < sorted.size(); ++i) CHECK(sorted[i - 1] < sorted[i]);
}

TEMPLATE_TEST_CASE("std::hash makes addresses usable in unordered_set", "[address]", IPv4, IPv6, IP, Unix) {
    const std::vector<Address<TestType>> all = samples<TestType>();
    std::unordered_set<Address<TestType>> set(all.begin(), all.end());
    CHECK(set.size() == all.size());
    // The same texts parsed again are equal, hash equal, and add nothing.
    for (const auto& again : samples<TestType>()) {
        CHECK(set.count(again) == 1);
        const auto original = std::find(all.begin(), all.end(), again);
        REQUIRE(original != all.end());
        CHECK(std::hash<Address<TestType>>{}(again) == std::hash<Address<TestType>>{}(*original));
        set.insert(again);
    }
    CHECK(set.size() == all.size());
    const Address<TestType> fresh = Address<TestType>();  // the default; some samples equal it
    const bool among_samples = std::find(all.begin(), all.end(), fresh) != all.end();
    set.insert(fresh);
    CHECK(set.size() == all.size() + (among_samples ? 0 : 1));
    CHECK(set.count(fresh) == 1);
}

TEMPLATE_TEST_CASE("from_native copies a native address of the right family", "[address]", IPv4, IPv6, IP,
                   Unix) {
    for (const auto& address : samples<TestType>()) {
        INFO(address);
        auto copy = Address<TestType>::from_native(address.data(), address.size());
        REQUIRE(copy);
        CHECK(*copy == address);
        CHECK(copy->to_string() == address.to_string());
        CHECK(copy->size() == address.size());
        CHECK(copy->data()->sa_family == address.domain());
        CHECK(address.size() <= Address<TestType>::capacity());
    }
}

// ---------------------------------------------------------------------------------------------------------
// IPv4

TEST_CASE("Address<IPv4> parse, accessors and native layout", "[address][ipv4]") {
    auto a = Address<IPv4>::parse("127.0.0.1:8088");
    REQUIRE(a);
    check_loopback_accessors(*a, "127.0.0.1:8088", "127.0.0.1", 8088, AF_INET, sizeof(sockaddr_in));
    CHECK(Address<IPv4>::capacity() == sizeof(sockaddr_in));
    CHECK(reinterpret_cast<const sockaddr_in*>(a->data())->sin_port == htons(8088));
    CHECK(a->native().sin_addr.s_addr == htonl(INADDR_LOOPBACK));

    SECTION("parse(ip, port)") {
        check_parse_gives<IPv4>("127.0.0.1", 8088, *a);
        auto c = Address<IPv4>::parse("192.0.2.7", 0);
        REQUIRE(c);
        CHECK(c->to_string() == "192.0.2.7:0");
        CHECK_FALSE(c->is_loopback());
    }
    SECTION("set_port") {
        a->set_port(65535);
        CHECK(a->port() == 65535);
        CHECK(a->to_string() == "127.0.0.1:65535");
        a->set_port(0);
        CHECK(a->to_string() == "127.0.0.1:0");
    }
    SECTION("loopback, any and the default") {
        CHECK(Address<IPv4>::loopback(9).to_string() == "127.0.0.1:9");
        CHECK(Address<IPv4>::loopback().port() == 0);
        CHECK(Address<IPv4>::loopback().is_loopback());
        CHECK(Address<IPv4>::any(7).to_string() == "0.0.0.0:7");
        CHECK_FALSE(Address<IPv4>::any().is_loopback());
        CHECK(Address<IPv4>() == Address<IPv4>::any(0));
        CHECK(Address<IPv4>().domain() == AF_INET);
        CHECK(Address<IPv4>::loopback(9) == *Address<IPv4>::parse("127.0.0.1:9"));
    }
    SECTION("all of 127.0.0.0/8 is loopback") {
        CHECK(Address<IPv4>::parse("127.255.0.1:1")->is_loopback());
        CHECK_FALSE(Address<IPv4>::parse("128.0.0.1:1")->is_loopback());
        CHECK_FALSE(Address<IPv4>::parse("126.255.255.255:1")->is_loopback());
    }
}

TEST_CASE("Address<IPv4> ordering: address first, then the port as a number", "[address][ipv4]") {
    auto p = [](std::string_view text) { return *Address<IPv4>::parse(text); };
    CHECK(p("1.2.3.4:80") < p("1.2.3.4:81"));
    CHECK(p("1.2.3.4:1") < p("1.2.3.4:256"));  // 256 is 0x0100: byte order must not decide
    CHECK(p("1.2.3.4:65535") < p("1.2.3.5:0"));
    CHECK(p("1.2.3.4:80") < p("2.0.0.0:80"));
    CHECK(p("9.0.0.0:80") < p("10.0.0.0:80"));  // numeric, not textual
}

TEST_CASE("Address<IPv4> equality and hash ignore sin_zero", "[address][ipv4]") {
    sockaddr_in native{};
    native.sin_family = AF_INET;
    native.sin_port = htons(80);
    native.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    std::memset(native.sin_zero, 0xAB, sizeof native.sin_zero);
    const Address<IPv4> dirty(native);
    const Address<IPv4> clean = Address<IPv4>::loopback(80);
    CHECK(dirty == clean);
    CHECK(std::hash<Address<IPv4>>{}(dirty) == std::hash<Address<IPv4>>{}(clean));
}

// ---------------------------------------------------------------------------------------------------------
// IPv6

TEST_CASE("Address<IPv6> parse, accessors and native layout", "[address][ipv6]") {
    auto a = Address<IPv6>::parse("[::1]:80");
    REQUIRE(a);
    check_loopback_accessors(*a, "[::1]:80", "::1", 80, AF_INET6, sizeof(sockaddr_in6));
    CHECK(a->scope_id() == 0);
    CHECK(Address<IPv6>::capacity() == sizeof(sockaddr_in6));
    CHECK(reinterpret_cast<const sockaddr_in6*>(a->data())->sin6_port == htons(80));

    SECTION("the text is printed in canonical form") {
        auto b = Address<IPv6>::parse("[2001:DB8:0:0:0:0:0:1]:443");
        REQUIRE(b);
        CHECK(b->to_string() == "[2001:db8::1]:443");
        CHECK(*b == *Address<IPv6>::parse("[2001:db8::1]:443"));
        CHECK_FALSE(b->is_loopback());
        auto mapped = Address<IPv6>::parse("[::ffff:1.2.3.4]:80");
        REQUIRE(mapped);
        CHECK(mapped->to_string() == "[::ffff:1.2.3.4]:80");
    }
    SECTION("parse(ip, port), with or without brackets") {
        check_parse_gives<IPv6>("::1", 80, *a);
        check_parse_gives<IPv6>("[::1]", 80, *a);
    }
    SECTION("set_port and set_scope_id") {
        a->set_port(65535);
        CHECK(a->port() == 65535);
        CHECK(a->to_string() == "[::1]:65535");
        auto b = *Address<IPv6>::parse("[fe80::2]:1");
        const unsigned lo = loopback_interface();
        REQUIRE(lo != 0);
        b.set_scope_id(lo);
        CHECK(b.scope_id() == lo);
        CHECK(b.to_string() == with_loopback("[fe80::2%lo]:1"));
    }
    SECTION("loopback, any and the default") {
        CHECK(Address<IPv6>::loopback(9).to_string() == "[::1]:9");
        CHECK(Address<IPv6>::loopback().is_loopback());
        CHECK(Address<IPv6>::any(7).to_string() == "[::]:7");
        CHECK_FALSE(Address<IPv6>::any().is_loopback());
        CHECK(Address<IPv6>() == Address<IPv6>::any(0));
        CHECK_FALSE(Address<IPv6>::parse("[::2]:1")->is_loopback());
    }
}

TEST_CASE("Address<IPv6> scope ids by name and by number", "[address][ipv6]") {
    const unsigned lo = loopback_interface();
    REQUIRE(lo != 0);

    SECTION("by name: [fe80::1%lo]:80") {
        auto a = Address<IPv6>::parse(with_loopback("[fe80::1%lo]:80"));
        REQUIRE(a);
        CHECK(a->scope_id() == lo);
        CHECK(a->ip() == "fe80::1");  // ip() leaves the scope out
        CHECK(a->port() == 80);
        CHECK(a->to_string() == with_loopback("[fe80::1%lo]:80"));
        auto b = Address<IPv6>::parse(with_loopback("fe80::1%lo"), 80);
        REQUIRE(b);
        CHECK(*b == *a);
        CHECK(*a != *Address<IPv6>::parse("[fe80::1]:80"));  // the scope is part of the address
    }
    SECTION("by number: [fe80::1%1]:80") {
        auto a = Address<IPv6>::parse("[fe80::1%1]:80");
        REQUIRE(a);
        CHECK(a->scope_id() == 1);
        const std::optional<std::string> name = interface_name(1);
        CHECK(a->to_string() == "[fe80::1%" + name.value_or("1") + "]:80");
    }
    SECTION("the number of lo prints as its name") {
        auto a = Address<IPv6>::parse("[fe80::1%" + std::to_string(lo) + "]:80");
        REQUIRE(a);
        CHECK(a->scope_id() == lo);
        CHECK(a->to_string() == with_loopback("[fe80::1%lo]:80"));
        CHECK(*a == *Address<IPv6>::parse(with_loopback("[fe80::1%lo]:80")));
    }
    SECTION("a number that names no interface prints as the number") {
        unsigned unused = 0;
        for (unsigned index = 100000; index < 100100 && unused == 0; ++index)
            if (!interface_name(index)) unused = index;
        REQUIRE(unused != 0);
        const std::string text = "[fe80::1%" + std::to_string(unused) + "]:80";
        auto a = Address<IPv6>::parse(text);
        REQUIRE(a);
        CHECK(a->scope_id() == unused);
        CHECK(a->to_string() == text);
    }
    SECTION("the largest scope id parses; one more is refused (regression: strtoul saturated on Windows)") {
        auto a = Address<IPv6>::parse("[fe80::1%4294967295]:80");
        REQUIRE(a);
        CHECK(a->scope_id() == 4294967295u);
        check_parse_fails<IPv6>("[fe80::1%4294967296]:80", errc::invalid_address);
        check_parse_fails<IPv6>("[fe80::1%18446744073709551615]:80", errc::invalid_address);
    }
    SECTION("scope ids order and hash apart") {
        auto one = *Address<IPv6>::parse("[fe80::1%1]:80");
        auto two = *Address<IPv6>::parse("[fe80::1%2]:80");
        CHECK(one != two);
        CHECK(one < two);
    }
}

TEST_CASE("Address<IPv6> equality and hash ignore the flow label", "[address][ipv6]") {
    sockaddr_in6 native = Address<IPv6>::loopback(80).native();
    native.sin6_flowinfo = htonl(0x12345);
    const Address<IPv6> labelled(native);
    const Address<IPv6> plain = Address<IPv6>::loopback(80);
    CHECK(labelled == plain);
    CHECK(std::hash<Address<IPv6>>{}(labelled) == std::hash<Address<IPv6>>{}(plain));
}

// ---------------------------------------------------------------------------------------------------------
// IP (either version)

TEST_CASE("Address<IP> holds IPv4 or IPv6", "[address][ip]") {
    const Address<IPv4> v4 = Address<IPv4>::loopback(8088);
    const Address<IPv6> v6 = Address<IPv6>::loopback(80);

    SECTION("from IPv4") {
        const Address<IP> a = v4;  // implicit
        check_holds<IPv4, IPv6>(a, v4, "127.0.0.1:8088", "127.0.0.1", 8088, AF_INET, sizeof(sockaddr_in));
    }
    SECTION("from IPv6") {
        const Address<IP> a = v6;
        check_holds<IPv6, IPv4>(a, v6, "[::1]:80", "::1", 80, AF_INET6, sizeof(sockaddr_in6));
    }
    SECTION("visit calls with the held type") {
        auto kind = [](const auto& address) -> std::string {
            using A = std::decay_t<decltype(address)>;
            if constexpr (std::is_same_v<A, Address<IPv4>>)
                return "v4 " + address.to_string();
            else if constexpr (std::is_same_v<A, Address<IPv6>>)
                return "v6 " + address.to_string();
            else
                return "other";
        };
        CHECK(Address<IP>(v4).visit(kind) == "v4 127.0.0.1:8088");
        CHECK(Address<IP>(v6).visit(kind) == "v6 [::1]:80");
    }
    SECTION("set_port on either version") {
        Address<IP> a = v4;
        a.set_port(1);
        CHECK(a.to_string() == "127.0.0.1:1");
        Address<IP> b = v6;
        b.set_port(2);
        CHECK(b.to_string() == "[::1]:2");
        CHECK(b.is_v6());
    }
    SECTION("parse(ip, port) picks the version") {
        auto a = Address<IP>::parse("::1", 443);
        REQUIRE(a);
        CHECK(a->is_v6());
        CHECK(a->to_string() == "[::1]:443");
        auto b = Address<IP>::parse("192.0.2.1", 5);
        REQUIRE(b);
        CHECK(b->is_v4());
        CHECK(b->to_string() == "192.0.2.1:5");
    }
    SECTION("the default is 0.0.0.0:0") {
        const Address<IP> a;
        CHECK(a.is_v4());
        CHECK(a == Address<IP>(Address<IPv4>::any(0)));
        CHECK(Address<IP>::capacity() == sizeof(sockaddr_in6));
    }
    SECTION("ordering across versions groups by family") {
        const Address<IP> low4 = *Address<IP>::parse("0.0.0.0:0");
        const Address<IP> high4 = *Address<IP>::parse("255.255.255.255:65535");
        const Address<IP> low6 = *Address<IP>::parse("[::]:0");
        const Address<IP> high6 = *Address<IP>::parse("[ffff::ffff]:65535");
        CHECK(low4 != low6);
        // Every IPv4 address sorts on the same side of every IPv6 address (the side AF_* decides).
        const bool v4_first = AF_INET < AF_INET6;
        for (const auto& four : {low4, high4})
            for (const auto& six : {low6, high6}) {
                CHECK((four < six) == v4_first);
                CHECK((six < four) == !v4_first);
            }
    }
}

// Regression: Address<IP>'s union was only zeroed as far as its sockaddr_in member reaches, so an IPv6
// parsed into it kept garbage in sin6_flowinfo and sin6_scope_id (seen with clang: "[::1%821190608]:80").
TEST_CASE("Address<IP> parsed as IPv6 has no stray scope id or flow label", "[address][ip][regression]") {
    for (const char* text : {"[::1]:80", "[2001:db8::1]:65535", "[fe80::1]:1", "[::]:0"}) {
        INFO(text);
        auto a = Address<IP>::parse(text);
        REQUIRE(a);
        REQUIRE(a->as_v6());
        CHECK(a->as_v6()->scope_id() == 0);
        CHECK(a->as_v6()->native().sin6_flowinfo == 0);
        CHECK(a->to_string() == text);
        CHECK(*a == Address<IP>(*Address<IPv6>::parse(text)));
    }
    auto b = Address<IP>::parse("2001:db8::2", 7);
    REQUIRE(b);
    REQUIRE(b->as_v6());
    CHECK(b->as_v6()->scope_id() == 0);
    CHECK(b->as_v6()->native().sin6_flowinfo == 0);
    CHECK(b->to_string() == "[2001:db8::2]:7");
}

TEST_CASE("parse rejects the other family", "[address]") {
    check_parse_fails<IPv4>("[::1]:80", errc::invalid_address);
    check_parse_fails<IPv6>("1.2.3.4:1", errc::invalid_address);
    check_parse_fails<IP>("[1.2.3.4]:80", errc::invalid_address);  // brackets are for IPv6

    auto v4 = Address<IPv4>::parse("::1", 80);
    REQUIRE_FALSE(v4);
    CHECK(v4.error() == errc::invalid_address);
    auto v6 = Address<IPv6>::parse("1.2.3.4", 80);
    REQUIRE_FALSE(v6);
    CHECK(v6.error() == errc::invalid_address);

    // Regression: parse(ip, port) took "[1.2.3.4]" as IPv4 although brackets are for IPv6 only.
    for (auto result : {Address<IP>::parse("[1.2.3.4]", 80), Address<IP>::parse("[127.0.0.1]", 1)}) {
        REQUIRE_FALSE(result);
        CHECK(result.error() == errc::invalid_address);
    }
    auto bracketed_v4 = Address<IPv4>::parse("[1.2.3.4]", 80);
    REQUIRE_FALSE(bracketed_v4);
    CHECK(bracketed_v4.error() == errc::invalid_address);
}

TEST_CASE("from_native rejects another family with family_mismatch", "[address]") {
    const Address<IPv4> v4 = Address<IPv4>::loopback(1);
    const Address<IPv6> v6 = Address<IPv6>::loopback(1);
    const Address<Unix> un = *Address<Unix>::path("/tmp/netlite-native");

    auto check_mismatch = [](const auto& result) {
        REQUIRE_FALSE(result);
        CHECK(result.error() == errc::family_mismatch);
        CHECK(result.error() == std::errc::address_family_not_supported);
    };
    check_mismatch(Address<IPv4>::from_native(v6.data(), v6.size()));
    check_mismatch(Address<IPv4>::from_native(un.data(), un.size()));
    check_mismatch(Address<IPv6>::from_native(v4.data(), v4.size()));
    check_mismatch(Address<IPv6>::from_native(un.data(), un.size()));
    check_mismatch(Address<IP>::from_native(un.data(), un.size()));
    check_mismatch(Address<Unix>::from_native(v4.data(), v4.size()));
    check_mismatch(Address<Unix>::from_native(v6.data(), v6.size()));

    // A native address too short for its family is refused too.
    CHECK_FALSE(Address<IPv4>::from_native(v4.data(), sizeof(sockaddr_in) - 1));
    CHECK_FALSE(Address<IPv6>::from_native(v6.data(), sizeof(sockaddr_in)));
    CHECK_FALSE(Address<IP>::from_native(v6.data(), sizeof(sockaddr_in)));

    // Address<IP> takes both.
    auto ip4 = Address<IP>::from_native(v4.data(), v4.size());
    REQUIRE(ip4);
    CHECK(ip4->is_v4());
    auto ip6 = Address<IP>::from_native(v6.data(), v6.size());
    REQUIRE(ip6);
    CHECK(ip6->is_v6());
}

// ---------------------------------------------------------------------------------------------------------
// Malformed text: each is refused with a specific error, never accepted, never read past its end.

TEST_CASE("parse refuses malformed address text", "[address][parse]") {
    SECTION("missing parts") {
        // "1.2.3.4" and "[::1]" have no port; "1.2.3.4:" and "[::1]:" an empty one.
        check_each_parse_fails<IP>({"", "1.2.3.4", "[::1", "[::1]", "[]:80", ":80"}, errc::invalid_address);
        check_each_parse_fails<IP>({"1.2.3.4:", "[::1]:"}, errc::invalid_port);
        // ":" lacks both the address and the port: either error names a real fault.
        auto colon = Address<IP>::parse(":");
        REQUIRE_FALSE(colon);
        CHECK((colon.error() == errc::invalid_address || colon.error() == errc::invalid_port));
    }
    SECTION("bad ports") {
        check_each_parse_fails<IP>({"1.2.3.4:99999", "1.2.3.4:65536", "1.2.3.4:-1", "1.2.3.4:+80",
                                    "1.2.3.4:8a", "1.2.3.4: 80", "1.2.3.4:0x50", "[::1]:80x"},
                                   errc::invalid_port);
        check_parse_fails<IPv4>("1.2.3.4:99999", errc::invalid_port);
        check_parse_fails<IPv6>("[::1]:99999", errc::invalid_port);
        // 65535 itself is fine.
        auto top = Address<IP>::parse("1.2.3.4:65535");
        REQUIRE(top);
        CHECK(top->port() == 65535);
    }
    SECTION("bad addresses") {
        // parse never resolves names ("localhost"); an IPv6 address with a port needs brackets ("::1:80").
        check_each_parse_fails<IP>(
            {"256.0.0.1:1", "1.2.3:80", " 1.2.3.4:80", "localhost:80", "[::g]:80", "[[::1]]:80", "::1:80"},
            errc::invalid_address);
        check_parse_fails<IPv4>("256.0.0.1:1", errc::invalid_address);
        check_parse_fails<IPv6>("::1:80", errc::invalid_address);
    }
    SECTION("embedded NUL bytes") {
        const std::string_view v4_texts[] = {std::string_view("127.0.0.1\0:80", 13),
                                             std::string_view("127.0.0.1:80\0", 13)};
        for (std::string_view text : v4_texts) {
            check_parse_fails<IP>(text, errc::invalid_address);
            check_parse_fails<IPv4>(text, errc::invalid_address);
        }
        check_each_parse_fails<IPv6>({std::string_view("[::1]:80\0", 9), std::string_view("[::1\0]:80", 9)},
                                     errc::invalid_address);
        auto ip = Address<IPv4>::parse(std::string_view("127.0.0.1\0", 10), 80);
        REQUIRE_FALSE(ip);
        CHECK(ip.error() == errc::invalid_address);
    }
    SECTION("very long text") {
        const std::string digits(4096, '7');
        check_parse_fails<IP>(digits, errc::invalid_address);
        check_parse_fails<IPv4>(digits, errc::invalid_address);
        check_parse_fails<IPv6>(digits, errc::invalid_address);
        check_parse_fails<IP>(digits + ":80", errc::invalid_address);
        check_parse_fails<IP>("[" + digits + "]:80", errc::invalid_address);
        check_parse_fails<IP>("1.2.3.4:" + digits, errc::invalid_port);
        auto ip = Address<IP>::parse(digits, 80);
        REQUIRE_FALSE(ip);
        CHECK(ip.error() == errc::invalid_address);
    }
    SECTION("bad scope ids") {
        REQUIRE(netlite::detail::sys::interface_index("nosuchif0") == 0);
        const std::string long_name = "[fe80::1%" + std::string(300, 'x') + "]:80";
        check_each_parse_fails<IPv6>(
            {"[fe80::1%]:80", "[fe80::1%nosuchif0]:80", "[fe80::1%0]:80", "[fe80::1%4294967296]:80",
             "[fe80::1%99999999999999999999999]:80", long_name},
            errc::invalid_address);
        check_parse_fails<IP>("[fe80::1%nosuchif0]:80", errc::invalid_address);
        check_parse_fails<IP>(with_loopback("1.2.3.4%lo:80"), errc::invalid_address);  // scopes are IPv6 only
        auto ip = Address<IPv6>::parse("fe80::1%", 80);
        REQUIRE_FALSE(ip);
        CHECK(ip.error() == errc::invalid_address);
    }
    SECTION("the error message names the operation and the reason") {
        auto bad = Address<IP>::parse("1.2.3.4:99999");
        REQUIRE_FALSE(bad);
        const std::string message = bad.error().message();
        CHECK(message.find(bad.error().operation()) == 0);
        CHECK(message.find(bad.error().code().message()) != std::string::npos);
    }
}

// ---------------------------------------------------------------------------------------------------------
// Unix

TEST_CASE("Address<Unix> paths", "[address][unix]") {
    auto a = Address<Unix>::path("/tmp/netlite.sock");
    REQUIRE(a);
    CHECK(a->path() == "/tmp/netlite.sock");
    CHECK(a->to_string() == "/tmp/netlite.sock");
    CHECK_FALSE(a->is_abstract());
    CHECK_FALSE(a->is_unnamed());
    CHECK(a->domain() == AF_UNIX);
    CHECK(a->data()->sa_family == AF_UNIX);
    CHECK(a->size() == offsetof(sockaddr_un, sun_path) + std::strlen("/tmp/netlite.sock") + 1);
    CHECK(Address<Unix>::capacity() == sizeof(sockaddr_un));
    CHECK(std::string(a->native().sun_path) == "/tmp/netlite.sock");
    CHECK(*a == *Address<Unix>::parse("/tmp/netlite.sock"));

    SECTION("exactly max_path bytes is accepted") {
        const std::string longest(Address<Unix>::max_path, 'p');
        auto b = Address<Unix>::path(longest);
        REQUIRE(b);
        CHECK(b->path() == longest);
        CHECK(b->to_string() == longest);
        CHECK(std::cmp_less_equal(b->size(), sizeof(sockaddr_un)));
        auto c = Address<Unix>::parse(longest);
        REQUIRE(c);
        CHECK(*c == *b);
        auto copy = Address<Unix>::from_native(b->data(), b->size());
        REQUIRE(copy);
        CHECK(copy->path() == longest);
    }
    SECTION("longer paths are refused with path_too_long") {
        for (const std::size_t size : {Address<Unix>::max_path + 1, sizeof(sockaddr_un::sun_path),
                                       sizeof(sockaddr_un::sun_path) + 1, std::size_t{4096}}) {
            INFO("path of " << size << " bytes");
            const std::string too_long(size, 'p');
            auto b = Address<Unix>::path(too_long);
            REQUIRE_FALSE(b);
            CHECK(b.error() == errc::path_too_long);
            auto c = Address<Unix>::parse(too_long);
            REQUIRE_FALSE(c);
            CHECK(c.error() == errc::path_too_long);
        }
    }
    SECTION("empty and NUL-containing paths are invalid_address") {
        auto empty = Address<Unix>::path("");
        REQUIRE_FALSE(empty);
        CHECK(empty.error() == errc::invalid_address);
        auto parsed_empty = Address<Unix>::parse("");
        REQUIRE_FALSE(parsed_empty);
        CHECK(parsed_empty.error() == errc::invalid_address);
        auto nul = Address<Unix>::path(std::string_view("/tmp/a\0b", 8));
        REQUIRE_FALSE(nul);
        CHECK(nul.error() == errc::invalid_address);
    }
}

TEST_CASE("Address<Unix> abstract names", "[address][unix]") {
    if (!Address<Unix>::has_abstract_names) {
        // macOS, the BSDs and NETLITE_PORTABLE_POSIX builds: "@name" is refused, clearly.
        CHECK(Address<Unix>::parse("@name").error() == std::errc::operation_not_supported);
        CHECK(Address<Unix>::abstract_name("name").error() == std::errc::operation_not_supported);
        WARN("skipped: abstract Unix names exist only on Linux (NETLITE_PORTABLE_POSIX build)");
        return;
    }
    auto a = Address<Unix>::parse("@name");
    REQUIRE(a);
    CHECK(a->is_abstract());
    CHECK_FALSE(a->is_unnamed());
    CHECK(a->to_string() == "@name");
    CHECK(a->path().empty());  // no filesystem path
    CHECK(a->native().sun_path[0] == '\0');
    CHECK(std::string_view(a->native().sun_path + 1, 4) == "name");
    CHECK(a->size() == offsetof(sockaddr_un, sun_path) + 1 + 4);  // no trailing NUL: the length is the name

    auto b = Address<Unix>::abstract_name("name");
    REQUIRE(b);
    CHECK(*b == *a);
    CHECK(std::hash<Address<Unix>>{}(*b) == std::hash<Address<Unix>>{}(*a));

    // "@name" (abstract) and "name" (a relative path) are different addresses.
    auto relative = Address<Unix>::path("name");
    REQUIRE(relative);
    CHECK(*relative != *a);

    SECTION("length limits") {
        const std::string longest(Address<Unix>::max_path, 'n');
        auto ok = Address<Unix>::parse("@" + longest);
        REQUIRE(ok);
        CHECK(ok->to_string() == "@" + longest);
        auto too_long = Address<Unix>::parse("@" + longest + "n");
        REQUIRE_FALSE(too_long);
        CHECK(too_long.error() == errc::path_too_long);
        auto too_long2 = Address<Unix>::abstract_name(longest + "n");
        REQUIRE_FALSE(too_long2);
        CHECK(too_long2.error() == errc::path_too_long);
    }
}

TEST_CASE("Address<Unix> unnamed", "[address][unix]") {
    const Address<Unix> unnamed;
    CHECK(unnamed.is_unnamed());
    CHECK_FALSE(unnamed.is_abstract());
    CHECK(unnamed.path().empty());
    CHECK(unnamed.to_string() == "(unnamed)");
    CHECK(std::cmp_equal(unnamed.size(), sizeof(sockaddr_un::sun_family)));
    CHECK(unnamed.data()->sa_family == AF_UNIX);
    CHECK(unnamed == Address<Unix>());
    CHECK(std::hash<Address<Unix>>{}(unnamed) == std::hash<Address<Unix>>{}(Address<Unix>()));
    CHECK(unnamed != *Address<Unix>::path("/tmp/x"));
    if (Address<Unix>::has_abstract_names) CHECK(unnamed != *Address<Unix>::parse("@"));

    // The kernel reports an unbound socket's address as the family alone.
    sockaddr_un native{};
    native.sun_family = AF_UNIX;
    auto copy =
        Address<Unix>::from_native(reinterpret_cast<const sockaddr*>(&native), sizeof native.sun_family);
    REQUIRE(copy);
    CHECK(copy->is_unnamed());
    CHECK(*copy == unnamed);
}

TEST_CASE("Address<Unix> comparison and hash", "[address][unix]") {
    const auto a1 = *Address<Unix>::path("/tmp/a");
    const auto a2 = *Address<Unix>::parse("/tmp/a");
    const auto b = *Address<Unix>::path("/tmp/b");
    const auto longer = *Address<Unix>::path("/tmp/ab");
    CHECK(a1 == a2);
    CHECK(std::hash<Address<Unix>>{}(a1) == std::hash<Address<Unix>>{}(a2));
    CHECK(a1 != b);
    CHECK(a1 != longer);
    CHECK(((a1 < b) != (b < a1)));
    CHECK(((a1 < longer) != (longer < a1)));

    std::unordered_set<Address<Unix>> set{a1, a2, b, longer};
    CHECK(set.size() == 3);
}
