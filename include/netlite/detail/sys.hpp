// netlite/detail/sys.hpp - the only place netlite calls the operating system.
//
// Every wrapper here retries EINTR (recomputing what is left of a timeout), creates descriptors
// close-on-exec, sends with MSG_NOSIGNAL so a closed peer can never raise SIGPIPE, and turns errno into
// an Error naming the failed operation. Nothing above this layer touches errno or repeats these loops.
#pragma once

#include <netlite/result.hpp>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdlib>
#include <cstring>

#include <fcntl.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

namespace netlite::detail::sys {

using Clock = std::chrono::steady_clock;

/// The calling thread's errno as an Error for `operation`.
inline Error last_error(const char* operation) noexcept {
    return Error(std::error_code(errno, std::system_category()), operation);
}

inline bool interrupted() noexcept {
    return errno == EINTR;
}

/// True when the descriptor is in non-blocking mode (false also when it cannot be asked).
inline bool is_nonblocking(int fd) noexcept {
    const int flags = ::fcntl(fd, F_GETFL);
    return flags >= 0 && (flags & O_NONBLOCK) != 0;
}

/// Error for a failed I/O call: EAGAIN on a blocking socket means SO_RCVTIMEO/SO_SNDTIMEO expired.
inline Error io_error(int fd, const char* operation) noexcept {
    if ((errno == EAGAIN || errno == EWOULDBLOCK) && !is_nonblocking(fd))
        return Error(std::errc::timed_out, operation);
    return last_error(operation);
}

// --- descriptors
// --------------------------------------------------------------------------------------------

/// socket(2), close-on-exec. Errors: EAFNOSUPPORT, EMFILE, ENFILE, ENOBUFS, ...
inline Result<int> open_socket(int domain, int type, int protocol = 0) noexcept {
    const int fd = ::socket(domain, type | SOCK_CLOEXEC, protocol);
    if (fd < 0) return fail(last_error("socket"));
    return fd;
}

/// close(2). On Linux the descriptor is released even when close reports EINTR, so it is never retried.
inline Result<void> close_fd(int fd) noexcept {
    if (::close(fd) != 0 && errno != EINTR) return fail(last_error("close"));
    return {};
}

/// socketpair(2) of Unix-domain sockets, both close-on-exec.
inline Result<std::array<int, 2>> socket_pair(int type) noexcept {
    std::array<int, 2> fds{-1, -1};
    if (::socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, fds.data()) != 0) return fail(last_error("socketpair"));
    return fds;
}

/// fcntl(F_DUPFD_CLOEXEC): a second descriptor for the same socket.
inline Result<int> duplicate(int fd) noexcept {
    const int copy = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (copy < 0) return fail(last_error("dup"));
    return copy;
}

/// Switches O_NONBLOCK on or off.
inline Result<void> set_nonblocking(int fd, bool on) noexcept {
    const int flags = ::fcntl(fd, F_GETFL);
    if (flags < 0) return fail(last_error("fcntl"));
    const int wanted = on ? (flags | O_NONBLOCK) : (flags & ~O_NONBLOCK);
    if (wanted != flags && ::fcntl(fd, F_SETFL, wanted) != 0) return fail(last_error("fcntl"));
    return {};
}

/// Reads O_NONBLOCK.
inline Result<bool> nonblocking(int fd) noexcept {
    const int flags = ::fcntl(fd, F_GETFL);
    if (flags < 0) return fail(last_error("fcntl"));
    return (flags & O_NONBLOCK) != 0;
}

// --- options
// ------------------------------------------------------------------------------------------------

template <class T>
inline Result<void> set_option(int fd, int level, int name, const T& value, const char* operation) noexcept {
    if (::setsockopt(fd, level, name, &value, sizeof value) != 0) return fail(last_error(operation));
    return {};
}

template <class T>
inline Result<T> get_option(int fd, int level, int name, const char* operation) noexcept {
    T value{};
    socklen_t size = sizeof value;
    if (::getsockopt(fd, level, name, &value, &size) != 0) return fail(last_error(operation));
    return value;
}

// --- waiting
// ------------------------------------------------------------------------------------------------

