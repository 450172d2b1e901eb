// SPDX-License-Identifier: BSL-1.0
// netlite/detail/sys_winsock.hpp - netlite's calls into Winsock 2 (included through detail/sys.hpp).
//
// The same functions, with the same signatures and contracts, as sys_posix.hpp. What Winsock does
// differently is absorbed here, so the headers above never see it:
//   - WSAStartup runs lazily, once, from a function-local static (socket creation, name resolution);
//     never from a global object, and WSACleanup is left to process exit.
//   - WSAE* codes travel in winsock_category(), which maps them to std::errc, so
//     `error == std::errc::connection_refused` holds here as on POSIX.
//   - Sockets are created non-inheritable and overlapped (SO_RCVTIMEO needs it); no SIGPIPE exists.
//   - ioctlsocket(FIONBIO) cannot be read back, so netlite records which sockets it made non-blocking;
//     accept() clears the mode that accepted sockets inherit from their listener.
//   - A receive after shutdown(SD_RECEIVE) fails with WSAESHUTDOWN: reported as end of stream (0).
//   - A datagram larger than the buffer fails with WSAEMSGSIZE: reported as truncated.
//   - UDP sockets have SIO_UDP_CONNRESET off, so an ICMP port-unreachable cannot fail a later recvfrom.
//   - Waiting uses select(): it reports a peer's FIN as readable and a failed connect in the except set
//     (WSAPoll reports FIN as POLLHUP alone and, before Windows 10 2004, never a failed connect). The
//     Poller's WSAPoll gets the same FIN fix, and is never called with nothing to wait on.
//   - The wake-up of a cancellable wait is a connected pair of loopback UDP sockets: Winsock waits on
//     sockets only.
#pragma once

#if !defined(NOMINMAX)
#define NOMINMAX
#define NETLITE_DEFINED_NOMINMAX
#endif
#if !defined(WIN32_LEAN_AND_MEAN)
#define WIN32_LEAN_AND_MEAN
#define NETLITE_DEFINED_WIN32_LEAN_AND_MEAN
#endif
// clang-format off
#include <winsock2.h>
#include <ws2tcpip.h>
#include <mstcpip.h>
#include <mswsock.h>
#include <afunix.h>
#include <iphlpapi.h>
#include <windows.h>
#include <direct.h>
#include <io.h>
// clang-format on
#if defined(NETLITE_DEFINED_NOMINMAX)
#undef NOMINMAX
#undef NETLITE_DEFINED_NOMINMAX
#endif
#if defined(NETLITE_DEFINED_WIN32_LEAN_AND_MEAN)
#undef WIN32_LEAN_AND_MEAN
#undef NETLITE_DEFINED_WIN32_LEAN_AND_MEAN
#endif

#include <netlite/deadline.hpp>
#include <netlite/detail/sys_common.hpp>
#include <netlite/result.hpp>

#include <algorithm>
#include <array>
#include <cerrno>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <type_traits>
#include <unordered_set>
#include <utility>
#include <vector>

namespace netlite::detail::sys {

// --- the platform's vocabulary (the same names exist in every sys_*.hpp)
// ----------------------------------------------------------------

/// A socket as Winsock names it: SOCKET, an unsigned handle value.
using native_handle = ::SOCKET;
/// The value of no socket (INVALID_SOCKET, not -1).
inline constexpr native_handle invalid_handle = INVALID_SOCKET;
/// Where `fd` goes in a table keyed by socket (the coroutine loop's). A SOCKET is a kernel handle, and
/// kernel handle values are multiples of 4 (the low two bits are left to the application as tags): the
/// value / 4 keeps such a table as dense as the process's handle table instead of 3/4 empty.
inline std::size_t handle_index(native_handle fd) noexcept {
    return static_cast<std::size_t>(fd) >> 2;
}
/// An open file send_file() reads from: a C runtime descriptor (_open), as on POSIX.
using file_handle = int;
/// Sizes of socket addresses (Winsock's socklen_t is int).
using socklen = int;
/// What one send/recv returns: a count, or SOCKET_ERROR with WSAGetLastError() set.
using ssize = int;
/// One buffer of a vectored call. WSABUF holds the length first, then the pointer (iovec's reverse).
using io_buffer = ::WSABUF;
/// One entry of a poll set (WSAPOLLFD).
using poll_entry = ::WSAPOLLFD;

/// The readiness a poll waits for.
inline constexpr short poll_in = POLLIN;
inline constexpr short poll_out = POLLOUT;
/// Per-call flags for send/recv. Winsock has no MSG_DONTWAIT: netlite's own bit, never passed to
/// Winsock, asks for one non-blocking attempt (see dont_wait_call()).
inline constexpr int dont_wait = 0x40000000;
inline constexpr int peek = MSG_PEEK;
/// shutdown's directions.
inline constexpr int shut_read = SD_RECEIVE;
inline constexpr int shut_write = SD_SEND;
inline constexpr int shut_both = SD_BOTH;
/// Whether "@name" abstract Unix-domain names exist: not on Windows.
inline constexpr bool has_abstract_unix_names = false;
/// Records a Unix-domain address's length inside it where the system wants that: Windows does not.
inline void set_unix_length(sockaddr_un&, socklen) noexcept {}
/// listen's largest backlog.
inline constexpr int max_backlog = SOMAXCONN;

/// The most bytes one send/recv/WSASend/WSARecv is given: send and recv take an int length. A larger
/// request is split by the caller.
inline constexpr std::size_t max_io_bytes = INT_MAX;
/// The most buffers one WSASend/WSARecv is given (as IOV_MAX on POSIX; the count is a DWORD).
inline constexpr std::size_t max_io_buffers = 1024;

inline io_buffer make_io_buffer(const void* data, std::size_t size) noexcept {
    io_buffer buffer;
    buffer.len = static_cast<ULONG>(size < ULONG_MAX ? size : ULONG_MAX);
    buffer.buf = static_cast<CHAR*>(const_cast<void*>(data));
    return buffer;
}
inline std::size_t io_buffer_size(const io_buffer& buffer) noexcept {
    return buffer.len;
}

// --- errors
// -------------------------------------------------------------------------------------------------

/// WSAE* codes as the portable conditions POSIX's errno values give, so comparisons with std::errc
/// (and the messages) are the same on every platform. Codes without a POSIX twin keep Windows' text.
class winsock_category_impl final : public std::error_category {
public:
    const char* name() const noexcept override { return "winsock"; }

    std::string message(int code) const override {
        if (const char* text = portable_message(code)) return text;
        char buffer[256];
        DWORD size = ::FormatMessageA(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS, nullptr,
                                      static_cast<DWORD>(code), 0, buffer, sizeof buffer, nullptr);
        while (size > 0 && (buffer[size - 1] == '\n' || buffer[size - 1] == '\r' || buffer[size - 1] == '.'))
            --size;
        if (size == 0) return "Winsock error " + std::to_string(code);
        return std::string(buffer, size);
    }

    std::error_condition default_error_condition(int code) const noexcept override {
        if (const auto mapped = portable(code); mapped != std::errc{}) return mapped;
        return std::error_condition(code, *this);
    }

    /// Where POSIX has two names for one errno value (Linux, macOS and the BSDs: EAGAIN == EWOULDBLOCK),
    /// a WSAE* code matches both; mingw's <cerrno> gives them different values.
    bool equivalent(int code, const std::error_condition& condition) const noexcept override {
        if (code == WSAEWOULDBLOCK && condition == std::errc::resource_unavailable_try_again) return true;
        return default_error_condition(code) == condition;
    }

