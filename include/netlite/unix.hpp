// SPDX-License-Identifier: BSL-1.0
// netlite/unix.hpp - opt-in (not in the umbrella header): Unix-domain IPC beyond bytes. Passing open
// descriptors with data (SCM_RIGHTS; Python's socket.send_fds/recv_fds), the peer's process, user and
// group (SO_PEERCRED, getpeereid), and SOCK_SEQPACKET sockets: connected, reliable, and each send arrives
// as one message.
#pragma once

#include <netlite/address.hpp>
#include <netlite/buffer.hpp>
#include <netlite/detail/sys.hpp>
#include <netlite/detail/sys_ipc.hpp>
#include <netlite/result.hpp>
#include <netlite/socket.hpp>

#include <cstddef>
#include <optional>
#include <span>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace netlite {

/// An open descriptor received from another process: closes it when destroyed (close-on-exec is set).
class OwnedDescriptor {
public:
    /// A platform handle: an int file descriptor on POSIX.
    using native_handle_type = detail::sys::native_handle;

    /// Owns nothing.
    OwnedDescriptor() noexcept = default;
    /// Owns `fd`: closes it when destroyed.
    explicit OwnedDescriptor(native_handle_type fd) noexcept : fd_(fd) {}
    /// Takes `other`'s descriptor, leaving it empty.
    OwnedDescriptor(OwnedDescriptor&& other) noexcept
        : fd_(std::exchange(other.fd_, detail::sys::invalid_handle)) {}
    /// Closes this descriptor, then takes `other`'s.
    OwnedDescriptor& operator=(OwnedDescriptor&& other) noexcept {
        if (this != &other) {
            reset();
            fd_ = std::exchange(other.fd_, detail::sys::invalid_handle);
        }
        return *this;
    }
    OwnedDescriptor(const OwnedDescriptor&) = delete;
    OwnedDescriptor& operator=(const OwnedDescriptor&) = delete;
    ~OwnedDescriptor() { reset(); }

    /// The descriptor (still owned), invalid_handle when empty.
    native_handle_type get() const noexcept { return fd_; }
    /// Gives the descriptor up: the caller closes it.
    native_handle_type release() noexcept { return std::exchange(fd_, detail::sys::invalid_handle); }
    /// True while a descriptor is owned.
    explicit operator bool() const noexcept { return fd_ != detail::sys::invalid_handle; }

private:
    void reset() noexcept {
        if (fd_ != detail::sys::invalid_handle) (void)detail::sys::close_fd(release());
    }
    native_handle_type fd_ = detail::sys::invalid_handle;
};

/// What recv_with_descriptors received.
struct ReceivedWithDescriptors {
    std::size_t size = 0;                        ///< bytes copied into the buffer
    std::vector<OwnedDescriptor> descriptors{};  ///< the descriptors that came with them, owned
    bool truncated = false;  ///< a message (datagram, seqpacket) did not fit; its tail is lost
    /// More descriptors came than max_descriptors allowed (MSG_CTRUNC): the kernel closed the rest.
    bool descriptors_truncated = false;
};

/// The identity of a connected Unix-domain peer, taken when it connected (or when the pair was made).
struct PeerCredentials {
    std::optional<long> pid;  ///< its process; nothing where the system does not tell (getpeereid)
    unsigned long uid;        ///< its effective user
    unsigned long gid;        ///< its effective group
};

/// Sends `data` with `descriptors` attached (SCM_RIGHTS): the receiver gets its own descriptors for the
/// same open files, sockets or pipes (Python's socket.send_fds). The descriptors stay open here. On a
/// stream, at least one byte must go with them. Errors: std::errc::invalid_argument (descriptors with no
/// data on a stream, or more than 253), EBADF (a descriptor is not open), EPIPE, ECONNRESET,
/// operation_not_supported (Windows).
template <SocketType T>
Result<std::size_t> send_with_descriptors(Socket<Unix, T>& socket, ConstBuffer data,
                                          std::span<const detail::sys::native_handle> descriptors) noexcept {
    if (std::is_same_v<T, Stream> && data.size() == 0 && !descriptors.empty())
        return fail(std::errc::invalid_argument, "sendmsg");
    return detail::sys::send_with_descriptors(socket.native_handle(), data.data(), data.size(),
                                              descriptors.data(), descriptors.size());
}

