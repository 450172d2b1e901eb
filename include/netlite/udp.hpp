// SPDX-License-Identifier: BSL-1.0
// netlite/udp.hpp - UdpSocket<Family>: datagrams over UDP (IPv4, IPv6, either) or Unix-domain datagram
// sockets (UnixDatagram). A datagram arrives whole or not at all; one that does not fit is reported.
#pragma once

#include <netlite/address.hpp>
#include <netlite/buffer.hpp>
#include <netlite/deadline.hpp>
#include <netlite/detail/sys.hpp>
#include <netlite/result.hpp>
#include <netlite/socket.hpp>

#include <climits>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string_view>
#include <type_traits>
#include <utility>

namespace netlite {

/// One datagram for UdpSocket::send_batch: its bytes and where it goes (for a Unix datagram socket, an
/// unnamed address sends to the connected peer).
template <Family F>
struct DatagramOut {
    /// The bytes to send.
    ConstBuffer data;
    /// Where to send them.
    Address<F> to;
};

/// One received datagram, the one record of every receive that says who sent it: recv_from() and
/// try_recv_from() return it, recv_batch() fills a span of them (the caller sets each slot's `buffer`).
/// A datagram that does not fit is never cut silently: `truncated` says its tail was discarded, and
/// `size` counts the bytes kept. The connected recv() returns a bare size, with no room for that flag,
/// so it reports a datagram that did not fit as errc::message_truncated instead.
template <Family F>
struct DatagramIn {
    /// Where the datagram went: set by the caller for recv_batch(), the buffer given to recv_from().
    MutableBuffer buffer;
    std::size_t size = 0;    ///< bytes copied into buffer (its first `size` bytes)
    Address<F> sender{};     ///< who sent it (unnamed for an unbound Unix-domain sender)
    bool truncated = false;  ///< the datagram was larger than buffer; its tail was discarded
};
/// The name recv_from() used before its record and recv_batch()'s were one: the same type.
template <Family F>
using Received = DatagramIn<F>;

/// How UdpSocket::bind(address, options) sets the socket up before it binds.
struct BindOptions {
    /// SO_REUSEADDR: several sockets may bind one multicast address and port, each receiving every
    /// datagram sent to the group (the BSDs want reuse_port for that; Windows uses SO_REUSEADDR).
    bool reuse_address = false;
    /// SO_REUSEPORT: several sockets bind one port (Linux shares unicast datagrams among them). Where the
    /// platform has no SO_REUSEPORT (Windows), binding fails with ENOPROTOOPT.
    bool reuse_port = false;
    /// For an IPv6 address: true = IPv6 only, false = dual-stack (IPv4 peers appear as \::ffff:a.b.c.d);
    /// nothing keeps the system's default.
    std::optional<bool> ipv6_only{};
};

/// One datagram received by UdpSocket::recv_with_destination: recv_from's answer plus where it was sent.
template <Family F>
struct ReceivedAt {
    std::size_t size;   ///< bytes copied into the buffer
    Address<F> sender;  ///< who sent it
    bool truncated;     ///< the datagram was larger than the buffer; its tail was discarded
    /// The address it was sent to, from its IP header (port 0: it is this socket's port); for a multicast
    /// datagram the group. Nothing when set_receive_destination(true) was not called first.
    std::optional<Address<F>> destination;
    unsigned interface_index;  ///< the interface it arrived on (0 where the platform does not say)
};

/// A datagram socket: UDP over IPv4/IPv6 (F = IP chooses at run time), or a Unix-domain datagram socket.
template <Family F = IP>
class UdpSocket : public detail::SocketRole<F, Datagram> {
public:
    /// Empty, or adopting a datagram descriptor or Socket.
    using detail::SocketRole<F, Datagram>::SocketRole;

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
        return detail::bind_first<F>(host, port, [](const Address<F>& address) { return bind(address); });
    }
    /// A socket set up as `options` say, then bound to `address` (port 0: the OS picks): e.g. a
    /// multicast receiver sharing its port, or a dual-stack socket. Errors: as bind(address), plus
    /// ENOPROTOOPT (an option the platform lacks).
    static Result<UdpSocket> bind(const Address<F>& address,
                                  const BindOptions& options) noexcept requires InternetFamily<F> {
        auto socket = open_for(address);
        if (!socket) return fail(socket.error());
        if (auto ok = socket->prepare(address, options); !ok) return fail(ok.error());
        if (auto ok = socket->bind_to(address); !ok) return fail(ok.error());
        return socket;
    }
    /// Binds to `host` and `port` as bind(host, port) does, setting the socket up as `options` say first.
    /// Errors: as bind(address, options), plus resolve_category errors.
    static Result<UdpSocket> bind(std::string_view host, std::uint16_t port,
                                  const BindOptions& options) requires InternetFamily<F> {
        return detail::bind_first<F>(host, port,
                                     [&](const Address<F>& address) { return bind(address, options); });
    }
    /// Binds this opened, unbound socket to `address` (port 0: the OS picks), after whatever options it
    /// needs were set on it: the steps bind(address) takes in one call. Errors: EADDRINUSE, EACCES,
    /// EADDRNOTAVAIL, EINVAL (already bound, also implicitly by a send), EAFNOSUPPORT, EBADF.
    Result<void> bind_to(const Address<F>& address) noexcept { return Base::bind_to(address); }