    /// The std::errc a WSAE* code stands for; std::errc{} when there is none.
    static std::errc portable(int code) noexcept {
        switch (code) {
            case WSAEINTR: return std::errc::interrupted;
            case WSAEBADF: return std::errc::bad_file_descriptor;
            case WSAEACCES: return std::errc::permission_denied;
            case WSAEFAULT: return std::errc::bad_address;
            case WSAEINVAL: return std::errc::invalid_argument;
            case WSAEMFILE: return std::errc::too_many_files_open;
            case WSAEWOULDBLOCK: return std::errc::operation_would_block;
            case WSAEINPROGRESS: return std::errc::operation_in_progress;
            case WSAEALREADY: return std::errc::connection_already_in_progress;
            case WSAENOTSOCK: return std::errc::not_a_socket;
            case WSAEDESTADDRREQ: return std::errc::destination_address_required;
            case WSAEMSGSIZE: return std::errc::message_size;
            case WSAEPROTOTYPE: return std::errc::wrong_protocol_type;
            case WSAENOPROTOOPT: return std::errc::no_protocol_option;
            case WSAEPROTONOSUPPORT: return std::errc::protocol_not_supported;
            case WSAESOCKTNOSUPPORT: return std::errc::not_supported;
            case WSAEOPNOTSUPP: return std::errc::operation_not_supported;
            case WSAEPFNOSUPPORT:
            case WSAEAFNOSUPPORT: return std::errc::address_family_not_supported;
            case WSAEADDRINUSE: return std::errc::address_in_use;
            case WSAEADDRNOTAVAIL: return std::errc::address_not_available;
            case WSAENETDOWN: return std::errc::network_down;
            case WSAENETUNREACH: return std::errc::network_unreachable;
            case WSAENETRESET: return std::errc::network_reset;
            case WSAECONNABORTED: return std::errc::connection_aborted;
            case WSAECONNRESET: return std::errc::connection_reset;
            case WSAENOBUFS: return std::errc::no_buffer_space;
            case WSAEISCONN: return std::errc::already_connected;
            case WSAENOTCONN: return std::errc::not_connected;
            case WSAESHUTDOWN: return std::errc::broken_pipe;  // a send after shutdown(SD_SEND): EPIPE
            case WSAETIMEDOUT: return std::errc::timed_out;
            case WSAECONNREFUSED: return std::errc::connection_refused;
            case WSAELOOP: return std::errc::too_many_symbolic_link_levels;
            case WSAENAMETOOLONG: return std::errc::filename_too_long;
            case WSAEHOSTDOWN:
            case WSAEHOSTUNREACH: return std::errc::host_unreachable;
            case WSAENOTEMPTY: return std::errc::directory_not_empty;
            case WSA_NOT_ENOUGH_MEMORY: return std::errc::not_enough_memory;
            case WSA_OPERATION_ABORTED: return std::errc::operation_canceled;
            default: return std::errc{};
        }
    }

private:
    // POSIX's wording for the codes that have a POSIX twin (mingw's strerror knows few of them).
    static const char* portable_message(int code) noexcept { return posix_wording(portable(code)); }
};

/// The category of Winsock's error codes (name "winsock").
inline const std::error_category& winsock_category() noexcept {
    static const winsock_category_impl instance;
    return instance;
}

/// The calling thread's WSAGetLastError() as an Error for `operation`.
inline Error last_error(const char* operation) noexcept {
    return Error(std::error_code(::WSAGetLastError(), winsock_category()), operation);
}

/// `code` (a WSAE* value, e.g. from SO_ERROR) as an error code that compares equal to its std::errc
/// (mingw's std::system_category does not map WSAE* codes).
inline std::error_code error_code_from(int code) noexcept {
    return std::error_code(code, winsock_category());
}

/// The calling thread's WSAGetLastError() after a call on `fd`. INVALID_SOCKET (an empty Socket) is EBADF,
/// as POSIX reports for -1, where Winsock says WSAENOTSOCK.
inline Error last_error(native_handle fd, const char* operation) noexcept {
    if (fd == INVALID_SOCKET) return Error(std::error_code(WSAEBADF, winsock_category()), operation);
    return last_error(operation);
}

/// `code` (a WSAE* value, e.g. from SO_ERROR) as an Error for `operation`.
inline Error error_from(int code, const char* operation) noexcept {
    return Error(error_code_from(code), operation);
}

/// Winsock calls are not interrupted by signals; WSAEINTR only follows WSACancelBlockingCall.
inline bool interrupted() noexcept {
    return false;
}

/// Starts Winsock 2.2 on first use: a function-local static, so it runs once, thread-safely, only in
/// programs that use sockets, and never in a DLL's loader lock. Returns 0 or WSAStartup's error.
inline int start_winsock() noexcept {
    static const int status = [] {
        WSADATA data;
        return ::WSAStartup(MAKEWORD(2, 2), &data);
    }();
    return status;
}

// --- descriptors
// --------------------------------------------------------------------------------------------

/// The sockets netlite switched to non-blocking: Winsock cannot report the mode (FIONBIO is write-only).
class NonBlockingSockets {
public:
    static NonBlockingSockets& instance() noexcept {
        static NonBlockingSockets sockets;
        return sockets;
    }
    bool contains(native_handle fd) noexcept {
        const std::lock_guard lock(mutex_);
        return sockets_.count(fd) != 0;
    }
    /// False only when memory ran out.
    bool set(native_handle fd, bool on) noexcept {
        const std::lock_guard lock(mutex_);
        if (!on) {
            sockets_.erase(fd);
            return true;
        }
#if defined(__cpp_exceptions)
        try {
            sockets_.insert(fd);
        } catch (...) {
            return false;
        }
#else
        sockets_.insert(fd);
#endif
        return true;
    }

private:
    std::mutex mutex_;
    std::unordered_set<native_handle> sockets_;
};

/// True when netlite put the socket in non-blocking mode.
inline bool is_nonblocking(native_handle fd) noexcept {
    return NonBlockingSockets::instance().contains(fd);
}

inline Result<void> set_mode(native_handle fd, bool nonblocking, const char* operation) noexcept {
    u_long on = nonblocking ? 1 : 0;
    if (::ioctlsocket(fd, FIONBIO, &on) != 0) return fail(last_error(fd, operation));
    return {};
}

/// Switches non-blocking mode on or off (ioctlsocket FIONBIO), and records it.
inline Result<void> set_nonblocking(native_handle fd, bool on) noexcept {
    if (auto set = set_mode(fd, on, "ioctlsocket"); !set) return set;
    if (!NonBlockingSockets::instance().set(fd, on)) {
        (void)set_mode(fd, false, "ioctlsocket");
        return fail(std::errc::not_enough_memory, "ioctlsocket");
    }
    return {};
}

/// The recorded non-blocking mode (Winsock cannot be asked).
inline Result<bool> nonblocking(native_handle fd) noexcept {
    if (fd == INVALID_SOCKET) return fail(error_from(WSAEBADF, "ioctlsocket"));
    return is_nonblocking(fd);
}

/// Error for a failed I/O call. A timeout set with SO_RCVTIMEO/SO_SNDTIMEO is WSAETIMEDOUT already,
/// so unlike POSIX, "would block" needs no translating.
inline Error io_error(native_handle fd, const char* operation, int = 0) noexcept {
    return last_error(fd, operation);
}

/// Turns off the report of an ICMP port-unreachable as WSAECONNRESET on the next recvfrom: on POSIX an
/// unconnected UDP socket never sees it, and a server must not fail because one client went away.
inline void stop_udp_connreset(native_handle fd) noexcept {
    BOOL report = FALSE;
    DWORD returned = 0;
    (void)::WSAIoctl(fd, SIO_UDP_CONNRESET, &report, sizeof report, nullptr, 0, &returned, nullptr, nullptr);
}

/// WSASocket's flags for every socket: not inheritable by child processes, and overlapped, as socket()
/// makes them: without WSA_FLAG_OVERLAPPED, SO_RCVTIMEO and SO_SNDTIMEO do not work.
inline constexpr DWORD socket_flags = WSA_FLAG_OVERLAPPED | WSA_FLAG_NO_HANDLE_INHERIT;

/// WSASocket, not inheritable by child processes. Errors: WSAEAFNOSUPPORT, WSAEMFILE, WSAENOBUFS, ...
inline Result<native_handle> open_socket(int domain, int type, int protocol = 0) noexcept {
    if (const int started = start_winsock(); started != 0) return fail(error_from(started, "WSAStartup"));
    const native_handle fd = ::WSASocketW(domain, type, protocol, nullptr, 0, socket_flags);
    if (fd == INVALID_SOCKET) return fail(last_error("socket"));
    if (type == SOCK_DGRAM && domain != AF_UNIX) stop_udp_connreset(fd);
    return fd;
}

/// closesocket.
inline Result<void> close_fd(native_handle fd) noexcept {
    NonBlockingSockets::instance().set(fd, false);
    if (::closesocket(fd) != 0) return fail(last_error(fd, "close"));
    return {};
}

/// Winsock has no socketpair: Unix-domain pairs are not supported (address_family_not_supported).
inline Result<std::array<native_handle, 2>> socket_pair(int) noexcept {
    return fail(std::errc::address_family_not_supported, "socketpair");
}

/// WSADuplicateSocket for this process: a second handle for the same socket, also not inheritable.
inline Result<native_handle> duplicate(native_handle fd) noexcept {
    WSAPROTOCOL_INFOW info{};
    if (::WSADuplicateSocketW(fd, ::GetCurrentProcessId(), &info) != 0) return fail(last_error(fd, "dup"));
    const native_handle copy =
        ::WSASocketW(FROM_PROTOCOL_INFO, FROM_PROTOCOL_INFO, FROM_PROTOCOL_INFO, &info, 0, socket_flags);
    if (copy == INVALID_SOCKET) return fail(last_error("dup"));
    if (is_nonblocking(fd) && !NonBlockingSockets::instance().set(copy, true)) {
        ::closesocket(copy);
        return fail(std::errc::not_enough_memory, "dup");
    }
    return copy;
}

// --- options
// ------------------------------------------------------------------------------------------------

template <class T>
inline Result<void> set_option(native_handle fd, int level, int name, const T& value,
                               const char* operation) noexcept {
    if (::setsockopt(fd, level, name, reinterpret_cast<const char*>(&value), sizeof value) != 0)
        return fail(last_error(fd, operation));
    return {};
}

template <class T>
inline Result<T> get_option(native_handle fd, int level, int name, const char* operation) noexcept {
    T value{};
    socklen size = sizeof value;
    if (::getsockopt(fd, level, name, reinterpret_cast<char*>(&value), &size) != 0)
        return fail(last_error(fd, operation));
    return value;
}

/// An integer (or boolean) socket option: its level, its name and the text errors carry. A name the
/// platform lacks is `unsupported_option`; setting or reading it fails with no_protocol_option.
struct IntOption {
    int level;
    int name;
    const char* text;
};
inline constexpr int unsupported_option = -1;

/// The integer options netlite's Socket offers, by platform-neutral names.
namespace option {
// SO_REUSEADDR on Windows lets another socket bind a port that is in use (and take its traffic); POSIX's
// meaning (rebind past TIME_WAIT) is Windows' default. Listeners use exclusive_address instead.
inline constexpr IntOption reuse_address{SOL_SOCKET, SO_REUSEADDR, "SO_REUSEADDR"};
inline constexpr IntOption exclusive_address{SOL_SOCKET, SO_EXCLUSIVEADDRUSE, "SO_EXCLUSIVEADDRUSE"};
inline constexpr IntOption reuse_port{SOL_SOCKET, unsupported_option, "SO_REUSEPORT"};
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

/// Sets up a listener's address use before bind: always SO_EXCLUSIVEADDRUSE. Windows' SO_REUSEADDR would
/// let another socket bind the live port and take its connections; the quick rebind it gives on POSIX
/// is Windows' behaviour without it. (Python's create_server makes the same choice.)
inline Result<void> claim_listen_address(native_handle fd, bool /*quick_rebind*/) noexcept {
    return set_int_option(fd, option::exclusive_address, 1);
}

// Windows 10 1709's per-socket keep-alive options (ws2ipdef.h; older SDKs and mingw-w64 lack the names).
inline constexpr int tcp_keepidle = 3;  // TCP_KEEPALIVE: seconds idle before the first probe
inline constexpr int tcp_keepcnt = 16;
inline constexpr int tcp_keepintvl = 17;
/// The probe count Windows uses when TCP_KEEPCNT cannot be set (fixed at 10 since Vista).
inline constexpr int default_keepalive_count = 10;

/// TCP keep-alive timing. The options of Windows 10 1709 when they exist; otherwise SIO_KEEPALIVE_VALS
/// (idle and interval in ms), which also turns keep-alive on and cannot change the count from 10.
inline Result<void> set_keepalive_timing(native_handle fd, const KeepAliveTiming& timing) noexcept {
    // What Linux refuses with EINVAL is refused here too, on either path (Windows' options or
    // SIO_KEEPALIVE_VALS).
    if (timing.idle <= 0) return fail(std::errc::invalid_argument, "TCP_KEEPIDLE");
    if (timing.interval <= 0) return fail(std::errc::invalid_argument, "TCP_KEEPINTVL");
    if (timing.count <= 0) return fail(std::errc::invalid_argument, "TCP_KEEPCNT");
    if (set_option(fd, IPPROTO_TCP, tcp_keepidle, timing.idle, "TCP_KEEPIDLE") &&
        set_option(fd, IPPROTO_TCP, tcp_keepintvl, timing.interval, "TCP_KEEPINTVL"))
        return set_option(fd, IPPROTO_TCP, tcp_keepcnt, timing.count, "TCP_KEEPCNT");
    // SIO_KEEPALIVE_VALS takes milliseconds in a 32-bit u_long: a longer time would wrap to a short one.
    constexpr int longest_seconds = static_cast<int>(ULONG_MAX / 1000u);
    if (timing.idle > longest_seconds) return fail(std::errc::invalid_argument, "TCP_KEEPIDLE");
    if (timing.interval > longest_seconds) return fail(std::errc::invalid_argument, "TCP_KEEPINTVL");
    tcp_keepalive values{};
    values.onoff = 1;
    values.keepalivetime = static_cast<u_long>(timing.idle) * 1000u;
    values.keepaliveinterval = static_cast<u_long>(timing.interval) * 1000u;
    DWORD returned = 0;
    if (::WSAIoctl(fd, SIO_KEEPALIVE_VALS, &values, sizeof values, nullptr, 0, &returned, nullptr, nullptr) !=
        0)
        return fail(last_error(fd, "SIO_KEEPALIVE_VALS"));
    if (timing.count != default_keepalive_count) return fail(std::errc::no_protocol_option, "TCP_KEEPCNT");
    return {};
}

/// Reads the timing back (Windows 10 1709 options; no_protocol_option where they do not exist).
inline Result<KeepAliveTiming> keepalive_timing(native_handle fd) noexcept {
    auto idle = get_option<int>(fd, IPPROTO_TCP, tcp_keepidle, "TCP_KEEPIDLE");
    auto interval = get_option<int>(fd, IPPROTO_TCP, tcp_keepintvl, "TCP_KEEPINTVL");
    auto count = get_option<int>(fd, IPPROTO_TCP, tcp_keepcnt, "TCP_KEEPCNT");
    if (!idle) return fail(idle.error());
    if (!interval) return fail(interval.error());
    if (!count) return fail(count.error());
    return KeepAliveTiming{*idle, *interval, *count};
}

/// The longest linger SO_LINGER holds (Winsock's linger::l_linger is a u_short); Socket::set_linger
/// clamps to it.
inline constexpr int max_linger_seconds = USHRT_MAX;

/// SO_LINGER in seconds (Winsock's linger holds u_shorts).
inline Result<void> set_linger(native_handle fd, const Linger& value) noexcept {
    if (value.seconds < 0 || value.seconds > USHRT_MAX) return fail(std::errc::invalid_argument, "SO_LINGER");
    ::linger native{};
    native.l_onoff = value.on ? 1 : 0;
    native.l_linger = static_cast<u_short>(value.seconds);
    return set_option(fd, SOL_SOCKET, SO_LINGER, native, "SO_LINGER");
}

inline Result<Linger> linger(native_handle fd) noexcept {
    auto native = get_option<::linger>(fd, SOL_SOCKET, SO_LINGER, "SO_LINGER");
    if (!native) return fail(native.error());
    return Linger{native->l_onoff != 0, native->l_linger};
}

/// SO_RCVTIMEO (`receive`) or SO_SNDTIMEO: a DWORD of milliseconds on Windows (zero means none), so the
/// timeout is rounded up to whole milliseconds.
inline Result<void> set_io_timeout(native_handle fd, bool receive,
                                   std::chrono::microseconds timeout) noexcept {
    const auto ms = std::chrono::ceil<std::chrono::milliseconds>(timeout).count();
    const DWORD value = ms > 0xfffffffe ? 0xfffffffe : static_cast<DWORD>(ms);
    return set_option(fd, SOL_SOCKET, receive ? SO_RCVTIMEO : SO_SNDTIMEO, value,
                      receive ? "SO_RCVTIMEO" : "SO_SNDTIMEO");
}

inline Result<std::chrono::microseconds> io_timeout(native_handle fd, bool receive) noexcept {
    auto value = get_option<DWORD>(fd, SOL_SOCKET, receive ? SO_RCVTIMEO : SO_SNDTIMEO,
                                   receive ? "SO_RCVTIMEO" : "SO_SNDTIMEO");
    if (!value) return fail(value.error());
    return std::chrono::milliseconds(*value);
}

/// The socket's address family, from SO_PROTOCOL_INFO (Winsock has no SO_DOMAIN).
inline Result<int> socket_domain(native_handle fd) noexcept {
    auto info = get_option<WSAPROTOCOL_INFOW>(fd, SOL_SOCKET, SO_PROTOCOL_INFOW, "SO_PROTOCOL_INFO");
    if (!info) return fail(info.error());
    return info->iAddressFamily;
}

/// Joins (or leaves) the multicast group in `storage` (a sockaddr_in or sockaddr_in6) on interface
/// `interface_index`; use sys.hpp's multicast_membership.
inline Result<void> multicast_group_option(native_handle fd, const sockaddr_storage& storage,
                                           unsigned interface_index, bool join) noexcept {
    const sockaddr* group = reinterpret_cast<const sockaddr*>(&storage);
    if (group->sa_family == AF_INET) {
        ip_mreq request{};
        request.imr_multiaddr = reinterpret_cast<const sockaddr_in*>(group)->sin_addr;
        // IP_ADD_MEMBERSHIP takes an interface index when it is written as 0.0.0.x (RFC 3678 style).
        request.imr_interface.s_addr = htonl(interface_index);
        return set_option(fd, IPPROTO_IP, join ? IP_ADD_MEMBERSHIP : IP_DROP_MEMBERSHIP, request,
                          join ? "IP_ADD_MEMBERSHIP" : "IP_DROP_MEMBERSHIP");
    }
    ipv6_mreq request{};
    request.ipv6mr_multiaddr = reinterpret_cast<const sockaddr_in6*>(group)->sin6_addr;
    request.ipv6mr_interface = interface_index;
    return set_option(fd, IPPROTO_IPV6, join ? IPV6_ADD_MEMBERSHIP : IPV6_DROP_MEMBERSHIP, request,
                      join ? "IPV6_JOIN_GROUP" : "IPV6_LEAVE_GROUP");
}

/// Joins (or leaves) the group in `group` receiving only what `source` sends (both sockaddr_in or both
/// sockaddr_in6) on interface `interface_index`; use sys.hpp's source_multicast_membership. IPv4:
/// IP_ADD_SOURCE_MEMBERSHIP with ip_mreq_source, the index written as 0.0.0.x as for IP_ADD_MEMBERSHIP;
/// IPv6: MCAST_JOIN_SOURCE_GROUP with group_source_req (Windows has no IPv6-specific source join).
/// Errors: EADDRNOTAVAIL, EINVAL, ENODEV, ENOPROTOOPT (a system without the option).
inline Result<void> source_multicast_option(native_handle fd, const sockaddr_storage& group,
                                            const sockaddr_storage& source, unsigned interface_index,
                                            bool join) noexcept {
    if (group.ss_family == AF_INET) {
        ip_mreq_source request{};
        request.imr_multiaddr = reinterpret_cast<const sockaddr_in&>(group).sin_addr;
        request.imr_sourceaddr = reinterpret_cast<const sockaddr_in&>(source).sin_addr;
        request.imr_interface.s_addr = htonl(interface_index);
        return set_option(fd, IPPROTO_IP, join ? IP_ADD_SOURCE_MEMBERSHIP : IP_DROP_SOURCE_MEMBERSHIP,
                          request, join ? "IP_ADD_SOURCE_MEMBERSHIP" : "IP_DROP_SOURCE_MEMBERSHIP");
    }
    group_source_req request{};
    request.gsr_interface = interface_index;
    std::memcpy(&request.gsr_group, &group, sizeof(sockaddr_in6));
    std::memcpy(&request.gsr_source, &source, sizeof(sockaddr_in6));
    return set_option(fd, IPPROTO_IPV6, join ? MCAST_JOIN_SOURCE_GROUP : MCAST_LEAVE_SOURCE_GROUP, request,
                      join ? "MCAST_JOIN_SOURCE_GROUP" : "MCAST_LEAVE_SOURCE_GROUP");
}

/// The interface IPv4 multicast is sent from, by index (0: the system picks); 0.0.0.x is an index.
inline Result<void> set_ipv4_multicast_interface(native_handle fd, unsigned interface_index) noexcept {
    const DWORD index = htonl(interface_index);
    return set_option(fd, IPPROTO_IP, IP_MULTICAST_IF, index, "IP_MULTICAST_IF");
}

// --- waiting
// ------------------------------------------------------------------------------------------------

/// Descriptors one WakeFd holds: the two sockets of its connected loopback UDP pair.
inline constexpr int wake_descriptors = 2;

/// A socket another thread can make readable to wake a wait: Winsock waits on sockets only, so a
/// loopback UDP socket connected to a second one, which signal() sends a byte from. Made per
/// cancellable wait, so cancellation needs no global state.
class WakeFd {
public:
    WakeFd() noexcept {
        if (const int started = start_winsock(); started != 0) {
            error_ = error_from(started, "WSAStartup");
            return;
        }
        read_fd_ = loopback_udp();
        write_fd_ = loopback_udp();
        sockaddr_in read_at{}, write_at{};
        int read_size = sizeof read_at, write_size = sizeof write_at;
        u_long on = 1;
        const bool ok = read_fd_ != INVALID_SOCKET && write_fd_ != INVALID_SOCKET &&
                        ::getsockname(read_fd_, reinterpret_cast<sockaddr*>(&read_at), &read_size) == 0 &&
                        ::getsockname(write_fd_, reinterpret_cast<sockaddr*>(&write_at), &write_size) == 0 &&
                        ::connect(read_fd_, reinterpret_cast<sockaddr*>(&write_at), write_size) == 0 &&
                        ::connect(write_fd_, reinterpret_cast<sockaddr*>(&read_at), read_size) == 0 &&
                        ::ioctlsocket(read_fd_, FIONBIO, &on) == 0 &&
                        ::ioctlsocket(write_fd_, FIONBIO, &on) == 0;
        if (!ok) {
            error_ = last_error("wake socket");
            close();
        }
    }
    WakeFd(WakeFd&& other) noexcept
        : read_fd_(std::exchange(other.read_fd_, INVALID_SOCKET)),
          write_fd_(std::exchange(other.write_fd_, INVALID_SOCKET)),
          error_(other.error_) {}
    WakeFd& operator=(WakeFd&& other) noexcept {
        if (this != &other) {
            close();
            read_fd_ = std::exchange(other.read_fd_, INVALID_SOCKET);
            write_fd_ = std::exchange(other.write_fd_, INVALID_SOCKET);
            error_ = other.error_;
        }
        return *this;
    }
    ~WakeFd() { close(); }
    bool ok() const noexcept { return read_fd_ != INVALID_SOCKET; }
    const Error& error() const noexcept { return error_; }
    native_handle fd() const noexcept { return read_fd_; }
    /// The socket signal() sends from; it moves with this WakeFd.
    native_handle signal_fd() const noexcept { return write_fd_; }
    /// Thread-safe: one send of one byte (a full queue already wakes the reader).
    void signal() const noexcept { signal(write_fd_); }
    static void signal(native_handle signal_fd) noexcept {
        const char one = 1;
        (void)::send(signal_fd, &one, 1, 0);
    }

private:
    static native_handle loopback_udp() noexcept {
        const native_handle fd = ::WSASocketW(AF_INET, SOCK_DGRAM, IPPROTO_UDP, nullptr, 0, socket_flags);
        if (fd == INVALID_SOCKET) return fd;
        stop_udp_connreset(fd);
        sockaddr_in any_port{};
        any_port.sin_family = AF_INET;
        any_port.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (::bind(fd, reinterpret_cast<sockaddr*>(&any_port), sizeof any_port) != 0) {
            const int error = ::WSAGetLastError();
            ::closesocket(fd);
            ::WSASetLastError(error);
            return INVALID_SOCKET;
        }
        return fd;
    }
    void close() noexcept {
        if (read_fd_ != INVALID_SOCKET) ::closesocket(std::exchange(read_fd_, INVALID_SOCKET));
        if (write_fd_ != INVALID_SOCKET) ::closesocket(std::exchange(write_fd_, INVALID_SOCKET));
    }

