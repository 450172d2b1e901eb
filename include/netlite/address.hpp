// SPDX-License-Identifier: BSL-1.0
// netlite/address.hpp - address families, Address<Family>, parsing, printing and name resolution.
#pragma once

#include <netlite/detail/sys.hpp>
#include <netlite/result.hpp>

#include <compare>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

// A formatter is offered wherever std::format works. <version> (through result.hpp) says so with
// __cpp_lib_format; libc++ 16 and 17 have a working std::format but define __cpp_lib_format only once
// it is complete, so there the test is the library's own: <format> enabled (-fexperimental-library, or
// by default from libc++ 17) unless _LIBCPP_HAS_NO_INCOMPLETE_FORMAT. libstdc++ 12 has no <format>.
#if defined(__cpp_lib_format) && __cpp_lib_format >= 201907L
#define NETLITE_HAS_FORMAT 1
#elif defined(_LIBCPP_VERSION) && _LIBCPP_VERSION >= 16000 && !defined(_LIBCPP_HAS_NO_INCOMPLETE_FORMAT) && \
    __has_include(<format>)
#define NETLITE_HAS_FORMAT 1
#endif
#if defined(NETLITE_HAS_FORMAT)
#include <format>
#endif

namespace netlite {

// ---------------------------------------------------------------------------------------------------------
// Families: tag types that carry their native address type and domain.

/// IPv4 only (AF_INET, sockaddr_in).
struct IPv4 {
    /// The OS address structure it holds.
    using native_type = sockaddr_in;
    /// The address family constant (AF_INET).
    static constexpr int domain = AF_INET;
};
/// IPv6 only (AF_INET6, sockaddr_in6).
struct IPv6 {
    /// The OS address structure it holds.
    using native_type = sockaddr_in6;
    /// The address family constant (AF_INET6).
    static constexpr int domain = AF_INET6;
};
/// IPv4 or IPv6, decided at run time: the default family, and what resolve() returns.
struct IP {
    /// AF_UNSPEC: the family is known only at run time.
    static constexpr int domain = AF_UNSPEC;
};
/// Unix domain (AF_UNIX): filesystem paths and Linux abstract names.
struct Unix {
    /// The OS address structure it holds.
    using native_type = sockaddr_un;
    /// The address family constant (AF_UNIX).
    static constexpr int domain = AF_UNIX;
};

/// Any of netlite's family tags.
template <class F>
concept Family =
    std::is_same_v<F, IPv4> || std::is_same_v<F, IPv6> || std::is_same_v<F, IP> || std::is_same_v<F, Unix>;
/// The families that have ports and host names.
template <class F>
concept InternetFamily = std::is_same_v<F, IPv4> || std::is_same_v<F, IPv6> || std::is_same_v<F, IP>;

template <Family F>
class Address;

// ---------------------------------------------------------------------------------------------------------
// Resolution errors keep getaddrinfo's own codes in a category of their own.

/// getaddrinfo's EAI_* codes, in netlite's "resolve" error category.
enum class resolve_errc {
    again = EAI_AGAIN,                       ///< temporary failure: try again later
    fail = EAI_FAIL,                         ///< permanent failure of the name server
    no_name = EAI_NONAME,                    ///< the name does not exist (or no address of that family)
    family = EAI_FAMILY,                     ///< address family not supported
    service = EAI_SERVICE,                   ///< service/port not supported for the socket type
    memory = EAI_MEMORY,                     ///< out of memory
    no_data = detail::sys::resolve_no_data,  ///< the name exists but has no addresses
    address_family = detail::sys::resolve_address_family,  ///< the host has no address of that family
};

namespace detail {
class resolve_category_impl final : public std::error_category {
public:
    const char* name() const noexcept override { return "resolve"; }
    std::string message(int value) const override { return sys::resolve_message(value); }
};
}  // namespace detail

/// The category of getaddrinfo failures (name "resolve"; messages from gai_strerror).
inline const std::error_category& resolve_category() noexcept {
    return detail::category_instance<detail::resolve_category_impl>();
}

/// Makes a std::error_code from a resolve_errc.
inline std::error_code make_error_code(resolve_errc e) noexcept {
    return {static_cast<int>(e), resolve_category()};
}

namespace detail {

// Longest text any address prints as: a Unix path (107 bytes) or "[v6%interface]:65535" plus '@'.
inline constexpr std::size_t max_address_text = 128;

inline bool has_nul(std::string_view text) noexcept {
    return text.find('\0') != std::string_view::npos;
}

/// "0".."65535", digits only. Errors: invalid_port.
inline Result<std::uint16_t> parse_port(std::string_view text) noexcept {
    if (text.empty() || text.size() > 5) return fail(errc::invalid_port, "parse address");
    unsigned value = 0;
    for (const char c : text) {
        if (c < '0' || c > '9') return fail(errc::invalid_port, "parse address");
        value = value * 10 + static_cast<unsigned>(c - '0');
    }
    if (value > 65535) return fail(errc::invalid_port, "parse address");
    return static_cast<std::uint16_t>(value);
}

/// A numeric scope id, "1".."4294967295"; 0 when it is out of range. (Not strtoul: its unsigned long is 32
/// bits on Windows, where an overflow would saturate to a valid-looking 4294967295.)
inline std::uint32_t parse_scope_number(const char* digits) noexcept {
    std::uint64_t value = 0;
    for (; *digits != '\0'; ++digits) {
        value = value * 10 + static_cast<std::uint64_t>(*digits - '0');
        if (value > 0xffffffffu) return 0;
    }
    return static_cast<std::uint32_t>(value);
}

/// An IP literal ("1.2.3.4", "::1", "[::1]", "fe80::1%eth0", "fe80::1%2") with `port` into `out`.
/// `domain` is AF_INET, AF_INET6 or AF_UNSPEC (either). Errors: invalid_address.
inline Result<void> parse_ip(std::string_view ip, std::uint16_t port, int domain, sockaddr_in6& v6,
                             sockaddr_in& v4, int& parsed_domain) noexcept {
    const Error invalid(errc::invalid_address, "parse address");
    const bool bracketed = ip.size() >= 2 && ip.front() == '[' && ip.back() == ']';  // brackets are IPv6 only
    if (bracketed) ip = ip.substr(1, ip.size() - 2);
    if (ip.empty() || ip.size() >= 64 || has_nul(ip)) return fail(invalid);
    char text[64];
    std::memcpy(text, ip.data(), ip.size());
    text[ip.size()] = '\0';
    if (domain != AF_INET6 && !bracketed && ::inet_pton(AF_INET, text, &v4.sin_addr) == 1) {
        v4.sin_family = AF_INET;
        v4.sin_port = htons(port);
        parsed_domain = AF_INET;
        return {};
    }
    if (domain == AF_INET) return fail(invalid);
    v6 = sockaddr_in6{};  // Address<IP>'s union is zeroed only as far as sockaddr_in reaches
    char* scope = std::strchr(text, '%');
    if (scope != nullptr) *scope++ = '\0';
    if (::inet_pton(AF_INET6, text, &v6.sin6_addr) != 1) return fail(invalid);
    v6.sin6_family = AF_INET6;
    v6.sin6_port = htons(port);
    if (scope != nullptr) {
        if (*scope == '\0') return fail(invalid);
        const bool numeric = std::strspn(scope, "0123456789") == std::strlen(scope);
        const std::uint32_t index = numeric ? parse_scope_number(scope) : sys::interface_index(scope);
        if (index == 0) return fail(invalid);
        v6.sin6_scope_id = index;
    }
    parsed_domain = AF_INET6;
    return {};
}

/// "1.2.3.4:80" or "[::1]:80" (a bare IPv6 literal needs brackets). Errors: invalid_address, invalid_port.
inline Result<void> parse_ip_port(std::string_view text, int domain, sockaddr_in6& v6, sockaddr_in& v4,
                                  int& parsed_domain) noexcept {
    const std::size_t colon = text.rfind(':');
    if (colon == std::string_view::npos || has_nul(text)) return fail(errc::invalid_address, "parse address");
    const std::string_view host = text.substr(0, colon);
    const bool bracketed = !host.empty() && host.front() == '[';
    if (!bracketed && host.find(':') != std::string_view::npos)
        return fail(errc::invalid_address, "parse address");
    if (bracketed && (host.back() != ']' || domain == AF_INET))
        return fail(errc::invalid_address, "parse address");
    auto port = parse_port(text.substr(colon + 1));
    if (!port) return fail(port.error());
    return parse_ip(host, *port, bracketed ? AF_INET6 : domain, v6, v4, parsed_domain);
}

inline std::size_t at_most(std::size_t size, std::size_t limit) noexcept {
    return size < limit ? size : limit;
}

/// Appends text to a max_address_text buffer; the callers' inputs never exceed it (see its comment).
class AddressText {
public:
    explicit AddressText(char* out) noexcept : out_(out) {}
    void append(const char* text, std::size_t count) noexcept {
        if (count > max_address_text - length_) count = max_address_text - length_;
        std::memcpy(out_ + length_, text, count);
        length_ += count;
    }
    void append(const char* text) noexcept { append(text, std::strlen(text)); }
    void append_port(std::uint16_t port) noexcept {
        char digits[8];
        int n = 0;
        do {
            digits[n++] = static_cast<char>('0' + port % 10);
            port = static_cast<std::uint16_t>(port / 10);
        } while (port != 0);
        append(":", 1);
        while (n > 0) append(&digits[--n], 1);
    }
    std::size_t length() const noexcept { return length_; }

private:
    char* out_;
    std::size_t length_ = 0;
};

// One overload per native type, chosen at compile time from the Address<F> that holds it, so the
// optimiser never sees a sockaddr_in6 or sockaddr_un read through a smaller object (g++ -O3 warns).

/// "1.2.3.4:80" into `out` (max_address_text bytes); returns the length.
inline std::size_t format_native(const sockaddr_in& v4, detail::sys::socklen, char* out) noexcept {
    AddressText text(out);
    char ip[INET_ADDRSTRLEN];
    ::inet_ntop(AF_INET, &v4.sin_addr, ip, sizeof ip);
    text.append(ip);
    text.append_port(ntohs(v4.sin_port));
    return text.length();
}
/// "[::1%lo]:80" into `out`; returns the length.
inline std::size_t format_native(const sockaddr_in6& v6, detail::sys::socklen, char* out) noexcept {
    AddressText text(out);
    char ip[INET6_ADDRSTRLEN];
    ::inet_ntop(AF_INET6, &v6.sin6_addr, ip, sizeof ip);
    text.append("[", 1);
    text.append(ip);
    if (v6.sin6_scope_id != 0) {
        char name[IF_NAMESIZE];
        text.append("%", 1);
        if (sys::interface_name(v6.sin6_scope_id, name)) {
            text.append(name, ::strnlen(name, sizeof name));
        } else {
            const std::string number = std::to_string(v6.sin6_scope_id);
            text.append(number.data(), number.size());
        }
    }
    text.append("]", 1);
    text.append_port(ntohs(v6.sin6_port));
    return text.length();
}
/// "/path", "@abstract" or "(unnamed)" into `out`; `size` is the address length the OS reported.
inline std::size_t format_native(const sockaddr_un& un, detail::sys::socklen size, char* out) noexcept {
    AddressText text(out);
    constexpr std::size_t path_offset = offsetof(sockaddr_un, sun_path);
    const std::size_t path_size =
        std::cmp_greater(size, path_offset)
            ? at_most(static_cast<std::size_t>(size) - path_offset, sizeof un.sun_path)
            : 0;
    if (path_size == 0) {
        text.append("(unnamed)", 9);
    } else if (un.sun_path[0] == '\0') {
        text.append("@", 1);
        text.append(un.sun_path + 1, path_size - 1);
    } else {
        text.append(un.sun_path, ::strnlen(un.sun_path, path_size));
    }
    return text.length();
}

/// Orders by address bytes, then port.
inline std::strong_ordering compare_native(const sockaddr_in& x, detail::sys::socklen, const sockaddr_in& y,
                                           detail::sys::socklen) noexcept {
    if (const int c = std::memcmp(&x.sin_addr, &y.sin_addr, sizeof x.sin_addr); c != 0) return c <=> 0;
    return ntohs(x.sin_port) <=> ntohs(y.sin_port);
}
/// Orders by address bytes, then port, then scope.
inline std::strong_ordering compare_native(const sockaddr_in6& x, detail::sys::socklen, const sockaddr_in6& y,
                                           detail::sys::socklen) noexcept {
    if (const int c = std::memcmp(&x.sin6_addr, &y.sin6_addr, sizeof x.sin6_addr); c != 0) return c <=> 0;
    if (x.sin6_port != y.sin6_port) return ntohs(x.sin6_port) <=> ntohs(y.sin6_port);
    return x.sin6_scope_id <=> y.sin6_scope_id;
}
/// Orders Unix addresses by length, then bytes.
inline std::strong_ordering compare_native(const sockaddr_un& x, detail::sys::socklen x_size,
                                           const sockaddr_un& y, detail::sys::socklen y_size) noexcept {
    if (x_size != y_size) return x_size <=> y_size;
    return std::memcmp(&x, &y, at_most(x_size, sizeof x)) <=> 0;
}
/// An IPv4 and an IPv6 address (inside Address<IP>) order by family.
template <class X, class Y>
std::strong_ordering compare_native(const X& x, detail::sys::socklen, const Y& y,
                                    detail::sys::socklen) noexcept {
    return reinterpret_cast<const sockaddr&>(x).sa_family <=> reinterpret_cast<const sockaddr&>(y).sa_family;
}

/// FNV-1a over the bytes compare_native looks at.
class AddressHash {
public:
    void mix(const void* data, std::size_t count) noexcept {
        const auto* bytes = static_cast<const unsigned char*>(data);
        for (std::size_t i = 0; i < count; ++i) hash_ = (hash_ ^ bytes[i]) * 1099511628211ULL;
    }
    std::size_t value() const noexcept { return static_cast<std::size_t>(hash_); }

private:
    std::uint64_t hash_ = 1469598103934665603ULL;
};
inline std::size_t hash_native(const sockaddr_in& v4, detail::sys::socklen) noexcept {
    AddressHash hash;
    hash.mix(&v4.sin_family, sizeof v4.sin_family);
    hash.mix(&v4.sin_addr, sizeof v4.sin_addr);
    hash.mix(&v4.sin_port, sizeof v4.sin_port);
    return hash.value();
}
inline std::size_t hash_native(const sockaddr_in6& v6, detail::sys::socklen) noexcept {
    AddressHash hash;
    hash.mix(&v6.sin6_family, sizeof v6.sin6_family);
    hash.mix(&v6.sin6_addr, sizeof v6.sin6_addr);
    hash.mix(&v6.sin6_port, sizeof v6.sin6_port);
    hash.mix(&v6.sin6_scope_id, sizeof v6.sin6_scope_id);
    return hash.value();
}
inline std::size_t hash_native(const sockaddr_un& un, detail::sys::socklen size) noexcept {
    AddressHash hash;
    hash.mix(&un, at_most(size, sizeof un));
    return hash.value();
}

/// `address` as text into `out` (max_address_text bytes); returns the length.
template <class Address>
std::size_t format_address(const Address& address, char* out) noexcept {
    return address.visit_native(
        [out](const auto& native, detail::sys::socklen size) { return format_native(native, size, out); });
}

/// Operations every Address<F> shares, written once over data()/size() (CRTP).
template <class Derived>
class AddressBase {
public:
    /// The text form: "1.2.3.4:80", "[::1]:80", "/path", "@abstract" or "(unnamed)". Errors: none.
    std::string to_string() const {
        char text[max_address_text];
        return std::string(text, format_address(self(), text));
    }

