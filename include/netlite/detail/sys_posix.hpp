// SPDX-License-Identifier: BSL-1.0
// netlite/detail/sys_posix.hpp - netlite's calls into a POSIX system (included through detail/sys.hpp).
//
// Every wrapper here retries EINTR (recomputing what is left of a timeout), creates descriptors
// close-on-exec, keeps SIGPIPE away from a write to a closed peer, and turns errno into an Error naming
// the failed operation. Nothing above this layer touches errno or repeats these loops.
//
// Two sets of paths:
//  * Linux (the default there): accept4/SOCK_CLOEXEC, MSG_NOSIGNAL, eventfd, epoll, sendmmsg/recvmmsg,
//    sendfile, SO_DOMAIN, abstract Unix names.
//  * Portable POSIX (macOS and the BSDs, or any system when NETLITE_PORTABLE_POSIX is defined, which is
//    how Linux tests these paths): socket/accept/pipe followed by fcntl for close-on-exec and non-blocking,
//    SO_NOSIGPIPE where it exists (else SIGPIPE blocked around each send and a pending one consumed),
//    send/recv loops for batches, a pread/send loop for send_file, the poll(2) Poller, no abstract names.
#pragma once

#if defined(__linux__) && !defined(NETLITE_PORTABLE_POSIX)
#define NETLITE_SYS_LINUX 1
#endif

// macOS declares the RFC 3542 IPv6 options (IPV6_RECVPKTINFO, IPV6_PKTINFO with in6_pktinfo) only when
// asked to, before <netinet/in.h>. A program that included that header first gets operation_not_supported
// for the IPv6 per-datagram addresses instead of a compile error (the #if's below).
#if defined(__APPLE__) && !defined(__APPLE_USE_RFC_3542)
#define __APPLE_USE_RFC_3542 1
#endif

#include <netlite/deadline.hpp>
#include <netlite/detail/sys_common.hpp>
#include <netlite/result.hpp>

#include <array>
#include <cerrno>
#include <climits>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <netlite/detail/chrono.hpp>
#include <optional>
#include <type_traits>
#include <utility>

#include <arpa/inet.h>
#include <fcntl.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#if defined(NETLITE_SYS_LINUX)
#include <sys/epoll.h>
#include <sys/eventfd.h>
#define NETLITE_HAS_EPOLL 1
#endif
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#if defined(NETLITE_SYS_LINUX)
#include <sys/sendfile.h>
#endif
#include <sys/un.h>
#include <unistd.h>

namespace netlite::detail::sys {

// --- the platform's vocabulary (the same names exist in every sys_*.hpp)
// ----------------------------------------------------------------

/// A socket as the OS names it: a file descriptor.
using native_handle = int;
/// The value of no socket.
inline constexpr native_handle invalid_handle = -1;
/// Where `fd` goes in a table keyed by socket (the coroutine loop's): the descriptor itself, since POSIX
/// hands out the lowest free number and the table stays as dense as the descriptor table.
inline std::size_t handle_index(native_handle fd) noexcept {
    return static_cast<std::size_t>(fd);
}
/// An open file send_file() reads from.
using file_handle = int;
/// Sizes of socket addresses (socklen_t).
using socklen = ::socklen_t;
/// What one send/recv returns: a count, or -1 with errno set.
using ssize = ssize_t;
/// One buffer of a vectored call (iovec).
using io_buffer = ::iovec;
/// One entry of a poll set (pollfd).
using poll_entry = ::pollfd;

/// The readiness a poll waits for.
inline constexpr short poll_in = POLLIN;
inline constexpr short poll_out = POLLOUT;
/// Per-call flags for send/recv.
inline constexpr int dont_wait = MSG_DONTWAIT;
inline constexpr int peek = MSG_PEEK;
/// shutdown(2)'s directions.
inline constexpr int shut_read = SHUT_RD;
inline constexpr int shut_write = SHUT_WR;
inline constexpr int shut_both = SHUT_RDWR;
/// Whether "@name" abstract Unix-domain names exist (Linux only).
#if defined(NETLITE_SYS_LINUX)
inline constexpr bool has_abstract_unix_names = true;
#else
inline constexpr bool has_abstract_unix_names = false;
#endif
/// Records a Unix-domain address's length inside it where the system wants that (BSD's sun_len).
inline void set_unix_length([[maybe_unused]] sockaddr_un& address, [[maybe_unused]] socklen size) noexcept {
#if defined(__APPLE__) || defined(__FreeBSD__) || defined(__NetBSD__) || defined(__OpenBSD__) || \
    defined(__DragonFly__)
    address.sun_len = static_cast<decltype(address.sun_len)>(size);
#endif
}
/// Records an IPv4 or IPv6 address's length inside it where the system has that field (BSD's ss_len):
/// the BSDs refuse a group_req / group_source_req whose addresses lack it (EINVAL).
inline void set_inet_length([[maybe_unused]] sockaddr_storage& address) noexcept {
#if defined(__APPLE__) || defined(__FreeBSD__) || defined(__NetBSD__) || defined(__OpenBSD__) || \
    defined(__DragonFly__)
    address.ss_len = static_cast<decltype(address.ss_len)>(
        address.ss_family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6));
#endif
}
/// listen(2)'s largest backlog.
inline constexpr int max_backlog = SOMAXCONN;

/// The most bytes one send/recv is given: Linux moves at most this much per call anyway, and a length
/// above SSIZE_MAX (macOS: above INT_MAX) is EINVAL elsewhere. A larger request is split by the caller.
inline constexpr std::size_t max_io_bytes = INT_MAX;
/// The most buffers one vectored call takes (IOV_MAX, 1,024 on Linux and macOS).
#if defined(IOV_MAX)
inline constexpr std::size_t max_io_buffers = IOV_MAX;
#else
inline constexpr std::size_t max_io_buffers = 1024;
#endif
/// `size` cut to what one call takes (max_io_bytes).
inline std::size_t io_length(std::size_t size) noexcept {
    return size < max_io_bytes ? size : max_io_bytes;
}

inline io_buffer make_io_buffer(const void* data, std::size_t size) noexcept {
    return io_buffer{const_cast<void*>(data), size};
}
inline std::size_t io_buffer_size(const io_buffer& buffer) noexcept {
    return buffer.iov_len;
}

/// The calling thread's errno as an Error for `operation`.
inline Error last_error(const char* operation) noexcept {
    return Error(std::error_code(errno, std::system_category()), operation);
}

/// `code` (an errno value, e.g. from SO_ERROR) as an error code that compares equal to its std::errc.
inline std::error_code error_code_from(int code) noexcept {
    return std::error_code(code, std::system_category());
}

inline bool interrupted() noexcept {
    return errno == EINTR;
}

/// True when the descriptor is in non-blocking mode (false also when it cannot be asked).
inline bool is_nonblocking(native_handle fd) noexcept {
    const int flags = ::fcntl(fd, F_GETFL);
    return flags >= 0 && (flags & O_NONBLOCK) != 0;
}

/// Error for a failed I/O call: EAGAIN on a blocking socket, unless the call itself asked not to wait
/// (MSG_DONTWAIT), means SO_RCVTIMEO/SO_SNDTIMEO expired.
inline Error io_error(native_handle fd, const char* operation, int flags = 0) noexcept {
    if ((errno == EAGAIN || errno == EWOULDBLOCK) && (flags & MSG_DONTWAIT) == 0 && !is_nonblocking(fd))
        return Error(std::errc::timed_out, operation);
    return last_error(operation);
}

// --- SIGPIPE
// -----------------------------------------------------------------------------------------------------
// Linux: every send passes MSG_NOSIGNAL. macOS/BSD: SO_NOSIGPIPE on every new and accepted socket.
// Elsewhere (NETLITE_PORTABLE_POSIX on Linux): a SendGuard around each send.

#if defined(NETLITE_SYS_LINUX)
inline constexpr int no_signal = MSG_NOSIGNAL;
#else
inline constexpr int no_signal = 0;
#endif

#if defined(NETLITE_SYS_LINUX) || !defined(SO_NOSIGPIPE)
/// Blocks SIGPIPE in this thread for its lifetime and discards the one a write to a closed peer raised
/// meanwhile (unless the thread blocked SIGPIPE itself: then it was never going to be delivered here).
/// Whatever the call returned: a partial send or ECONNRESET may come with one too. errno is kept.
class SigpipeBlocker {
public:
    SigpipeBlocker() noexcept {
        sigemptyset(&pipe_only_);
        sigaddset(&pipe_only_, SIGPIPE);
        const bool blocked = ::pthread_sigmask(SIG_BLOCK, &pipe_only_, &old_mask_) == 0;
        ours_ = blocked && ::sigismember(&old_mask_, SIGPIPE) == 0;
    }
    ~SigpipeBlocker() {
        if (!ours_) return;
        const int saved = errno;
        sigset_t pending;
        if (::sigpending(&pending) == 0 && ::sigismember(&pending, SIGPIPE) == 1) {
            const timespec zero{};
            while (::sigtimedwait(&pipe_only_, nullptr, &zero) < 0 && errno == EINTR) {
            }
        }
        ::pthread_sigmask(SIG_SETMASK, &old_mask_, nullptr);
        errno = saved;
    }
    SigpipeBlocker(const SigpipeBlocker&) = delete;
    SigpipeBlocker& operator=(const SigpipeBlocker&) = delete;

private:
    sigset_t pipe_only_{};
    sigset_t old_mask_{};
    bool ours_ = false;
};
#endif