    native_handle read_fd_ = INVALID_SOCKET;
    native_handle write_fd_ = INVALID_SOCKET;
    Error error_{};
};

/// An fd_set with room for `N` sockets. Winsock's fd_set is a count and an array, and select() reads
/// fd_count entries, so a larger array of the same layout is what select() is given.
template <std::size_t N>
struct SocketSet {
    u_int fd_count = 0;
    SOCKET fd_array[N];
    void add(SOCKET fd) noexcept {
        for (u_int i = 0; i < fd_count; ++i)
            if (fd_array[i] == fd) return;
        fd_array[fd_count++] = fd;
    }
    bool contains(SOCKET fd) const noexcept {
        for (u_int i = 0; i < fd_count; ++i)
            if (fd_array[i] == fd) return true;
        return false;
    }
    fd_set* get() noexcept { return fd_count == 0 ? nullptr : reinterpret_cast<fd_set*>(this); }
};

/// Sleeps until `deadline` (Sleep, in steps short enough to keep a far deadline exact).
inline void sleep_until(Clock::time_point deadline) noexcept {
    for (int ms; (ms = timeout_ms(deadline)) != 0;) ::Sleep(ms < 0 ? INFINITE : static_cast<DWORD>(ms));
}

/// select() over `entries` (and `wake`, when it is not INVALID_SOCKET) until one is ready or `deadline`
/// passes; fills revents. select, not WSAPoll: it reports a peer's FIN as readable and a failed connect
/// in the except set on every Windows version. Returns how many entries are ready; 0 at the deadline.
inline Result<int> select_until(poll_entry* entries, std::size_t count, native_handle wake,
                                Clock::time_point deadline, bool& woken) noexcept {
    constexpr std::size_t capacity = max_wait_entries + 1;
    woken = false;
    if (count + (wake != INVALID_SOCKET ? 1 : 0) > capacity)
        return fail(std::errc::invalid_argument, "select");
    for (;;) {
        SocketSet<capacity> readable, writable, failed;
        for (std::size_t i = 0; i < count; ++i) {
            entries[i].revents = 0;
            if (static_cast<std::intptr_t>(entries[i].fd) < 0) continue;  // skipped, as poll(2) does
            if (entries[i].events & POLLIN) readable.add(entries[i].fd);
            if (entries[i].events & POLLOUT) writable.add(entries[i].fd);
            failed.add(entries[i].fd);
        }
        if (wake != INVALID_SOCKET) readable.add(wake);
        if (readable.fd_count + writable.fd_count + failed.fd_count == 0) {  // select rejects empty sets
            sleep_until(deadline);
            return 0;
        }
        const int ms = timeout_ms(deadline);
        timeval timeout{ms / 1000, (ms % 1000) * 1000};
        const int ready =
            ::select(0, readable.get(), writable.get(), failed.get(), ms < 0 ? nullptr : &timeout);
        if (ready == SOCKET_ERROR) return fail(last_error("select"));
        if (ready == 0) {
            if (ms < 0 || Clock::now() < deadline) continue;  // woke early: the millisecond was rounded
            return 0;
        }
        woken = wake != INVALID_SOCKET && readable.contains(wake);
        int entries_ready = 0;
        for (std::size_t i = 0; i < count; ++i) {
            const SOCKET fd = entries[i].fd;
            short revents = 0;
            if ((entries[i].events & POLLIN) && readable.contains(fd)) revents |= POLLIN;
            if ((entries[i].events & POLLOUT) && writable.contains(fd)) revents |= POLLOUT;
            if (failed.contains(fd)) revents |= POLLERR;
            entries[i].revents = revents;
            if (revents != 0) ++entries_ready;
        }
        return entries_ready;
    }
}

/// select_until() under the name sys.hpp's poll_until is built on; errors are named `operation`.
/// Errors: the OS's; EINVAL for more than max_wait_entries.
inline Result<int> wait_entries(poll_entry* entries, std::size_t count, native_handle wake,
                                Clock::time_point deadline, bool& woken, const char* operation) noexcept {
    woken = false;
    if (count > max_wait_entries) return fail(std::errc::invalid_argument, operation);
    auto ready = select_until(entries, count, wake, deadline, woken);
    if (!ready) return fail(Error(ready.error().code(), operation));
    return ready;
}

// --- process limits
// -----------------------------------------------------------------------------------------------------

/// Windows has no per-process limit on open sockets like RLIMIT_NOFILE (handles run out far later):
/// both limits read as unlimited, the largest value.
inline Result<std::array<std::uint64_t, 2>> descriptor_limits() noexcept {
    constexpr auto unlimited = ~std::uint64_t{0};
    return std::array<std::uint64_t, 2>{unlimited, unlimited};
}

/// Nothing to raise on Windows.
inline Result<void> raise_descriptor_limit() noexcept {
    return {};
}

/// Runs `call()` (a Winsock call returning SOCKET_ERROR on failure) as one non-blocking attempt: on a
/// socket netlite has not made non-blocking, the mode is switched on around the call (Winsock has no
/// MSG_DONTWAIT). Another thread's blocking call on the same socket during the switch sees
/// WSAEWOULDBLOCK; netlite's timed calls on one socket from two threads are not supported there.
template <class Call>
inline auto dont_wait_call(native_handle fd, Call&& call) noexcept -> decltype(call()) {
    if (is_nonblocking(fd)) return call();
    if (!set_mode(fd, true, "ioctlsocket")) return call();  // the error repeats on the call itself
    const auto result = call();
    const int error = ::WSAGetLastError();
    (void)set_mode(fd, false, "ioctlsocket");
    ::WSASetLastError(error);
    return result;
}

// --- connection setup
// ---------------------------------------------------------------------------------------

inline Result<void> bind(native_handle fd, const sockaddr* address, socklen size) noexcept {
    if (::bind(fd, address, size) != 0) return fail(last_error(fd, "bind"));
    return {};
}

inline Result<void> listen(native_handle fd, int backlog) noexcept {
    if (::listen(fd, backlog) != 0) return fail(last_error(fd, "listen"));
    return {};
}

/// The outcome of a connect that went on in the background: SO_ERROR once select saw it finish.
inline Result<void> connect_result(native_handle fd) noexcept {
    auto pending = get_option<int>(fd, SOL_SOCKET, SO_ERROR, "connect");
    if (!pending) return fail(pending.error());
    if (*pending != 0) return fail(error_from(*pending, "connect"));
    return {};
}

/// Blocking connect. (A blocking connect to a closed port on real Windows takes about 2 s: the SYN is
/// retried before the refusal is believed.)
inline Result<void> connect(native_handle fd, const sockaddr* address, socklen size) noexcept {
    if (::connect(fd, address, size) == 0) return {};
    return fail(last_error(fd, "connect"));
}

/// Defined in sys.hpp: waits for a connect started in the background and confirms it (connect_finished).
inline Result<void> connect_wait(native_handle fd, const sockaddr* address, socklen size, const Until& until);

/// connect within `until` (timed_out, operation_canceled); the socket's blocking mode is restored.
inline Result<void> connect_until(native_handle fd, const sockaddr* address, socklen size,
                                  const Until& until) {
    if (until.stop_requested()) return fail(std::errc::operation_canceled, "connect");
    const bool was_nonblocking = is_nonblocking(fd);
    if (!was_nonblocking)
        if (auto set = set_mode(fd, true, "ioctlsocket"); !set) return set;
    Result<void> outcome;
    if (::connect(fd, address, size) != 0) {
        if (::WSAGetLastError() == WSAEWOULDBLOCK) {
            outcome = connect_wait(fd, address, size, until);  // select: a failure shows in the except set
        } else {
            outcome = fail(last_error(fd, "connect"));
        }
    }
    if (!was_nonblocking)
        if (auto restored = set_mode(fd, false, "ioctlsocket"); !restored && outcome) return restored;
    return outcome;
}

/// Starts a connect on a non-blocking socket: true when it connected at once, false when it goes on in
/// the background (wait until writable, then connect_result()). Errors: connect's (WSAECONNREFUSED, ...).
inline Result<bool> connect_start(native_handle fd, const sockaddr* address, socklen size) noexcept {
    if (::connect(fd, address, size) == 0) return true;
    if (::WSAGetLastError() == WSAEWOULDBLOCK) return false;
    return fail(last_error(fd, "connect"));
}

/// accept. The new socket is made non-inheritable and blocking: Winsock gives it the listener's
/// non-blocking mode, which netlite's accept (like accept4 without SOCK_NONBLOCK) does not pass on.
inline Result<native_handle> accept(native_handle fd, sockaddr* peer, socklen* size) noexcept {
    const native_handle conn = ::accept(fd, peer, size);
    if (conn == INVALID_SOCKET) return fail(last_error(fd, "accept"));
    ::SetHandleInformation(reinterpret_cast<HANDLE>(conn), HANDLE_FLAG_INHERIT, 0);
    if (is_nonblocking(fd))
        if (auto cleared = set_mode(conn, false, "accept"); !cleared) {
            ::closesocket(conn);
            return fail(cleared.error());
        }
    return conn;
}

// --- data transfer
// ------------------------------------------------------------------------------------------

inline int clamp_int(std::size_t size) noexcept {
    return size < static_cast<std::size_t>(INT_MAX) ? static_cast<int>(size) : INT_MAX;
}

/// The error of a failed send on `fd`. A datagram socket with no peer is EDESTADDRREQ, as on POSIX:
/// Windows says WSAENOTCONN there and wine WSAEINVAL, codes that mean other things elsewhere.
inline Error send_error(native_handle fd, const char* operation) noexcept {
    const int code = ::WSAGetLastError();
    if (code == WSAENOTCONN || code == WSAEINVAL) {
        int type = 0;
        int type_size = sizeof type;
        sockaddr_storage peer{};
        int peer_size = sizeof peer;
        if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, reinterpret_cast<char*>(&type), &type_size) == 0 &&
            type == SOCK_DGRAM && ::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &peer_size) != 0)
            return error_from(WSAEDESTADDRREQ, operation);
    }
    if (fd == INVALID_SOCKET) return error_from(WSAEBADF, operation);
    return error_from(code, operation);
}