    friend bool operator==(const Derived& a, const Derived& b) noexcept { return (a <=> b) == 0; }
    friend std::strong_ordering operator<=>(const Derived& a, const Derived& b) noexcept {
        return a.visit_native([&b](const auto& x, detail::sys::socklen x_size) {
            return b.visit_native([&](const auto& y, detail::sys::socklen y_size) {
                return compare_native(x, x_size, y, y_size);
            });
        });
    }
    /// Writes to_string() to any std::basic_ostream (include <ostream> to use it).
    template <class CharT, class Traits>
    friend std::basic_ostream<CharT, Traits>& operator<<(std::basic_ostream<CharT, Traits>& stream,
                                                         const Derived& address) {
        char text[max_address_text];
        return stream << std::string_view(text, format_address(address, text));
    }

private:
    const Derived& self() const noexcept { return static_cast<const Derived&>(*this); }
};

/// What the two fixed-family internet addresses (Address<IPv4>, Address<IPv6>) share over their one OS
/// structure `Native` (sockaddr_in, sockaddr_in6) of family `Domain` (CRTP, as AddressBase).
template <class Derived, class FamilyTag, class Native, int Domain>
class FixedAddress : public AddressBase<Derived> {
public:
    /// The family tag this address belongs to.
    using family_type = FamilyTag;
    /// The OS address structure it holds.
    using native_type = Native;