/// Milliseconds left until `deadline`, rounded up so poll never wakes early; 0 once it has passed.
inline int remaining_ms(Clock::time_point deadline) noexcept {
    const auto left = deadline - Clock::now();
    if (left <= Clock::duration::zero()) return 0;
    const auto ms = std::chrono::ceil<std::chrono::milliseconds>(left).count();
    return ms > 0x7fffffff ? 0x7fffffff : static_cast<int>(ms);
}

/// poll(2) on one descriptor until `events` are ready or `deadline` passes (timed_out).
/// POLLERR/POLLHUP count as ready: the next call on the socket reports the reason.
inline Result<void> wait_until(int fd, short events, Clock::time_point deadline,
                               const char* operation) noexcept {
    for (;;) {
        pollfd entry{fd, events, 0};
        const int ready = ::poll(&entry, 1, remaining_ms(deadline));
        if (ready > 0) return {};
        if (ready == 0) return fail(std::errc::timed_out, operation);
        if (!interrupted()) return fail(last_error(operation));
    }
}

/// poll(2) without a deadline.
inline Result<void> wait_forever(int fd, short events, const char* operation) noexcept {
    for (;;) {
        pollfd entry{fd, events, 0};
        if (::poll(&entry, 1, -1) > 0) return {};
        if (!interrupted()) return fail(last_error(operation));
    }
}

// --- connection setup
// ---------------------------------------------------------------------------------------

inline Result<void> bind(int fd, const sockaddr* address, socklen_t size) noexcept {
    if (::bind(fd, address, size) != 0) return fail(last_error("bind"));
    return {};
}

inline Result<void> listen(int fd, int backlog) noexcept {
    if (::listen(fd, backlog) != 0) return fail(last_error("listen"));
    return {};
}

/// The outcome of a connect that went on in the background: SO_ERROR once the socket is writable.
inline Result<void> connect_result(int fd) noexcept {
    auto pending = get_option<int>(fd, SOL_SOCKET, SO_ERROR, "connect");
    if (!pending) return fail(pending.error());
    if (*pending != 0) return fail(Error(std::error_code(*pending, std::system_category()), "connect"));
    return {};
}

/// Blocking connect(2). A signal does not abort it: the kernel goes on connecting, so wait for the result.
inline Result<void> connect(int fd, const sockaddr* address, socklen_t size) noexcept {
    if (::connect(fd, address, size) == 0) return {};
    if (!interrupted()) return fail(last_error("connect"));
    if (auto ready = wait_forever(fd, POLLOUT, "connect"); !ready) return ready;
    return connect_result(fd);
}

/// connect(2) that gives up at `deadline` with timed_out; the socket's blocking mode is restored.
inline Result<void> connect_until(int fd, const sockaddr* address, socklen_t size,
                                  Clock::time_point deadline) noexcept {
    const bool was_nonblocking = is_nonblocking(fd);
    if (!was_nonblocking)
        if (auto set = set_nonblocking(fd, true); !set) return set;
    Result<void> outcome;
    if (::connect(fd, address, size) != 0) {
        if (errno == EINPROGRESS || interrupted()) {
            outcome = wait_until(fd, POLLOUT, deadline, "connect");
            if (outcome) outcome = connect_result(fd);
        } else {
            outcome = fail(last_error("connect"));
        }
    }
    if (!was_nonblocking)
        if (auto restored = set_nonblocking(fd, false); !restored && outcome) return restored;
    return outcome;
}

/// accept4(2), close-on-exec, retrying EINTR. `peer`/`size` receive the peer's address.
inline Result<int> accept(int fd, sockaddr* peer, socklen_t* size) noexcept {
    for (;;) {
        const int conn = ::accept4(fd, peer, size, SOCK_CLOEXEC);
        if (conn >= 0) return conn;
        if (!interrupted()) return fail(io_error(fd, "accept"));
    }
}

// --- data transfer
// ------------------------------------------------------------------------------------------

/// send(2) with MSG_NOSIGNAL: a closed peer gives EPIPE, never SIGPIPE.
inline Result<std::size_t> send(int fd, const void* data, std::size_t size, int flags = 0) noexcept {
    for (;;) {
        const ssize_t sent = ::send(fd, data, size, flags | MSG_NOSIGNAL);
        if (sent >= 0) return static_cast<std::size_t>(sent);
        if (!interrupted()) return fail(io_error(fd, "send"));
    }
}

