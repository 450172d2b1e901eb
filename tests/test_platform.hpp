// Portable helpers for netlite's tests: what a test asks of the operating system about a descriptor or a
// path, answered on POSIX and on Windows. Tests include this instead of <fcntl.h>, <unistd.h> or
// /proc/self/fd, so the same test source runs natively and under wine. The platform #if lives here, once.
#pragma once

#include <netlite/socket.hpp>

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#if defined(_WIN32)
// netlite's detail/sys.hpp has included <winsock2.h> and <windows.h> by now.
#else
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#endif
#include <signal.h>

namespace netlite_test {

/// The platform's descriptor type: int on POSIX, SOCKET on Windows.
using handle = netlite::Socket<netlite::IPv4, netlite::Stream>::native_handle_type;

/// Whether the platform offers what POSIX-only tests need (fork, pipes, fcntl, /proc).
inline constexpr bool is_windows =
#if defined(_WIN32)
    true;
#else
    false;
#endif

/// True when this Windows is wine (its ntdll exports wine_get_version), whose behaviour differs from
/// Windows' in places the tests check (e.g. a close with SO_LINGER 0 reaches the peer as a FIN, not a reset).
inline bool under_wine() {
#if defined(_WIN32)
    const HMODULE ntdll = ::GetModuleHandleA("ntdll.dll");
    return ntdll != nullptr && ::GetProcAddress(ntdll, "wine_get_version") != nullptr;
#else
    return false;
#endif
}

/// True when `fd` is an open descriptor of this process (on Windows: an open socket).
inline bool handle_is_open(handle fd) {
#if defined(_WIN32)
    int type = 0;
    int size = sizeof type;
    return ::getsockopt(fd, SOL_SOCKET, SO_TYPE, reinterpret_cast<char*>(&type), &size) == 0;
#else
    return ::fcntl(fd, F_GETFD) != -1;
#endif
}

/// True when `fd` is not open: POSIX says EBADF, Windows says it is no socket.
inline bool handle_is_closed(handle fd) {
#if defined(_WIN32)
    return !handle_is_open(fd);
#else
    errno = 0;
    return ::fcntl(fd, F_GETFD) == -1 && errno == EBADF;
#endif
}

/// True when a child process would not inherit `fd` (FD_CLOEXEC; on Windows no HANDLE_FLAG_INHERIT).
inline bool handle_is_private(handle fd) {
#if defined(_WIN32)
    DWORD flags = 0;
    return ::GetHandleInformation(reinterpret_cast<HANDLE>(fd), &flags) != 0 &&
           (flags & HANDLE_FLAG_INHERIT) == 0;
#else
    const int flags = ::fcntl(fd, F_GETFD);
    return flags >= 0 && (flags & FD_CLOEXEC) != 0;
#endif
}

/// An int-valued SOL_SOCKET option of `fd`, or -1 when getsockopt fails.
inline int socket_option(handle fd, int name) {
    int value = -1;
#if defined(_WIN32)
    int size = sizeof value;
    if (::getsockopt(fd, SOL_SOCKET, name, reinterpret_cast<char*>(&value), &size) != 0) return -1;
#else
    socklen_t size = sizeof value;
    if (::getsockopt(fd, SOL_SOCKET, name, &value, &size) != 0) return -1;
#endif
    return value;
}

/// The address family of `fd` (AF_INET, AF_UNIX, ...), or -1. Linux reports it as SO_DOMAIN; macOS and
/// the BSDs have no SO_DOMAIN, but getsockname gives the family even of an unbound socket; Windows has
/// the protocol info.
inline int socket_family(handle fd) {
#if defined(_WIN32)
    WSAPROTOCOL_INFOW info{};
    int size = sizeof info;
    if (::getsockopt(fd, SOL_SOCKET, SO_PROTOCOL_INFOW, reinterpret_cast<char*>(&info), &size) != 0)
        return -1;
    return info.iAddressFamily;
#elif defined(SO_DOMAIN)
    return socket_option(fd, SO_DOMAIN);
#else
    sockaddr_storage address{};
    socklen_t size = sizeof address;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size) != 0) return -1;
    return address.ss_family;
#endif
}