    /// The family's unspecified address and port 0 (0.0.0.0:0, [::]:0).
    FixedAddress() noexcept {
        if constexpr (std::is_same_v<Native, sockaddr_in>)
            native_.sin_family = AF_INET;
        else
            native_.sin6_family = AF_INET6;
    }
    /// Wraps a native address as it is.
    explicit FixedAddress(const Native& native) noexcept : native_(native) {}

    /// Parses "1.2.3.4:80" (IPv4) or "[::1]:80", "[fe80::1%eth0]:80" (IPv6; scope by name or number).
    /// Errors: errc::invalid_address, errc::invalid_port.
    static Result<Derived> parse(std::string_view text) noexcept {
        return parsed([text](sockaddr_in6& v6, sockaddr_in& v4, int& domain) {
            return parse_ip_port(text, Domain, v6, v4, domain);
        });
    }
    /// Parses the IP alone, "1.2.3.4" or "::1" (brackets and "%scope" allowed), and takes `port`.
    /// Errors: errc::invalid_address.
    static Result<Derived> parse(std::string_view ip, std::uint16_t port) noexcept {
        return parsed([ip, port](sockaddr_in6& v6, sockaddr_in& v4, int& domain) {
            return parse_ip(ip, port, Domain, v6, v4, domain);
        });
    }
    /// Copies a native address. Errors: errc::family_mismatch when it is not of this family.
    static Result<Derived> from_native(const sockaddr* address, sys::socklen size) noexcept {
        if (std::cmp_less(size, sizeof(Native)) || address->sa_family != Domain)
            return fail(errc::family_mismatch, "address");
        Native native{};
        std::memcpy(&native, address, sizeof native);
        return Derived(native);
    }

