// SPDX-License-Identifier: BSL-1.0
// netlite/detail/sys_ipc.hpp - the OS interface of Unix-domain IPC (unix.hpp): what every platform shares,
// then the platform's file. Apart from sys.hpp so that only programs that include unix.hpp compile it.
#pragma once

#include <netlite/detail/sys.hpp>

#include <cstddef>

namespace netlite::detail::sys {

/// What recv_with_descriptors received: bytes, descriptors, and what was cut.
struct ReceivedDescriptors {
    std::size_t size;        ///< bytes copied
    std::size_t count;       ///< descriptors stored
    bool data_truncated;     ///< MSG_TRUNC: a message (datagram, seqpacket) did not fit; its tail is gone
    bool control_truncated;  ///< MSG_CTRUNC: more descriptors came than fitted; the kernel closed the rest
};

/// A Unix-domain peer's identity; pid is -1 where the platform does not tell it.
struct PeerCredentialsFields {
    long pid;
    unsigned long uid;
    unsigned long gid;
};

/// The most descriptors one message carries (Linux's SCM_MAX_FD).
inline constexpr std::size_t max_descriptors_per_message = 253;

}  // namespace netlite::detail::sys

#if defined(_WIN32)
#include <netlite/detail/sys_winsock_ipc.hpp>
#else
#include <netlite/detail/sys_posix_ipc.hpp>
#endif
