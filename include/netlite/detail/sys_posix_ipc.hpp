// SPDX-License-Identifier: BSL-1.0
// netlite/detail/sys_posix_ipc.hpp - Unix-domain IPC on POSIX (descriptor passing, peer credentials),
// included through detail/sys_ipc.hpp by the opt-in unix.hpp only, so the umbrella header does not pay for
// it.
#pragma once

#include <netlite/detail/sys.hpp>
#include <netlite/detail/sys_ipc.hpp>  // the shared structs (it includes this file after them)

#include <cstring>

namespace netlite::detail::sys {

// --- Unix-domain IPC (issue 21): descriptor passing, peer credentials
// ---------------------------------------------------------------------------------------------------

// One data buffer and room for `descriptors` SCM_RIGHTS descriptors, as sendmsg/recvmsg take them (no
// control data when 0). Not copyable: the header points into the object.
struct RightsMessage {
    RightsMessage(void* data, std::size_t size, std::size_t descriptors) noexcept : vector{data, size} {
        header.msg_iov = &vector;
        header.msg_iovlen = 1;
        if (descriptors == 0) return;
        header.msg_control = control;
        header.msg_controllen =
            static_cast<decltype(header.msg_controllen)>(CMSG_SPACE(sizeof(int) * descriptors));
    }
    RightsMessage(const RightsMessage&) = delete;
    RightsMessage& operator=(const RightsMessage&) = delete;
    ~RightsMessage() = default;

    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * max_descriptors_per_message)] = {};
    iovec vector;
    msghdr header{};
};

/// sendmsg(2) of `size` bytes with `count` descriptors (SCM_RIGHTS) attached; no SIGPIPE.
/// Errors: EINVAL (count beyond max_descriptors_per_message), EBADF (a descriptor is not open), EPIPE.
inline Result<std::size_t> send_with_descriptors(native_handle fd, const void* data, std::size_t size,
                                                 const native_handle* fds, std::size_t count) noexcept {
    if (count > max_descriptors_per_message) return fail(std::errc::invalid_argument, "sendmsg");
    RightsMessage message(const_cast<void*>(data), size, count);
    if (count > 0) {
        cmsghdr* header = CMSG_FIRSTHDR(&message.header);
        header->cmsg_level = SOL_SOCKET;
        header->cmsg_type = SCM_RIGHTS;
        header->cmsg_len = static_cast<decltype(header->cmsg_len)>(CMSG_LEN(sizeof(int) * count));
        std::memcpy(CMSG_DATA(header), fds, sizeof(int) * count);
    }
    [[maybe_unused]] const SendGuard guard{};
    for (;;) {
        const ssize_t sent = ::sendmsg(fd, &message.header, no_signal);
        if (sent >= 0) return static_cast<std::size_t>(sent);
        if (!interrupted()) return fail(io_error(fd, "sendmsg"));
    }
}

/// recvmsg(2) of up to `size` bytes and up to `capacity` descriptors into `fds`, each close-on-exec
/// (MSG_CMSG_CLOEXEC on Linux; FD_CLOEXEC right after elsewhere). Descriptors beyond `capacity` are
/// closed by the kernel (control_truncated). Errors: ECONNRESET, EBADF.
inline Result<ReceivedDescriptors> recv_with_descriptors(native_handle fd, void* data, std::size_t size,
                                                         native_handle* fds, std::size_t capacity) noexcept {
    if (capacity > max_descriptors_per_message) capacity = max_descriptors_per_message;
    RightsMessage rights(data, size, capacity);
    msghdr& message = rights.header;
#if defined(NETLITE_SYS_LINUX)
    const int flags = MSG_CMSG_CLOEXEC;
#else
    const int flags = 0;
#endif
    ssize_t got = 0;
    for (;;) {
        got = ::recvmsg(fd, &message, flags);
        if (got >= 0) break;
        if (!interrupted()) return fail(io_error(fd, "recvmsg"));
    }
    ReceivedDescriptors received{static_cast<std::size_t>(got), 0, (message.msg_flags & MSG_TRUNC) != 0,
                                 (message.msg_flags & MSG_CTRUNC) != 0};
    for (cmsghdr* header = message.msg_controllen > 0 ? CMSG_FIRSTHDR(&message) : nullptr; header != nullptr;
         header = CMSG_NXTHDR(&message, header)) {
        if (header->cmsg_level != SOL_SOCKET || header->cmsg_type != SCM_RIGHTS) continue;
        const std::size_t arrived = (header->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (std::size_t i = 0; i < arrived; ++i) {
            int descriptor = -1;
            std::memcpy(&descriptor, CMSG_DATA(header) + i * sizeof(int), sizeof descriptor);
#if !defined(NETLITE_SYS_LINUX)
            (void)::fcntl(descriptor, F_SETFD, FD_CLOEXEC);
#endif
            if (received.count < capacity)
                fds[received.count++] = descriptor;
            else
                ::close(descriptor);  // never reached when the control buffer holds `capacity`; no leak if so
        }
    }
    return received;
}

/// The connected Unix-domain peer's process, user and group: SO_PEERCRED (Linux), LOCAL_PEERCRED with
/// pid where the system has LOCAL_PEERPID or cr_pid, else getpeereid (no pid). In NETLITE_PORTABLE_POSIX
/// on Linux, which has neither BSD call, SO_PEERCRED without its pid stands in for getpeereid.
/// Errors: ENOTCONN, EBADF, ENOTSOCK.
inline Result<PeerCredentialsFields> peer_credentials(native_handle fd) noexcept {
#if defined(SO_PEERCRED) && defined(__linux__)
    auto credentials = get_option<::ucred>(fd, SOL_SOCKET, SO_PEERCRED, "SO_PEERCRED");
    if (!credentials) return fail(credentials.error());
#if defined(NETLITE_SYS_LINUX)
    const long pid = credentials->pid;
#else
    const long pid = -1;  // as getpeereid: no pid
#endif
    return PeerCredentialsFields{pid, credentials->uid, credentials->gid};
#else
    uid_t uid = 0;
    gid_t gid = 0;
    if (::getpeereid(fd, &uid, &gid) != 0) return fail(last_error("getpeereid"));
    long pid = -1;
#if defined(LOCAL_PEERPID)
    auto peer_pid = get_option<pid_t>(fd, SOL_LOCAL, LOCAL_PEERPID, "LOCAL_PEERPID");
    if (peer_pid) pid = *peer_pid;
#endif
    return PeerCredentialsFields{pid, uid, gid};
#endif
}

}  // namespace netlite::detail::sys