    /// The address family of this address (AF_INET, AF_INET6 or AF_UNIX).
    int domain() const noexcept { return Domain; }
    /// The address as the sockaddr the OS calls take.
    const sockaddr* data() const noexcept { return reinterpret_cast<const sockaddr*>(&native_); }
    /// The address as a writable sockaddr, for the OS to fill in (then size() is its length).
    sockaddr* data() noexcept { return reinterpret_cast<sockaddr*>(&native_); }
    /// The length of the sockaddr data() points to.
    sys::socklen size() const noexcept { return sizeof native_; }
    /// The largest size() this family needs: the buffer an OS call may fill.
    static constexpr sys::socklen capacity() noexcept { return sizeof(Native); }
    /// The OS address structure itself.
    const Native& native() const noexcept { return native_; }

    /// Calls `f(native, size)` with the native address held and its length. Errors: none.
    template <class F>
    decltype(auto) visit_native(F&& f) const {
        return std::forward<F>(f)(native_, sys::socklen(sizeof native_));
    }

protected:
    Native native_{};

private:
    // One parse body for both families: `parse_one` fills the structure of `Domain`.
    template <class ParseOne>
    static Result<Derived> parsed(ParseOne parse_one) noexcept {
        Derived address;
        sockaddr_in v4{};
        sockaddr_in6 v6{};
        int domain = 0;
        Result<void> ok;
        if constexpr (std::is_same_v<Native, sockaddr_in>)
            ok = parse_one(v6, address.native_, domain);
        else
            ok = parse_one(address.native_, v4, domain);
        if (!ok) return fail(ok.error());
        return address;
    }
};

}  // namespace detail

// ---------------------------------------------------------------------------------------------------------

/// An IPv4 socket address (sockaddr_in).
template <>
class Address<IPv4> : public detail::FixedAddress<Address<IPv4>, IPv4, sockaddr_in, AF_INET> {
public:
    /// 0.0.0.0:0, or a native sockaddr_in as it is.
    using FixedAddress::FixedAddress;