    /// As recv_from(), but leaves the datagram queued for the next receive (MSG_PEEK). Errors: as
    /// recv_from().
    Result<Received<F>> peek_from(MutableBuffer buffer) noexcept {
        sockaddr_storage storage{};
        detail::sys::socklen size = sizeof storage;
        auto got = detail::sys::recv_from(this->native_handle(), buffer.data(), buffer.size(),
                                          reinterpret_cast<sockaddr*>(&storage), &size, detail::sys::peek);
        if (!got) return fail(got.error());
        return received(buffer, *got, storage, size);
    }
    /// IP_PKTINFO / IPV6_RECVPKTINFO: from now on recv_with_destination() tells each datagram's
    /// destination address and arriving interface. Errors: ENOPROTOOPT, EBADF, operation_not_supported
    /// (Windows).
    Result<void> set_receive_destination(bool on) noexcept requires InternetFamily<F> {
        if constexpr (std::is_same_v<F, IP>) {
            auto domain = detail::sys::socket_domain(this->native_handle());
            if (!domain) return fail(domain.error());
            return detail::sys::set_receive_destination(this->native_handle(), *domain == AF_INET6, on);
        } else {
            return detail::sys::set_receive_destination(this->native_handle(), std::is_same_v<F, IPv6>, on);
        }
    }
    /// Waits for one datagram, as recv_from(), and tells where it was sent (the address a multi-homed
    /// server was asked on: answer from it with send_from()). Errors: as recv_from(),
    /// operation_not_supported (Windows).
    Result<ReceivedAt<F>> recv_with_destination(MutableBuffer buffer) noexcept requires InternetFamily<F> {
        sockaddr_storage storage{};
        detail::sys::socklen size = sizeof storage;
        detail::sys::DatagramDestination destination{};
        auto got =
            detail::sys::recv_with_destination(this->native_handle(), buffer.data(), buffer.size(),
                                               reinterpret_cast<sockaddr*>(&storage), &size, destination);
        if (!got) return fail(got.error());
        auto basic = received(buffer, *got, storage, size);
        if (!basic) return fail(basic.error());
        ReceivedAt<F> at{basic->size, basic->sender, basic->truncated, std::nullopt,
                         destination.interface_index};
        if (destination.known) {
            auto where = Address<F>::from_native(reinterpret_cast<const sockaddr*>(&destination.address),
                                                 sizeof destination.address);
            if (where) at.destination = *where;
        }
        return at;
    }
    /// Sends one datagram to `to` from the local address `from` (its port is ignored: the datagram leaves
    /// from this socket's port) and, if not 0, by interface `interface_index`: a multi-homed server's
    /// reply from the address it was asked on. Errors: EINVAL (`from` is not this host's), EMSGSIZE,
    /// ENETUNREACH, EAFNOSUPPORT, operation_not_supported (Windows).
    Result<std::size_t> send_from(ConstBuffer datagram, const Address<F>& to, const Address<F>& from,
                                  unsigned interface_index = 0) noexcept requires InternetFamily<F> {
        sockaddr_storage source{};
        std::memcpy(&source, from.data(), static_cast<std::size_t>(from.size()));
        return detail::sys::send_from(this->native_handle(), datagram.data(), datagram.size(), to.data(),
                                      to.size(), source, interface_index);
    }
    /// Joins multicast `group` (its port is ignored) on interface `interface_index` (0: the system picks)
    /// for datagrams sent from `source` only: a source-specific join (IGMPv3/MLDv2, groups 232/8 and
    /// ff3x::/96). Errors: EINVAL (not a multicast group, `group` and `source` of different families, an
    /// index above INT_MAX), EADDRNOTAVAIL, ENODEV (no such interface), operation_not_supported (OpenBSD,
    /// NetBSD; an interface index on a BSD without MCAST_JOIN_SOURCE_GROUP).
    Result<void> join_source_multicast(const Address<F>& group, const Address<F>& source,
                                       unsigned interface_index = 0) noexcept requires InternetFamily<F> {
        return source_membership(group, source, interface_index, true);
    }
    /// Leaves a source-specific join made with join_source_multicast. Errors: EADDRNOTAVAIL (no such
    /// join), EINVAL, operation_not_supported, as join_source_multicast().
    Result<void> leave_source_multicast(const Address<F>& group, const Address<F>& source,
                                        unsigned interface_index = 0) noexcept requires InternetFamily<F> {
        return source_membership(group, source, interface_index, false);
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
        if (this->has_timeout()) [[unlikely]]
            return send_to_timed(datagram, to);
        return detail::sys::send_to(this->native_handle(), datagram.data(), datagram.size(), to.data(),
                                    to.size());
    }
    /// As send_to(), giving up per `until` when the send buffer stays full (timed_out, operation_canceled).
    Result<std::size_t> send_to(ConstBuffer datagram, const Address<F>& to, const Until& until) {
        return detail::sys::when_ready(
            this->native_handle(), detail::sys::poll_out, until, "sendto", [&](int flags) {
                return detail::sys::send_to(this->native_handle(), datagram.data(), datagram.size(),
                                            to.data(), to.size(), flags);
            });
    }
    /// Waits for one datagram and says who sent it; `truncated` says it did not fit in `buffer` (never
    /// silently cut). Errors: ECONNREFUSED (connected socket, peer port closed), timed_out.
    Result<Received<F>> recv_from(MutableBuffer buffer) noexcept {
        if (this->has_timeout()) [[unlikely]]
            return recv_from_timed(buffer);
        // The kernel fills `size` bytes and nothing reads beyond them: no zeroing on the hot path.
        sockaddr_storage storage;  // NOLINT(cppcoreguidelines-pro-type-member-init)
        detail::sys::socklen size = sizeof storage;
        auto got = detail::sys::recv_from(this->native_handle(), buffer.data(), buffer.size(),
                                          reinterpret_cast<sockaddr*>(&storage), &size);
        if (!got) return fail(got.error());
        return received(buffer, *got, storage, size);
    }
    /// As recv_from(), giving up per `until` (timed_out, operation_canceled); the socket stays usable.
    Result<Received<F>> recv_from(MutableBuffer buffer, const Until& until) {
        sockaddr_storage storage;  // NOLINT(cppcoreguidelines-pro-type-member-init): see recv_from()
        detail::sys::socklen size = sizeof storage;
        auto got = detail::sys::when_ready(
            this->native_handle(), detail::sys::poll_in, until, "recvfrom", [&](int flags) {
                size = sizeof storage;
                return detail::sys::recv_from(this->native_handle(), buffer.data(), buffer.size(),
                                              reinterpret_cast<sockaddr*>(&storage), &size, flags);
            });
        if (!got) return fail(got.error());
        return received(buffer, *got, storage, size);
    }

