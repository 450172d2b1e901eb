// SPDX-License-Identifier: BSL-1.0
// netlite/socket_options.hpp - any socket option, typed: RawOption<T> for the generic get/set, the typed
// options systems programmers ask for (type of service, TCP user timeout, cork, quick ack, fast open,
// bound device) and TcpInfo. Every Socket has these members (socket.hpp includes this header).
// What a platform lacks fails with std::errc::operation_not_supported (docs/platforms.md).
#pragma once

#include <netlite/address.hpp>
#include <netlite/detail/sys.hpp>
#include <netlite/result.hpp>

#include <climits>
#include <cstdint>
#include <netlite/detail/chrono.hpp>
#include <string>
#include <string_view>
#include <type_traits>

namespace netlite {

struct Stream;
struct Datagram;

/// Any socket option: its level and name as setsockopt(2) takes them (e.g. {SOL_SOCKET, SO_RCVLOWAT}),
/// and T, the type of its value (int for most; a struct for some). For the options netlite has no typed
/// call for: Python's setsockopt(level, name, value), socket2's escape hatch.
template <class T>
struct RawOption {
    static_assert(std::is_trivially_copyable_v<T>, "a socket option's value is copied as bytes");
    int level;  ///< SOL_SOCKET, IPPROTO_IP, IPPROTO_IPV6, IPPROTO_TCP, ...
    int name;   ///< SO_*, IP_*, IPV6_*, TCP_*
};

/// A TCP connection's state as the kernel sees it: the part that TCP_INFO (Linux) and its relatives
/// (macOS TCP_CONNECTION_INFO, FreeBSD TCP_INFO) have in common.
struct TcpInfo {
    std::chrono::microseconds rtt;    ///< smoothed round-trip time
    std::uint64_t retransmits;        ///< segments retransmitted over the connection's life
    std::uint64_t congestion_window;  ///< bytes the sender may have in flight (cwnd × MSS)
};

namespace detail {

/// The options of socket_options.hpp, as members of Socket<F, T> (Derived): one base class, no state.
template <class Derived, Family F, class T>
class MoreOptions {
    static constexpr bool is_tcp = std::is_same_v<T, Stream> && InternetFamily<F>;

public:
    /// Sets any option: `option`'s level and name, a value of its type. Errors: the OS's for that
    /// option (ENOPROTOOPT for a name the level does not know, EINVAL for a bad value), EBADF.
    template <class V>
    Result<void> set_option(const RawOption<V>& option, const V& value) noexcept {
        return sys::set_option(handle(), option.level, option.name, value, "setsockopt");
    }
    /// Reads any option as its type. Errors: as set_option().
    template <class V>
    Result<V> option(const RawOption<V>& option) const noexcept {
        return sys::get_option<V>(handle(), option.level, option.name, "getsockopt");
    }

    /// The IP type of service / traffic class byte (IP_TOS; IPV6_TCLASS on IPv6): DSCP and ECN bits.
    /// Errors: std::errc::invalid_argument (not 0..255), EBADF.
    Result<void> set_type_of_service(int value) noexcept requires InternetFamily<F> {
        if (value < 0 || value > 255) return fail(std::errc::invalid_argument, "type of service");
        return with_ip_level([&](bool v6) {
            return sys::set_int_option(handle(),
                                       v6 ? sys::more_option::ipv6_tclass : sys::more_option::ip_tos, value);
        });
    }
    /// The IP_TOS / IPV6_TCLASS byte. Errors: EBADF.
    Result<int> type_of_service() const noexcept requires InternetFamily<F> {
        return with_ip_level([&](bool v6) {
            return sys::get_int_option(handle(),
                                       v6 ? sys::more_option::ipv6_tclass : sys::more_option::ip_tos);
        });
    }

    /// TCP_USER_TIMEOUT: how long sent data may stay unacknowledged before the connection is dropped
    /// (0: the system's default). Errors: std::errc::invalid_argument (negative, or more than INT_MAX
    /// milliseconds), operation_not_supported (not Linux), EBADF.
    Result<void> set_user_timeout(std::chrono::milliseconds timeout) noexcept requires is_tcp {
        if (timeout.count() < 0 || timeout.count() > INT_MAX)
            return fail(std::errc::invalid_argument, "TCP_USER_TIMEOUT");
        return set_int(sys::more_option::tcp_user_timeout, static_cast<int>(timeout.count()));
    }
    /// The TCP_USER_TIMEOUT setting (0: the system's default). Errors: operation_not_supported, EBADF.
    Result<std::chrono::milliseconds> user_timeout() const noexcept requires is_tcp {
        auto value = get_int(sys::more_option::tcp_user_timeout);
        if (!value) return fail(value.error());
        return std::chrono::milliseconds(*value);
    }

    /// TCP_CORK (TCP_NOPUSH on the BSDs): hold partial segments back until uncorked, so headers and
    /// body written separately leave as full segments. Errors: operation_not_supported (Windows), EBADF.
    Result<void> set_cork(bool on) noexcept requires is_tcp {
        return set_int(sys::more_option::tcp_cork, on ? 1 : 0);
    }
    /// The TCP_CORK / TCP_NOPUSH setting. Errors: operation_not_supported, EBADF.
    Result<bool> cork() const noexcept requires is_tcp { return flag(sys::more_option::tcp_cork); }