/// send (Windows has no SIGPIPE). `flags` may hold dont_wait. Errors: as POSIX's, EDESTADDRREQ included.
inline Result<std::size_t> send(native_handle fd, const void* data, std::size_t size,
                                int flags = 0) noexcept {
    const auto call = [&] {
        return ::send(fd, static_cast<const char*>(data), clamp_int(size), flags & ~dont_wait);
    };
    const int sent = (flags & dont_wait) ? dont_wait_call(fd, call) : call();
    if (sent >= 0) return static_cast<std::size_t>(sent);
    return fail(send_error(fd, "send"));
}

/// recv; 0 means the peer closed its sending side (end of stream), and so does WSAESHUTDOWN after our
/// own shutdown(SD_RECEIVE), as on POSIX.
inline Result<std::size_t> recv(native_handle fd, void* data, std::size_t size, int flags = 0) noexcept {
    const auto call = [&] {
        return ::recv(fd, static_cast<char*>(data), clamp_int(size), flags & ~dont_wait);
    };
    const int got = (flags & dont_wait) ? dont_wait_call(fd, call) : call();
    if (got >= 0) return static_cast<std::size_t>(got);
    if (::WSAGetLastError() == WSAESHUTDOWN) return std::size_t{0};
    return fail(last_error(fd, "recv"));
}

