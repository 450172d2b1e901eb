// SPDX-License-Identifier: BSL-1.0
// netlite/resolver.hpp - opt-in (not in the umbrella header): the resolver's full vocabulary. Service
// names ("https" is port 443) and getaddrinfo's flags as options, a host's canonical name, reverse lookup
// (getnameinfo), this machine's host name, and its network interfaces with their indexes, addresses and
// flags (what `ip addr` shows). address.hpp's resolve(host, port) is the common path; this is the rest.
#pragma once

#include <netlite/address.hpp>
#include <netlite/detail/sys.hpp>
#include <netlite/detail/sys_resolver.hpp>
#include <netlite/result.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace netlite {

/// getaddrinfo's flags, as options of resolve() and canonical_name().
struct ResolveOptions {
    /// AI_NUMERICHOST: the host must be an IP literal; nothing is looked up (no hosts file, no DNS), and a
    /// name fails with resolve_errc::no_name.
    bool numeric_host = false;
    /// AI_ADDRCONFIG: only addresses of a family this machine has a non-loopback address of (glibc does
    /// not count loopback, so on a machine without a network "localhost" then resolves to nothing).
    bool address_configured = false;
    /// AI_PASSIVE: an empty host means every local address (to bind), not loopback.
    bool passive = false;
    /// The service name is looked up for UDP (SOCK_DGRAM), not TCP: "syslog" is a UDP service only.
    bool datagram = false;
};

/// getnameinfo's flags, as options of reverse_lookup().
struct ReverseLookupOptions {
    bool numeric_host = false;     ///< NI_NUMERICHOST: the address as text; nothing is looked up
    bool numeric_service = false;  ///< NI_NUMERICSERV: the port as digits, not a service name
    /// NI_NAMEREQD: fail with resolve_errc::no_name when the address has no name, rather than give the
    /// address as text.
    bool name_required = false;
    bool datagram = false;  ///< NI_DGRAM: the port's UDP service name (some differ from TCP's)
};

/// What reverse_lookup() found: the host's name (or address text) and the port's service name (or
/// digits).
struct HostAndService {
    std::string host;     ///< "localhost", or "127.0.0.1" when numeric or when there is no name
    std::string service;  ///< "https", or "443" when numeric or when the port has no name
};

/// One address of a network interface.
struct InterfaceAddress {
    Address<IP> address;     ///< the address (port 0); an IPv6 link-local one carries its scope id
    unsigned prefix_length;  ///< the bits of its network part: 8 for 127.0.0.1/8, 0 when unknown
};

/// A network interface of this machine, as `ip addr` shows it.
struct NetworkInterface {
    std::string name;                           ///< what interface_index() takes ("lo", "eth0")
    unsigned index;                             ///< what multicast joins and IPv6 scope ids take
    std::vector<InterfaceAddress> addresses{};  ///< its IPv4 and IPv6 addresses, in the system's order
    bool up;                                    ///< administratively up (Windows: operationally up)
    bool loopback;                              ///< the loopback interface
    bool multicast;                             ///< it can join and send multicast
};

namespace detail {

inline int resolve_flags(const ResolveOptions& options) noexcept {
    return (options.numeric_host ? AI_NUMERICHOST : 0) | (options.address_configured ? AI_ADDRCONFIG : 0) |
           (options.passive ? AI_PASSIVE : 0);
}

/// `text` with a NUL after it, or nullptr for "" (getaddrinfo's "not given"). Errors: invalid_address
/// (a NUL inside).
inline Result<std::string> c_string(std::string_view text, const char* operation) {
    if (has_nul(text)) return fail(errc::invalid_address, operation);
    return std::string(text);
}

/// getaddrinfo's error `code` (EAI_SYSTEM: errno's) as an Error of `operation`.
inline Error resolve_error(int code, const char* operation) noexcept {
    if (code == sys::resolve_system) return sys::last_error(operation);
    return Error(std::error_code(code, resolve_category()), operation);
}

}  // namespace detail

/// Every address of `host` (a name or an IP literal; "" is loopback, or with passive every address) with
/// the port `service` names ("https", or digits such as "8443"; "" is port 0), in getaddrinfo's order.
/// Errors: resolve_errc::service (an unknown service name), resolve_errc::no_name (an unknown host, or a
/// name with numeric_host), other resolve_category codes, errc::no_addresses, errc::invalid_address (a NUL
/// inside a name).
template <InternetFamily F = IP>
Result<std::vector<Address<F>>> resolve(std::string_view host, std::string_view service,
                                        const ResolveOptions& options = {}) {
    auto node = detail::c_string(host, "resolve");
    if (!node) return fail(node.error());
    auto port = detail::c_string(service, "resolve");
    if (!port) return fail(port.error());
    return detail::resolve_all<F>(
        node->empty() ? nullptr : node->c_str(), port->empty() ? nullptr : port->c_str(),
        options.datagram ? SOCK_DGRAM : SOCK_STREAM, detail::resolve_flags(options), nullptr);
}

