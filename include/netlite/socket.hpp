// SPDX-License-Identifier: BSL-1.0
// netlite/socket.hpp - Socket<Family, Type>: owns one descriptor; options, addresses, shutdown, clone.
#pragma once

#include <netlite/address.hpp>
#include <netlite/deadline.hpp>
#include <netlite/detail/sys.hpp>
#include <netlite/result.hpp>
#include <netlite/socket_options.hpp>

#include <climits>
#include <netlite/detail/chrono.hpp>
#include <optional>
#include <type_traits>
#include <utility>

namespace netlite {

/// Stream sockets (SOCK_STREAM): TCP, or Unix-domain streams.
struct Stream {
    /// SOCK_STREAM, for socket(2).
    static constexpr int value = SOCK_STREAM;
};
/// Datagram sockets (SOCK_DGRAM): UDP, or Unix-domain datagrams.
struct Datagram {
    /// SOCK_DGRAM, for socket(2).
    static constexpr int value = SOCK_DGRAM;
};

/// Sequenced-packet sockets (SOCK_SEQPACKET): Unix-domain, connected, message boundaries kept (unix.hpp).
struct SeqPacket {
    /// SOCK_SEQPACKET, for socket(2).
    static constexpr int value = SOCK_SEQPACKET;
};

template <class T>
concept SocketType = std::is_same_v<T, Stream> || std::is_same_v<T, Datagram> || std::is_same_v<T, SeqPacket>;

/// Which direction shutdown() closes.
enum class Shutdown {
    read = detail::sys::shut_read,
    write = detail::sys::shut_write,
    both = detail::sys::shut_both
};

/// TCP keep-alive probe timing (Linux TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT; macOS TCP_KEEPALIVE for
/// idle).
struct KeepAliveParams {
    std::chrono::seconds idle{7200};    ///< silence before the first probe
    std::chrono::seconds interval{75};  ///< between probes
    int count = 9;                      ///< unanswered probes before the connection is dropped
};

/// A move-only owner of one socket descriptor of family F and type T. The destructor closes it.
/// Options are named, typed calls; each returns Result and names the failing call ("setsockopt", ...).
/// A moved-from Socket is empty: is_open() is false and every call fails with EBADF.
template <Family F, SocketType T>
class Socket : public detail::MoreOptions<Socket<F, T>, F, T> {  // + socket_options.hpp's options
public:
    /// The family tag (IPv4, IPv6, IP or Unix).
    using family_type = F;
    /// The socket type tag (Stream or Datagram).
    using type = T;
    /// The address type of this family.
    using address_type = Address<F>;
    /// A file descriptor on POSIX, a SOCKET on Windows.
    using native_handle_type = detail::sys::native_handle;

    // What the option members below are offered for (their requires clauses).
    /// An IPv4, IPv6 or IP socket.
    static constexpr bool is_internet = InternetFamily<F>;
    /// A stream socket (TCP, or a Unix stream).
    static constexpr bool is_stream = std::is_same_v<T, Stream>;
    /// A TCP socket.
    static constexpr bool is_tcp = is_stream && is_internet;
    /// A UDP socket.
    static constexpr bool is_udp = std::is_same_v<T, Datagram> && is_internet;
    /// A socket that may speak IPv6 (IPv6, or IP until it is opened).
    static constexpr bool may_be_ipv6 = std::is_same_v<F, IPv6> || std::is_same_v<F, IP>;

    /// An empty socket (no descriptor).
    Socket() noexcept = default;
    /// Adopts `fd`: this Socket now closes it. The caller vouches for its family and type.
    explicit Socket(native_handle_type fd) noexcept : fd_(fd) {}
    /// Takes the descriptor (and timeout) of `other`, which is left empty.
    Socket(Socket&& other) noexcept
        : fd_(std::exchange(other.fd_, detail::sys::invalid_handle)),
          timeout_(std::exchange(other.timeout_, {})) {}
    /// Closes this socket's descriptor, then takes `other`'s, leaving `other` empty.
    Socket& operator=(Socket&& other) noexcept {
        if (this != &other) {
            reset();
            fd_ = std::exchange(other.fd_, detail::sys::invalid_handle);
            timeout_ = std::exchange(other.timeout_, {});
        }
        return *this;
    }
    Socket(const Socket&) = delete;
    Socket& operator=(const Socket&) = delete;
    ~Socket() { reset(); }