/// One send and no retry: the inline first try of a hot loop. After SOCKET_ERROR, pass the result to
/// send_finish().
inline ssize send_once(native_handle fd, const void* data, std::size_t size) noexcept {
    return ::send(fd, static_cast<const char*>(data), clamp_int(size), 0);
}
/// One recv and no retry (see recv_finish()).
inline ssize recv_once(native_handle fd, void* data, std::size_t size) noexcept {
    return ::recv(fd, static_cast<char*>(data), clamp_int(size), 0);
}
/// What send() would have returned, given send_once()'s `first` result.
inline Result<std::size_t> send_finish(native_handle fd, ssize first, const void*, std::size_t) noexcept {
    if (first >= 0) return static_cast<std::size_t>(first);
    return fail(send_error(fd, "send"));
}
/// What recv() would have returned, given recv_once()'s `first` result.
inline Result<std::size_t> recv_finish(native_handle fd, ssize first, void*, std::size_t) noexcept {
    if (first >= 0) return static_cast<std::size_t>(first);
    if (::WSAGetLastError() == WSAESHUTDOWN) return std::size_t{0};
    return fail(last_error(fd, "recv"));
}

/// sendto. `flags` may hold dont_wait.
inline Result<std::size_t> send_to(native_handle fd, const void* data, std::size_t size, const sockaddr* to,
                                   socklen to_size, int flags = 0) noexcept {
    const auto call = [&] {
        return ::sendto(fd, static_cast<const char*>(data), clamp_int(size), flags & ~dont_wait, to, to_size);
    };
    const int sent = (flags & dont_wait) ? dont_wait_call(fd, call) : call();
    if (sent >= 0) return static_cast<std::size_t>(sent);
    return fail(last_error(fd, "sendto"));
}

