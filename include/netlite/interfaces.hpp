// SPDX-License-Identifier: BSL-1.0
// netlite/interfaces.hpp - the host's network interfaces, by name and index (what `ip link` shows), for
// multicast joins and sends and for IPv6 scope ids.
#pragma once

#include <netlite/detail/sys.hpp>
#include <netlite/result.hpp>

#include <string>
#include <string_view>

namespace netlite {

/// The index of the interface called `name` ("lo", "eth0"; on Windows the interface's alias or LUID
/// name), as join_multicast() and set_multicast_interface() take it. Errors: std::errc::no_such_device
/// (no such interface, or an empty name).
inline Result<unsigned> interface_index(std::string_view name) {
    const std::string terminated(name);
    const unsigned index = terminated.empty() ? 0 : detail::sys::interface_index(terminated.c_str());
    if (index == 0) return fail(std::errc::no_such_device, "if_nametoindex");
    return index;
}

}  // namespace netlite