    /// A new socket of this fixed family and type. Errors: EAFNOSUPPORT (e.g. no IPv6), EMFILE, ENFILE.
    static Result<Socket> open() noexcept requires(!std::is_same_v<F, IP>) { return open_domain(F::domain); }
    /// A new socket of the family `address` has (for Address<IP>: its IPv4 or IPv6). Errors: as open().
    static Result<Socket> open_for(const Address<F>& address) noexcept {
        return open_domain(address.domain());
    }

    /// True while this Socket owns a descriptor.
    bool is_open() const noexcept { return fd_ != detail::sys::invalid_handle; }
    /// The descriptor, detail::sys::invalid_handle (-1; INVALID_SOCKET on Windows) when empty. The Socket
    /// still owns it.
    native_handle_type native_handle() const noexcept { return fd_; }
    /// Gives up ownership: returns the descriptor (the caller closes it) and leaves this Socket empty.
    native_handle_type release() noexcept { return std::exchange(fd_, detail::sys::invalid_handle); }
    /// Closes now and reports close(2)'s error; the Socket is empty afterwards either way. Errors: EIO,
    /// EBADF.
    Result<void> close() noexcept {
        if (!is_open()) return fail(std::errc::bad_file_descriptor, "close");
        return detail::sys::close_fd(std::exchange(fd_, detail::sys::invalid_handle));
    }

    /// The address this socket is bound to. Errors: EBADF, errc::family_mismatch.
    Result<Address<F>> local_address() const noexcept { return name_of(&detail::sys::local_name); }
    /// The address of the connected peer. Errors: ENOTCONN, EBADF.
    Result<Address<F>> peer_address() const noexcept { return name_of(&detail::sys::peer_name); }

    /// Shuts down reading, writing or both; the descriptor stays open. Errors: ENOTCONN, EBADF.
    Result<void> shutdown(Shutdown how) noexcept { return detail::sys::shutdown(fd_, static_cast<int>(how)); }

    /// A second owner of the same socket (F_DUPFD_CLOEXEC). Errors: EMFILE, EBADF.
    Result<Socket> try_clone() const noexcept {
        auto copy = detail::sys::duplicate(fd_);
        if (!copy) return fail(copy.error());
        Socket clone(*copy);
        clone.timeout_ = timeout_;
        return clone;
    }

    // --- options (each setter has a getter of the same name) ----------------------------------------------

    /// SO_REUSEADDR: bind a port that still has connections in TIME_WAIT. Errors: EBADF.
    Result<void> set_reuse_address(bool on) noexcept {
        return set_flag(detail::sys::option::reuse_address, on);
    }
    /// The SO_REUSEADDR setting. Errors: EBADF.
    Result<bool> reuse_address() const noexcept { return flag(detail::sys::option::reuse_address); }
    /// SO_REUSEPORT: several sockets bound to one port share its load. Errors: EBADF, ENOPROTOOPT.
    Result<void> set_reuse_port(bool on) noexcept { return set_flag(detail::sys::option::reuse_port, on); }
    /// The SO_REUSEPORT setting. Errors: EBADF, ENOPROTOOPT.
    Result<bool> reuse_port() const noexcept { return flag(detail::sys::option::reuse_port); }

    /// TCP_NODELAY: send small writes at once instead of coalescing them (Nagle). Errors: EBADF.
    Result<void> set_nodelay(bool on) noexcept requires(is_tcp) {
        return set_flag(detail::sys::option::nodelay, on);
    }
    /// The TCP_NODELAY setting. Errors: EBADF.
    Result<bool> nodelay() const noexcept requires(is_tcp) { return flag(detail::sys::option::nodelay); }