/// recvfrom on a datagram socket. Winsock fails a datagram larger than the buffer with WSAEMSGSIZE after
/// filling the buffer and discarding the rest; its real size is unknown, so full_size is one more than
/// was copied. `from` may be null (a connected socket's recv).
inline Result<DatagramSize> recv_from(native_handle fd, void* data, std::size_t size, sockaddr* from,
                                      socklen* from_size, int flags = 0) noexcept {
    const int length = clamp_int(size);
    const auto call = [&] {
        return ::recvfrom(fd, static_cast<char*>(data), length, flags & ~dont_wait, from, from_size);
    };
    const int got = (flags & dont_wait) ? dont_wait_call(fd, call) : call();
    if (got >= 0) return DatagramSize{static_cast<std::size_t>(got), static_cast<std::size_t>(got)};
    if (::WSAGetLastError() == WSAEMSGSIZE)
        return DatagramSize{static_cast<std::size_t>(length), static_cast<std::size_t>(length) + 1};
    return fail(last_error(fd, "recvfrom"));
}

/// WSASend of several buffers at once (writev semantics).
inline Result<std::size_t> send_vectored(native_handle fd, io_buffer* buffers, std::size_t count) noexcept {
    DWORD sent = 0;
    const DWORD buffer_count = static_cast<DWORD>(count < max_io_buffers ? count : max_io_buffers);
    if (::WSASend(fd, buffers, buffer_count, &sent, 0, nullptr, nullptr) != 0)
        return fail(send_error(fd, "WSASend"));
    return static_cast<std::size_t>(sent);
}

/// WSARecv into several buffers (readv semantics); WSAESHUTDOWN is end of stream.
inline Result<std::size_t> recv_vectored(native_handle fd, io_buffer* buffers, std::size_t count) noexcept {
    DWORD got = 0;
    DWORD flags = 0;
    const DWORD buffer_count = static_cast<DWORD>(count < max_io_buffers ? count : max_io_buffers);
    if (::WSARecv(fd, buffers, buffer_count, &got, &flags, nullptr, nullptr) != 0) {
        if (::WSAGetLastError() == WSAESHUTDOWN) return std::size_t{0};
        return fail(last_error(fd, "WSARecv"));
    }
    return static_cast<std::size_t>(got);
}

/// WSASendTo of one datagram gathered from `count` buffers (at most max_io_buffers) to `to` (null: the
/// connected peer). `flags` may hold dont_wait. No buffers send an empty datagram (Winsock is given one
/// empty buffer: it wants at least one).
inline Result<std::size_t> send_to_vectored(native_handle fd, io_buffer* buffers, std::size_t count,
                                            const sockaddr* to, socklen to_size, int flags = 0) noexcept {
    io_buffer none = make_io_buffer(nullptr, 0);
    const DWORD buffer_count =
        count == 0 ? 1 : static_cast<DWORD>(count < max_io_buffers ? count : max_io_buffers);
    DWORD sent = 0;
    const auto call = [&] {
        return ::WSASendTo(fd, count == 0 ? &none : buffers, buffer_count, &sent,
                           static_cast<DWORD>(flags & ~dont_wait), to, to != nullptr ? to_size : 0, nullptr,
                           nullptr);
    };
    const int result = (flags & dont_wait) ? dont_wait_call(fd, call) : call();
    if (result != 0) return fail(last_error(fd, "WSASendTo"));
    return static_cast<std::size_t>(sent);
}

/// WSARecvFrom of one datagram scattered over `count` buffers (at most max_io_buffers), and its sender
/// (`from` may be null). A datagram larger than the buffers fails with WSAEMSGSIZE after filling them
/// all: reported as cut, full_size one more than what was copied. `flags` may hold dont_wait or peek.
inline Result<DatagramSize> recv_from_vectored(native_handle fd, io_buffer* buffers, std::size_t count,
                                               sockaddr* from, socklen* from_size, int flags = 0) noexcept {
    io_buffer none = make_io_buffer(nullptr, 0);
    io_buffer* list = count == 0 ? &none : buffers;
    const DWORD buffer_count =
        count == 0 ? 1 : static_cast<DWORD>(count < max_io_buffers ? count : max_io_buffers);
    DWORD got = 0;
    DWORD call_flags = static_cast<DWORD>(flags & ~dont_wait);
    const auto call = [&] {
        return ::WSARecvFrom(fd, list, buffer_count, &got, &call_flags, from, from_size, nullptr, nullptr);
    };
    const int result = (flags & dont_wait) ? dont_wait_call(fd, call) : call();
    if (result == 0) return DatagramSize{static_cast<std::size_t>(got), static_cast<std::size_t>(got)};
    if (::WSAGetLastError() == WSAEMSGSIZE) {
        std::size_t room = 0;
        for (DWORD i = 0; i < buffer_count; ++i) room += list[i].len;
        return DatagramSize{room, room + 1};
    }
    return fail(last_error(fd, "WSARecvFrom"));
}

inline Result<void> shutdown(native_handle fd, int how) noexcept {
    if (::shutdown(fd, how) != 0) return fail(last_error(fd, "shutdown"));
    return {};
}

// --- addresses
// ----------------------------------------------------------------------------------------------