    /// 0.0.0.0:port, every local interface (for bind).
    static Address any(std::uint16_t port = 0) noexcept { return with_ip(INADDR_ANY, port); }
    /// 127.0.0.1:port.
    static Address loopback(std::uint16_t port = 0) noexcept { return with_ip(INADDR_LOOPBACK, port); }
    /// The port, in host byte order.
    std::uint16_t port() const noexcept { return ntohs(native_.sin_port); }
    /// Sets the port (host byte order).
    void set_port(std::uint16_t port) noexcept { native_.sin_port = htons(port); }
    /// The IP part alone, "1.2.3.4".
    std::string ip() const {
        char text[INET_ADDRSTRLEN];
        ::inet_ntop(AF_INET, &native_.sin_addr, text, sizeof text);
        return text;
    }
    /// True for a loopback address (127.0.0.0/8).
    bool is_loopback() const noexcept { return (ntohl(native_.sin_addr.s_addr) >> 24) == 127; }

private:
    static Address with_ip(std::uint32_t host_order_ip, std::uint16_t port) noexcept {
        Address address;
        address.native_.sin_addr.s_addr = htonl(host_order_ip);
        address.native_.sin_port = htons(port);
        return address;
    }
};

/// An IPv6 socket address (sockaddr_in6), scope id included.
template <>
class Address<IPv6> : public detail::FixedAddress<Address<IPv6>, IPv6, sockaddr_in6, AF_INET6> {
public:
    /// The unspecified address [::]:0, or a native sockaddr_in6 as it is.
    using FixedAddress::FixedAddress;

    /// The any address, [::]:port: every local interface (for bind).
    static Address any(std::uint16_t port = 0) noexcept {
        Address address;
        address.native_.sin6_addr = in6addr_any;
        address.set_port(port);
        return address;
    }
    /// The loopback address, [::1]:port.
    static Address loopback(std::uint16_t port = 0) noexcept {
        Address address;
        address.native_.sin6_addr = in6addr_loopback;
        address.set_port(port);
        return address;
    }
    /// The port, in host byte order.
    std::uint16_t port() const noexcept { return ntohs(native_.sin6_port); }
    /// Sets the port (host byte order).
    void set_port(std::uint16_t port) noexcept { native_.sin6_port = htons(port); }
    /// The IPv6 scope id (the interface index of a link-local address), 0 if none.
    std::uint32_t scope_id() const noexcept { return native_.sin6_scope_id; }
    /// Sets the IPv6 scope id (interface index).
    void set_scope_id(std::uint32_t id) noexcept { native_.sin6_scope_id = id; }
    /// The IP part alone, "::1" (no brackets, no scope).
    std::string ip() const {
        char text[INET6_ADDRSTRLEN];
        ::inet_ntop(AF_INET6, &native_.sin6_addr, text, sizeof text);
        return text;
    }
    /// True for a loopback address (::1).
    bool is_loopback() const noexcept { return IN6_IS_ADDR_LOOPBACK(&native_.sin6_addr); }
};

/// An IPv4 or IPv6 socket address, chosen at run time. Converts implicitly from either.
template <>
class Address<IP> : public detail::AddressBase<Address<IP>> {
public:
    /// The family tag this address belongs to.
    using family_type = IP;