#if !defined(NETLITE_SYS_LINUX) && !defined(SO_NOSIGPIPE)
/// What every send holds for its duration.
using SendGuard = SigpipeBlocker;
#else
/// Nothing to do: MSG_NOSIGNAL or SO_NOSIGPIPE keeps SIGPIPE away (trivial, so it costs no code).
struct SendGuard {};
#endif

// --- descriptors
// --------------------------------------------------------------------------------------------

/// close(2). On Linux the descriptor is released even when close reports EINTR, so it is never retried.
inline Result<void> close_fd(native_handle fd) noexcept {
    if (::close(fd) != 0 && errno != EINTR) return fail(last_error("close"));
    return {};
}

#if !defined(NETLITE_SYS_LINUX)
/// What the portable paths do to every new or accepted socket: close-on-exec (FD_CLOEXEC; another thread's
/// fork+exec between the two calls can still inherit it: only accept4/SOCK_CLOEXEC close that window) and,
/// where it exists, SO_NOSIGPIPE. Closes `fd` on failure.
inline Result<native_handle> adopt_new(native_handle fd, const char* operation) noexcept {
    bool ok = ::fcntl(fd, F_SETFD, FD_CLOEXEC) == 0;
#if defined(SO_NOSIGPIPE)
    const int on = 1;
    ok = ok && ::setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &on, sizeof on) == 0;
#endif
    if (ok) return fd;
    const Error error = last_error(operation);
    ::close(fd);
    return fail(error);
}
#endif

/// socket(2), close-on-exec. Errors: EAFNOSUPPORT, EMFILE, ENFILE, ENOBUFS, ...
inline Result<native_handle> open_socket(int domain, int type, int protocol = 0) noexcept {
#if defined(NETLITE_SYS_LINUX)
    const native_handle fd = ::socket(domain, type | SOCK_CLOEXEC, protocol);
    if (fd < 0) return fail(last_error("socket"));
    return fd;
#else
    const native_handle fd = ::socket(domain, type, protocol);
    if (fd < 0) return fail(last_error("socket"));
    return adopt_new(fd, "socket");
#endif
}

/// socketpair(2) of Unix-domain sockets, both close-on-exec.
inline Result<std::array<native_handle, 2>> socket_pair(int type) noexcept {
    std::array<native_handle, 2> fds{invalid_handle, invalid_handle};
#if defined(NETLITE_SYS_LINUX)
    if (::socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, fds.data()) != 0) return fail(last_error("socketpair"));
#else
    if (::socketpair(AF_UNIX, type, 0, fds.data()) != 0) return fail(last_error("socketpair"));
    auto first = adopt_new(fds[0], "socketpair");
    if (!first) {
        ::close(fds[1]);
        return fail(first.error());
    }
    if (auto second = adopt_new(fds[1], "socketpair"); !second) {
        ::close(fds[0]);
        return fail(second.error());
    }
#endif
    return fds;
}

/// fcntl(F_DUPFD_CLOEXEC): a second descriptor for the same socket.
inline Result<native_handle> duplicate(native_handle fd) noexcept {
    const native_handle copy = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (copy < 0) return fail(last_error("dup"));
    return copy;
}

/// Switches O_NONBLOCK on or off.
inline Result<void> set_nonblocking(native_handle fd, bool on) noexcept {
    const int flags = ::fcntl(fd, F_GETFL);
    if (flags < 0) return fail(last_error("fcntl"));
    const int wanted = on ? (flags | O_NONBLOCK) : (flags & ~O_NONBLOCK);
    if (wanted != flags && ::fcntl(fd, F_SETFL, wanted) != 0) return fail(last_error("fcntl"));
    return {};
}

/// Reads O_NONBLOCK.
inline Result<bool> nonblocking(native_handle fd) noexcept {
    const int flags = ::fcntl(fd, F_GETFL);
    if (flags < 0) return fail(last_error("fcntl"));
    return (flags & O_NONBLOCK) != 0;
}

// --- options
// ------------------------------------------------------------------------------------------------

template <class T>
inline Result<void> set_option(native_handle fd, int level, int name, const T& value,
                               const char* operation) noexcept {
    if (::setsockopt(fd, level, name, &value, sizeof value) != 0) return fail(last_error(operation));
    return {};
}

template <class T>
inline Result<T> get_option(native_handle fd, int level, int name, const char* operation) noexcept {
    T value{};
    socklen size = sizeof value;
    if (::getsockopt(fd, level, name, &value, &size) != 0) return fail(last_error(operation));
    return value;
}

/// An integer (or boolean) socket option: its level, its name and the text errors carry. A name the
/// platform lacks is `unsupported_option`; setting or reading it fails with ENOPROTOOPT.
struct IntOption {
    int level;
    int name;
    const char* text;
};
inline constexpr int unsupported_option = -1;

/// The integer options netlite's Socket offers, by platform-neutral names.
namespace option {
inline constexpr IntOption reuse_address{SOL_SOCKET, SO_REUSEADDR, "SO_REUSEADDR"};
#if defined(SO_REUSEPORT)
inline constexpr IntOption reuse_port{SOL_SOCKET, SO_REUSEPORT, "SO_REUSEPORT"};
#else
inline constexpr IntOption reuse_port{SOL_SOCKET, unsupported_option, "SO_REUSEPORT"};
#endif
inline constexpr IntOption nodelay{IPPROTO_TCP, TCP_NODELAY, "TCP_NODELAY"};
inline constexpr IntOption keepalive{SOL_SOCKET, SO_KEEPALIVE, "SO_KEEPALIVE"};
inline constexpr IntOption send_buffer{SOL_SOCKET, SO_SNDBUF, "SO_SNDBUF"};
inline constexpr IntOption recv_buffer{SOL_SOCKET, SO_RCVBUF, "SO_RCVBUF"};
inline constexpr IntOption ipv6_only{IPPROTO_IPV6, IPV6_V6ONLY, "IPV6_V6ONLY"};
inline constexpr IntOption broadcast{SOL_SOCKET, SO_BROADCAST, "SO_BROADCAST"};
inline constexpr IntOption pending_error{SOL_SOCKET, SO_ERROR, "SO_ERROR"};
inline constexpr IntOption ipv4_ttl{IPPROTO_IP, IP_TTL, "IP_TTL"};
inline constexpr IntOption ipv6_hops{IPPROTO_IPV6, IPV6_UNICAST_HOPS, "IPV6_UNICAST_HOPS"};
inline constexpr IntOption ipv4_multicast_ttl{IPPROTO_IP, IP_MULTICAST_TTL, "multicast ttl"};
inline constexpr IntOption ipv6_multicast_hops{IPPROTO_IPV6, IPV6_MULTICAST_HOPS, "multicast ttl"};
inline constexpr IntOption ipv4_multicast_loop{IPPROTO_IP, IP_MULTICAST_LOOP, "multicast loop"};
inline constexpr IntOption ipv6_multicast_loop{IPPROTO_IPV6, IPV6_MULTICAST_LOOP, "multicast loop"};
inline constexpr IntOption ipv6_multicast_interface{IPPROTO_IPV6, IPV6_MULTICAST_IF, "IPV6_MULTICAST_IF"};
}  // namespace option

inline Result<void> set_int_option(native_handle fd, const IntOption& option, int value) noexcept {
    if (option.name == unsupported_option) return fail(std::errc::no_protocol_option, option.text);
    return set_option(fd, option.level, option.name, value, option.text);
}

inline Result<int> get_int_option(native_handle fd, const IntOption& option) noexcept {
    if (option.name == unsupported_option) return fail(std::errc::no_protocol_option, option.text);
    return get_option<int>(fd, option.level, option.name, option.text);
}

/// Sets up a listener's address use before bind: SO_REUSEADDR when `quick_rebind`, so a restarted server
/// can bind its port while old connections linger in TIME_WAIT.
inline Result<void> claim_listen_address(native_handle fd, bool quick_rebind) noexcept {
    if (!quick_rebind) return {};
    return set_int_option(fd, option::reuse_address, 1);
}

// The idle time before the first keep-alive probe: TCP_KEEPIDLE (Linux, FreeBSD), TCP_KEEPALIVE (macOS).
#if defined(TCP_KEEPIDLE)
inline constexpr IntOption keepalive_idle{IPPROTO_TCP, TCP_KEEPIDLE, "TCP_KEEPIDLE"};
#else
inline constexpr IntOption keepalive_idle{IPPROTO_TCP, TCP_KEEPALIVE, "TCP_KEEPALIVE"};
#endif