/// Receives bytes into `buffer` and up to `max_descriptors` descriptors sent with them (Python's
/// socket.recv_fds), each close-on-exec and owned by the result; more than that are closed by the kernel
/// and reported in descriptors_truncated, so nothing leaks (nor when the vector cannot be allocated:
/// std::bad_alloc then closes what arrived). 0 bytes on a stream: end of stream.
/// Errors: ECONNRESET, EBADF, operation_not_supported (Windows).
template <SocketType T>
Result<ReceivedWithDescriptors> recv_with_descriptors(Socket<Unix, T>& socket, MutableBuffer buffer,
                                                      std::size_t max_descriptors = 16) {
    if (max_descriptors > detail::sys::max_descriptors_per_message)
        max_descriptors = detail::sys::max_descriptors_per_message;
    detail::sys::native_handle arrived[detail::sys::max_descriptors_per_message];
    auto got = detail::sys::recv_with_descriptors(socket.native_handle(), buffer.data(), buffer.size(),
                                                  arrived, max_descriptors);
    if (!got) return fail(got.error());
    OwnedDescriptor owned[detail::sys::max_descriptors_per_message];  // closes them if anything below throws
    for (std::size_t i = 0; i < got->count; ++i) owned[i] = OwnedDescriptor(arrived[i]);
    ReceivedWithDescriptors received;
    received.size = got->size;
    received.truncated = got->data_truncated;
    received.descriptors_truncated = got->control_truncated;
    received.descriptors.reserve(got->count);
    for (std::size_t i = 0; i < got->count; ++i) received.descriptors.push_back(std::move(owned[i]));
    return received;
}

/// The connected peer's process id (where known), user and group: SO_PEERCRED on Linux, getpeereid (and
/// LOCAL_PEERPID where it exists) on macOS and the BSDs. Errors: ENOTCONN, EBADF, operation_not_supported
/// (Windows).
template <SocketType T>
Result<PeerCredentials> peer_credentials(const Socket<Unix, T>& socket) noexcept {
    auto fields = detail::sys::peer_credentials(socket.native_handle());
    if (!fields) return fail(fields.error());
    PeerCredentials credentials{std::nullopt, fields->uid, fields->gid};
    if (fields->pid >= 0) credentials.pid = fields->pid;
    return credentials;
}

/// One message received by UnixSeqPacket::recv.
struct Message {
    std::size_t size;  ///< bytes copied into the buffer
    bool truncated;    ///< the message was larger than the buffer; its tail was discarded
};

/// A connected Unix-domain SOCK_SEQPACKET socket: reliable and ordered like a stream, but each send
/// arrives as one message, as a datagram does. (Linux, the BSDs; not macOS or Windows: there open and
/// connect fail with EPROTONOSUPPORT or EAFNOSUPPORT.)
class UnixSeqPacket : public Socket<Unix, SeqPacket> {
    using Base = Socket<Unix, SeqPacket>;

public:
    UnixSeqPacket() noexcept = default;
    /// Adopts a connected SOCK_SEQPACKET descriptor.
    explicit UnixSeqPacket(native_handle_type fd) noexcept : Base(fd) {}
    /// Takes over a connected SOCK_SEQPACKET Socket.
    explicit UnixSeqPacket(Base&& socket) noexcept : Base(std::move(socket)) {}

