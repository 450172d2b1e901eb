// netlite/udp.hpp - UdpSocket<Family>: datagrams over UDP (IPv4, IPv6, either) or Unix-domain datagram
// sockets (UnixDatagram). A datagram arrives whole or not at all; one that does not fit is reported.
#pragma once

#include <netlite/address.hpp>
#include <netlite/buffer.hpp>
#include <netlite/detail/sys.hpp>
#include <netlite/result.hpp>
#include <netlite/socket.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <utility>

namespace netlite {

/// One datagram received by recv_from.
template <Family F>
struct Received {
    std::size_t size;   // bytes copied into the buffer
    Address<F> sender;  // who sent it (unnamed for an unbound Unix-domain sender)
    bool truncated;     // the datagram was larger than the buffer; its tail was discarded
};

/// A datagram socket: UDP over IPv4/IPv6 (F = IP chooses at run time), or a Unix-domain datagram socket.
template <Family F = IP>
class UdpSocket : public Socket<F, Datagram> {
    using Base = Socket<F, Datagram>;

public:
    UdpSocket() noexcept = default;
    /// Adopts a datagram socket descriptor.
    explicit UdpSocket(typename Base::native_handle_type fd) noexcept : Base(fd) {}
    explicit UdpSocket(Base&& socket) noexcept : Base(std::move(socket)) {}

    /// A socket bound to `address` (port 0: the OS picks). Errors: EADDRINUSE, EACCES, EADDRNOTAVAIL.
    static Result<UdpSocket> bind(const Address<F>& address) noexcept {
        auto socket = open_for(address);
        if (!socket) return fail(socket.error());
        if (auto ok = socket->bind_to(address); !ok) return fail(ok.error());
        return socket;
    }
    /// Binds to `host` ("" = every IPv4 interface, as Python's '') and `port`. Errors: as above, plus
    /// resolve_category errors.
    static Result<UdpSocket> bind(std::string_view host, std::uint16_t port) requires InternetFamily<F> {
        if (host.empty() && !std::is_same_v<F, IPv6>) {
            if constexpr (std::is_same_v<F, IPv6>)
                return bind(Address<IPv6>::any(port));
            else
                return bind(Address<IPv4>::any(port));
        }
        auto addresses = detail::resolve<F>(host, port, true);
        if (!addresses) return fail(addresses.error());
        Error last(errc::no_addresses, "bind");
        for (const Address<F>& address : *addresses) {
            auto socket = bind(address);
            if (socket) return socket;
            last = socket.error();
        }
        return fail(last);
    }
    /// A Unix datagram socket bound to `path` (or "@name"). Errors: EADDRINUSE, errc::path_too_long.
    static Result<UdpSocket> bind(std::string_view path) noexcept requires std::is_same_v<F, Unix> {
        auto address = Address<Unix>::parse(path);
        if (!address) return fail(address.error());
        return bind(*address);
    }
    /// An unbound socket of the family `peer` has, ready to send_to it (the OS binds on first send).
    /// Errors: EAFNOSUPPORT, EMFILE.
    static Result<UdpSocket> open_for(const Address<F>& peer) noexcept {
        auto socket = Base::open_for(peer);
        if (!socket) return fail(socket.error());
        return UdpSocket(std::move(*socket));
    }
    /// An unbound socket of this fixed family. Errors: EAFNOSUPPORT, EMFILE.
    static Result<UdpSocket> open() noexcept requires(!std::is_same_v<F, IP>) {
        auto socket = Base::open();
        if (!socket) return fail(socket.error());
        return UdpSocket(std::move(*socket));
    }
    /// Two Unix datagram sockets connected to each other (socketpair). Errors: EMFILE, ENFILE.
    static Result<std::pair<UdpSocket, UdpSocket>> pair() noexcept requires std::is_same_v<F, Unix> {
        auto fds = detail::sys::socket_pair(SOCK_DGRAM);
        if (!fds) return fail(fds.error());
        return std::pair<UdpSocket, UdpSocket>(UdpSocket((*fds)[0]), UdpSocket((*fds)[1]));
    }

    /// Sends one datagram to `to`. Errors: EMSGSIZE (too large), ECONNREFUSED (an earlier datagram was
    /// refused by ICMP), EACCES (broadcast without set_broadcast), timed_out.
    Result<std::size_t> send_to(ConstBuffer datagram, const Address<F>& to) noexcept {
        return detail::sys::send_to(this->native_handle(), datagram.data(), datagram.size(), to.data(),
                                    to.size());
    }
    /// Waits for one datagram; `truncated` says it did not fit in `buffer` (never silently cut).
    /// Errors: ECONNREFUSED (connected socket, peer port closed), timed_out.
    Result<Received<F>> recv_from(MutableBuffer buffer) noexcept {
        sockaddr_storage storage{};
        socklen_t size = sizeof storage;
        auto got = detail::sys::recv_from(this->native_handle(), buffer.data(), buffer.size(),
                                          reinterpret_cast<sockaddr*>(&storage), &size);
        if (!got) return fail(got.error());
        auto sender = sender_address(storage, size);
        if (!sender) return fail(sender.error());
        return Received<F>{got->copied, *sender, got->full_size > got->copied};
    }

    /// Sets the default peer: send() goes there and only its datagrams are received. Errors: ENETUNREACH.
    Result<void> connect(const Address<F>& peer) noexcept {
        return detail::sys::connect(this->native_handle(), peer.data(), peer.size());
    }
    /// Sends one datagram to the connected peer. Errors: EDESTADDRREQ (not connected), ECONNREFUSED.
    Result<std::size_t> send(ConstBuffer datagram) noexcept {
        return detail::sys::send(this->native_handle(), datagram.data(), datagram.size());
    }
    /// Receives one datagram from the connected peer. Errors: errc::message_truncated when it did not fit
    /// (the buffer holds its first buffer.size() bytes), ECONNREFUSED, timed_out.
    Result<std::size_t> recv(MutableBuffer buffer) noexcept {
        auto got =
            detail::sys::recv_from(this->native_handle(), buffer.data(), buffer.size(), nullptr, nullptr);
        if (!got) return fail(got.error());
        if (got->full_size > got->copied) return fail(errc::message_truncated, "recv");
        return got->copied;
    }

    /// A second UdpSocket for the same socket. Errors: EMFILE.
    Result<UdpSocket> try_clone() const noexcept {
        auto copy = Base::try_clone();
        if (!copy) return fail(copy.error());
        return UdpSocket(std::move(*copy));
    }

private:
    static Result<Address<F>> sender_address(const sockaddr_storage& storage, socklen_t size) noexcept {
        if constexpr (std::is_same_v<F, Unix>) {
            if (size == 0) return Address<Unix>();  // an unbound sender has no name
        }
        return Address<F>::from_native(reinterpret_cast<const sockaddr*>(&storage), size);
    }
};

/// Unix-domain datagram sockets: the same API over a path instead of an IP address.
using UnixDatagram = UdpSocket<Unix>;

}  // namespace netlite
