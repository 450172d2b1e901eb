// SPDX-License-Identifier: BSL-1.0
// netlite/tcp_socket.hpp - TcpSocket<Family>: a stream socket before it is a listener or a connection.
// Open it, set options, bind it (any local address, port 0 for an ephemeral one), then listen or connect
// (Python's socket()/setsockopt/bind/connect, tokio's TcpSocket). TcpListener::bind and
// TcpStream::connect stay the one-call forms of the same steps.
#pragma once

#include <netlite/address.hpp>
#include <netlite/deadline.hpp>
#include <netlite/detail/sys.hpp>
#include <netlite/result.hpp>
#include <netlite/socket.hpp>
#include <netlite/tcp.hpp>

#include <type_traits>
#include <utility>

namespace netlite {

/// An unconnected stream socket (TCP over IPv4/IPv6, or a Unix-domain stream) that is being set up:
/// every Socket option can be set on it before bind(), listen() or connect(). listen() and connect()
/// hand the descriptor over to a TcpListener or TcpStream; when they fail, this socket keeps it.
template <Family F = IP>
class TcpSocket : public detail::SocketRole<F, Stream> {
    using Base = Socket<F, Stream>;

public:
    /// Empty, or adopting an unconnected stream descriptor or Socket.
    using detail::SocketRole<F, Stream>::SocketRole;

    /// A new, unbound stream socket of this fixed family. Errors: EAFNOSUPPORT (e.g. no IPv6), EMFILE.
    static Result<TcpSocket> open() noexcept requires(!std::is_same_v<F, IP>) { return adopt(Base::open()); }
    /// A new, unbound stream socket of the family `address` has (Address<IP>: IPv4 or IPv6).
    /// Errors: as open().
    static Result<TcpSocket> open_for(const Address<F>& address) noexcept {
        return adopt(Base::open_for(address));
    }

    /// Binds to the local `address` (port 0: the OS picks one, see local_address()); set the options
    /// bind depends on (set_reuse_address, set_reuse_port, set_ipv6_only) first.
    /// Errors: EADDRINUSE, EACCES (port below 1024), EADDRNOTAVAIL (not this host's address), EINVAL
    /// (already bound), EAFNOSUPPORT (an IPv4 address on an IPv6 socket or the reverse), EBADF.
    Result<void> bind(const Address<F>& address) noexcept { return this->bind_to(address); }

    /// Starts listening (on the bound address, or an ephemeral port when unbound) and becomes a
    /// TcpListener; this socket is empty afterwards. On failure this socket keeps its descriptor.
    /// Errors: EADDRINUSE (another socket listens on the port), EOPNOTSUPP, EBADF.
    Result<TcpListener<F>> listen(int backlog = detail::sys::max_backlog) && noexcept {
        if (auto ok = detail::sys::listen(this->native_handle(), backlog); !ok) return fail(ok.error());
        return TcpListener<F>(std::move(static_cast<Base&>(*this)));
    }

    /// Connects to `peer` (from the bound address, or one the OS picks) within `until`, or within
    /// set_timeout()'s timeout when `until` is forever, and becomes a TcpStream; this socket is empty
    /// afterwards. On failure this socket keeps its descriptor (POSIX leaves a socket whose connect failed
    /// unusable: close it). Errors: ECONNREFUSED, ETIMEDOUT, ENETUNREACH, EADDRNOTAVAIL (no free local
    /// port), EAFNOSUPPORT, std::errc::timed_out, std::errc::operation_canceled.
    Result<TcpStream<F>> connect(const Address<F>& peer, const Until& until = {}) && {
        const Until& limit = until.is_forever() ? this->default_until() : until;
        auto ok = limit.is_forever()
                      ? detail::sys::connect(this->native_handle(), peer.data(), peer.size())
                      : detail::sys::connect_until(this->native_handle(), peer.data(), peer.size(), limit);
        if (!ok) return fail(ok.error());
        return TcpStream<F>(std::move(static_cast<Base&>(*this)));
    }

private:
    static Result<TcpSocket> adopt(Result<Base> socket) noexcept {
        if (!socket) return fail(socket.error());
        return TcpSocket(std::move(*socket));
    }
};

}  // namespace netlite