/// TCP keep-alive timing: idle time before the first probe, time between probes, probes before giving up.
inline Result<void> set_keepalive_timing(native_handle fd, const KeepAliveTiming& timing) noexcept {
    if (auto r = set_int_option(fd, keepalive_idle, timing.idle); !r) return r;
    if (auto r = set_option(fd, IPPROTO_TCP, TCP_KEEPINTVL, timing.interval, "TCP_KEEPINTVL"); !r) return r;
    return set_option(fd, IPPROTO_TCP, TCP_KEEPCNT, timing.count, "TCP_KEEPCNT");
}

inline Result<KeepAliveTiming> keepalive_timing(native_handle fd) noexcept {
    auto idle = get_int_option(fd, keepalive_idle);
    auto interval = get_option<int>(fd, IPPROTO_TCP, TCP_KEEPINTVL, "TCP_KEEPINTVL");
    auto count = get_option<int>(fd, IPPROTO_TCP, TCP_KEEPCNT, "TCP_KEEPCNT");
    if (!idle) return fail(idle.error());
    if (!interval) return fail(interval.error());
    if (!count) return fail(count.error());
    return KeepAliveTiming{*idle, *interval, *count};
}

// SO_LINGER in seconds: macOS counts SO_LINGER in clock ticks and offers SO_LINGER_SEC in seconds.
#if defined(SO_LINGER_SEC)
inline constexpr int linger_seconds = SO_LINGER_SEC;
#else
inline constexpr int linger_seconds = SO_LINGER;
#endif

/// The longest linger SO_LINGER holds (linger::l_linger is an int); Socket::set_linger clamps to it.
inline constexpr int max_linger_seconds = INT_MAX;

/// SO_LINGER in seconds.
inline Result<void> set_linger(native_handle fd, const Linger& value) noexcept {
    const ::linger native{value.on ? 1 : 0, value.seconds};
    return set_option(fd, SOL_SOCKET, linger_seconds, native, "SO_LINGER");
}

inline Result<Linger> linger(native_handle fd) noexcept {
    auto native = get_option<::linger>(fd, SOL_SOCKET, linger_seconds, "SO_LINGER");
    if (!native) return fail(native.error());
    return Linger{native->l_onoff != 0, native->l_linger};
}

/// SO_RCVTIMEO (`receive`) or SO_SNDTIMEO; zero means none.
inline Result<void> set_io_timeout(native_handle fd, bool receive,
                                   std::chrono::microseconds timeout) noexcept {
    timeval value{};
    value.tv_sec = static_cast<time_t>(timeout.count() / 1000000);
    value.tv_usec = static_cast<suseconds_t>(timeout.count() % 1000000);
    return set_option(fd, SOL_SOCKET, receive ? SO_RCVTIMEO : SO_SNDTIMEO, value,
                      receive ? "SO_RCVTIMEO" : "SO_SNDTIMEO");
}

inline Result<std::chrono::microseconds> io_timeout(native_handle fd, bool receive) noexcept {
    auto value = get_option<timeval>(fd, SOL_SOCKET, receive ? SO_RCVTIMEO : SO_SNDTIMEO,
                                     receive ? "SO_RCVTIMEO" : "SO_SNDTIMEO");
    if (!value) return fail(value.error());
    // Linux keeps set_io_timeout(microseconds::max()) in clock ticks and gives back a little more: saturate.
    return saturating_plus(saturating_ceil<std::chrono::microseconds>(std::chrono::seconds(value->tv_sec)),
                           std::chrono::microseconds(value->tv_usec));
}

/// The socket's address family (AF_INET, AF_INET6, ...): SO_DOMAIN on Linux, the bound name's elsewhere.
inline Result<int> socket_domain(native_handle fd) noexcept {
#if defined(NETLITE_SYS_LINUX)
    return get_option<int>(fd, SOL_SOCKET, SO_DOMAIN, "SO_DOMAIN");
#else
    sockaddr_storage name{};
    socklen size = sizeof name;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&name), &size) != 0)
        return fail(last_error("getsockname"));
    return static_cast<int>(name.ss_family);
#endif
}

/// Joins (or leaves) the multicast group in `storage` (a sockaddr_in or sockaddr_in6) on interface
/// `interface_index`; use sys.hpp's multicast_membership. (Linux: ip_mreqn / ipv6_mreq; elsewhere the
/// protocol-independent MCAST_JOIN_GROUP with group_req.)
inline Result<void> multicast_group_option(native_handle fd, const sockaddr_storage& storage,
                                           unsigned interface_index, bool join) noexcept {
    const sockaddr* group = reinterpret_cast<const sockaddr*>(&storage);
#if !defined(NETLITE_SYS_LINUX)
    group_req request{};
    request.gr_interface = interface_index;
    const bool v4 = group->sa_family == AF_INET;
    std::memcpy(&request.gr_group, group, v4 ? sizeof(sockaddr_in) : sizeof(sockaddr_in6));
    set_inet_length(request.gr_group);
    return set_option(fd, v4 ? IPPROTO_IP : IPPROTO_IPV6, join ? MCAST_JOIN_GROUP : MCAST_LEAVE_GROUP,
                      request, join ? "MCAST_JOIN_GROUP" : "MCAST_LEAVE_GROUP");
#else
    if (group->sa_family == AF_INET) {
        ip_mreqn request{};
        request.imr_multiaddr = reinterpret_cast<const sockaddr_in*>(group)->sin_addr;
        request.imr_ifindex = static_cast<int>(interface_index);
        return set_option(fd, IPPROTO_IP, join ? IP_ADD_MEMBERSHIP : IP_DROP_MEMBERSHIP, request,
                          join ? "IP_ADD_MEMBERSHIP" : "IP_DROP_MEMBERSHIP");
    }
    ipv6_mreq request{};
    request.ipv6mr_multiaddr = reinterpret_cast<const sockaddr_in6*>(group)->sin6_addr;
    request.ipv6mr_interface = interface_index;
    return set_option(fd, IPPROTO_IPV6, join ? IPV6_JOIN_GROUP : IPV6_LEAVE_GROUP, request,
                      join ? "IPV6_JOIN_GROUP" : "IPV6_LEAVE_GROUP");
#endif
}

/// Joins (or leaves) the group in `group` receiving only what `source` sends (both sockaddr_in or both
/// sockaddr_in6) on interface `interface_index`; use sys.hpp's source_multicast_membership. The
/// protocol-independent MCAST_JOIN_SOURCE_GROUP with group_source_req takes the interface by index for
/// both families (Linux, macOS, FreeBSD). Where it is missing, IPv4's IP_ADD_SOURCE_MEMBERSHIP with
/// ip_mreq_source names the interface by address, so only index 0 (the kernel picks) is offered there.
/// Errors: EADDRNOTAVAIL, EINVAL, ENODEV, operation_not_supported (a system without either option:
/// OpenBSD, NetBSD; or an interface index with only ip_mreq_source).
inline Result<void> source_multicast_option(native_handle fd, const sockaddr_storage& group,
                                            const sockaddr_storage& source, unsigned interface_index,
                                            bool join) noexcept {
    const bool v4 = group.ss_family == AF_INET;
#if defined(MCAST_JOIN_SOURCE_GROUP)
    group_source_req request{};
    request.gsr_interface = interface_index;
    const std::size_t size = v4 ? sizeof(sockaddr_in) : sizeof(sockaddr_in6);
    std::memcpy(&request.gsr_group, &group, size);
    std::memcpy(&request.gsr_source, &source, size);
    set_inet_length(request.gsr_group);
    set_inet_length(request.gsr_source);
    return set_option(fd, v4 ? IPPROTO_IP : IPPROTO_IPV6,
                      join ? MCAST_JOIN_SOURCE_GROUP : MCAST_LEAVE_SOURCE_GROUP, request,
                      join ? "MCAST_JOIN_SOURCE_GROUP" : "MCAST_LEAVE_SOURCE_GROUP");
#elif defined(IP_ADD_SOURCE_MEMBERSHIP)
    const char* what = join ? "IP_ADD_SOURCE_MEMBERSHIP" : "IP_DROP_SOURCE_MEMBERSHIP";
    if (!v4 || interface_index != 0) return fail(std::errc::operation_not_supported, what);
    ip_mreq_source request{};
    request.imr_multiaddr = reinterpret_cast<const sockaddr_in&>(group).sin_addr;
    request.imr_sourceaddr = reinterpret_cast<const sockaddr_in&>(source).sin_addr;
    request.imr_interface.s_addr = htonl(INADDR_ANY);
    return set_option(fd, IPPROTO_IP, join ? IP_ADD_SOURCE_MEMBERSHIP : IP_DROP_SOURCE_MEMBERSHIP, request,
                      what);
#else
    (void)fd, (void)v4, (void)source, (void)interface_index;
    return fail(std::errc::operation_not_supported,
                join ? "MCAST_JOIN_SOURCE_GROUP" : "MCAST_LEAVE_SOURCE_GROUP");
#endif
}