    /// SO_KEEPALIVE: probe an idle connection so a dead peer is noticed. Errors: EBADF.
    Result<void> set_keepalive(bool on) noexcept requires(is_stream) {
        return set_flag(detail::sys::option::keepalive, on);
    }
    /// The SO_KEEPALIVE setting. Errors: EBADF.
    Result<bool> keepalive() const noexcept requires(is_stream) {
        return flag(detail::sys::option::keepalive);
    }
    /// Keep-alive timing (takes effect with set_keepalive(true)). Each value must be at least 1 and fit the
    /// OS's int field; the kernel may allow less (Linux: idle and interval up to 32,767 s, count up to 127).
    /// Errors: EINVAL (out of range; never silently truncated), EBADF.
    Result<void> set_keepalive_params(const KeepAliveParams& params) noexcept requires(is_tcp) {
        if (!fits(params.idle.count(), 1, INT_MAX)) return fail(std::errc::invalid_argument, "TCP_KEEPIDLE");
        if (!fits(params.interval.count(), 1, INT_MAX))
            return fail(std::errc::invalid_argument, "TCP_KEEPINTVL");
        if (params.count < 1) return fail(std::errc::invalid_argument, "TCP_KEEPCNT");
        return detail::sys::set_keepalive_timing(
            fd_,
            {static_cast<int>(params.idle.count()), static_cast<int>(params.interval.count()), params.count});
    }
    /// The keep-alive probe timing. Errors: EBADF, ENOPROTOOPT.
    Result<KeepAliveParams> keepalive_params() const noexcept requires(is_tcp) {
        auto timing = detail::sys::keepalive_timing(fd_);
        if (!timing) return fail(timing.error());
        return KeepAliveParams{std::chrono::seconds(timing->idle), std::chrono::seconds(timing->interval),
                               timing->count};
    }

    /// SO_LINGER: with a duration, close() waits that long for unsent data (0 resets the connection);
    /// std::nullopt restores the default (close returns at once, data is sent in the background). A linger
    /// longer than the OS field holds (POSIX: INT_MAX s; Windows: 65,535 s, about 18 h) is clamped to that
    /// longest linger, never wrapped to a short one or to 0. Errors: EINVAL (negative), EBADF.
    Result<void> set_linger(std::optional<std::chrono::seconds> timeout) noexcept {
        if (timeout && timeout->count() < 0) return fail(std::errc::invalid_argument, "SO_LINGER");
        constexpr int longest = detail::sys::max_linger_seconds;
        const int seconds = !timeout                     ? 0
                            : timeout->count() > longest ? longest
                                                         : static_cast<int>(timeout->count());
        return detail::sys::set_linger(fd_, {timeout.has_value(), seconds});
    }
    /// The SO_LINGER setting: the linger time, or nothing when off. Errors: EBADF.
    Result<std::optional<std::chrono::seconds>> linger() const noexcept {
        auto value = detail::sys::linger(fd_);
        if (!value) return fail(value.error());
        if (!value->on) return std::optional<std::chrono::seconds>();
        return std::optional<std::chrono::seconds>(value->seconds);
    }

    /// SO_SNDBUF in bytes; the kernel clamps it to its own minimum and maximum (Linux: wmem_max). The getter
    /// reports the kernel's figure (Linux doubles what was set). Errors: EINVAL (negative), EBADF.
    Result<void> set_send_buffer_size(int bytes) noexcept {
        if (bytes < 0) return fail(std::errc::invalid_argument, "SO_SNDBUF");
        return set_int(detail::sys::option::send_buffer, bytes);
    }
    /// The SO_SNDBUF size in bytes (Linux reports double what was set). Errors: EBADF.
    Result<int> send_buffer_size() const noexcept { return get_int(detail::sys::option::send_buffer); }
    /// SO_RCVBUF in bytes; clamped by the kernel as SO_SNDBUF is. The getter reports the kernel's figure
    /// (Linux doubles what was set). Errors: EINVAL (negative), EBADF.
    Result<void> set_recv_buffer_size(int bytes) noexcept {
        if (bytes < 0) return fail(std::errc::invalid_argument, "SO_RCVBUF");
        return set_int(detail::sys::option::recv_buffer, bytes);
    }
    /// The SO_RCVBUF size in bytes (Linux reports double what was set). Errors: EBADF.
    Result<int> recv_buffer_size() const noexcept { return get_int(detail::sys::option::recv_buffer); }

    /// IPV6_V6ONLY: an IPv6 socket refuses IPv4-mapped peers. Set before bind. Errors: ENOPROTOOPT on IPv4.
    Result<void> set_ipv6_only(bool on) noexcept requires(may_be_ipv6) {
        return set_flag(detail::sys::option::ipv6_only, on);
    }
    /// The IPV6_V6ONLY setting. Errors: EBADF, ENOPROTOOPT (an IPv4 socket).
    Result<bool> ipv6_only() const noexcept requires(may_be_ipv6) {
        return flag(detail::sys::option::ipv6_only);
    }

