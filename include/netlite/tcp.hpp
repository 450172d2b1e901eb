// netlite/tcp.hpp - TcpStream<Family> and TcpListener<Family>: connected byte streams and the sockets
// that accept them, over TCP (IPv4, IPv6, either) or Unix-domain stream sockets (UnixStream, UnixListener).
#pragma once

#include <netlite/address.hpp>
#include <netlite/buffer.hpp>
#include <netlite/detail/sys.hpp>
#include <netlite/result.hpp>
#include <netlite/socket.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>

namespace netlite {

namespace detail {
/// Copies up to `limit` buffers into iovecs for sendmsg/recvmsg (their layout differs from iovec's).
template <class Buffer>
std::size_t to_iovecs(std::span<const Buffer> buffers, iovec* out, std::size_t limit) noexcept {
    std::size_t count = 0;
    for (const Buffer& buffer : buffers) {
        if (count == limit) break;
        out[count++] = iovec{const_cast<std::byte*>(buffer.data()), buffer.size()};
    }
    return count;
}
inline constexpr std::size_t max_iovecs =
    64;  // more is rare; the call then moves the first 64 buffers' worth
}  // namespace detail

/// A connected byte stream: TCP over IPv4/IPv6 (F = IP chooses at run time), or a Unix-domain stream.
/// Bytes arrive in order but not in the pieces they were sent in: one read is not one message.
template <Family F = IP>
class TcpStream : public Socket<F, Stream> {
    using Base = Socket<F, Stream>;

public:
    /// An empty stream (no descriptor).
    TcpStream() noexcept = default;
    /// Adopts a connected stream socket descriptor.
    explicit TcpStream(typename Base::native_handle_type fd) noexcept : Base(fd) {}
    /// Takes over a connected stream Socket.
    explicit TcpStream(Base&& socket) noexcept : Base(std::move(socket)) {}

    /// Connects to `address`, waiting as long as the OS does. Errors: ECONNREFUSED, ETIMEDOUT, ENETUNREACH,
    /// ...
    static Result<TcpStream> connect(const Address<F>& address) noexcept {
        auto socket = Base::open_for(address);
        if (!socket) return fail(socket.error());
        if (auto ok = detail::sys::connect(socket->native_handle(), address.data(), address.size()); !ok)
            return fail(ok.error());
        return TcpStream(std::move(*socket));
    }
    /// Connects to `address`, giving up after `timeout` with std::errc::timed_out. Errors: as above.
    static Result<TcpStream> connect(const Address<F>& address, std::chrono::milliseconds timeout) noexcept {
        return connect_until(address, detail::sys::Clock::now() + timeout);
    }
    /// Resolves `host` ("localhost", "example.org", "::1") and tries each address in turn until one
    /// connects, within one overall `timeout` if given. Errors: the last address's error (e.g.
    /// ECONNREFUSED), resolve_category errors, std::errc::timed_out.
    static Result<TcpStream> connect(std::string_view host, std::uint16_t port,
                                     std::optional<std::chrono::milliseconds> timeout = std::nullopt) requires
        InternetFamily<F> {
        auto addresses = resolve<F>(host, port);
        if (!addresses) return fail(addresses.error());
        const auto deadline =
            timeout ? detail::sys::Clock::now() + *timeout : detail::sys::Clock::time_point::max();
        Error last(std::errc::timed_out, "connect");
        for (const Address<F>& address : *addresses) {
            if (detail::sys::Clock::now() >= deadline) return fail(std::errc::timed_out, "connect");
            auto stream = timeout ? connect_until(address, deadline) : connect(address);
            if (stream) return stream;
            last = stream.error();
        }
        return fail(last);
    }
    /// Connects to the Unix socket at `path` ("@name" for an abstract name). Errors: ENOENT, ECONNREFUSED,
    /// errc::path_too_long.
    static Result<TcpStream> connect(std::string_view path) noexcept requires std::is_same_v<F, Unix> {
        auto address = Address<Unix>::parse(path);
        if (!address) return fail(address.error());
        return connect(*address);
    }
    /// Two Unix streams connected to each other (socketpair). Errors: EMFILE, ENFILE.
    static Result<std::pair<TcpStream, TcpStream>> pair() noexcept requires std::is_same_v<F, Unix> {
        auto fds = detail::sys::socket_pair(SOCK_STREAM);
        if (!fds) return fail(fds.error());
        return std::pair<TcpStream, TcpStream>(TcpStream((*fds)[0]), TcpStream((*fds)[1]));
    }