    // --- vectored datagrams: one datagram gathered from, or scattered over, several buffers ---------------

    /// Most non-empty buffers one vectored datagram takes (IOV_MAX; 1,024 on Windows).
    static constexpr std::size_t max_datagram_buffers = detail::sys::max_io_buffers;

    /// Sends one datagram to `to` made of `buffers` in order (sendmsg; WSASendTo on Windows). Empty buffers
    /// are skipped; none at all send an empty datagram, which UDP carries. A datagram is never split
    /// across calls, so more than max_datagram_buffers non-empty buffers is EINVAL (a stream's
    /// write_vectored would send the first ones). For a Unix datagram socket, an unnamed `to` sends to the
    /// connected peer. Errors: as send_to(), EINVAL.
    Result<std::size_t> send_to(std::span<const ConstBuffer> buffers, const Address<F>& to) noexcept {
        if (this->has_timeout()) [[unlikely]]
            return send_to_vectored_timed(buffers, to);
        return send_to(buffers, to, Until{});
    }
    /// As send_to(buffers, to), giving up per `until` when the send buffer stays full (timed_out,
    /// operation_canceled).
    Result<std::size_t> send_to(std::span<const ConstBuffer> buffers, const Address<F>& to,
                                const Until& until) {
        detail::sys::io_buffer vectors[max_datagram_buffers];
        auto count = detail::datagram_iovecs(buffers, vectors, true, "sendmsg");
        if (!count) return fail(count.error());
        bool named = true;
        if constexpr (std::is_same_v<F, Unix>) named = !to.is_unnamed();
        return detail::sys::when_ready(
            this->native_handle(), detail::sys::poll_out, until, "sendmsg", [&](int flags) {
                return detail::sys::send_to_vectored(this->native_handle(), vectors, *count,
                                                     named ? to.data() : nullptr, to.size(), flags);
            });
    }
    /// Waits for one datagram and scatters it over `buffers` in order (recvmsg; WSARecvFrom on Windows):
    /// the record recv_from() returns, with `size` counting the bytes over all buffers, `truncated` set
    /// when they had too little room, and `buffer` left empty. Empty buffers are skipped; none at all take
    /// one datagram and keep nothing of it (truncated unless it was empty). More than
    /// max_datagram_buffers non-empty buffers is EINVAL. Errors: as recv_from(), EINVAL.
    Result<DatagramIn<F>> recv_from(std::span<const MutableBuffer> buffers) noexcept {
        if (this->has_timeout()) [[unlikely]]
            return recv_from_vectored_timed(buffers);
        return recv_from(buffers, Until{});
    }
    /// As recv_from(buffers), giving up per `until` (timed_out, operation_canceled).
    Result<DatagramIn<F>> recv_from(std::span<const MutableBuffer> buffers, const Until& until) {
        detail::sys::io_buffer vectors[max_datagram_buffers];
        auto count = detail::datagram_iovecs(buffers, vectors, false, "recvmsg");
        if (!count) return fail(count.error());
        sockaddr_storage storage;  // NOLINT(cppcoreguidelines-pro-type-member-init): see recv_from()
        detail::sys::socklen size = sizeof storage;
        auto got = detail::sys::when_ready(
            this->native_handle(), detail::sys::poll_in, until, "recvmsg", [&](int flags) {
                size = sizeof storage;
                return detail::sys::recv_from_vectored(this->native_handle(), vectors, *count,
                                                       reinterpret_cast<sockaddr*>(&storage), &size, flags);
            });
        if (!got) return fail(got.error());
        return received(MutableBuffer(), *got, storage, size);
    }