    /// TCP_QUICKACK (Linux): acknowledge at once instead of delaying. The kernel clears it again by
    /// itself, so set it when it matters. Errors: operation_not_supported (not Linux), EBADF.
    Result<void> set_quickack(bool on) noexcept requires is_tcp {
        return set_int(sys::more_option::tcp_quickack, on ? 1 : 0);
    }
    /// The TCP_QUICKACK state now. Errors: operation_not_supported, EBADF.
    Result<bool> quickack() const noexcept requires is_tcp { return flag(sys::more_option::tcp_quickack); }

    /// TCP_FASTOPEN on a listener (set before listen): accept data in the SYN, keeping up to
    /// `queue_length` such connections pending (0 turns it off). Errors: std::errc::invalid_argument
    /// (negative), operation_not_supported (Windows), EBADF.
    Result<void> set_fastopen(int queue_length) noexcept requires is_tcp {
        if (queue_length < 0) return fail(std::errc::invalid_argument, "TCP_FASTOPEN");
        return set_int(sys::more_option::tcp_fastopen, queue_length);
    }
    /// The TCP_FASTOPEN queue length (on macOS, 1 when on). Errors: operation_not_supported, EBADF.
    Result<int> fastopen() const noexcept requires is_tcp { return get_int(sys::more_option::tcp_fastopen); }
    /// TCP_FASTOPEN_CONNECT (Linux) on a client, before connect: the first write goes out in the SYN
    /// when the server's cookie is known. Errors: operation_not_supported (elsewhere), EBADF.
    Result<void> set_fastopen_connect(bool on) noexcept requires is_tcp {
        return set_int(sys::more_option::tcp_fastopen_connect, on ? 1 : 0);
    }
    /// The TCP_FASTOPEN_CONNECT setting. Errors: operation_not_supported, EBADF.
    Result<bool> fastopen_connect() const noexcept requires is_tcp {
        return flag(sys::more_option::tcp_fastopen_connect);
    }

    /// SO_BINDTODEVICE (Linux): send and receive only through interface `name` ("lo", "eth0"); an empty
    /// name removes the binding. Errors: std::errc::invalid_argument (longer than the system's interface
    /// names, or a NUL inside), ENODEV (no such interface), EPERM (older kernels want CAP_NET_RAW),
    /// operation_not_supported (elsewhere), EBADF.
    Result<void> set_bound_device(std::string_view name) noexcept requires InternetFamily<F> {
        if (name.size() > sys::max_device_name || name.find('\0') != std::string_view::npos)
            return fail(std::errc::invalid_argument, "SO_BINDTODEVICE");
        char terminated[sys::max_device_name + 1] = {};
        name.copy(terminated, name.size());
        return sys::bind_to_device(handle(), terminated, name.size());
    }
    /// The interface SO_BINDTODEVICE bound this socket to, "" when none. Errors: operation_not_supported,
    /// EBADF.
    Result<std::string> bound_device() const requires InternetFamily<F> {
        char name[sys::max_device_name + 1] = {};
        auto size = sys::bound_device(handle(), name);
        if (!size) return fail(size.error());
        return std::string(name, *size);
    }

    /// The connection's round-trip time, retransmissions and congestion window (TCP_INFO).
    /// Errors: operation_not_supported (not Linux), EBADF.
    Result<TcpInfo> tcp_info() const noexcept requires is_tcp {
        auto fields = sys::tcp_info(handle());
        if (!fields) return fail(fields.error());
        return TcpInfo{fields->rtt, fields->retransmits, fields->congestion_window_bytes};
    }

private:
    sys::native_handle handle() const noexcept { return static_cast<const Derived&>(*this).native_handle(); }

    /// Fails with operation_not_supported for an option this platform lacks.
    static Result<void> supported(const sys::IntOption& option) noexcept {
        if (option.name == sys::unsupported_option)
            return fail(std::errc::operation_not_supported, option.text);
        return {};
    }
    Result<void> set_int(const sys::IntOption& option, int value) const noexcept {
        if (auto ok = supported(option); !ok) return ok;
        return sys::set_int_option(handle(), option, value);
    }
    Result<int> get_int(const sys::IntOption& option) const noexcept {
        if (auto ok = supported(option); !ok) return fail(ok.error());
        return sys::get_int_option(handle(), option);
    }
    Result<bool> flag(const sys::IntOption& option) const noexcept {
        auto value = get_int(option);
        if (!value) return fail(value.error());
        return *value != 0;
    }

protected:
    /// Calls `f(is_v6)`: whether this socket speaks IPv6; Address<IP> sockets ask the OS (Socket uses it
    /// too).
    template <class Fn>
    auto with_ip_level(Fn&& f) const noexcept -> decltype(f(false)) {
        bool v6 = std::is_same_v<F, IPv6>;
        if constexpr (std::is_same_v<F, IP>) {
            auto domain = sys::socket_domain(handle());
            if (!domain) return fail(domain.error());
            v6 = *domain == AF_INET6;
        }
        return f(v6);
    }
};

}  // namespace detail
}  // namespace netlite