/// A stream socket of `domain` made by the OS directly, not by netlite, close-on-exec (not inheritable)
/// as netlite's own are; invalid_handle when the OS refuses. macOS has no SOCK_CLOEXEC: FD_CLOEXEC is set
/// right after (tests do not fork meanwhile).
inline handle raw_stream_socket(int domain) {
#if defined(_WIN32)
    (void)netlite::detail::sys::start_winsock();
    return ::WSASocketW(domain, SOCK_STREAM, 0, nullptr, 0, WSA_FLAG_OVERLAPPED | WSA_FLAG_NO_HANDLE_INHERIT);
#elif defined(SOCK_CLOEXEC)
    return ::socket(domain, SOCK_STREAM | SOCK_CLOEXEC, 0);
#else
    const int fd = ::socket(domain, SOCK_STREAM, 0);
    if (fd >= 0 && ::fcntl(fd, F_SETFD, FD_CLOEXEC) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
#endif
}

/// Makes `number` refer to the socket `from`, close-on-exec as netlite's own are: true on success.
/// Windows cannot put a socket on a chosen handle value, so there it always fails. dup3 is Linux's.
inline bool place_on(handle from, handle number) {
#if defined(_WIN32)
    (void)from;
    (void)number;
    return false;
#elif defined(__linux__)
    return ::dup3(from, number, O_CLOEXEC) == number;
#else
    return ::dup2(from, number) == number && ::fcntl(number, F_SETFD, FD_CLOEXEC) == 0;
#endif
}

/// Closes a descriptor the test took from netlite (release()); true on success.
inline bool close_handle(handle fd) {
#if defined(_WIN32)
    return ::closesocket(fd) == 0;
#else
    return ::close(fd) == 0;
#endif
}

/// Open descriptors of this process, or -1 when they cannot be counted. POSIX: the entries of
/// /proc/self/fd. Windows: the open sockets, found by asking each small handle value for SO_TYPE (socket
/// handles are multiples of 4, and a test process holds few), since wine does not implement
/// GetProcessHandleCount. Leak checks compare two counts, so each platform only needs to be consistent.
inline int open_descriptor_count() {
#if defined(_WIN32)
    int count = 0;
    for (UINT_PTR value = 4; value <= 65536; value += 4)
        if (handle_is_open(static_cast<handle>(value))) ++count;
    return count;
#else
    std::error_code error;
    std::filesystem::directory_iterator entries("/proc/self/fd", error);
    if (error) return -1;
    int count = 0;
    for (const auto& entry : entries) {
        (void)entry;
        ++count;
    }
    return count - 1;  // the iterator's own descriptor
#endif
}

/// True when `path` names a socket file (lstat: a symlink to one does not count).
inline bool is_socket_file(const std::string& path) {
    std::error_code error;
    return std::filesystem::symlink_status(path, error).type() == std::filesystem::file_type::socket;
}

/// True when anything (file, directory, socket, dangling symlink) exists at `path`.
inline bool path_exists(const std::string& path) {
    std::error_code error;
    return std::filesystem::exists(std::filesystem::symlink_status(path, error));
}

/// A signal the tests may send themselves: SIGUSR1 on POSIX; on Windows Ctrl+Break (SIGBREAK), the one
/// console control event that cannot be switched off.
inline constexpr int test_signal =
#if defined(_WIN32)
    SIGBREAK;
#else
    SIGUSR1;
#endif

/// Prepares a process to receive its own test_signal: nothing on POSIX; on Windows a console of its own
/// (FreeConsole, AllocConsole), so that the event reaches this process and not the test runner beside
/// it. False when that is impossible.
inline bool can_send_test_signal() {
#if defined(_WIN32)
    static const bool own_console = [] {
        (void)::FreeConsole();
        return ::AllocConsole() != 0;
    }();
    return own_console;
#else
    return true;
#endif
}

/// Sends test_signal to this process (kill(2); Windows: GenerateConsoleCtrlEvent to its console, after
/// can_send_test_signal()). False when it could not be sent.
inline bool send_test_signal() {
#if defined(_WIN32)
    return ::GenerateConsoleCtrlEvent(CTRL_BREAK_EVENT, 0) != 0;
#else
    return ::kill(::getpid(), test_signal) == 0;
#endif
}

/// Whether `signo` has its default disposition (POSIX: sigaction); empty where it cannot be asked (Windows).
inline std::optional<bool> signal_is_default(int signo) {
#if defined(_WIN32)
    (void)signo;
    return std::nullopt;
#else
    struct sigaction current = {};
    if (::sigaction(signo, nullptr, &current) != 0) return std::nullopt;
    return current.sa_handler == SIG_DFL;
#endif
}

/// Runs the process out of descriptors (EMFILE) while it lives, or until release(): the soft
/// RLIMIT_NOFILE is lowered to just above the highest open descriptor and the holes below it are filled
/// with /dev/null. POSIX only: on Windows (no descriptor limit) active() is false and it does nothing.
/// Open every descriptor the code under test will need (a loop's poller, a stop token's wake-up) first.
class DescriptorExhaustion {
public:
    DescriptorExhaustion() {
#if !defined(_WIN32)
        if (::getrlimit(RLIMIT_NOFILE, &old_) != 0) return;
        int highest = 0;
        for (int fd = 0; fd < 4096; ++fd)
            if (::fcntl(fd, F_GETFD) != -1) highest = fd;
        rlimit low = old_;
        low.rlim_cur = static_cast<rlim_t>(highest + 1);
        if (::setrlimit(RLIMIT_NOFILE, &low) != 0) return;
        active_ = true;
        for (int i = 0; i < 4096; ++i) {
            const int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
            if (fd < 0) break;
            fillers_.push_back(fd);
        }
#endif
    }
    DescriptorExhaustion(const DescriptorExhaustion&) = delete;
    DescriptorExhaustion& operator=(const DescriptorExhaustion&) = delete;
    ~DescriptorExhaustion() {
        release();
    }

    /// True while the process is out of descriptors through this object.
    bool active() const noexcept {
        return active_;
    }
    /// Gives the descriptors back and restores the limit (idempotent).
    void release() noexcept {
#if !defined(_WIN32)
        if (!active_) return;
        ::setrlimit(RLIMIT_NOFILE, &old_);
        for (const int fd : fillers_) ::close(fd);
        fillers_.clear();
        active_ = false;
#endif
    }

private:
    bool active_ = false;
#if !defined(_WIN32)
    rlimit old_{};
    std::vector<int> fillers_;
#endif
};

}  // namespace netlite_test