    /// Reads what has arrived (at most buffer.size() bytes), waiting until something has.
    /// Returns 0 at end of stream: the peer shut down its sending side. Errors: ECONNRESET, timed_out.
    Result<std::size_t> read(MutableBuffer buffer) noexcept {
        return detail::sys::recv(this->native_handle(), buffer.data(), buffer.size());
    }
    /// As read(), but leaves the bytes queued for the next read. Errors: as read().
    Result<std::size_t> peek(MutableBuffer buffer) noexcept {
        return detail::sys::recv(this->native_handle(), buffer.data(), buffer.size(), MSG_PEEK);
    }
    /// Sends some of `buffer` (maybe not all); returns how much. Errors: EPIPE/ECONNRESET (peer gone, never
    /// SIGPIPE), timed_out.
    Result<std::size_t> write(ConstBuffer buffer) noexcept {
        return detail::sys::send(this->native_handle(), buffer.data(), buffer.size());
    }

    /// Sends all of `buffer`. Errors: as write(), with bytes_transferred() telling how much was sent first.
    Result<void, TransferError> write_all(ConstBuffer buffer) noexcept {
        std::size_t done = 0;
        while (done < buffer.size()) {
            auto sent = write(buffer.advanced(done));
            if (!sent) return unexpected<TransferError>(TransferError(sent.error(), done));
            done += *sent;
        }
        return {};
    }
    /// Fills all of `buffer`. Errors: errc::unexpected_eof when the stream ends first, or read()'s errors;
    /// bytes_transferred() tells how many bytes arrived (they are in the buffer).
    Result<void, TransferError> read_exact(MutableBuffer buffer) noexcept {
        std::size_t done = 0;
        while (done < buffer.size()) {
            auto got = read(buffer.advanced(done));
            if (!got) return unexpected<TransferError>(TransferError(got.error(), done));
            if (*got == 0)
                return unexpected<TransferError>(TransferError(Error(errc::unexpected_eof, "read"), done));
            done += *got;
        }
        return {};
    }

    /// Appends everything until end of stream to `out` (a std::string or vector of bytes); returns how
    /// many bytes were appended. Errors: read()'s; what arrived before the error stays in `out`.
    template <class Container>
    Result<std::size_t, TransferError> read_to_end(Container& out) {
        constexpr std::size_t chunk = 16 * 1024;
        const std::size_t start = out.size();
        for (;;) {
            const std::size_t used = out.size();
            out.resize(used + (used - start < chunk ? chunk : used - start));  // grow geometrically
            auto got = read(MutableBuffer(out.data() + used, out.size() - used));
            out.resize(used + (got ? *got : 0));
            if (!got) return unexpected<TransferError>(TransferError(got.error(), used - start));
            if (*got == 0) return used - start;
        }
    }
    /// Everything until end of stream, as a string. Errors: read()'s (use read_to_end(out) to keep a prefix).
    Result<std::string> read_to_end() {
        std::string out;
        if (auto done = read_to_end(out); !done) return fail(static_cast<const Error&>(done.error()));
        return out;
    }

    /// Scatter read (recvmsg) into several buffers in order; returns the total. Errors: as read().
    Result<std::size_t> read_vectored(std::span<const MutableBuffer> buffers) noexcept {
        iovec vectors[detail::max_iovecs];
        const std::size_t count = detail::to_iovecs(buffers, vectors, detail::max_iovecs);
        return detail::sys::recv_vectored(this->native_handle(), vectors, count);
    }
    Result<std::size_t> read_vectored(std::initializer_list<MutableBuffer> buffers) noexcept {
        return read_vectored(std::span<const MutableBuffer>(buffers.begin(), buffers.size()));
    }
    /// Gather write (sendmsg, MSG_NOSIGNAL) of several buffers in one call; returns the total sent, which
    /// may be less than their sum. Errors: as write().
    Result<std::size_t> write_vectored(std::span<const ConstBuffer> buffers) noexcept {
        iovec vectors[detail::max_iovecs];
        const std::size_t count = detail::to_iovecs(buffers, vectors, detail::max_iovecs);
        return detail::sys::send_vectored(this->native_handle(), vectors, count);
    }
    Result<std::size_t> write_vectored(std::initializer_list<ConstBuffer> buffers) noexcept {
        return write_vectored(std::span<const ConstBuffer>(buffers.begin(), buffers.size()));
    }