/// The interface IPv4 multicast is sent from, by index (0: the kernel picks).
/// (macOS: IP_MULTICAST_IFINDEX; Linux and FreeBSD: ip_mreqn.)
inline Result<void> set_ipv4_multicast_interface(native_handle fd, unsigned interface_index) noexcept {
#if defined(IP_MULTICAST_IFINDEX)
    return set_option(fd, IPPROTO_IP, IP_MULTICAST_IFINDEX, interface_index, "IP_MULTICAST_IF");
#else
    ip_mreqn request{};
    request.imr_ifindex = static_cast<int>(interface_index);
    return set_option(fd, IPPROTO_IP, IP_MULTICAST_IF, request, "IP_MULTICAST_IF");
#endif
}

// --- waiting
// ------------------------------------------------------------------------------------------------

/// True when poll(2)'s nfds_t (unsigned int on macOS) holds `count`, so the conversion loses nothing.
inline bool poll_count_fits(std::size_t count) noexcept {
    return count <= std::numeric_limits<nfds_t>::max();
}

/// Descriptors one WakeFd holds: an eventfd (Linux), or the two ends of a pipe.
#if defined(NETLITE_SYS_LINUX)
inline constexpr int wake_descriptors = 1;
#else
inline constexpr int wake_descriptors = 2;
#endif

/// A descriptor another thread can make readable to wake a poll: an eventfd (a pipe elsewhere).
/// Made per cancellable wait, so cancellation needs no global state.
class WakeFd {
public:
    WakeFd() noexcept {
#if defined(NETLITE_SYS_LINUX)
        read_fd_ = write_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (read_fd_ < 0) error_ = last_error("eventfd");
#else
        int fds[2];
        if (::pipe(fds) != 0) {
            error_ = last_error("pipe");
            return;
        }
        for (const int fd : fds) {
            const int flags = ::fcntl(fd, F_GETFL);
            if (::fcntl(fd, F_SETFD, FD_CLOEXEC) != 0 || flags < 0 ||
                ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) {
                error_ = last_error("fcntl");
                ::close(fds[0]);
                ::close(fds[1]);
                return;
            }
        }
        read_fd_ = fds[0];
        write_fd_ = fds[1];
#endif
    }
    WakeFd(const WakeFd&) = delete;
    WakeFd& operator=(const WakeFd&) = delete;
    WakeFd(WakeFd&& other) noexcept
        : read_fd_(std::exchange(other.read_fd_, -1)),
          write_fd_(std::exchange(other.write_fd_, -1)),
          error_(other.error_) {}
    WakeFd& operator=(WakeFd&& other) noexcept {
        if (this != &other) {
            close();
            read_fd_ = std::exchange(other.read_fd_, -1);
            write_fd_ = std::exchange(other.write_fd_, -1);
            error_ = other.error_;
        }
        return *this;
    }
    ~WakeFd() {
        close();
    }
    bool ok() const noexcept {
        return read_fd_ >= 0;
    }
    const Error& error() const noexcept {
        return error_;
    }
    native_handle fd() const noexcept {
        return read_fd_;
    }
    /// The descriptor signal(int) writes to; it moves with this WakeFd.
    native_handle signal_fd() const noexcept {
        return write_fd_;
    }
    /// Async-signal-safe and thread-safe: one write(2).
    void signal() const noexcept {
        signal(write_fd_);
    }
    static void signal(native_handle signal_fd) noexcept {
        const std::uint64_t one = 1;
        [[maybe_unused]] const ssize_t written = ::write(signal_fd, &one, sizeof one);
    }

private:
    void close() noexcept {
        if (read_fd_ >= 0) ::close(read_fd_);
        if (write_fd_ >= 0 && write_fd_ != read_fd_) ::close(write_fd_);
    }

    native_handle read_fd_ = invalid_handle;
    native_handle write_fd_ = invalid_handle;
    Error error_{};
};

/// poll(2) over `entries` (and `wake`, unless invalid_handle) until one is ready or `deadline` passes,
/// retrying EINTR and a wake-up before a deadline too far for one call; fills revents. `woken`: `wake` is
/// readable. Returns how many entries are ready, 0 at the deadline (sys.hpp's poll_until is built on it).
/// Errors: the OS's, named `operation`; EINVAL for more than max_wait_entries.
inline Result<int> wait_entries(poll_entry* entries, std::size_t count, native_handle wake,
                                Clock::time_point deadline, bool& woken, const char* operation) noexcept {
    woken = false;
    if (count > max_wait_entries) return fail(std::errc::invalid_argument, operation);
    pollfd all[max_wait_entries + 1];
    pollfd* polled = entries;  // without a wake-up descriptor, the caller's entries as they are
    std::size_t polled_count = count;
    if (wake != invalid_handle) {
        for (std::size_t i = 0; i < count; ++i) all[i] = entries[i];
        all[count] = pollfd{wake, POLLIN, 0};
        polled = all;
        polled_count = count + 1;
    }
    for (;;) {
        const int ready = ::poll(polled, static_cast<nfds_t>(polled_count), timeout_ms(deadline));
        if (ready < 0 && interrupted()) continue;
        if (ready < 0) return fail(last_error(operation));
        if (ready == 0 && wait_goes_on(deadline)) continue;
        if (polled == entries) return ready;
        woken = all[count].revents != 0;
        for (std::size_t i = 0; i < count; ++i) entries[i].revents = all[i].revents;
        return woken ? ready - 1 : ready;
    }
}

/// Defined in sys.hpp on wait_entries(): waits over `entries` within `until` (timed_out, operation_canceled).
inline Result<int> poll_until(poll_entry* entries, std::size_t count, const Until& until,
                              const char* operation);

// --- process limits
// -----------------------------------------------------------------------------------------------------

/// The soft and hard limits on open descriptors (RLIMIT_NOFILE); "unlimited" is the largest value.
inline Result<std::array<std::uint64_t, 2>> descriptor_limits() noexcept {
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return fail(last_error("getrlimit"));
    return std::array<std::uint64_t, 2>{limit.rlim_cur, limit.rlim_max};
}

/// Sets the soft limit on open descriptors to the hard one. macOS refuses an unlimited soft limit
/// (EINVAL) though its hard limit says unlimited: there it stops at OPEN_MAX.
inline Result<void> raise_descriptor_limit() noexcept {
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return fail(last_error("getrlimit"));
    rlim_t wanted = limit.rlim_max;
#if defined(__APPLE__)
    if (wanted > OPEN_MAX) wanted = OPEN_MAX;
#endif
    if (limit.rlim_cur >= wanted) return {};
    limit.rlim_cur = wanted;
    if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) return fail(last_error("setrlimit"));
    return {};
}

// --- connection setup
// ---------------------------------------------------------------------------------------

inline Result<void> bind(native_handle fd, const sockaddr* address, socklen size) noexcept {
    if (::bind(fd, address, size) != 0) return fail(last_error("bind"));
    return {};
}

inline Result<void> listen(native_handle fd, int backlog) noexcept {
    if (::listen(fd, backlog) != 0) return fail(last_error("listen"));
    return {};
}

/// The outcome of a connect that went on in the background: SO_ERROR once the socket is writable.
inline Result<void> connect_result(native_handle fd) noexcept {
    auto pending = get_option<int>(fd, SOL_SOCKET, SO_ERROR, "connect");
    if (!pending) return fail(pending.error());
    if (*pending != 0) return fail(Error(std::error_code(*pending, std::system_category()), "connect"));
    return {};
}

/// Starts a connect: true when it connected at once, false when it goes on in the background (wait until
/// writable, then connect_finished() in sys.hpp). On a blocking socket the call waits as connect(2) does.
/// EINTR is not the end: the connect goes on in the background (or, on BSD kernels or with an injected
/// fault, never began), so connect(2) is asked again and says which (EALREADY, EISCONN, or it starts now;
/// an interrupted Unix-domain connect is abandoned by the kernel and simply starts again).
/// Errors: connect's (ECONNREFUSED, ENETUNREACH, EAGAIN for a Unix socket whose listener is full, ...).
inline Result<bool> connect_start(native_handle fd, const sockaddr* address, socklen size) noexcept {
    for (;;) {
        if (::connect(fd, address, size) == 0 || errno == EISCONN) return true;
        if (errno == EINPROGRESS || errno == EALREADY) return false;
        if (!interrupted()) return fail(last_error("connect"));
    }
}

/// Defined in sys.hpp: waits for a connect started in the background and confirms it (connect_finished).
inline Result<void> connect_wait(native_handle fd, const sockaddr* address, socklen size, const Until& until);

/// Blocking connect(2). A signal does not abort it: the kernel goes on connecting, so wait for the result.
inline Result<void> connect(native_handle fd, const sockaddr* address, socklen size) noexcept {
    auto started = connect_start(fd, address, size);
    if (!started) return fail(started.error());
    if (*started) return {};
    return connect_wait(fd, address, size, Until());
}