/// getsockname. An unbound socket, where POSIX gives the unspecified address and port 0, is WSAEINVAL
/// on Windows: it is given the same answer.
inline Result<void> local_name(native_handle fd, sockaddr* address, socklen* size) noexcept {
    if (::getsockname(fd, address, size) == 0) return {};
    if (::WSAGetLastError() != WSAEINVAL) return fail(last_error(fd, "getsockname"));
    const auto unbound = [&](auto unspecified) -> Result<void> {
        if (*size < static_cast<socklen>(sizeof unspecified))
            return fail(std::errc::invalid_argument, "getsockname");
        std::memcpy(address, &unspecified, sizeof unspecified);
        *size = sizeof unspecified;
        return {};
    };
    auto domain = socket_domain(fd);
    if (domain && *domain == AF_INET) return unbound(sockaddr_in{AF_INET, 0, {}, {}});
    if (domain && *domain == AF_INET6) return unbound(sockaddr_in6{AF_INET6, 0, 0, {}, {}});
    ::WSASetLastError(WSAEINVAL);
    return fail(last_error(fd, "getsockname"));
}

inline Result<void> peer_name(native_handle fd, sockaddr* address, socklen* size) noexcept {
    if (::getpeername(fd, address, size) != 0) return fail(last_error(fd, "getpeername"));
    return {};
}

// --- files (Unix-domain socket paths)
// -----------------------------------------------------------------------

/// The C runtime's errno as an Error for `operation` (the file calls below are the CRT's).
inline Error errno_error(const char* operation) noexcept {
    return Error(std::error_code(errno, std::generic_category()), operation);
}

/// True when `path` names a Unix-domain socket file: Windows marks them as reparse points
/// (IO_REPARSE_TAG_AF_UNIX); a plain file or directory is not one.
inline bool is_socket_file(const char* path) noexcept {
    WIN32_FIND_DATAA data{};
    const HANDLE found = ::FindFirstFileA(path, &data);
    if (found == INVALID_HANDLE_VALUE) return false;
    ::FindClose(found);
    constexpr DWORD af_unix_tag = 0x80000023;  // IO_REPARSE_TAG_AF_UNIX
    return (data.dwFileAttributes & FILE_ATTRIBUTE_REPARSE_POINT) != 0 && data.dwReserved0 == af_unix_tag;
}

/// True when a connect to the Unix socket at `address` is refused: nobody accepts there.
inline bool nobody_listens(const sockaddr* address, socklen size) noexcept {
    const auto fd = open_socket(AF_UNIX, SOCK_STREAM);
    if (!fd) return false;
    const bool refused = ::connect(*fd, address, size) != 0 && ::WSAGetLastError() == WSAECONNREFUSED;
    (void)close_fd(*fd);
    return refused;
}

/// _unlink. Errors: ENOENT, EACCES, ...
inline Result<void> remove_file(const char* path) noexcept {
    if (::_unlink(path) != 0) return fail(errno_error("unlink"));
    return {};
}

/// Makes a new directory from `pattern` (ending in XXXXXX, rewritten in place), like mkdtemp(3).
inline Result<void> make_temp_dir(char* pattern) noexcept {
    const std::size_t length = std::strlen(pattern) + 1;
    for (int attempt = 0; attempt < 100; ++attempt) {
        char candidate[MAX_PATH];
        if (length > sizeof candidate) return fail(std::errc::filename_too_long, "mkdtemp");
        std::memcpy(candidate, pattern, length);
        if (::_mktemp_s(candidate, length) != 0) return fail(errno_error("mkdtemp"));
        if (::_mkdir(candidate) == 0) {
            std::memcpy(pattern, candidate, length);
            return {};
        }
        if (errno != EEXIST) return fail(errno_error("mkdtemp"));
    }
    return fail(std::errc::file_exists, "mkdtemp");
}

/// _rmdir. Errors: ENOTEMPTY, ENOENT, ...
inline Result<void> remove_dir(const char* path) noexcept {
    if (::_rmdir(path) != 0) return fail(errno_error("rmdir"));
    return {};
}

/// if_nametoindex (iphlpapi); 0 when there is no such interface.
inline unsigned interface_index(const char* name) noexcept {
    return ::if_nametoindex(name);
}

/// if_indextoname into `name` (IF_NAMESIZE bytes); false when the index names no interface.
inline bool interface_name(unsigned index, char* name) noexcept {
    return ::if_indextoname(index, name) != nullptr;
}

/// getaddrinfo's codes that Windows lacks; a value getaddrinfo never returns stands in for each.
/// (Windows' EAI_NODATA is WSANO_DATA, distinct from EAI_NONAME.)
inline constexpr int resolve_no_data = EAI_NODATA;
inline constexpr int resolve_address_family = -100002;
inline constexpr int resolve_system = -100003;

/// gai_strerror.
inline const char* resolve_message(int code) noexcept {
    return ::gai_strerrorA(code);
}

/// getaddrinfo, calling `visit(const sockaddr*, socklen)` for each result in the order given (or
/// `visit(address, size, canonical_name)`: AI_CANONNAME's answer with the first result, else null). Returns
/// the getaddrinfo code (0 on success; Winsock's are WSA* values).
template <class Visit>
inline int resolve(const char* host, const char* service, int family, int socktype, int flags,
                   Visit&& visit) {
    if (const int started = start_winsock(); started != 0) return started;
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
            visit(entry->ai_addr, static_cast<socklen>(entry->ai_addrlen), entry->ai_canonname);
        else
            visit(entry->ai_addr, static_cast<socklen>(entry->ai_addrlen));
    }
    return 0;
}

// --- batches and files
// ---------------------------------------------------------------------------------------

/// One message of a batch: its buffer, the address to send to or receive into, and afterwards its length.
struct MultiMessage {
    io_buffer* buffer;
    sockaddr* name;
    socklen name_size;
    unsigned length;
    bool truncated;
};

/// Points `message` at one buffer and, unless `name` is null, an address (to send to, or to receive into).
inline void prepare_message(MultiMessage& message, io_buffer* buffer, const sockaddr* name,
                            socklen name_size) noexcept {
    message = MultiMessage{buffer, const_cast<sockaddr*>(name), name != nullptr ? name_size : 0, 0, false};
}
inline std::size_t message_length(const MultiMessage& message) noexcept {
    return message.length;
}
inline bool message_truncated(const MultiMessage& message) noexcept {
    return message.truncated;
}
inline socklen message_name_size(const MultiMessage& message) noexcept {
    return message.name_size;
}

/// Sends messages in order with sendto, returns how many went (>= 1). An error after the first message
/// ends the batch early; the error itself comes back from the next call. `flags` may hold dont_wait.
inline Result<std::size_t> send_many(native_handle fd, MultiMessage* messages, std::size_t count,
                                     int flags = 0) noexcept {
    std::size_t done = 0;
    while (done < count) {
        MultiMessage& message = messages[done];
        auto sent =
            send_to(fd, message.buffer->buf, message.buffer->len, message.name, message.name_size, flags);
        if (!sent) {
            if (done > 0) break;
            return fail(sent.error());
        }
        message.length = static_cast<unsigned>(*sent);
        ++done;
    }
    return done;
}

/// Waits for one message (unless `dont_wait`), then takes those already queued, up to `count`; returns
/// how many arrived. A recvfrom loop: each message's length is the bytes copied, `truncated` marks one
/// cut short.
inline Result<std::size_t> recv_many(native_handle fd, MultiMessage* messages, std::size_t count,
                                     bool dont_wait_first = false) noexcept {
    std::size_t done = 0;
    while (done < count) {
        MultiMessage& message = messages[done];
        const int flags = (dont_wait_first || done > 0) ? dont_wait : 0;
        socklen name_size = message.name != nullptr ? message.name_size : 0;
        auto got = recv_from(fd, message.buffer->buf, message.buffer->len, message.name,
                             message.name != nullptr ? &name_size : nullptr, flags);
        if (!got) {
            if (done > 0) break;
            return fail(got.error());
        }
        message.length = static_cast<unsigned>(got->copied);
        message.truncated = got->full_size > got->copied;
        message.name_size = name_size;
        ++done;
    }
    return done;
}