    /// Connects to the listener at `address`. Errors: ENOENT, ECONNREFUSED, EPROTONOSUPPORT.
    static Result<UnixSeqPacket> connect(const Address<Unix>& address) noexcept {
        auto socket = Base::open();
        if (!socket) return fail(socket.error());
        if (auto ok = detail::sys::connect(socket->native_handle(), address.data(), address.size()); !ok)
            return fail(ok.error());
        return UnixSeqPacket(std::move(*socket));
    }
    /// Connects to the listener at `path` ("@name": abstract). Errors: as connect(address), path_too_long.
    static Result<UnixSeqPacket> connect(std::string_view path) noexcept {
        auto address = Address<Unix>::parse(path);
        if (!address) return fail(address.error());
        return connect(*address);
    }
    /// Two connected SOCK_SEQPACKET sockets (socketpair). Errors: EMFILE, EPROTONOSUPPORT.
    static Result<std::pair<UnixSeqPacket, UnixSeqPacket>> pair() noexcept {
        auto fds = detail::sys::socket_pair(SOCK_SEQPACKET);
        if (!fds) return fail(fds.error());
        return std::pair<UnixSeqPacket, UnixSeqPacket>(UnixSeqPacket((*fds)[0]), UnixSeqPacket((*fds)[1]));
    }

    /// Sends `message` as one message (all of it or nothing; never SIGPIPE). Errors: EMSGSIZE (larger than
    /// the send buffer), EPIPE (the peer closed), ECONNRESET.
    Result<std::size_t> send(ConstBuffer message) noexcept {
        return detail::sys::send_with_descriptors(this->native_handle(), message.data(), message.size(),
                                                  nullptr, 0);
    }
    /// Waits for the next message; `truncated` says it did not fit in `buffer`. A size of 0 without
    /// truncation is either an empty message or the end: the peer closed (read peer_address, or send).
    /// Errors: ECONNRESET, EBADF.
    Result<Message> recv(MutableBuffer buffer) noexcept {
        auto got = detail::sys::recv_with_descriptors(this->native_handle(), buffer.data(), buffer.size(),
                                                      nullptr, 0);
        if (!got) return fail(got.error());
        return Message{got->size, got->data_truncated};
    }
};

/// A Unix-domain SOCK_SEQPACKET listener.
class UnixSeqPacketListener : public Socket<Unix, SeqPacket> {
    using Base = Socket<Unix, SeqPacket>;

public:
    UnixSeqPacketListener() noexcept = default;
    /// Adopts a listening SOCK_SEQPACKET descriptor.
    explicit UnixSeqPacketListener(native_handle_type fd) noexcept : Base(fd) {}

    /// Binds to `address` and listens. Errors: EADDRINUSE (the path exists), EPROTONOSUPPORT.
    static Result<UnixSeqPacketListener> bind(const Address<Unix>& address,
                                              int backlog = detail::sys::max_backlog) noexcept {
        auto socket = Base::open();
        if (!socket) return fail(socket.error());
        UnixSeqPacketListener listener(socket->release());
        if (auto ok = listener.bind_to(address); !ok) return fail(ok.error());
        if (auto ok = detail::sys::listen(listener.native_handle(), backlog); !ok) return fail(ok.error());
        return listener;
    }
    /// Binds to the path (or "@name") and listens. Errors: as bind(address), path_too_long.
    static Result<UnixSeqPacketListener> bind(std::string_view path) noexcept {
        auto address = Address<Unix>::parse(path);
        if (!address) return fail(address.error());
        return bind(*address);
    }

    /// Waits for the next connection. Errors: EMFILE, ECONNABORTED, EBADF.
    Result<UnixSeqPacket> accept() noexcept {
        sockaddr_storage storage{};
        detail::sys::socklen size = sizeof storage;
        auto fd = detail::sys::accept(this->native_handle(), reinterpret_cast<sockaddr*>(&storage), &size);
        if (!fd) return fail(fd.error());
        return UnixSeqPacket(*fd);
    }
};

}  // namespace netlite