/// recv(2); 0 means the peer closed its sending side (end of stream).
inline Result<std::size_t> recv(int fd, void* data, std::size_t size, int flags = 0) noexcept {
    for (;;) {
        const ssize_t got = ::recv(fd, data, size, flags);
        if (got >= 0) return static_cast<std::size_t>(got);
        if (!interrupted()) return fail(io_error(fd, "recv"));
    }
}

/// sendto(2) with MSG_NOSIGNAL.
inline Result<std::size_t> send_to(int fd, const void* data, std::size_t size, const sockaddr* to,
                                   socklen_t to_size, int flags = 0) noexcept {
    for (;;) {
        const ssize_t sent = ::sendto(fd, data, size, flags | MSG_NOSIGNAL, to, to_size);
        if (sent >= 0) return static_cast<std::size_t>(sent);
        if (!interrupted()) return fail(io_error(fd, "sendto"));
    }
}

/// A datagram received: bytes copied and the datagram's full size (larger when it was truncated).
struct Datagram {
    std::size_t copied;
    std::size_t full_size;
};

/// recvfrom(2) on a datagram socket. MSG_TRUNC makes Linux report the datagram's real size, so a
/// datagram larger than the buffer is detected without a second call.
inline Result<Datagram> recv_from(int fd, void* data, std::size_t size, sockaddr* from, socklen_t* from_size,
                                  int flags = 0) noexcept {
    for (;;) {
        const ssize_t got = ::recvfrom(fd, data, size, flags | MSG_TRUNC, from, from_size);
        if (got >= 0) {
            const auto full = static_cast<std::size_t>(got);
            return Datagram{full < size ? full : size, full};
        }
        if (!interrupted()) return fail(io_error(fd, "recvfrom"));
    }
}

/// sendmsg(2) of several buffers at once (writev semantics, but MSG_NOSIGNAL).
inline Result<std::size_t> send_vectored(int fd, iovec* buffers, std::size_t count) noexcept {
    msghdr message{};
    message.msg_iov = buffers;
    message.msg_iovlen = count;
    for (;;) {
        const ssize_t sent = ::sendmsg(fd, &message, MSG_NOSIGNAL);
        if (sent >= 0) return static_cast<std::size_t>(sent);
        if (!interrupted()) return fail(io_error(fd, "sendmsg"));
    }
}

/// recvmsg(2) into several buffers (readv semantics).
inline Result<std::size_t> recv_vectored(int fd, iovec* buffers, std::size_t count) noexcept {
    msghdr message{};
    message.msg_iov = buffers;
    message.msg_iovlen = count;
    for (;;) {
        const ssize_t got = ::recvmsg(fd, &message, 0);
        if (got >= 0) return static_cast<std::size_t>(got);
        if (!interrupted()) return fail(io_error(fd, "recvmsg"));
    }
}

inline Result<void> shutdown(int fd, int how) noexcept {
    if (::shutdown(fd, how) != 0) return fail(last_error("shutdown"));
    return {};
}

// --- addresses
// ----------------------------------------------------------------------------------------------

inline Result<void> local_name(int fd, sockaddr* address, socklen_t* size) noexcept {
    if (::getsockname(fd, address, size) != 0) return fail(last_error("getsockname"));
    return {};
}

inline Result<void> peer_name(int fd, sockaddr* address, socklen_t* size) noexcept {
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

/// gai_strerror(3).
inline const char* resolve_message(int code) noexcept {
    return ::gai_strerror(code);
}

/// getaddrinfo(3), calling `visit(const sockaddr*, socklen_t)` for each result in the order given.
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
    struct Release {  // frees the list even if `visit` throws (std::bad_alloc from a vector)
        addrinfo* list;
        ~Release() { ::freeaddrinfo(list); }
    } release{list};
    for (const addrinfo* entry = list; entry != nullptr; entry = entry->ai_next)
        visit(entry->ai_addr, entry->ai_addrlen);
    return 0;
}

}  // namespace netlite::detail::sys
