// SPDX-License-Identifier: BSL-1.0
// netlite/detail/sys_winsock_resolver.hpp - reverse lookup, the host name and the interfaces on Windows
// (getnameinfo, gethostname, GetAdaptersAddresses from iphlpapi), included through
// detail/sys_resolver.hpp.
#pragma once

#include <netlite/detail/sys.hpp>
#include <netlite/detail/sys_resolver.hpp>  // the shared declarations (it includes this file after them)

#include <cstddef>
#include <cstdint>
#include <system_error>
#include <vector>

namespace netlite::detail::sys {

/// getnameinfo of `address` into `host` and `service` (buffers of the sizes given; a null buffer is not
/// asked for). Returns its code: 0 or a WSA* value (Winsock's EAI_* are those).
inline int name_info(const sockaddr* address, socklen size, char* host, std::size_t host_size, char* service,
                     std::size_t service_size, int flags) noexcept {
    if (const int started = start_winsock(); started != 0) return started;
    return ::getnameinfo(address, size, host, static_cast<DWORD>(host_size), service,
                         static_cast<DWORD>(service_size), flags);
}

/// gethostname into `name` (host_name_buffer bytes), always NUL-terminated. Errors: WSAEFAULT (a name
/// longer than the buffer), WSANOTINITIALISED (WSAStartup failed).
inline Result<void> host_name(char* name) noexcept {
    if (const int started = start_winsock(); started != 0) return fail(error_from(started, "WSAStartup"));
    if (::gethostname(name, static_cast<int>(host_name_buffer - 1)) != 0)
        return fail(last_error("gethostname"));
    name[host_name_buffer - 1] = '\0';
    return {};
}

/// GetAdaptersAddresses: calls `visit(const InterfaceEntry&)` for each unicast IPv4 or IPv6 address of
/// each adapter, and once with a null address for an adapter that has none. The name is the one
/// if_indextoname gives (what interface_index() takes), else the adapter's GUID name.
/// Errors: GetAdaptersAddresses' (ERROR_NOT_ENOUGH_MEMORY, ERROR_INVALID_PARAMETER), in the system category.
template <class Visit>
Result<void> interface_entries(Visit&& visit) {
    ULONG size = 16 * 1024;
    std::vector<std::uint64_t> buffer;  // 8-byte aligned, as IP_ADAPTER_ADDRESSES wants
    ULONG status = ERROR_BUFFER_OVERFLOW;
    // The list can grow between the call that sizes it and the next: try a few times.
    for (int attempt = 0; attempt < 4 && status == ERROR_BUFFER_OVERFLOW; ++attempt) {
        buffer.resize(size / sizeof(std::uint64_t) + 1);
        size = static_cast<ULONG>(buffer.size() * sizeof(std::uint64_t));
        status = ::GetAdaptersAddresses(
            AF_UNSPEC, GAA_FLAG_SKIP_ANYCAST | GAA_FLAG_SKIP_MULTICAST | GAA_FLAG_SKIP_DNS_SERVER, nullptr,
            reinterpret_cast<IP_ADAPTER_ADDRESSES*>(buffer.data()), &size);
    }
    if (status == ERROR_NO_DATA) return {};  // no adapter at all
    if (status != NO_ERROR)
        return fail(
            Error(std::error_code(static_cast<int>(status), std::system_category()), "GetAdaptersAddresses"));
    for (const IP_ADAPTER_ADDRESSES* adapter = reinterpret_cast<const IP_ADAPTER_ADDRESSES*>(buffer.data());
         adapter != nullptr; adapter = adapter->Next) {
        InterfaceEntry found{};
        found.index = adapter->IfIndex != 0 ? adapter->IfIndex : adapter->Ipv6IfIndex;
        char name[IF_NAMESIZE + 1] = {};
        found.name =
            found.index != 0 && ::if_indextoname(found.index, name) != nullptr ? name : adapter->AdapterName;
        found.up = adapter->OperStatus == IfOperStatusUp;
        found.loopback = adapter->IfType == IF_TYPE_SOFTWARE_LOOPBACK;
        found.multicast = (adapter->Flags & IP_ADAPTER_NO_MULTICAST) == 0;
        bool any = false;
        for (const IP_ADAPTER_UNICAST_ADDRESS* unicast = adapter->FirstUnicastAddress; unicast != nullptr;
             unicast = unicast->Next) {
            const sockaddr* address = unicast->Address.lpSockaddr;
            if (address == nullptr || (address->sa_family != AF_INET && address->sa_family != AF_INET6))
                continue;
            found.address = address;
            found.address_size = unicast->Address.iSockaddrLength;
            found.prefix_length = unicast->OnLinkPrefixLength;
            any = true;
            visit(static_cast<const InterfaceEntry&>(found));
        }
        if (!any) {
            found.address = nullptr;
            found.address_size = 0;
            found.prefix_length = 0;
            visit(static_cast<const InterfaceEntry&>(found));
        }
    }
    return {};
}

}  // namespace netlite::detail::sys