    /// Sets the default peer: send() goes there and only its datagrams are received. Errors: ENETUNREACH.
    Result<void> connect(const Address<F>& peer) noexcept {
        return detail::sys::connect(this->native_handle(), peer.data(), peer.size());
    }
    /// Sends one datagram to the connected peer. Errors: EDESTADDRREQ (not connected), ECONNREFUSED.
    Result<std::size_t> send(ConstBuffer datagram) noexcept {
        if (this->has_timeout()) [[unlikely]]
            return send_timed(datagram);
        return detail::sys::send(this->native_handle(), datagram.data(), datagram.size());
    }
    /// As send(), giving up per `until` (timed_out, operation_canceled).
    Result<std::size_t> send(ConstBuffer datagram, const Until& until) {
        return detail::sys::when_ready(
            this->native_handle(), detail::sys::poll_out, until, "send", [&](int flags) {
                return detail::sys::send(this->native_handle(), datagram.data(), datagram.size(), flags);
            });
    }
    /// Receives one datagram from the connected peer. Errors: errc::message_truncated when it did not fit
    /// (the buffer holds its first buffer.size() bytes; a bare size has no room for DatagramIn's flag),
    /// ECONNREFUSED, timed_out.
    Result<std::size_t> recv(MutableBuffer buffer) noexcept {
        if (this->has_timeout()) [[unlikely]]
            return recv_timed(buffer);
        return whole(
            detail::sys::recv_from(this->native_handle(), buffer.data(), buffer.size(), nullptr, nullptr));
    }
    /// As recv(), giving up per `until` (timed_out, operation_canceled).
    Result<std::size_t> recv(MutableBuffer buffer, const Until& until) {
        return whole(detail::sys::when_ready(
            this->native_handle(), detail::sys::poll_in, until, "recv", [&](int flags) {
                return detail::sys::recv_from(this->native_handle(), buffer.data(), buffer.size(), nullptr,
                                              nullptr, flags);
            }));
    }