/// Every address of `host` with `port`, as resolve(host, port) but with getaddrinfo's flags set as
/// `options` say. Errors: as resolve(host, service, options), less resolve_errc::service.
template <InternetFamily F = IP>
Result<std::vector<Address<F>>> resolve(std::string_view host, std::uint16_t port,
                                        const ResolveOptions& options) {
    const std::string digits = std::to_string(port);
    ResolveOptions numeric = options;
    numeric.datagram = false;  // a port number is the same for both
    return resolve<F>(host, std::string_view(digits), numeric);
}

/// The canonical name of `host` (AI_CANONNAME: the name its aliases lead to, e.g. a CNAME's target; the
/// host's own text when it is an IP literal or has no other). Errors: as resolve(host, service, options).
template <InternetFamily F = IP>
Result<std::string> canonical_name(std::string_view host, const ResolveOptions& options = {}) {
    auto node = detail::c_string(host, "resolve");
    if (!node) return fail(node.error());
    std::string name;
    auto found = detail::resolve_all<F>(node->empty() ? nullptr : node->c_str(), nullptr, SOCK_STREAM,
                                        detail::resolve_flags(options) | AI_CANONNAME, &name);
    if (!found) return fail(found.error());
    if (name.empty()) name = *node;
    return name;
}

/// The name of `address`'s host and of its port's service (getnameinfo): Python's socket.getnameinfo.
/// Without numeric_host this may ask the hosts file and DNS (a PTR query). Errors: resolve_errc::no_name
/// (name_required, and the address has none), resolve_errc::again (the name server did not answer),
/// resolve_errc::family, other resolve_category codes.
template <InternetFamily F>
Result<HostAndService> reverse_lookup(const Address<F>& address, const ReverseLookupOptions& options = {}) {
    const int flags = (options.numeric_host ? NI_NUMERICHOST : 0) |
                      (options.numeric_service ? NI_NUMERICSERV : 0) |
                      (options.name_required ? NI_NAMEREQD : 0) | (options.datagram ? NI_DGRAM : 0);
    char host[detail::sys::name_info_host_buffer] = {};
    char service[detail::sys::name_info_service_buffer] = {};
    const int code = detail::sys::name_info(address.data(), address.size(), host, sizeof host, service,
                                            sizeof service, flags);
    if (code != 0) return fail(detail::resolve_error(code, "getnameinfo"));
    return HostAndService{host, service};
}

/// This machine's host name (gethostname; Python's socket.gethostname). Errors: the platform's
/// (ENAMETOOLONG; on Windows WSAStartup's).
inline Result<std::string> host_name() {
    char name[detail::sys::host_name_buffer] = {};
    if (auto ok = detail::sys::host_name(name); !ok) return fail(ok.error());
    return std::string(name);
}

/// This machine's network interfaces, each once, in the system's order, with their IPv4 and IPv6
/// addresses (getifaddrs; Windows: GetAdaptersAddresses). Errors: ENOMEM, EMFILE, ENFILE (POSIX);
/// GetAdaptersAddresses' errors in std::system_category (Windows).
inline Result<std::vector<NetworkInterface>> network_interfaces() {
    std::vector<NetworkInterface> found;
    auto listed = detail::sys::interface_entries([&](const detail::sys::InterfaceEntry& entry) {
        NetworkInterface* interface_ = nullptr;
        // One interface per index: Linux lists each extra IPv4 address under its label ("eth0:1"), which
        // if_nametoindex maps to its interface's index.
        for (NetworkInterface& known : found)
            if (entry.index != 0 ? known.index == entry.index : known.name == entry.name) interface_ = &known;
        if (interface_ == nullptr) {
            found.push_back(
                NetworkInterface{entry.name, entry.index, {}, entry.up, entry.loopback, entry.multicast});
            interface_ = &found.back();
        }
        if (entry.address == nullptr) return;
        if (auto address = Address<IP>::from_native(entry.address, entry.address_size))
            interface_->addresses.push_back(InterfaceAddress{*address, entry.prefix_length});
    });
    if (!listed) return fail(listed.error());
    return found;
}

}  // namespace netlite
