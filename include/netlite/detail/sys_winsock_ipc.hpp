// SPDX-License-Identifier: BSL-1.0
// netlite/detail/sys_winsock_ipc.hpp - Unix-domain IPC on Windows: none (included through
// detail/sys_ipc.hpp).
#pragma once

#include <netlite/detail/sys.hpp>
#include <netlite/detail/sys_ipc.hpp>  // the shared structs (it includes this file after them)

namespace netlite::detail::sys {

// --- Unix-domain IPC (issue 21): Windows' AF_UNIX passes no descriptors and tells no peer credentials
// ---------------------------------------------------------------------------------------------------

/// No SCM_RIGHTS on Windows. Errors: operation_not_supported.
inline Result<std::size_t> send_with_descriptors(native_handle, const void*, std::size_t,
                                                 const native_handle*, std::size_t) noexcept {
    return fail(std::errc::operation_not_supported, "sendmsg");
}

/// No SCM_RIGHTS on Windows. Errors: operation_not_supported.
inline Result<ReceivedDescriptors> recv_with_descriptors(native_handle, void*, std::size_t, native_handle*,
                                                         std::size_t) noexcept {
    return fail(std::errc::operation_not_supported, "recvmsg");
}

/// No peer credentials on Windows' AF_UNIX. Errors: operation_not_supported.
inline Result<PeerCredentialsFields> peer_credentials(native_handle) noexcept {
    return fail(std::errc::operation_not_supported, "peer credentials");
}

}  // namespace netlite::detail::sys