/// Sends up to `count` bytes of the file `in_fd` (a C runtime descriptor) from `offset` to the socket
/// `out_fd`; returns how many went, 0 at end of file. A positioned ReadFile into a buffer, then send.
/// As POSIX's pread: a pipe or console (no offsets) fails with invalid_seek, and the file's own
/// position does not move (a positioned ReadFile on a synchronous handle moves it: it is put back).
inline Result<std::size_t> send_file(native_handle out_fd, file_handle in_fd, std::uint64_t offset,
                                     std::size_t count) noexcept {
    if (offset > static_cast<std::uint64_t>(INT64_MAX)) return fail(std::errc::invalid_argument, "sendfile");
    const HANDLE file = reinterpret_cast<HANDLE>(::_get_osfhandle(in_fd));
    if (file == INVALID_HANDLE_VALUE) return fail(std::errc::bad_file_descriptor, "sendfile");
    if (::GetFileType(file) != FILE_TYPE_DISK) return fail(std::errc::invalid_seek, "sendfile");
    const auto system_error = [](const char* operation) {
        return Error(std::error_code(static_cast<int>(::GetLastError()), std::system_category()), operation);
    };
    LARGE_INTEGER position{};
    if (!::SetFilePointerEx(file, LARGE_INTEGER{}, &position, FILE_CURRENT))
        return fail(system_error("SetFilePointerEx"));
    std::byte chunk[16 * 1024];
    OVERLAPPED at{};
    at.Offset = static_cast<DWORD>(offset & 0xffffffffu);
    at.OffsetHigh = static_cast<DWORD>(offset >> 32);
    DWORD got = 0;
    const DWORD wanted = static_cast<DWORD>(count < sizeof chunk ? count : sizeof chunk);
    const bool read = ::ReadFile(file, chunk, wanted, &got, &at) != 0;
    const DWORD read_error = read ? 0 : ::GetLastError();
    (void)::SetFilePointerEx(file, position, nullptr, FILE_BEGIN);
    if (!read) {
        if (read_error == ERROR_HANDLE_EOF) return std::size_t{0};
        ::SetLastError(read_error);
        return fail(system_error("ReadFile"));
    }
    std::size_t done = 0;
    while (done < got) {
        auto sent = send(out_fd, chunk + done, got - done);
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

/// True when `fd` is ready for `events` right now (select, zero timeout); an error counts as ready.
inline Result<bool> ready_now(native_handle fd, short events, const char* operation) noexcept {
    poll_entry entry{fd, events, 0};
    if (auto valid = refuse_empty(&entry, 1, operation); !valid) return fail(valid.error());
    bool woken = false;
    auto ready = select_until(&entry, 1, INVALID_SOCKET, Clock::now(), woken);
    if (!ready) return fail(Error(ready.error().code(), operation));
    return *ready > 0;
}

// --- the poller's system calls (netlite/poll.hpp) -----------------------------------------------------

/// WSAPoll with its defects covered: only the events it accepts are passed (POLLPRI, POLLERR and
/// POLLHUP in `events` make Windows fail it with WSAEINVAL); a peer's FIN, which it reports as POLLHUP
/// alone, is also reported readable; skipped (negative) entries are left out, since wine fails the whole
/// call on them; and with no socket to wait on it sleeps instead of failing. A failed non-blocking
/// connect is reported (POLLERR) from Windows 10 2004 on; earlier versions never report it to WSAPoll.
inline Result<int> poll_for(poll_entry* entries, std::size_t count, Clock::time_point deadline) {
    std::size_t live = 0;
    for (std::size_t i = 0; i < count; ++i) {
        entries[i].events &= POLLIN | POLLOUT;
        entries[i].revents = 0;
        if (static_cast<std::intptr_t>(entries[i].fd) >= 0) ++live;
    }
    if (live == 0) {
        sleep_until(deadline);
        return 0;
    }
    // Only when some entries are skipped (a one-shot entry that fired stays in the set, skipped, until it
    // is armed again: common in a coroutine Loop). Kept per thread, so a wait allocates only when the set
    // outgrows every earlier one: netlite's Loop promises no allocation per I/O operation.
    thread_local std::vector<poll_entry> packed;
    packed.clear();
    if (live != count) {
#if defined(__cpp_exceptions)
        try {
            packed.reserve(live);
        } catch (...) {
            return fail(std::errc::not_enough_memory, "poll");
        }
#else
        packed.reserve(live);
#endif
        for (std::size_t i = 0; i < count; ++i)
            if (static_cast<std::intptr_t>(entries[i].fd) >= 0) packed.push_back(entries[i]);
    }
    poll_entry* polled = packed.empty() ? entries : packed.data();
    for (;;) {
        const int ms = timeout_ms(deadline);
        const int ready = ::WSAPoll(polled, static_cast<ULONG>(live), ms);
        if (ready == SOCKET_ERROR) return fail(last_error("poll"));
        if (ready == 0 && ms > 0 && Clock::now() < deadline) continue;  // woke a rounded millisecond early
        for (std::size_t i = 0; i < live; ++i)
            if ((polled[i].revents & POLLHUP) && (polled[i].events & POLLIN)) polled[i].revents |= POLLIN;
        if (!packed.empty())
            for (std::size_t i = 0, j = 0; i < count; ++i)
                if (static_cast<std::intptr_t>(entries[i].fd) >= 0) entries[i].revents = packed[j++].revents;
        return ready;
    }
}

/// Empties a wake socket.
inline void drain(native_handle fd) noexcept {
    char sink[64];
    while (::recv(fd, sink, sizeof sink, 0) > 0) {
    }
}

/// The socket's identity behind a handle value: Windows never reuses a handle value while it is open, and
/// WSAPoll reports POLLNVAL for a closed one, so the value itself is the identity.
struct FileId {
    native_handle handle = INVALID_SOCKET;
    bool valid = false;
    friend bool operator==(const FileId&, const FileId&) = default;
};
inline FileId identity(native_handle fd) noexcept {
    return FileId{fd, fd != INVALID_SOCKET};
}

// --- more options (issue 21): each one Windows lacks is `unsupported_option` (operation_not_supported)
// ---------------------------------------------------------------------------------------------------

namespace more_option {
inline constexpr IntOption ip_tos{IPPROTO_IP, IP_TOS, "IP_TOS"};
inline constexpr IntOption ipv6_tclass{IPPROTO_IPV6, IPV6_TCLASS, "IPV6_TCLASS"};
inline constexpr IntOption tcp_cork{IPPROTO_TCP, unsupported_option, "TCP_CORK"};
inline constexpr IntOption tcp_fastopen{IPPROTO_TCP, unsupported_option, "TCP_FASTOPEN"};
inline constexpr IntOption tcp_user_timeout{IPPROTO_TCP, unsupported_option, "TCP_USER_TIMEOUT"};
inline constexpr IntOption tcp_quickack{IPPROTO_TCP, unsupported_option, "TCP_QUICKACK"};
inline constexpr IntOption tcp_fastopen_connect{IPPROTO_TCP, unsupported_option, "TCP_FASTOPEN_CONNECT"};
}  // namespace more_option

/// The longest interface name bind_to_device takes (Windows has no SO_BINDTODEVICE).
inline constexpr std::size_t max_device_name = 255;

/// No SO_BINDTODEVICE on Windows. Errors: operation_not_supported.
inline Result<void> bind_to_device(native_handle, const char*, std::size_t) noexcept {
    return fail(std::errc::operation_not_supported, "SO_BINDTODEVICE");
}

/// No SO_BINDTODEVICE on Windows. Errors: operation_not_supported.
inline Result<std::size_t> bound_device(native_handle, char*) noexcept {
    return fail(std::errc::operation_not_supported, "SO_BINDTODEVICE");
}

/// Not offered on Windows yet (SIO_TCP_INFO would be the way). Errors: operation_not_supported.
inline Result<TcpInfoFields> tcp_info(native_handle) noexcept {
    return fail(std::errc::operation_not_supported, "TCP_INFO");
}

// --- per-datagram addresses (issue 21): Windows needs WSARecvMsg/WSASendMsg, not wired up yet
// ---------------------------------------------------------------------------------------------------

using DatagramDestination = DatagramDestinationOf<sockaddr_storage>;

/// Not offered on Windows yet (IP_PKTINFO exists there, read through WSARecvMsg). Errors:
/// operation_not_supported.
inline Result<void> set_receive_destination(native_handle, bool, bool) noexcept {
    return fail(std::errc::operation_not_supported, "IP_PKTINFO");
}

/// Not offered on Windows yet. Errors: operation_not_supported.
inline Result<DatagramSize> recv_with_destination(native_handle, void*, std::size_t, sockaddr*, socklen*,
                                                  DatagramDestination&, int = 0) noexcept {
    return fail(std::errc::operation_not_supported, "recvmsg");
}

/// Not offered on Windows yet. Errors: operation_not_supported.
inline Result<std::size_t> send_from(native_handle, const void*, std::size_t, const sockaddr*, socklen,
                                     const sockaddr_storage&, unsigned, int = 0) noexcept {
    return fail(std::errc::operation_not_supported, "sendmsg");
}

}  // namespace netlite::detail::sys