    /// A second UdpSocket for the same socket. Errors: EMFILE.
    Result<UdpSocket> try_clone() const noexcept {
        auto copy = Base::try_clone();
        if (!copy) return fail(copy.error());
        return UdpSocket(std::move(*copy));
    }

    // --- batches (sendmmsg/recvmmsg on Linux, a sendmsg/recvmsg loop elsewhere; nothing is allocated)

    /// Most datagrams one system call moves; larger batches take several calls.
    static constexpr std::size_t max_batch = 64;

    /// Sends `datagrams` in order, each to its own address; returns how many were sent. Fewer than given
    /// means a later one failed after the first went (the next call reports that error).
    /// Errors: as send_to(), when not even the first datagram could be sent.
    Result<std::size_t> send_batch(std::span<const DatagramOut<F>> datagrams) noexcept {
        return send_batch(datagrams, this->default_until());
    }
    /// As send_batch(), waiting for room for the first datagram within `until` (timed_out,
    /// operation_canceled).
    Result<std::size_t> send_batch(std::span<const DatagramOut<F>> datagrams, const Until& until) {
        detail::sys::MultiMessage messages[max_batch];
        detail::sys::io_buffer vectors[max_batch];
        std::size_t total = 0;
        while (total < datagrams.size()) {
            const std::size_t count =
                datagrams.size() - total < max_batch ? datagrams.size() - total : max_batch;
            for (std::size_t i = 0; i < count; ++i) {
                const DatagramOut<F>& out = datagrams[total + i];
                vectors[i] = detail::sys::make_io_buffer(out.data.data(), out.data.size());
                bool named = true;
                if constexpr (std::is_same_v<F, Unix>) named = !out.to.is_unnamed();
                detail::sys::prepare_message(messages[i], &vectors[i], named ? out.to.data() : nullptr,
                                             out.to.size());
            }
            auto sent =
                total > 0
                    ? detail::sys::send_many(this->native_handle(), messages, count)
                    : detail::sys::when_ready(
                          this->native_handle(), detail::sys::poll_out, until, "sendmmsg", [&](int flags) {
                              return detail::sys::send_many(this->native_handle(), messages, count, flags);
                          });
            if (!sent) {
                if (total > 0) break;
                return fail(sent.error());
            }
            total += *sent;
            if (*sent < count) break;
        }
        return total;
    }
    /// Waits for one datagram, then takes those already queued, up to slots.size(); returns how many
    /// slots were filled (size, sender, truncated). Errors: as recv_from(), when none arrived.
    Result<std::size_t> recv_batch(std::span<DatagramIn<F>> slots) noexcept {
        return recv_batch(slots, this->default_until());
    }
    /// As recv_batch(), waiting for the first datagram within `until` (timed_out, operation_canceled).
    Result<std::size_t> recv_batch(std::span<DatagramIn<F>> slots, const Until& until) {
        detail::sys::MultiMessage messages[max_batch];
        detail::sys::io_buffer vectors[max_batch];
        sockaddr_storage names[max_batch];
        std::size_t total = 0;
        while (total < slots.size()) {
            const std::size_t count = slots.size() - total < max_batch ? slots.size() - total : max_batch;
            for (std::size_t i = 0; i < count; ++i) {
                vectors[i] = detail::sys::make_io_buffer(slots[total + i].buffer.data(),
                                                         slots[total + i].buffer.size());
                detail::sys::prepare_message(messages[i], &vectors[i], reinterpret_cast<sockaddr*>(&names[i]),
                                             sizeof names[i]);
            }
            auto got = total > 0 ? detail::sys::recv_many(this->native_handle(), messages, count, true)
                                 : detail::sys::when_ready(this->native_handle(), detail::sys::poll_in, until,
                                                           "recvmmsg", [&](int flags) {
                                                               return detail::sys::recv_many(
                                                                   this->native_handle(), messages, count,
                                                                   flags != 0);
                                                           });
            if (!got) {
                if (total > 0) break;  // nothing more queued
                return fail(got.error());
            }
            for (std::size_t i = 0; i < *got; ++i) {
                DatagramIn<F>& slot = slots[total + i];
                const std::size_t length = detail::sys::message_length(messages[i]);
                const std::size_t room = detail::sys::io_buffer_size(vectors[i]);
                slot.size = length < room ? length : room;
                slot.truncated = detail::sys::message_truncated(messages[i]);
                auto sender = sender_address(names[i], detail::sys::message_name_size(messages[i]));
                if (!sender) return fail(sender.error());
                slot.sender = *sender;
            }
            total += *got;
            if (*got < count) break;
        }
        return total;
    }