/// connect(2) within `until` (timed_out, operation_canceled); the socket's blocking mode is restored.
/// A Unix socket whose listener's queue is full says EAGAIN at once: it is retried every 10 ms.
inline Result<void> connect_until(native_handle fd, const sockaddr* address, socklen size,
                                  const Until& until) {
    if (until.stop_requested()) return fail(std::errc::operation_canceled, "connect");
    const bool was_nonblocking = is_nonblocking(fd);
    if (!was_nonblocking)
        if (auto set = set_nonblocking(fd, true); !set) return set;
    Result<void> outcome;
    for (;;) {
        auto started = connect_start(fd, address, size);
        if (started) {
            if (!*started) outcome = connect_wait(fd, address, size, until);
        } else if (started.error() == std::errc::resource_unavailable_try_again &&
                   address->sa_family == AF_UNIX) {
            const auto retry_at = earlier(Clock::now() + std::chrono::milliseconds(10), until.deadline());
            auto slept = poll_until(nullptr, 0, until.with_deadline(retry_at), "connect");  // polls nothing
            if (slept || (slept.error() == std::errc::timed_out && Clock::now() < until.deadline())) continue;
            outcome = fail(slept.error());
        } else {
            outcome = fail(started.error());
        }
        break;
    }
    if (!was_nonblocking)
        if (auto restored = set_nonblocking(fd, false); !restored && outcome) return restored;
    return outcome;
}

/// accept4(2), close-on-exec, retrying EINTR. `peer`/`size` receive the peer's address.
/// Elsewhere accept(2), then FD_CLOEXEC and SO_NOSIGPIPE; BSD sockets inherit the listener's O_NONBLOCK, so
/// it is cleared (a netlite stream starts blocking everywhere).
inline Result<native_handle> accept(native_handle fd, sockaddr* peer, socklen* size) noexcept {
    for (;;) {
#if defined(NETLITE_SYS_LINUX)
        const native_handle conn = ::accept4(fd, peer, size, SOCK_CLOEXEC);
        if (conn >= 0) return conn;
#else
        const native_handle conn = ::accept(fd, peer, size);
        if (conn >= 0) {
            auto adopted = adopt_new(conn, "accept");
            if (!adopted) return adopted;
            const int flags = ::fcntl(conn, F_GETFL);
            if (flags >= 0 && (flags & O_NONBLOCK) != 0 && ::fcntl(conn, F_SETFL, flags & ~O_NONBLOCK) != 0) {
                const Error error = last_error("accept");
                ::close(conn);
                return fail(error);
            }
            return conn;
        }
#endif
        if (!interrupted()) return fail(io_error(fd, "accept"));
    }
}

// --- data transfer
// ------------------------------------------------------------------------------------------

/// send(2) without SIGPIPE: a closed peer gives EPIPE.
inline Result<std::size_t> send(native_handle fd, const void* data, std::size_t size,
                                int flags = 0) noexcept {
    [[maybe_unused]] const SendGuard guard{};
    for (;;) {
        const ssize_t sent = ::send(fd, data, io_length(size), flags | no_signal);
        if (sent >= 0) return static_cast<std::size_t>(sent);
        if (!interrupted()) return fail(io_error(fd, "send", flags));
    }
}

/// recv(2); 0 means the peer closed its sending side (end of stream).
inline Result<std::size_t> recv(native_handle fd, void* data, std::size_t size, int flags = 0) noexcept {
    for (;;) {
        const ssize_t got = ::recv(fd, data, io_length(size), flags);
        if (got >= 0) return static_cast<std::size_t>(got);
        if (!interrupted()) return fail(io_error(fd, "recv", flags));
    }
}

/// One send(2) without SIGPIPE and no retry: the inline first try of a hot loop. Returns what send
/// returned; after -1, pass it to send_finish() while errno still holds the reason.
inline ssize send_once(native_handle fd, const void* data, std::size_t size) noexcept {
    [[maybe_unused]] const SendGuard guard{};
    return ::send(fd, data, io_length(size), no_signal);
}
/// One recv(2) and no retry: the inline first try of a hot loop (see recv_finish()).
inline ssize recv_once(native_handle fd, void* data, std::size_t size) noexcept {
    return ::recv(fd, data, io_length(size), 0);
}
/// What send() would have returned, given send_once()'s `first` result: the count, the error, or (after
/// EINTR) another try.
inline Result<std::size_t> send_finish(native_handle fd, ssize first, const void* data,
                                       std::size_t size) noexcept {
    if (first >= 0) return static_cast<std::size_t>(first);
    if (!interrupted()) return fail(io_error(fd, "send"));
    return send(fd, data, size);
}
/// What recv() would have returned, given recv_once()'s `first` result.
inline Result<std::size_t> recv_finish(native_handle fd, ssize first, void* data, std::size_t size) noexcept {
    if (first >= 0) return static_cast<std::size_t>(first);
    if (!interrupted()) return fail(io_error(fd, "recv"));
    return recv(fd, data, size);
}

/// sendto(2) without SIGPIPE.
inline Result<std::size_t> send_to(native_handle fd, const void* data, std::size_t size, const sockaddr* to,
                                   socklen to_size, int flags = 0) noexcept {
    [[maybe_unused]] const SendGuard guard{};
    for (;;) {
        const ssize_t sent = ::sendto(fd, data, io_length(size), flags | no_signal, to, to_size);
        if (sent >= 0) return static_cast<std::size_t>(sent);
        if (!interrupted()) return fail(io_error(fd, "sendto", flags));
    }
}

/// msg_iovlen for `count` buffers, which the caller keeps within max_io_buffers (int on macOS, size_t on
/// Linux: the cast is checked, not implied).
inline auto io_buffer_count(std::size_t count) noexcept -> decltype(msghdr{}.msg_iovlen) {
    return static_cast<decltype(msghdr{}.msg_iovlen)>(count < max_io_buffers ? count : max_io_buffers);
}

/// recvmsg(2) of one datagram into `count` buffers, and its sender (`from` may be null); errors name `call`.
/// recvmsg says only that a datagram was cut (MSG_TRUNC in msg_flags): full_size is then one more than
/// what was copied.
inline Result<DatagramSize> recv_datagram_message(native_handle fd, io_buffer* buffers, std::size_t count,
                                                  sockaddr* from, socklen* from_size, int flags,
                                                  const char* call) noexcept {
    msghdr message{};
    message.msg_iov = count > 0 ? buffers : nullptr;
    message.msg_iovlen = io_buffer_count(count);
    message.msg_name = from;
    message.msg_namelen = from_size != nullptr ? *from_size : 0;
    for (;;) {
        const ssize_t got = ::recvmsg(fd, &message, flags);
        if (got >= 0) {
            if (from_size != nullptr) *from_size = message.msg_namelen;
            const auto copied = static_cast<std::size_t>(got);
            return DatagramSize{copied, (message.msg_flags & MSG_TRUNC) != 0 ? copied + 1 : copied};
        }
        if (!interrupted()) return fail(io_error(fd, call, flags));
    }
}

/// recvfrom(2) on a datagram socket. MSG_TRUNC makes Linux report the datagram's real size, so a
/// datagram larger than the buffer is detected without a second call. Elsewhere recvmsg(2) says only that
/// it was cut (MSG_TRUNC in msg_flags): full_size is then one more than what was copied.
inline Result<DatagramSize> recv_from(native_handle fd, void* data, std::size_t size, sockaddr* from,
                                      socklen* from_size, int flags = 0) noexcept {
#if defined(NETLITE_SYS_LINUX)
    size = io_length(size);
    for (;;) {
        const ssize_t got = ::recvfrom(fd, data, size, flags | MSG_TRUNC, from, from_size);
        if (got >= 0) {
            const auto full = static_cast<std::size_t>(got);
            return DatagramSize{full < size ? full : size, full};
        }
        if (!interrupted()) return fail(io_error(fd, "recvfrom", flags));
    }
#else
    io_buffer buffer = make_io_buffer(data, io_length(size));
    return recv_datagram_message(fd, &buffer, 1, from, from_size, flags, "recvfrom");
#endif
}

/// sendmsg(2) of several buffers at once (writev semantics, but without SIGPIPE). At most max_io_buffers
/// buffers and max_io_bytes in all (see sys.hpp's to_iovecs).
inline Result<std::size_t> send_vectored(native_handle fd, io_buffer* buffers, std::size_t count) noexcept {
    msghdr message{};
    message.msg_iov = buffers;
    message.msg_iovlen = io_buffer_count(count);
    [[maybe_unused]] const SendGuard guard{};
    for (;;) {
        const ssize_t sent = ::sendmsg(fd, &message, no_signal);
        if (sent >= 0) return static_cast<std::size_t>(sent);
        if (!interrupted()) return fail(io_error(fd, "sendmsg"));
    }
}

/// recvmsg(2) into several buffers (readv semantics); limits as send_vectored's.
inline Result<std::size_t> recv_vectored(native_handle fd, io_buffer* buffers, std::size_t count) noexcept {
    msghdr message{};
    message.msg_iov = buffers;
    message.msg_iovlen = io_buffer_count(count);
    for (;;) {
        const ssize_t got = ::recvmsg(fd, &message, 0);
        if (got >= 0) return static_cast<std::size_t>(got);
        if (!interrupted()) return fail(io_error(fd, "recvmsg"));
    }
}