    /// A second TcpStream for the same connection (e.g. one thread reads, another writes). Errors: EMFILE.
    Result<TcpStream> try_clone() const noexcept {
        auto copy = Base::try_clone();
        if (!copy) return fail(copy.error());
        return TcpStream(std::move(*copy));
    }

private:
    static Result<TcpStream> connect_until(const Address<F>& address,
                                           detail::sys::Clock::time_point deadline) noexcept {
        auto socket = Base::open_for(address);
        if (!socket) return fail(socket.error());
        if (auto ok =
                detail::sys::connect_until(socket->native_handle(), address.data(), address.size(), deadline);
            !ok)
            return fail(ok.error());
        return TcpStream(std::move(*socket));
    }
};

/// A connection accepted by TcpListener: the stream and who is on the other end.
template <Family F>
struct Accepted {
    TcpStream<F> stream;
    Address<F> peer;
};

/// How TcpListener::bind sets the socket up.
struct ListenOptions {
    int backlog = SOMAXCONN;           // connections the kernel queues before accept()
    bool reuse_address = true;         // SO_REUSEADDR, so a restarted server can bind its port at once
    std::optional<bool> ipv6_only{};   // for an IPv6 address: true = IPv6 only, false = dual-stack
    bool remove_stale_socket = false;  // Unix paths: unlink a socket file nobody listens on before bind
};

template <Family F>
class Incoming;

/// A socket listening for stream connections: TCP or Unix domain.
template <Family F = IP>
class TcpListener : public Socket<F, Stream> {
    using Base = Socket<F, Stream>;

public:
    TcpListener() noexcept = default;
    /// Adopts a listening socket descriptor.
    explicit TcpListener(typename Base::native_handle_type fd) noexcept : Base(fd) {}
    explicit TcpListener(Base&& socket) noexcept : Base(std::move(socket)) {}

    /// Binds to `address` (port 0: the OS picks one, see local_address()) and listens.
    /// Errors: EADDRINUSE, EACCES (port below 1024), EADDRNOTAVAIL, EAFNOSUPPORT.
    static Result<TcpListener> bind(const Address<F>& address, const ListenOptions& options = {}) noexcept {
        auto socket = Base::open_for(address);
        if (!socket) return fail(socket.error());
        TcpListener listener(std::move(*socket));
        if (auto ok = listener.prepare(address, options); !ok) return fail(ok.error());
        if (auto ok = listener.bind_to(address); !ok) return fail(ok.error());
        if (auto ok = detail::sys::listen(listener.native_handle(), options.backlog); !ok)
            return fail(ok.error());
        return listener;
    }
    /// Binds to `host` ("" = every IPv4 interface, as Python's ''; "::" = IPv6; a name = its first
    /// address that binds) and `port`. Errors: as bind(address), plus resolve_category errors.
    static Result<TcpListener> bind(std::string_view host, std::uint16_t port,
                                    const ListenOptions& options = {}) requires InternetFamily<F> {
        if (host.empty() && !std::is_same_v<F, IPv6>) return bind_any(port, options);
        auto addresses = detail::resolve<F>(host, port, true);
        if (!addresses) return fail(addresses.error());
        Error last(errc::no_addresses, "bind");
        for (const Address<F>& address : *addresses) {
            auto listener = bind(address, options);
            if (listener) return listener;
            last = listener.error();
        }
        return fail(last);
    }
    /// Binds to the Unix socket path (or "@name"). Errors: EADDRINUSE (the file exists), errc::path_too_long.
    static Result<TcpListener> bind(
        std::string_view path, const ListenOptions& options = {}) noexcept requires std::is_same_v<F, Unix> {
        auto address = Address<Unix>::parse(path);
        if (!address) return fail(address.error());
        return bind(*address, options);
    }

    /// Waits for the next connection. Errors: EMFILE/ENFILE (out of descriptors), ECONNABORTED, timed_out.
    Result<Accepted<F>> accept() noexcept {
        sockaddr_storage storage{};
        socklen_t size = sizeof storage;
        auto fd = detail::sys::accept(this->native_handle(), reinterpret_cast<sockaddr*>(&storage), &size);
        if (!fd) return fail(fd.error());
        TcpStream<F> stream(*fd);  // owns the descriptor from here on, on every path
        auto peer = Address<F>::from_native(reinterpret_cast<const sockaddr*>(&storage), size);
        if (!peer) return fail(peer.error());
        return Accepted<F>{std::move(stream), *peer};
    }