    /// SO_BROADCAST: allow sending to broadcast addresses. Errors: EBADF.
    Result<void> set_broadcast(bool on) noexcept requires(is_udp) {
        return set_flag(detail::sys::option::broadcast, on);
    }
    /// The SO_BROADCAST setting. Errors: EBADF.
    Result<bool> broadcast() const noexcept requires(is_udp) { return flag(detail::sys::option::broadcast); }

    /// Unicast TTL (IPv4 IP_TTL) or hop limit (IPv6 IPV6_UNICAST_HOPS). Errors: EINVAL (not 1..255), EBADF.
    /// (Linux takes -1 as "the default": netlite refuses it, so the range is the same everywhere.)
    Result<void> set_ttl(int hops) noexcept requires(is_internet) {
        if (!fits(hops, 1, 255)) return fail(std::errc::invalid_argument, "IP_TTL");
        return with_ip_level([&](bool v6) {
            return set_int(v6 ? detail::sys::option::ipv6_hops : detail::sys::option::ipv4_ttl, hops);
        });
    }
    /// The unicast hop limit (IP_TTL / IPV6_UNICAST_HOPS). Errors: EBADF.
    Result<int> ttl() const noexcept requires(is_internet) {
        return with_ip_level([&](bool v6) {
            return get_int(v6 ? detail::sys::option::ipv6_hops : detail::sys::option::ipv4_ttl);
        });
    }

    /// Joins multicast `group` (its port is ignored) on interface `interface_index` (0: the kernel picks).
    /// Errors: EADDRNOTAVAIL, EINVAL (not a multicast address), ENODEV (no such interface).
    /// An index above INT_MAX is EINVAL (the OS field is an int).
    Result<void> join_multicast(const Address<F>& group, unsigned interface_index = 0) noexcept
        requires(is_udp) {
        return membership(group, interface_index, true);
    }
    /// Leaves a multicast group joined with join_multicast. Errors: EADDRNOTAVAIL (not a member), EINVAL
    /// (an index above INT_MAX).
    Result<void> leave_multicast(const Address<F>& group, unsigned interface_index = 0) noexcept
        requires(is_udp) {
        return membership(group, interface_index, false);
    }
    /// Multicast TTL / hop limit (IP_MULTICAST_TTL, IPV6_MULTICAST_HOPS). Errors: EINVAL (not 0..255).
    /// (Linux takes -1 as "the default": netlite refuses it, so the range is the same everywhere.)
    Result<void> set_multicast_ttl(int hops) noexcept requires(is_udp) {
        if (!fits(hops, 0, 255)) return fail(std::errc::invalid_argument, "multicast ttl");
        return with_ip_level([&](bool v6) {
            return set_int(
                v6 ? detail::sys::option::ipv6_multicast_hops : detail::sys::option::ipv4_multicast_ttl,
                hops);
        });
    }
    /// The multicast hop limit. Errors: EBADF.
    Result<int> multicast_ttl() const noexcept requires(is_udp) {
        return with_ip_level([&](bool v6) {
            return get_int(v6 ? detail::sys::option::ipv6_multicast_hops
                              : detail::sys::option::ipv4_multicast_ttl);
        });
    }
    /// Whether this host's own multicast sends loop back to its sockets (IP_MULTICAST_LOOP). Errors: EBADF.
    Result<void> set_multicast_loop(bool on) noexcept requires(is_udp) {
        return with_ip_level([&](bool v6) {
            return set_int(
                v6 ? detail::sys::option::ipv6_multicast_loop : detail::sys::option::ipv4_multicast_loop,
                on ? 1 : 0);
        });
    }
    /// Whether multicast sent here loops back to local listeners. Errors: EBADF.
    Result<bool> multicast_loop() const noexcept requires(is_udp) {
        return with_ip_level([&](bool v6) -> Result<bool> {
            auto value = get_int(v6 ? detail::sys::option::ipv6_multicast_loop
                                    : detail::sys::option::ipv4_multicast_loop);
            if (!value) return fail(value.error());
            return *value != 0;
        });
    }
    /// The interface multicast is sent from, by index (0: the kernel picks). Errors: ENODEV, EBADF, EINVAL
    /// (an index above INT_MAX: the OS field is an int).
    Result<void> set_multicast_interface(unsigned interface_index) noexcept requires(is_udp) {
        if (interface_index > INT_MAX) return fail(std::errc::invalid_argument, "IP_MULTICAST_IF");
        return with_ip_level([&](bool v6) -> Result<void> {
            if (v6)
                return set_int(detail::sys::option::ipv6_multicast_interface,
                               static_cast<int>(interface_index));
            return detail::sys::set_ipv4_multicast_interface(fd_, interface_index);
        });
    }
    /// The IPv6 multicast interface index. (Linux does not report an IPv4 one back by index.) Errors: EBADF.
    Result<unsigned> multicast_interface() const noexcept requires(is_udp&& std::is_same_v<F, IPv6>) {
        auto index = get_int(detail::sys::option::ipv6_multicast_interface);
        if (!index) return fail(index.error());
        return static_cast<unsigned>(*index);
    }