    /// 0.0.0.0:0.
    Address() noexcept : Address(Address<IPv4>()) {}
    /// Holds an IPv4 address.
    Address(const Address<IPv4>& v4) noexcept { storage_.v4 = v4.native(); }
    /// Holds an IPv6 address.
    Address(const Address<IPv6>& v6) noexcept { storage_.v6 = v6.native(); }

    /// Parses "1.2.3.4:80" or "[::1]:80". Errors: errc::invalid_address, errc::invalid_port.
    static Result<Address> parse(std::string_view text) noexcept {
        Address address;
        int domain = 0;
        if (auto ok =
                detail::parse_ip_port(text, AF_UNSPEC, address.storage_.v6, address.storage_.v4, domain);
            !ok)
            return fail(ok.error());
        return address;
    }
    /// Parses an IP literal of either version ("1.2.3.4", "::1") and takes `port`. Errors:
    /// errc::invalid_address.
    static Result<Address> parse(std::string_view ip, std::uint16_t port) noexcept {
        Address address;
        int domain = 0;
        if (auto ok = detail::parse_ip(ip, port, AF_UNSPEC, address.storage_.v6, address.storage_.v4, domain);
            !ok)
            return fail(ok.error());
        return address;
    }
    /// Copies a native IPv4 or IPv6 address. Errors: errc::family_mismatch for any other family.
    static Result<Address> from_native(const sockaddr* address, detail::sys::socklen size) noexcept {
        if (auto v4 = Address<IPv4>::from_native(address, size)) return Address(*v4);
        if (auto v6 = Address<IPv6>::from_native(address, size)) return Address(*v6);
        return fail(errc::family_mismatch, "address");
    }

    /// True when it holds an IPv4 address.
    bool is_v4() const noexcept { return storage_.v4.sin_family == AF_INET; }
    /// True when it holds an IPv6 address.
    bool is_v6() const noexcept { return storage_.v6.sin6_family == AF_INET6; }
    /// The IPv4 address, or nothing when this holds IPv6.
    std::optional<Address<IPv4>> as_v4() const noexcept {
        if (!is_v4()) return std::nullopt;
        return Address<IPv4>(storage_.v4);
    }
    /// The IPv6 address, or nothing when this holds IPv4.
    std::optional<Address<IPv6>> as_v6() const noexcept {
        if (!is_v6()) return std::nullopt;
        return Address<IPv6>(storage_.v6);
    }
    /// Calls `f` with the Address<IPv4> or Address<IPv6> held, returning what it returns.
    template <class F>
    decltype(auto) visit(F&& f) const {
        if (is_v4()) return std::forward<F>(f)(Address<IPv4>(storage_.v4));
        return std::forward<F>(f)(Address<IPv6>(storage_.v6));
    }

    /// The port, in host byte order.
    std::uint16_t port() const noexcept {
        return ntohs(is_v4() ? storage_.v4.sin_port : storage_.v6.sin6_port);
    }
    /// Sets the port (host byte order).
    void set_port(std::uint16_t port) noexcept {
        if (is_v4())
            storage_.v4.sin_port = htons(port);
        else
            storage_.v6.sin6_port = htons(port);
    }
    /// The IP part alone ("1.2.3.4" or "::1").
    std::string ip() const {
        return visit([](const auto& address) { return address.ip(); });
    }
    /// True for a loopback address (127.0.0.0/8 or ::1).
    bool is_loopback() const noexcept {
        return visit([](const auto& address) { return address.is_loopback(); });
    }

    /// The address family of this address (AF_INET, AF_INET6 or AF_UNIX).
    int domain() const noexcept { return storage_.v4.sin_family; }
    /// The address as the sockaddr the OS calls take.
    const sockaddr* data() const noexcept { return reinterpret_cast<const sockaddr*>(&storage_); }
    /// The address as a writable sockaddr, for the OS to fill in (then size() is its length).
    sockaddr* data() noexcept { return reinterpret_cast<sockaddr*>(&storage_); }
    /// The length of the sockaddr data() points to.
    detail::sys::socklen size() const noexcept {
        return is_v4() ? sizeof(sockaddr_in) : sizeof(sockaddr_in6);
    }
    /// The largest size() this family needs: the buffer an OS call may fill.
    static constexpr detail::sys::socklen capacity() noexcept { return sizeof(sockaddr_in6); }