    // --- non-blocking attempts, for readiness loops (netlite/poll.hpp) -----------------------------------
    // Each tries once without waiting (MSG_DONTWAIT: the socket's blocking mode does not matter) and says
    // "would block" with an empty optional, never with an error.

    /// One datagram if one is queued (`truncated` as in recv_from); std::nullopt when none is.
    /// Errors: as recv_from(), never timed_out.
    Result<std::optional<Received<F>>> try_recv_from(MutableBuffer buffer) noexcept {
        sockaddr_storage storage;  // NOLINT(cppcoreguidelines-pro-type-member-init): see recv_from()
        detail::sys::socklen size = sizeof storage;
        auto got =
            detail::sys::recv_from(this->native_handle(), buffer.data(), buffer.size(),
                                   reinterpret_cast<sockaddr*>(&storage), &size, detail::sys::dont_wait);
        if (!got) {
            if (detail::sys::would_block(got.error())) return std::optional<Received<F>>();
            return fail(got.error());
        }
        auto datagram = received(buffer, *got, storage, size);
        if (!datagram) return fail(datagram.error());
        return std::optional<Received<F>>(*datagram);
    }
    /// Sends one datagram to `to` if the send buffer has room now; std::nullopt when it has not.
    /// Errors: as send_to(), never timed_out.
    Result<std::optional<std::size_t>> try_send_to(ConstBuffer datagram, const Address<F>& to) noexcept {
        return detail::sys::unless_would_block<std::optional<std::size_t>>(
            detail::sys::send_to(this->native_handle(), datagram.data(), datagram.size(), to.data(),
                                 to.size(), detail::sys::dont_wait));
    }

private:
    using Base = Socket<F, Datagram>;