/// sendmsg(2) of one datagram gathered from `count` buffers (at most max_io_buffers) to `to` (null: the
/// connected peer), without SIGPIPE. `flags` may hold dont_wait. No buffers send an empty datagram.
inline Result<std::size_t> send_to_vectored(native_handle fd, io_buffer* buffers, std::size_t count,
                                            const sockaddr* to, socklen to_size, int flags = 0) noexcept {
    msghdr message{};
    message.msg_iov = count > 0 ? buffers : nullptr;
    message.msg_iovlen = io_buffer_count(count);
    message.msg_name = const_cast<sockaddr*>(to);
    message.msg_namelen = to != nullptr ? to_size : 0;
    [[maybe_unused]] const SendGuard guard{};
    for (;;) {
        const ssize_t sent = ::sendmsg(fd, &message, flags | no_signal);
        if (sent >= 0) return static_cast<std::size_t>(sent);
        if (!interrupted()) return fail(io_error(fd, "sendmsg", flags));
    }
}

/// recvmsg(2) of one datagram scattered over `count` buffers (at most max_io_buffers), and its sender
/// (`from` may be null). A datagram larger than the buffers is cut: MSG_TRUNC in msg_flags says so, and
/// full_size is then one more than what was copied. `flags` may hold dont_wait or peek.
inline Result<DatagramSize> recv_from_vectored(native_handle fd, io_buffer* buffers, std::size_t count,
                                               sockaddr* from, socklen* from_size, int flags = 0) noexcept {
    return recv_datagram_message(fd, buffers, count, from, from_size, flags, "recvmsg");
}

inline Result<void> shutdown(native_handle fd, int how) noexcept {
    if (::shutdown(fd, how) != 0) return fail(last_error("shutdown"));
    return {};
}

// --- addresses
// ----------------------------------------------------------------------------------------------

inline Result<void> local_name(native_handle fd, sockaddr* address, socklen* size) noexcept {
    if (::getsockname(fd, address, size) != 0) return fail(last_error("getsockname"));
    return {};
}

inline Result<void> peer_name(native_handle fd, sockaddr* address, socklen* size) noexcept {
    if (::getpeername(fd, address, size) != 0) return fail(last_error("getpeername"));
    return {};
}

// --- files (Unix-domain socket paths)
// -----------------------------------------------------------------------

/// True when `path` names an existing socket file (lstat(2); a symlink is not followed).
inline bool is_socket_file(const char* path) noexcept {
    struct stat info {};
    return ::lstat(path, &info) == 0 && S_ISSOCK(info.st_mode);
}

/// True when a non-blocking connect to the Unix socket at `address` is refused: nobody accepts there. A
/// live server with a full accept queue answers EAGAIN at once (alive) instead of blocking the caller.
inline bool nobody_listens(const sockaddr* address, socklen size) noexcept {
    const auto fd = open_socket(AF_UNIX, SOCK_STREAM);
    if (!fd) return false;
    if (!set_nonblocking(*fd, true)) {
        (void)close_fd(*fd);
        return false;
    }
    int result = -1;
    while ((result = ::connect(*fd, address, size)) != 0 && interrupted()) {
    }
    const bool refused = result != 0 && errno == ECONNREFUSED;
    (void)close_fd(*fd);
    return refused;
}

/// unlink(2). Errors: ENOENT, EACCES, ...
inline Result<void> remove_file(const char* path) noexcept {
    if (::unlink(path) != 0) return fail(last_error("unlink"));
    return {};
}

/// mkdtemp(3) on `pattern` (ending in XXXXXX, rewritten in place). Errors: EACCES, ENOSPC, ...
inline Result<void> make_temp_dir(char* pattern) noexcept {
    if (::mkdtemp(pattern) == nullptr) return fail(last_error("mkdtemp"));
    return {};
}

/// rmdir(2). Errors: ENOTEMPTY, ENOENT, ...
inline Result<void> remove_dir(const char* path) noexcept {
    if (::rmdir(path) != 0) return fail(last_error("rmdir"));
    return {};
}

/// if_nametoindex(3); 0 when there is no such interface.
inline unsigned interface_index(const char* name) noexcept {
    return ::if_nametoindex(name);
}

/// if_indextoname(3) into `name` (IF_NAMESIZE bytes); false when the index names no interface.
inline bool interface_name(unsigned index, char* name) noexcept {
    return ::if_indextoname(index, name) != nullptr;
}

/// getaddrinfo's codes that not every platform has, and the one that means "see errno" (EAI_SYSTEM); a
/// value getaddrinfo never returns stands in for a missing one.
#if defined(EAI_NODATA)
inline constexpr int resolve_no_data = EAI_NODATA;
#else
inline constexpr int resolve_no_data = -100001;
#endif
#if defined(EAI_ADDRFAMILY)
inline constexpr int resolve_address_family = EAI_ADDRFAMILY;
#else
inline constexpr int resolve_address_family = -100002;
#endif
inline constexpr int resolve_system = EAI_SYSTEM;

/// gai_strerror(3).
inline const char* resolve_message(int code) noexcept {
    return ::gai_strerror(code);
}

/// getaddrinfo(3), calling `visit(const sockaddr*, socklen)` for each result in the order given (or
/// `visit(address, size, canonical_name)`: AI_CANONNAME's answer with the first result, else null).
/// Returns the getaddrinfo code (0 on success) and leaves errno meaningful for EAI_SYSTEM.
template <class Visit>
inline int resolve(const char* host, const char* service, int family, int socktype, int flags,
                   Visit&& visit) {
    addrinfo hints{};
    hints.ai_family = family;
    hints.ai_socktype = socktype;
    hints.ai_flags = flags;
    addrinfo* list = nullptr;
    const int code = ::getaddrinfo(host, service, &hints, &list);
    if (code != 0) return code;
    const FreeOnExit<addrinfo, ::freeaddrinfo> release(list);
    for (const addrinfo* entry = list; entry != nullptr; entry = entry->ai_next) {
        if constexpr (std::is_invocable_v<Visit&, const sockaddr*, socklen, const char*>)
            visit(entry->ai_addr, entry->ai_addrlen, entry->ai_canonname);
        else
            visit(entry->ai_addr, entry->ai_addrlen);
    }
    return 0;
}

// --- batches and files
// ---------------------------------------------------------------------------------------

/// One message of a batch: the msghdr to send or fill and, afterwards, its length (mmsghdr's layout).
#if defined(NETLITE_SYS_LINUX)
using MultiMessage = ::mmsghdr;
#else
struct MultiMessage {
    msghdr msg_hdr;
    unsigned msg_len;
};
#endif

/// Points `message` at one buffer and, unless `name` is null, an address (to send to, or to receive into).
inline void prepare_message(MultiMessage& message, io_buffer* buffer, const sockaddr* name,
                            socklen name_size) noexcept {
    message = {};
    message.msg_hdr.msg_iov = buffer;
    message.msg_hdr.msg_iovlen = 1;
    if (name != nullptr) {
        message.msg_hdr.msg_name = const_cast<sockaddr*>(name);
        message.msg_hdr.msg_namelen = name_size;
    }
}
/// After recv_many: the bytes the message carried (at most its buffer), whether it was cut short, and
/// the size of the sender's address.
inline std::size_t message_length(const MultiMessage& message) noexcept {
    return message.msg_len;
}
inline bool message_truncated(const MultiMessage& message) noexcept {
    return (message.msg_hdr.msg_flags & MSG_TRUNC) != 0;
}
inline socklen message_name_size(const MultiMessage& message) noexcept {
    return message.msg_hdr.msg_namelen;
}

#if !defined(NETLITE_SYS_LINUX)
/// The sendmmsg/recvmmsg contract from one call per message: `call(index)` (a sendmsg or recvmsg, errno
/// set on failure) until all `count` moved or one fails; a failure after the first message ends the batch
/// (the next call reports it). Returns how many moved. Errors: the first message's (`first_flags` its flags).
template <class Call>
Result<std::size_t> message_by_message(native_handle fd, MultiMessage* messages, std::size_t count,
                                       const char* operation, int first_flags, Call call) noexcept {
    std::size_t done = 0;
    while (done < count) {
        const ssize_t moved = call(done);
        if (moved < 0) {
            if (interrupted()) continue;
            if (done > 0) break;
            return fail(io_error(fd, operation, first_flags));
        }
        messages[done++].msg_len = static_cast<unsigned>(moved);
    }
    return done;
}
#endif

/// sendmmsg(2) with MSG_NOSIGNAL: sends messages in order, returns how many went (>= 1). An error after
/// the first message ends the batch early; the error itself comes back from the next call.
/// Elsewhere a sendmsg(2) loop with the same contract.
inline Result<std::size_t> send_many(native_handle fd, MultiMessage* messages, std::size_t count,
                                     int flags = 0) noexcept {
#if defined(NETLITE_SYS_LINUX)
    for (;;) {
        const int sent = ::sendmmsg(fd, messages, static_cast<unsigned>(count), flags | no_signal);
        if (sent >= 0) return static_cast<std::size_t>(sent);
        if (!interrupted()) return fail(io_error(fd, "sendmmsg", flags));
    }
#else
    [[maybe_unused]] const SendGuard guard{};
    return message_by_message(fd, messages, count, "sendmsg", flags, [&](std::size_t done) {
        return ::sendmsg(fd, &messages[done].msg_hdr, flags | no_signal);
    });
#endif
}

