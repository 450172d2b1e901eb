// SPDX-License-Identifier: BSL-1.0
// netlite/detail/sys_resolver.hpp - the OS interface of the resolver's fuller vocabulary (resolver.hpp):
// reverse lookup, the host name, the interfaces and their addresses. What every platform shares, then the
// platform's file. Apart from sys.hpp so that only programs that include resolver.hpp compile it.
#pragma once

#include <netlite/detail/sys.hpp>

#include <cstddef>

namespace netlite::detail::sys {

/// One address of one network interface, or an interface without an IP address (address null), as
/// interface_entries() reports them: an interface with several addresses comes once per address.
struct InterfaceEntry {
    const char* name;         ///< NUL-terminated; valid only while the visit runs
    unsigned index;           ///< its index (if_nametoindex), 0 where the system tells none
    bool up;                  ///< administratively up (IFF_UP; Windows: operationally up)
    bool loopback;            ///< the loopback interface
    bool multicast;           ///< it can join and send multicast
    const sockaddr* address;  ///< an AF_INET or AF_INET6 address, or null
    socklen address_size;     ///< its length
    unsigned prefix_length;   ///< the bits of its network part (from the netmask), 0 when unknown
};

/// The buffer host_name() fills: the longest host name POSIX allows (HOST_NAME_MAX is at least 255; Linux
/// takes 64, Windows 256) and a NUL.
inline constexpr std::size_t host_name_buffer = 257;

/// The buffers name_info() fills (NI_MAXHOST, NI_MAXSERV).
inline constexpr std::size_t name_info_host_buffer = 1025;
inline constexpr std::size_t name_info_service_buffer = 32;

}  // namespace netlite::detail::sys

#if defined(_WIN32)
#include <netlite/detail/sys_winsock_resolver.hpp>
#else
#include <netlite/detail/sys_posix_resolver.hpp>
#endif