    Result<void> prepare(const Address<F>& address, const BindOptions& options) noexcept {
        if (options.reuse_address)
            if (auto ok = this->set_reuse_address(true); !ok) return ok;
        if (options.reuse_port)
            if (auto ok = this->set_reuse_port(true); !ok) return ok;
        if constexpr (std::is_same_v<F, IPv6> || std::is_same_v<F, IP>)
            if (options.ipv6_only && address.domain() == AF_INET6)
                return this->set_ipv6_only(*options.ipv6_only);
        return {};
    }

    NETLITE_NOINLINE Result<std::size_t> send_to_vectored_timed(std::span<const ConstBuffer> buffers,
                                                                const Address<F>& to) {
        return send_to(buffers, to, this->default_until());
    }
    NETLITE_NOINLINE Result<DatagramIn<F>> recv_from_vectored_timed(std::span<const MutableBuffer> buffers) {
        return recv_from(buffers, this->default_until());
    }
    Result<void> source_membership(const Address<F>& group, const Address<F>& source,
                                   unsigned interface_index, bool join) const noexcept {
        if (interface_index > INT_MAX)
            return fail(std::errc::invalid_argument,
                        join ? "join_source_multicast" : "leave_source_multicast");
        return detail::sys::source_multicast_membership(this->native_handle(), group.data(), group.size(),
                                                        source.data(), source.size(), interface_index, join);
    }
    NETLITE_NOINLINE Result<std::size_t> send_timed(ConstBuffer datagram) {
        return send(datagram, this->default_until());
    }
    NETLITE_NOINLINE Result<std::size_t> recv_timed(MutableBuffer buffer) {
        return recv(buffer, this->default_until());
    }
    /// A connected recv's size, or errc::message_truncated when the datagram did not fit.
    static Result<std::size_t> whole(Result<detail::sys::DatagramSize> got) noexcept {
        if (!got) return fail(got.error());
        if (got->full_size > got->copied) return fail(errc::message_truncated, "recv");
        return got->copied;
    }
    NETLITE_NOINLINE Result<std::size_t> send_to_timed(ConstBuffer datagram, const Address<F>& to) {
        return send_to(datagram, to, this->default_until());
    }
    NETLITE_NOINLINE Result<Received<F>> recv_from_timed(MutableBuffer buffer) {
        return recv_from(buffer, this->default_until());
    }
    static Result<Received<F>> received(MutableBuffer buffer, detail::sys::DatagramSize got,
                                        const sockaddr_storage& storage, detail::sys::socklen size) noexcept {
        auto sender = sender_address(storage, size);
        if (!sender) return fail(sender.error());
        return Received<F>{buffer, got.copied, *sender, got.full_size > got.copied};
    }
    static Result<Address<F>> sender_address(const sockaddr_storage& storage,
                                             detail::sys::socklen size) noexcept {
        if constexpr (std::is_same_v<F, Unix>) {
            if (size == 0) return Address<Unix>();  // an unbound sender has no name
        }
        return Address<F>::from_native(reinterpret_cast<const sockaddr*>(&storage), size);
    }
};

/// Unix-domain datagram sockets: the same API over a path instead of an IP address.
using UnixDatagram = UdpSocket<Unix>;

}  // namespace netlite