    /// Calls `f(native, size)` with the sockaddr_in or sockaddr_in6 held and its length. Errors: none.
    template <class F>
    decltype(auto) visit_native(F&& f) const {
        if (is_v4()) return std::forward<F>(f)(storage_.v4, detail::sys::socklen(sizeof storage_.v4));
        return std::forward<F>(f)(storage_.v6, detail::sys::socklen(sizeof storage_.v6));
    }

private:
    union Storage {
        sockaddr_in6 v6;  // first, so that value-initialisation zeroes every byte of either form
        sockaddr_in v4;
    } storage_{};
};

/// A Unix-domain socket address: a filesystem path, a Linux abstract name, or unnamed.
template <>
class Address<Unix> : public detail::AddressBase<Address<Unix>> {
public:
    /// The family tag this address belongs to.
    using family_type = Unix;
    /// The OS address structure it holds.
    using native_type = sockaddr_un;

    /// Longest path or abstract name accepted (sun_path less one byte, as Python allows).
    static constexpr std::size_t max_path = sizeof(sockaddr_un::sun_path) - 1;

    /// The unnamed address (an unbound socket, the peer of a socketpair).
    Address() noexcept { native_.sun_family = AF_UNIX; }

    /// A filesystem path. Errors: errc::path_too_long (over max_path), errc::invalid_address (empty, NUL
    /// inside).
    static Result<Address> path(std::string_view path) noexcept {
        if (path.empty() || detail::has_nul(path)) return fail(errc::invalid_address, "unix address");
        if (path.size() > max_path) return fail(errc::path_too_long, "unix address");
        Address address;
        std::memcpy(address.native_.sun_path, path.data(), path.size());
        address.size_ = static_cast<detail::sys::socklen>(offsetof(sockaddr_un, sun_path) + path.size() + 1);
        detail::sys::set_unix_length(address.native_, address.size_);
        return address;
    }
    /// Whether this platform has abstract names (Linux; not macOS, the BSDs or NETLITE_PORTABLE_POSIX).
    static constexpr bool has_abstract_names = detail::sys::has_abstract_unix_names;

    /// A Linux abstract name (no file; gone when the last socket closes). Errors: errc::path_too_long,
    /// std::errc::operation_not_supported where there are none (see has_abstract_names).
    static Result<Address> abstract_name(std::string_view name) noexcept {
        if (!has_abstract_names) return fail(std::errc::operation_not_supported, "abstract unix name");
        if (name.size() > max_path) return fail(errc::path_too_long, "unix address");
        Address address;
        std::memcpy(address.native_.sun_path + 1, name.data(), name.size());
        address.size_ = static_cast<detail::sys::socklen>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
        return address;
    }
    /// "@name" is an abstract name, anything else a path. Errors: as path() and abstract_name().
    static Result<Address> parse(std::string_view text) noexcept {
        if (!text.empty() && text.front() == '@') return abstract_name(text.substr(1));
        return path(text);
    }
    /// Copies a native address. Errors: errc::family_mismatch when it is not AF_UNIX.
    static Result<Address> from_native(const sockaddr* address, detail::sys::socklen size) noexcept {
        if (std::cmp_less(size, sizeof(sockaddr_un::sun_family)) || address->sa_family != AF_UNIX ||
            std::cmp_greater(size, sizeof(sockaddr_un)))
            return fail(errc::family_mismatch, "address");
        Address result;
        std::memcpy(&result.native_, address, size);
        result.size_ = std::cmp_less(size, sizeof(sockaddr_un::sun_family))
                           ? static_cast<detail::sys::socklen>(sizeof(sockaddr_un::sun_family))
                           : size;
        return result;
    }

    /// True for an unnamed address (an unbound socket, or a socketpair peer).
    bool is_unnamed() const noexcept { return std::cmp_less_equal(size_, offsetof(sockaddr_un, sun_path)); }
    /// True for a Linux abstract name (no file in the filesystem).
    bool is_abstract() const noexcept { return !is_unnamed() && native_.sun_path[0] == '\0'; }
    /// The filesystem path, or "" for abstract and unnamed addresses.
    std::string_view path() const noexcept {
        if (is_unnamed() || is_abstract()) return {};
        return {native_.sun_path, ::strnlen(native_.sun_path, size_ - offsetof(sockaddr_un, sun_path))};
    }

    /// The address family of this address (AF_INET, AF_INET6 or AF_UNIX).
    int domain() const noexcept { return AF_UNIX; }
    /// The address as the sockaddr the OS calls take.
    const sockaddr* data() const noexcept { return reinterpret_cast<const sockaddr*>(&native_); }
    /// The address as a writable sockaddr, for the OS to fill in (then size() is its length).
    sockaddr* data() noexcept { return reinterpret_cast<sockaddr*>(&native_); }
    /// The length of the sockaddr data() points to.
    detail::sys::socklen size() const noexcept { return size_; }
    /// The largest size() this family needs: the buffer an OS call may fill.
    static constexpr detail::sys::socklen capacity() noexcept { return sizeof(sockaddr_un); }
    /// The OS address structure itself.
    const sockaddr_un& native() const noexcept { return native_; }