/// recvmmsg(2): waits for one message (unless `dont_wait`), then takes those already queued, up to
/// `count`; returns how many arrived. Each msg_len is the bytes copied; MSG_TRUNC in msg_hdr.msg_flags
/// marks a message cut short. Elsewhere a recvmsg(2) loop with the same contract.
inline Result<std::size_t> recv_many(native_handle fd, MultiMessage* messages, std::size_t count,
                                     bool dont_wait = false) noexcept {
#if defined(NETLITE_SYS_LINUX)
    const int flags = dont_wait ? MSG_DONTWAIT : MSG_WAITFORONE;
    for (;;) {
        const int got = ::recvmmsg(fd, messages, static_cast<unsigned>(count), flags, nullptr);
        if (got >= 0) return static_cast<std::size_t>(got);
        if (!interrupted()) return fail(io_error(fd, "recvmmsg", flags));
    }
#else
    const int first_flags = dont_wait ? MSG_DONTWAIT : 0;
    return message_by_message(fd, messages, count, "recvmsg", first_flags, [&](std::size_t done) {
        return ::recvmsg(fd, &messages[done].msg_hdr, done > 0 ? MSG_DONTWAIT : first_flags);
    });
#endif
}

/// Sends up to `count` bytes of the file `in_fd` from `offset` to the socket `out_fd`; returns how many
/// went, 0 at end of file. Linux sendfile(2) (no copy through user space); elsewhere, or when the file
/// cannot be sent from (EINVAL, ENOSYS), pread(2) into a buffer and send(2) it.
inline Result<std::size_t> send_file(native_handle out_fd, file_handle in_fd, std::uint64_t offset,
                                     std::size_t count) noexcept {
    if (offset > static_cast<std::uint64_t>(INT64_MAX)) return fail(std::errc::invalid_argument, "sendfile");
#if defined(NETLITE_SYS_LINUX)
    ssize_t sent = -1;
    {
        const SigpipeBlocker blocker;  // sendfile has no MSG_NOSIGNAL
        do {
            off_t position = static_cast<off_t>(offset);
            sent = ::sendfile(out_fd, in_fd, &position, count);
        } while (sent < 0 && interrupted());
    }
    if (sent >= 0) return static_cast<std::size_t>(sent);
    if (errno != EINVAL && errno != ENOSYS) return fail(io_error(out_fd, "sendfile"));
        // this file cannot be sent from: copy it instead
#endif
    std::byte chunk[16 * 1024];
    ssize_t got = -1;
    do {
        got = ::pread(in_fd, chunk, count < sizeof chunk ? count : sizeof chunk, static_cast<off_t>(offset));
    } while (got < 0 && interrupted());
    if (got < 0) return fail(last_error("pread"));
    std::size_t done = 0;
    while (done < static_cast<std::size_t>(got)) {
        auto sent = send(out_fd, chunk + done, static_cast<std::size_t>(got) - done);
        if (!sent) {
            if (done > 0) break;  // report what went; the error comes back on the next call
            return fail(sent.error());
        }
        done += *sent;
    }
    return done;
}

// --- non-blocking attempts (try_read, try_write, try_accept, ...)
// -----------------------------------------------------------------------------

/// True when `fd` is ready for `events` right now (poll(2), zero timeout); POLLERR/POLLHUP count as ready.
inline Result<bool> ready_now(native_handle fd, short events, const char* operation) noexcept {
    pollfd entry{fd, events, 0};
    if (auto valid = refuse_empty(&entry, 1, operation); !valid) return fail(valid.error());
    for (;;) {
        const int ready = ::poll(&entry, 1, 0);
        if (ready >= 0) return ready > 0;
        if (!interrupted()) return fail(last_error(operation));
    }
}

// --- the poller's system calls (netlite/poll.hpp) -----------------------------------------------------

/// poll(2) with EINTR retried on the time left, as is a timeout before a deadline too far for one call.
inline Result<int> poll_for(poll_entry* entries, std::size_t count, Clock::time_point deadline) {
    if (!poll_count_fits(count)) return fail(std::errc::invalid_argument, "poll");
    for (;;) {
        const int ready = ::poll(entries, static_cast<nfds_t>(count), timeout_ms(deadline));
        if (ready == 0 && wait_goes_on(deadline)) continue;
        if (ready >= 0) return ready;
        if (!interrupted()) return fail(last_error("poll"));
    }
}

/// Empties a wake descriptor (an eventfd is read once; a pipe until it would block).
inline void drain(native_handle fd) noexcept {
    std::uint64_t sink[8];
    while (::read(fd, sink, sizeof sink) > 0) {
    }
}

/// The socket's identity behind a descriptor number (fstat: device and inode); not valid when it is closed.
struct FileId {
    dev_t device = 0;
    ino_t inode = 0;
    bool valid = false;
    friend bool operator==(const FileId&, const FileId&) = default;
};
inline FileId identity(native_handle fd) noexcept {
    struct stat info {};
    if (::fstat(fd, &info) != 0) return {};
    return FileId{info.st_dev, info.st_ino, true};
}

#if defined(NETLITE_HAS_EPOLL)
inline Result<int> epoll_open() noexcept {
    const native_handle fd = ::epoll_create1(EPOLL_CLOEXEC);
    if (fd < 0) return fail(last_error("epoll_create1"));
    return fd;
}

inline Result<void> epoll_control(int epoll_fd, int op, native_handle fd, std::uint32_t events,
                                  std::uint64_t token) noexcept {
    epoll_event event{};
    event.events = events;
    event.data.u64 = token;
    if (::epoll_ctl(epoll_fd, op, fd, &event) != 0) return fail(last_error("epoll_ctl"));
    return {};
}

/// epoll_wait(2) with EINTR retried on the time left (and a deadline too far for one call, as poll_for).
inline Result<int> epoll_wait_for(int epoll_fd, epoll_event* events, int capacity,
                                  Clock::time_point deadline) noexcept {
    for (;;) {
        const int ready = ::epoll_wait(epoll_fd, events, capacity, timeout_ms(deadline));
        if (ready == 0 && wait_goes_on(deadline)) continue;
        if (ready >= 0) return ready;
        if (!interrupted()) return fail(last_error("epoll_wait"));
    }
}
#endif

// --- more options (issue 21): each one a platform lacks is `unsupported_option` (operation_not_supported)
// ---------------------------------------------------------------------------------------------------

namespace more_option {
inline constexpr IntOption ip_tos{IPPROTO_IP, IP_TOS, "IP_TOS"};
inline constexpr IntOption ipv6_tclass{IPPROTO_IPV6, IPV6_TCLASS, "IPV6_TCLASS"};
#if defined(NETLITE_SYS_LINUX)
inline constexpr IntOption tcp_cork{IPPROTO_TCP, TCP_CORK, "TCP_CORK"};
#elif defined(TCP_NOPUSH)
inline constexpr IntOption tcp_cork{IPPROTO_TCP, TCP_NOPUSH, "TCP_NOPUSH"};
#else
inline constexpr IntOption tcp_cork{IPPROTO_TCP, unsupported_option, "TCP_CORK"};
#endif
#if defined(TCP_FASTOPEN)
inline constexpr IntOption tcp_fastopen{IPPROTO_TCP, TCP_FASTOPEN, "TCP_FASTOPEN"};
#else
inline constexpr IntOption tcp_fastopen{IPPROTO_TCP, unsupported_option, "TCP_FASTOPEN"};
#endif
// Linux only (the portable paths have no equivalent with the same meaning):
#if defined(NETLITE_SYS_LINUX)
inline constexpr IntOption tcp_user_timeout{IPPROTO_TCP, TCP_USER_TIMEOUT, "TCP_USER_TIMEOUT"};
inline constexpr IntOption tcp_quickack{IPPROTO_TCP, TCP_QUICKACK, "TCP_QUICKACK"};
#else
inline constexpr IntOption tcp_user_timeout{IPPROTO_TCP, unsupported_option, "TCP_USER_TIMEOUT"};
inline constexpr IntOption tcp_quickack{IPPROTO_TCP, unsupported_option, "TCP_QUICKACK"};
#endif
#if defined(NETLITE_SYS_LINUX) && defined(TCP_FASTOPEN_CONNECT)
inline constexpr IntOption tcp_fastopen_connect{IPPROTO_TCP, TCP_FASTOPEN_CONNECT, "TCP_FASTOPEN_CONNECT"};
#else
inline constexpr IntOption tcp_fastopen_connect{IPPROTO_TCP, unsupported_option, "TCP_FASTOPEN_CONNECT"};
#endif
}  // namespace more_option

/// The longest interface name bind_to_device takes, without its terminating NUL.
inline constexpr std::size_t max_device_name = IF_NAMESIZE - 1;

/// SO_BINDTODEVICE (Linux): `name` (NUL-terminated, at most max_device_name bytes; empty unbinds).
/// Errors: ENODEV, EPERM, operation_not_supported elsewhere.
inline Result<void> bind_to_device(native_handle fd, const char* name, std::size_t size) noexcept {
#if defined(NETLITE_SYS_LINUX)
    if (::setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, name, static_cast<socklen>(size)) != 0)
        return fail(last_error("SO_BINDTODEVICE"));
    return {};
