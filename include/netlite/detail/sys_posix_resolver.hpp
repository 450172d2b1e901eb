// SPDX-License-Identifier: BSL-1.0
// netlite/detail/sys_posix_resolver.hpp - reverse lookup, the host name and the interfaces on POSIX
// (getnameinfo, gethostname, getifaddrs), included through detail/sys_resolver.hpp by the opt-in
// resolver.hpp only, so the umbrella header does not pay for <ifaddrs.h>.
#pragma once

#include <netlite/detail/sys.hpp>
#include <netlite/detail/sys_resolver.hpp>  // the shared declarations (it includes this file after them)

#include <bit>
#include <cstddef>
#include <cstring>

#include <ifaddrs.h>
#include <net/if.h>
#include <netdb.h>
#include <unistd.h>

namespace netlite::detail::sys {

/// getnameinfo(3) of `address` into `host` and `service` (buffers of the sizes given; a null buffer is
/// not asked for). Returns its code: 0, an EAI_* value, or EAI_SYSTEM with errno set.
inline int name_info(const sockaddr* address, socklen size, char* host, std::size_t host_size, char* service,
                     std::size_t service_size, int flags) noexcept {
    return ::getnameinfo(address, size, host, static_cast<socklen>(host_size), service,
                         static_cast<socklen>(service_size), flags);
}

/// gethostname(2) into `name` (host_name_buffer bytes), always NUL-terminated.
/// Errors: ENAMETOOLONG (a name longer than the buffer), EFAULT.
inline Result<void> host_name(char* name) noexcept {
    if (::gethostname(name, host_name_buffer - 1) != 0) return fail(last_error("gethostname"));
    name[host_name_buffer - 1] = '\0';
    return {};
}

/// The set bits of the `size` bytes at `mask` (a netmask's address field): its prefix length.
inline unsigned prefix_bits(const void* mask, std::size_t size) noexcept {
    unsigned char bytes[16] = {};
    std::memcpy(bytes, mask, size < sizeof bytes ? size : sizeof bytes);
    unsigned bits = 0;
    for (const unsigned char byte : bytes) bits += static_cast<unsigned>(std::popcount(byte));
    return bits;
}

/// getifaddrs(3): calls `visit(const InterfaceEntry&)` for each IPv4 or IPv6 address of each interface,
/// and once, with a null address, for each entry of another family (Linux's AF_PACKET, the BSDs' AF_LINK:
/// every interface has one, so one without an IP address is listed too). Errors: ENOMEM, the errors of
/// the socket getifaddrs opens (EMFILE, ENFILE).
template <class Visit>
Result<void> interface_entries(Visit&& visit) {
    ifaddrs* list = nullptr;
    if (::getifaddrs(&list) != 0) return fail(last_error("getifaddrs"));
    const FreeOnExit<ifaddrs, ::freeifaddrs> release(list);
    for (const ifaddrs* entry = list; entry != nullptr; entry = entry->ifa_next) {
        if (entry->ifa_name == nullptr) continue;
        InterfaceEntry found{};
        found.name = entry->ifa_name;
        found.index = ::if_nametoindex(entry->ifa_name);
        found.up = (entry->ifa_flags & IFF_UP) != 0;
        found.loopback = (entry->ifa_flags & IFF_LOOPBACK) != 0;
        found.multicast = (entry->ifa_flags & IFF_MULTICAST) != 0;
        const sockaddr* address = entry->ifa_addr;
        const sockaddr* mask = entry->ifa_netmask;
        // The mask's own family is not read: the BSDs leave it 0 in some netmasks.
        if (address != nullptr && address->sa_family == AF_INET) {
            found.address = address;
            found.address_size = sizeof(sockaddr_in);
            if (mask != nullptr)
                found.prefix_length =
                    prefix_bits(reinterpret_cast<const char*>(mask) + offsetof(sockaddr_in, sin_addr), 4);
        } else if (address != nullptr && address->sa_family == AF_INET6) {
            found.address = address;
            found.address_size = sizeof(sockaddr_in6);
            if (mask != nullptr)
                found.prefix_length =
                    prefix_bits(reinterpret_cast<const char*>(mask) + offsetof(sockaddr_in6, sin6_addr), 16);
        }
        visit(static_cast<const InterfaceEntry&>(found));
    }
    return {};
}

}  // namespace netlite::detail::sys