    /// Calls `f(native, size)` with the native address held and its length. Errors: none.
    template <class F>
    decltype(auto) visit_native(F&& f) const {
        return std::forward<F>(f)(native_, size_);
    }

private:
    sockaddr_un native_{};
    detail::sys::socklen size_ = sizeof(sockaddr_un::sun_family);
};

// ---------------------------------------------------------------------------------------------------------
namespace detail {

/// getaddrinfo for `node` (null: loopback, or with AI_PASSIVE every address) and `service` (a port's
/// digits or a service name; null: port 0), keeping every address of family F in the order given and,
/// where `canonical` is not null, AI_CANONNAME's answer in it. Errors: resolve_category codes,
/// errc::no_addresses.
template <InternetFamily F>
Result<std::vector<Address<F>>> resolve_all(const char* node, const char* service, int socktype, int flags,
                                            std::string* canonical) {
    std::vector<Address<F>> found;
    const int code = sys::resolve(node, service, F::domain, socktype, flags,
                                  [&](const sockaddr* address, detail::sys::socklen size, const char* name) {
                                      if (name != nullptr && canonical != nullptr && canonical->empty())
                                          *canonical = name;
                                      if (auto converted = Address<F>::from_native(address, size))
                                          found.push_back(*converted);
                                  });
    if (code == sys::resolve_system) return fail(sys::last_error("resolve"));
    if (code != 0) return fail(Error(std::error_code(code, resolve_category()), "resolve"));
    if (found.empty()) return fail(errc::no_addresses, "resolve");
    return found;
}

/// getaddrinfo for `host`/`port`, keeping every address of family F in the order given.
/// `passive` makes an empty host mean "any address" (for bind) instead of loopback.
template <InternetFamily F>
Result<std::vector<Address<F>>> resolve(std::string_view host, std::uint16_t port, bool passive) {
    if (has_nul(host)) return fail(errc::invalid_address, "resolve");
    const std::string node(host);
    const std::string service = std::to_string(port);
    // No AI_ADDRCONFIG: glibc ignores loopback for it, so "localhost" would fail on a machine without a
    // network.
    const int flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0);
    return resolve_all<F>(node.empty() ? nullptr : node.c_str(), service.c_str(), SOCK_STREAM, flags,
                          nullptr);
}

/// Calls `bind(address)` for each local address `host` names and returns the first success or the last
/// error. "" means every IPv4 interface (Python's '') for the IPv4 and IP families, "::" for IPv6.
template <InternetFamily F, class Bind>
auto bind_first(std::string_view host, std::uint16_t port, Bind&& bind) -> decltype(bind(Address<F>())) {
    if constexpr (!std::is_same_v<F, IPv6>)
        if (host.empty()) return bind(Address<F>(Address<IPv4>::any(port)));
    auto addresses = resolve<F>(host, port, true);
    if (!addresses) return fail(addresses.error());
    Error last(errc::no_addresses, "bind");
    for (const Address<F>& address : *addresses) {
        auto bound = bind(address);
        if (bound) return bound;
        last = bound.error();
    }
    return fail(last);
}

}  // namespace detail

/// Every address of `host` (a name or an IP literal) with `port`, in getaddrinfo's order; "" is loopback.
/// Errors: resolve_category codes (e.g. resolve_errc::no_name), errc::no_addresses, errc::invalid_address.
template <InternetFamily F = IP>
Result<std::vector<Address<F>>> resolve(std::string_view host, std::uint16_t port = 0) {
    return detail::resolve<F>(host, port, false);
}

}  // namespace netlite

// ---------------------------------------------------------------------------------------------------------
/// std::hash for every Address<F>, so addresses can key unordered containers.
/// @cond
template <netlite::Family F>
struct std::hash<netlite::Address<F>> {
    std::size_t operator()(const netlite::Address<F>& address) const noexcept {
        return address.visit_native([](const auto& native, netlite::detail::sys::socklen size) {
            return netlite::detail::hash_native(native, size);
        });
    }
};
/// @endcond

#if defined(NETLITE_HAS_FORMAT)
/// std::format support: formats as to_string().
/// @cond
template <netlite::Family F>
struct std::formatter<netlite::Address<F>> : std::formatter<std::string_view> {
    // Any output context, not only std::format_context: std::formattable checks with another one.
    template <class FormatContext>
    auto format(const netlite::Address<F>& address, FormatContext& context) const {
        char text[netlite::detail::max_address_text];
        return std::formatter<std::string_view>::format(
            std::string_view(text, netlite::detail::format_address(address, text)), context);
    }
};
/// @endcond
#endif

// Lets a std::error_code be made from the enum (std's hook; after the API, which calls make_error_code).
/// @cond
template <>
struct std::is_error_code_enum<netlite::resolve_errc> : std::true_type {};
/// @endcond