#else
    (void)fd, (void)name, (void)size;
    return fail(std::errc::operation_not_supported, "SO_BINDTODEVICE");
#endif
}

/// The device SO_BINDTODEVICE bound to, into `name` (IF_NAMESIZE bytes); its length, 0 when none.
inline Result<std::size_t> bound_device(native_handle fd, char* name) noexcept {
#if defined(NETLITE_SYS_LINUX)
    socklen size = IF_NAMESIZE;
    if (::getsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, name, &size) != 0)
        return fail(last_error("SO_BINDTODEVICE"));
    return ::strnlen(name, size);
#else
    (void)fd, (void)name;
    return fail(std::errc::operation_not_supported, "SO_BINDTODEVICE");
#endif
}

/// TCP_INFO's round-trip time, retransmissions and congestion window (Linux). Errors: EBADF,
/// operation_not_supported elsewhere.
inline Result<TcpInfoFields> tcp_info(native_handle fd) noexcept {
#if defined(NETLITE_SYS_LINUX)
    auto info = get_option<::tcp_info>(fd, IPPROTO_TCP, TCP_INFO, "TCP_INFO");
    if (!info) return fail(info.error());
    return TcpInfoFields{std::chrono::microseconds(info->tcpi_rtt), info->tcpi_total_retrans,
                         std::uint64_t{info->tcpi_snd_cwnd} * info->tcpi_snd_mss};
#else
    (void)fd;
    return fail(std::errc::operation_not_supported, "TCP_INFO");
#endif
}

// --- per-datagram addresses (issue 21): IP_PKTINFO / IPV6_RECVPKTINFO
// ---------------------------------------------------------------------------------------------------

using DatagramDestination = DatagramDestinationOf<sockaddr_storage>;

/// Asks for each datagram's destination address and interface (IP_PKTINFO, or IP_RECVDSTADDR where there
/// is no IP_PKTINFO; IPV6_RECVPKTINFO). Errors: ENOPROTOOPT, EBADF.
inline Result<void> set_receive_destination(native_handle fd, bool v6, bool on) noexcept {
    const int value = on ? 1 : 0;
#if defined(IPV6_RECVPKTINFO)
    if (v6) return set_option(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, value, "IPV6_RECVPKTINFO");
#else
    if (v6) return fail(std::errc::operation_not_supported, "IPV6_RECVPKTINFO");
#endif
#if defined(IP_PKTINFO)
    return set_option(fd, IPPROTO_IP, IP_PKTINFO, value, "IP_PKTINFO");
#else
    return set_option(fd, IPPROTO_IP, IP_RECVDSTADDR, value, "IP_RECVDSTADDR");
#endif
}

/// Reads the destination record of a received message's control data into `destination`.
inline void read_destination(msghdr& message, DatagramDestination& destination) noexcept {
    destination = DatagramDestination{};
    for (cmsghdr* header = message.msg_controllen > 0 ? CMSG_FIRSTHDR(&message) : nullptr; header != nullptr;
         header = CMSG_NXTHDR(&message, header)) {
#if defined(IPV6_RECVPKTINFO)
        if (header->cmsg_level == IPPROTO_IPV6 && header->cmsg_type == IPV6_PKTINFO) {
            in6_pktinfo info{};
            std::memcpy(&info, CMSG_DATA(header), sizeof info);
            auto& address = reinterpret_cast<sockaddr_in6&>(destination.address);
            address.sin6_family = AF_INET6;
            address.sin6_addr = info.ipi6_addr;
            destination.interface_index = info.ipi6_ifindex;
            destination.known = true;
        }
#endif
#if defined(IP_PKTINFO)
        if (header->cmsg_level == IPPROTO_IP && header->cmsg_type == IP_PKTINFO) {
            in_pktinfo info{};
            std::memcpy(&info, CMSG_DATA(header), sizeof info);
            auto& address = reinterpret_cast<sockaddr_in&>(destination.address);
            address.sin_family = AF_INET;
            address.sin_addr = info.ipi_addr;
            destination.interface_index = static_cast<unsigned>(info.ipi_ifindex);
            destination.known = true;
        }
#else
        if (header->cmsg_level == IPPROTO_IP && header->cmsg_type == IP_RECVDSTADDR) {
            auto& address = reinterpret_cast<sockaddr_in&>(destination.address);
            address.sin_family = AF_INET;
            std::memcpy(&address.sin_addr, CMSG_DATA(header), sizeof address.sin_addr);
            destination.known = true;
        }
#endif
    }
}

/// recvmsg(2) of one datagram, its sender, and its destination record (see set_receive_destination).
/// Errors: as recv_from.
inline Result<DatagramSize> recv_with_destination(native_handle fd, void* data, std::size_t size,
                                                  sockaddr* from, socklen* from_size,
                                                  DatagramDestination& destination, int flags = 0) noexcept {
    alignas(cmsghdr) char control[256] = {};
    io_buffer buffer = make_io_buffer(data, size);
    msghdr message{};
    message.msg_iov = &buffer;
    message.msg_iovlen = 1;
    message.msg_name = from;
    message.msg_namelen = *from_size;
    message.msg_control = control;
    message.msg_controllen = sizeof control;
    for (;;) {
        const ssize_t got = ::recvmsg(fd, &message, flags);
        if (got >= 0) {
            *from_size = message.msg_namelen;
            read_destination(message, destination);
            const auto copied = static_cast<std::size_t>(got);
            return DatagramSize{copied, (message.msg_flags & MSG_TRUNC) != 0 ? copied + 1 : copied};
        }
        if (!interrupted()) return fail(io_error(fd, "recvmsg", flags));
    }
}

/// sendmsg(2) of one datagram to `to` from the local address `from` (its port ignored; the unspecified
/// address lets the kernel choose) and, where given, interface `interface_index`.
/// Errors: EINVAL (from is not this host's), EMSGSIZE, ENETUNREACH, operation_not_supported (IPv4 on a
/// system with neither IP_PKTINFO nor IP_SENDSRCADDR).
inline Result<std::size_t> send_from(native_handle fd, const void* data, std::size_t size, const sockaddr* to,
                                     socklen to_size, const sockaddr_storage& from, unsigned interface_index,
                                     int flags = 0) noexcept {
    alignas(cmsghdr) char control[128] = {};
    io_buffer buffer = make_io_buffer(data, size);
    msghdr message{};
    message.msg_iov = &buffer;
    message.msg_iovlen = 1;
    message.msg_name = const_cast<sockaddr*>(to);
    message.msg_namelen = to_size;
    message.msg_control = control;
    cmsghdr* header = nullptr;
    if (from.ss_family == AF_INET6) {
#if !defined(IPV6_RECVPKTINFO)
        return fail(std::errc::operation_not_supported, "sendmsg");
#else
        message.msg_controllen = CMSG_SPACE(sizeof(in6_pktinfo));
        header = CMSG_FIRSTHDR(&message);
        header->cmsg_level = IPPROTO_IPV6;
        header->cmsg_type = IPV6_PKTINFO;
        header->cmsg_len = CMSG_LEN(sizeof(in6_pktinfo));
        in6_pktinfo info{};
        info.ipi6_addr = reinterpret_cast<const sockaddr_in6&>(from).sin6_addr;
        info.ipi6_ifindex = interface_index;
        std::memcpy(CMSG_DATA(header), &info, sizeof info);
#endif
    } else {
#if defined(IP_PKTINFO)
        message.msg_controllen = CMSG_SPACE(sizeof(in_pktinfo));
        header = CMSG_FIRSTHDR(&message);
        header->cmsg_level = IPPROTO_IP;
        header->cmsg_type = IP_PKTINFO;
        header->cmsg_len = CMSG_LEN(sizeof(in_pktinfo));
        in_pktinfo info{};
        info.ipi_spec_dst = reinterpret_cast<const sockaddr_in&>(from).sin_addr;
        info.ipi_ifindex = static_cast<decltype(info.ipi_ifindex)>(interface_index);
        std::memcpy(CMSG_DATA(header), &info, sizeof info);
#elif defined(IP_SENDSRCADDR)
        message.msg_controllen = CMSG_SPACE(sizeof(in_addr));
        header = CMSG_FIRSTHDR(&message);
        header->cmsg_level = IPPROTO_IP;
        header->cmsg_type = IP_SENDSRCADDR;
        header->cmsg_len = CMSG_LEN(sizeof(in_addr));
        std::memcpy(CMSG_DATA(header), &reinterpret_cast<const sockaddr_in&>(from).sin_addr, sizeof(in_addr));
#else
        return fail(std::errc::operation_not_supported, "sendmsg");
#endif
    }
    [[maybe_unused]] const SendGuard guard{};
    for (;;) {
        const ssize_t sent = ::sendmsg(fd, &message, flags | no_signal);
        if (sent >= 0) return static_cast<std::size_t>(sent);
        if (!interrupted()) return fail(io_error(fd, "sendmsg", flags));
    }
}

}  // namespace netlite::detail::sys