    /// SO_RCVTIMEO: a blocking read gives up with std::errc::timed_out after `timeout`; std::nullopt waits
    /// forever. The kernel restarts this timer when a signal interrupts the call (netlite retries EINTR),
    /// so for a hard bound use set_timeout() or an Until. A timeout longer than the OS keeps is cut to its
    /// longest (Windows: 2^32 - 2 ms, about 49.7 days). Errors: EINVAL (zero or negative timeout), EBADF.
    Result<void> set_read_timeout(std::optional<std::chrono::microseconds> timeout) noexcept {
        return set_io_timeout(true, timeout);
    }
    /// The SO_RCVTIMEO setting, nothing when off; never negative: a setting beyond microseconds::max()
    /// (Linux keeps clock ticks and rounds up) reads as microseconds::max(). Errors: EBADF.
    Result<std::optional<std::chrono::microseconds>> read_timeout() const noexcept {
        return io_timeout(true);
    }
    /// SO_SNDTIMEO: a blocking write gives up with std::errc::timed_out after `timeout`. Errors: as above.
    Result<void> set_write_timeout(std::optional<std::chrono::microseconds> timeout) noexcept {
        return set_io_timeout(false, timeout);
    }
    /// The SO_SNDTIMEO setting, nothing when off. Errors: EBADF.
    Result<std::optional<std::chrono::microseconds>> write_timeout() const noexcept {
        return io_timeout(false);
    }

    /// O_NONBLOCK: calls fail with EAGAIN (std::errc::resource_unavailable_try_again) instead of waiting.
    /// Errors: EBADF.
    Result<void> set_nonblocking(bool on) noexcept { return detail::sys::set_nonblocking(fd_, on); }

    /// Python's settimeout: from now on every plain blocking call on this socket (read, write, write_all,
    /// read_exact, accept, send_to, recv_from, ...) gives up after `timeout` with std::errc::timed_out,
    /// waiting with poll; std::nullopt (the default) waits as long as it takes. A call given its own
    /// Until ignores this. Errors: std::errc::invalid_argument for a zero or negative timeout.
    Result<void> set_timeout(std::optional<std::chrono::milliseconds> timeout) noexcept {
        if (timeout && timeout->count() <= 0) return fail(std::errc::invalid_argument, "set_timeout");
        timeout_ = timeout ? *timeout : std::chrono::milliseconds::zero();
        return {};
    }
    /// The timeout set_timeout() gave the plain calls, nothing when they wait forever.
    std::optional<std::chrono::milliseconds> timeout() const noexcept {
        if (timeout_.count() == 0) return std::nullopt;
        return timeout_;
    }
    /// Whether O_NONBLOCK is set. Errors: EBADF.
    Result<bool> nonblocking() const noexcept { return detail::sys::nonblocking(fd_); }

    /// Reads and clears the pending socket error (SO_ERROR); an empty error_code when there is none (a
    /// code compares equal to its std::errc on every platform, WSAE* codes included).
    /// Errors: EBADF.
    Result<std::error_code> take_error() const noexcept {
        auto value = get_int(detail::sys::option::pending_error);
        if (!value) return fail(value.error());
        if (*value == 0) return std::error_code();
        return detail::sys::error_code_from(*value);
    }

protected:
    /// True when set_timeout() gave the plain calls a timeout (one compare on the hot path).
    bool has_timeout() const noexcept { return timeout_.count() != 0; }
    /// The Until a plain call uses: set_timeout()'s timeout from now, or forever.
    Until default_until() const noexcept { return has_timeout() ? Until(timeout_) : Until(); }