    /// A range of accepted connections, for `for (auto&& [stream, peer] : listener.incoming())`.
    /// Connections that fail while queued (ECONNABORTED) are skipped; any other error ends the range and
    /// is kept in its error(). The listener must outlive the range.
    Incoming<F> incoming() noexcept { return Incoming<F>(*this); }

    /// A second TcpListener for the same socket. Errors: EMFILE.
    Result<TcpListener> try_clone() const noexcept {
        auto copy = Base::try_clone();
        if (!copy) return fail(copy.error());
        return TcpListener(std::move(*copy));
    }

private:
    static Result<TcpListener> bind_any(std::uint16_t port, const ListenOptions& options) noexcept {
        if constexpr (std::is_same_v<F, IPv6>)
            return bind(Address<IPv6>::any(port), options);
        else
            return bind(Address<IPv4>::any(port), options);
    }

    Result<void> prepare(const Address<F>& address, const ListenOptions& options) noexcept {
        if constexpr (std::is_same_v<F, Unix>) {
            if (options.remove_stale_socket) return remove_stale(address);
        } else {
            if (options.reuse_address)
                if (auto ok = this->set_reuse_address(true); !ok) return ok;
            if constexpr (!std::is_same_v<F, IPv4>)
                if (options.ipv6_only && address.domain() == AF_INET6)
                    return this->set_ipv6_only(*options.ipv6_only);
        }
        return {};
    }

    /// Unlinks `address`'s socket file if nobody accepts on it (a crashed server's leftover).
    static Result<void> remove_stale(const Address<Unix>& address) noexcept {
        const std::string path(address.path());
        if (path.empty() || !detail::sys::is_socket_file(path.c_str())) return {};
        // Non-blocking probe: a live server with a full accept queue answers EAGAIN at once (alive) instead
        // of blocking bind() until it accepts.
        auto probe = TcpStream<Unix>::connect(address, std::chrono::milliseconds(0));
        if (probe || probe.error() != std::errc::connection_refused)
            return {};  // alive: bind reports EADDRINUSE
        return detail::sys::remove_file(path.c_str());
    }
};

/// The input range TcpListener::incoming() returns; yields Accepted<F>& (stream and peer).
template <Family F>
class Incoming {
public:
    explicit Incoming(TcpListener<F>& listener) noexcept : listener_(&listener) {}

    /// The end of the range: reached when accept fails with an error that is not skippable.
    struct sentinel {};

    class iterator {
    public:
        using value_type = Accepted<F>;
        using difference_type = std::ptrdiff_t;
        iterator() noexcept = default;
        explicit iterator(Incoming* owner) noexcept : owner_(owner) {}
        Accepted<F>& operator*() const noexcept { return *owner_->current_; }
        Accepted<F>* operator->() const noexcept { return &*owner_->current_; }
        iterator& operator++() noexcept {
            owner_->advance();
            return *this;
        }
        void operator++(int) noexcept { owner_->advance(); }
        friend bool operator==(const iterator& it, sentinel) noexcept { return it.at_end(); }

    private:
        bool at_end() const noexcept { return !owner_->current_; }
        Incoming* owner_ = nullptr;
    };

    /// Accepts the first connection.
    iterator begin() noexcept {
        advance();
        return iterator(this);
    }
    sentinel end() const noexcept { return {}; }
    /// Why the range ended; an empty Error (value() == 0) while it has not.
    const Error& error() const noexcept { return error_; }

private:
    static bool skippable(const Error& error) noexcept {
        // A connection that died in the queue says nothing about the listener: accept the next one.
        return error == std::errc::connection_aborted || error == std::errc::protocol_error ||
               error == std::errc::network_down || error == std::errc::network_unreachable ||
               error == std::errc::host_unreachable || error == std::errc::operation_not_permitted;
    }
    void advance() noexcept {
        current_.reset();
        for (;;) {
            auto next = listener_->accept();
            if (next) {
                current_.emplace(std::move(*next));
                return;
            }
            if (!skippable(next.error())) {
                error_ = next.error();
                return;
            }
        }
    }

    TcpListener<F>* listener_;
    std::optional<Accepted<F>> current_;
    Error error_;
};

/// Unix-domain stream sockets: the same API over a path instead of an IP address.
using UnixStream = TcpStream<Unix>;
using UnixListener = TcpListener<Unix>;

}  // namespace netlite
