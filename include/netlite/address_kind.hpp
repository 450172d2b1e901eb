// SPDX-License-Identifier: BSL-1.0
// netlite/address_kind.hpp - what kind of IP address an Address is (multicast, private, link-local,
// unspecified, IPv4-mapped), as Python's ipaddress and Rust's Ipv4Addr/Ipv6Addr tell it, and the
// conversion between an IPv4 address and its IPv4-mapped IPv6 form (::ffff:a.b.c.d), in both directions.
#pragma once

#include <netlite/address.hpp>

#include <cstdint>
#include <cstring>
#include <optional>

namespace netlite {

namespace detail {
inline std::uint32_t host_order(const Address<IPv4>& address) noexcept {
    return ntohl(address.native().sin_addr.s_addr);
}
inline const unsigned char* bytes(const Address<IPv6>& address) noexcept {
    return reinterpret_cast<const unsigned char*>(&address.native().sin6_addr);
}
inline constexpr unsigned char mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
}  // namespace detail

/// 0.0.0.0: no address (what any() binds). Errors: none.
inline bool is_unspecified(const Address<IPv4>& address) noexcept {
    return detail::host_order(address) == 0;
}
/// ::, no address. Errors: none.
inline bool is_unspecified(const Address<IPv6>& address) noexcept {
    return IN6_IS_ADDR_UNSPECIFIED(&address.native().sin6_addr);
}

/// A multicast group, 224.0.0.0/4. Errors: none.
inline bool is_multicast(const Address<IPv4>& address) noexcept {
    return (detail::host_order(address) >> 28) == 0xe;
}
/// A multicast group, ff00::/8. Errors: none.
inline bool is_multicast(const Address<IPv6>& address) noexcept {
    return detail::bytes(address)[0] == 0xff;
}

/// A private-use address (RFC 1918): 10/8, 172.16/12, 192.168/16, as Rust's Ipv4Addr::is_private.
/// (Python's is_private also counts loopback, link-local and other reserved blocks.) Errors: none.
inline bool is_private(const Address<IPv4>& address) noexcept {
    const std::uint32_t ip = detail::host_order(address);
    return (ip >> 24) == 10 || (ip >> 20) == 0xac1 || (ip >> 16) == 0xc0a8;
}
/// A unique local address, fc00::/7 (RFC 4193), IPv6's private use (Rust's is_unique_local). Errors: none.
inline bool is_private(const Address<IPv6>& address) noexcept {
    return (detail::bytes(address)[0] & 0xfe) == 0xfc;
}

/// A link-local address, 169.254/16. Errors: none.
inline bool is_link_local(const Address<IPv4>& address) noexcept {
    return (detail::host_order(address) >> 16) == 0xa9fe;
}
/// A link-local unicast address, fe80::/10 (it needs a scope id to be used). Errors: none.
inline bool is_link_local(const Address<IPv6>& address) noexcept {
    return detail::bytes(address)[0] == 0xfe && (detail::bytes(address)[1] & 0xc0) == 0x80;
}

/// An IPv4 address in IPv6 form, \::ffff:a.b.c.d: how a dual-stack socket shows an IPv4 peer. Errors: none.
inline bool is_ipv4_mapped(const Address<IPv6>& address) noexcept {
    return std::memcmp(detail::bytes(address), detail::mapped_prefix, sizeof detail::mapped_prefix) == 0;
}

/// `address` as \::ffff:a.b.c.d with the same port: what a dual-stack IPv6 socket sends to. Errors: none.
inline Address<IPv6> to_ipv4_mapped(const Address<IPv4>& address) noexcept {
    sockaddr_in6 native{};
    native.sin6_family = AF_INET6;
    native.sin6_port = address.native().sin_port;
    auto* bytes = reinterpret_cast<unsigned char*>(&native.sin6_addr);
    std::memcpy(bytes, detail::mapped_prefix, sizeof detail::mapped_prefix);
    std::memcpy(bytes + sizeof detail::mapped_prefix, &address.native().sin_addr, 4);
    return Address<IPv6>(native);
}
/// The IPv4 address an IPv4-mapped `address` stands for, with the same port; nothing for any other
/// IPv6 address. Errors: none.
inline std::optional<Address<IPv4>> to_ipv4(const Address<IPv6>& address) noexcept {
    if (!is_ipv4_mapped(address)) return std::nullopt;
    sockaddr_in native{};
    native.sin_family = AF_INET;
    native.sin_port = address.native().sin6_port;
    std::memcpy(&native.sin_addr, detail::bytes(address) + sizeof detail::mapped_prefix, 4);
    return Address<IPv4>(native);
}
/// `address` with an IPv4-mapped IPv6 address turned into the IPv4 one it stands for; any other address
/// as it is. Errors: none.
inline Address<IP> unmapped(const Address<IP>& address) noexcept {
    if (auto v6 = address.as_v6())
        if (auto v4 = to_ipv4(*v6)) return Address<IP>(*v4);
    return address;
}

/// The questions above for an Address<IP>, answered for the IPv4 or IPv6 address it holds. Errors: none.
inline bool is_unspecified(const Address<IP>& address) noexcept {
    return address.visit([](const auto& held) { return is_unspecified(held); });
}
/// As is_multicast of the IPv4 or IPv6 address held. Errors: none.
inline bool is_multicast(const Address<IP>& address) noexcept {
    return address.visit([](const auto& held) { return is_multicast(held); });
}
/// As is_private of the IPv4 or IPv6 address held. Errors: none.
inline bool is_private(const Address<IP>& address) noexcept {
    return address.visit([](const auto& held) { return is_private(held); });
}
/// As is_link_local of the IPv4 or IPv6 address held. Errors: none.
inline bool is_link_local(const Address<IP>& address) noexcept {
    return address.visit([](const auto& held) { return is_link_local(held); });
}

}  // namespace netlite