    /// A new socket of `domain` and this type. Errors: as open().
    static Result<Socket> open_domain(int domain) noexcept {
        auto fd = detail::sys::open_socket(domain, T::value);
        if (!fd) return fail(fd.error());
        return Socket(*fd);
    }

    /// Binds to `address`, for the listener and datagram types built on Socket.
    Result<void> bind_to(const Address<F>& address) noexcept {
        return detail::sys::bind(fd_, address.data(), address.size());
    }

private:
    void reset() noexcept {
        if (is_open()) (void)detail::sys::close_fd(std::exchange(fd_, detail::sys::invalid_handle));
    }

    using NameCall = Result<void> (*)(native_handle_type, sockaddr*, detail::sys::socklen*) noexcept;
    Result<Address<F>> name_of(NameCall call) const noexcept {
        sockaddr_storage storage{};
        detail::sys::socklen size = sizeof storage;
        if (auto ok = call(fd_, reinterpret_cast<sockaddr*>(&storage), &size); !ok) return fail(ok.error());
        return Address<F>::from_native(reinterpret_cast<const sockaddr*>(&storage), size);
    }

    /// True when `value` lies in [low, high]: checked before any conversion to the OS's narrower type.
    static constexpr bool fits(long long value, long long low, long long high) noexcept {
        return value >= low && value <= high;
    }

    using IntOption = detail::sys::IntOption;
    Result<void> set_int(const IntOption& option, int value) const noexcept {
        return detail::sys::set_int_option(fd_, option, value);
    }
    Result<int> get_int(const IntOption& option) const noexcept {
        return detail::sys::get_int_option(fd_, option);
    }
    Result<void> set_flag(const IntOption& option, bool on) const noexcept {
        return set_int(option, on ? 1 : 0);
    }
    Result<bool> flag(const IntOption& option) const noexcept {
        auto value = get_int(option);
        if (!value) return fail(value.error());
        return *value != 0;
    }

    using detail::MoreOptions<Socket<F, T>, F, T>::with_ip_level;  // Calls f(is_v6) (socket_options.hpp)

    Result<void> membership(const Address<F>& group, unsigned interface_index, bool join) const noexcept {
        if (interface_index > INT_MAX)
            return fail(std::errc::invalid_argument, join ? "join_multicast" : "leave_multicast");
        return detail::sys::multicast_membership(fd_, group.data(), group.size(), interface_index, join);
    }

    Result<void> set_io_timeout(bool receive,
                                std::optional<std::chrono::microseconds> timeout) const noexcept {
        const char* what = receive ? "SO_RCVTIMEO" : "SO_SNDTIMEO";
        if (timeout && timeout->count() <= 0) return fail(std::errc::invalid_argument, what);
        return detail::sys::set_io_timeout(fd_, receive,
                                           timeout ? *timeout : std::chrono::microseconds::zero());
    }
    Result<std::optional<std::chrono::microseconds>> io_timeout(bool receive) const noexcept {
        auto total = detail::sys::io_timeout(fd_, receive);
        if (!total) return fail(total.error());
        if (total->count() == 0) return std::optional<std::chrono::microseconds>();
        return std::optional<std::chrono::microseconds>(*total);
    }

    native_handle_type fd_ = detail::sys::invalid_handle;
    std::chrono::milliseconds timeout_{};  // set_timeout(); zero = none
};

namespace detail {
/// The constructors every Socket role (TcpStream, TcpListener, TcpSocket, UdpSocket) has: empty, adopting
/// a descriptor in the role's state (connected, listening, ...), or taking over a Socket of its kind.
template <Family F, class Kind>
class SocketRole : public Socket<F, Kind> {
public:
    /// An empty socket (no descriptor).
    SocketRole() noexcept = default;
    /// Adopts a descriptor already in the role's state.
    explicit SocketRole(typename Socket<F, Kind>::native_handle_type fd) noexcept : Socket<F, Kind>(fd) {}
    /// Takes over a Socket already in the role's state.
    explicit SocketRole(Socket<F, Kind>&& socket) noexcept : Socket<F, Kind>(std::move(socket)) {}
};
}  // namespace detail

}  // namespace netlite
