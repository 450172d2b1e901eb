// SPDX-License-Identifier: BSL-1.0
// netlite/tcp.hpp - TcpStream<Family> and TcpListener<Family>: connected byte streams and the sockets
// that accept them, over TCP (IPv4, IPv6, either) or Unix-domain stream sockets (UnixStream, UnixListener).
#pragma once

#include <netlite/address.hpp>
#include <netlite/buffer.hpp>
#include <netlite/deadline.hpp>
#include <netlite/detail/connect_race.hpp>
#include <netlite/detail/read_to_end.hpp>
#include <netlite/detail/sys.hpp>
#include <netlite/result.hpp>
#include <netlite/socket.hpp>

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <netlite/detail/chrono.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace netlite {

/// One address a multi-address connect tried, and why it failed.
template <Family F>
struct ConnectAttempt {
    /// The address tried.
    Address<F> address;
    /// Why it failed.
    Error error;
};

/// The failure of a connect to a name or to several addresses: the last error (what code() and ==
/// compare), and every address tried with its own error.
template <Family F>
class ConnectError : public Error {
public:
    ConnectError() = default;
    /// A failure before any address was tried (resolution, no addresses).
    ConnectError(Error error) : Error(error) {}
    /// The last error, and every attempt.
    ConnectError(Error last, std::vector<ConnectAttempt<F>> attempts)
        : Error(last), attempts_(std::move(attempts)) {}

    /// Every address tried, in the order the attempts ended.
    const std::vector<ConnectAttempt<F>>& attempts() const noexcept { return attempts_; }
    /// "connect: Connection refused (tried [::1]:80: Connection refused; 127.0.0.1:80: Connection refused)".
    std::string message() const {
        std::string text = Error::message();
        const char* separator = " (tried ";
        for (const ConnectAttempt<F>& attempt : attempts_) {
            text += separator + attempt.address.to_string() + ": " + attempt.error.code().message();
            separator = "; ";
        }
        return attempts_.empty() ? text : text + ")";
    }

private:
    std::vector<ConnectAttempt<F>> attempts_;
};

/// How TcpStream::connect(address, options) sets the socket up before it connects.
template <Family F>
struct ConnectOptions {
    /// The local address to connect from (Python's create_connection(source_address=)); port 0 lets the
    /// OS pick the port. Nothing (the default): the OS picks address and port.
    std::optional<Address<F>> source_address{};
    /// SO_REUSEADDR before binding source_address: a fixed source port still in TIME_WAIT can be reused.
    bool reuse_address = false;
};

template <Family F>
class TcpStream;

namespace detail {
template <Family F>
class HappyEyeballs;
}  // namespace detail

/// A connected byte stream: TCP over IPv4/IPv6 (F = IP chooses at run time), or a Unix-domain stream.
/// Bytes arrive in order but not in the pieces they were sent in: one read is not one message.
template <Family F = IP>
class TcpStream : public detail::SocketRole<F, Stream> {
    using Base = Socket<F, Stream>;

public:
    /// Empty, or adopting a connected stream descriptor or Socket.
    using detail::SocketRole<F, Stream>::SocketRole;

    /// Connects to `address`, waiting as long as the OS does. Errors: ECONNREFUSED, ETIMEDOUT, ENETUNREACH.
    static Result<TcpStream> connect(const Address<F>& address) noexcept {
        auto socket = Base::open_for(address);
        if (!socket) return fail(socket.error());
        if (auto ok = detail::sys::connect(socket->native_handle(), address.data(), address.size()); !ok)
            return fail(ok.error());
        return TcpStream(std::move(*socket));
    }
    /// Connects to `address` within `until` (a timeout, deadline or stop_token). Errors: as above, plus
    /// std::errc::timed_out and std::errc::operation_canceled.
    static Result<TcpStream> connect(const Address<F>& address, const Until& until) {
        auto socket = Base::open_for(address);
        if (!socket) return fail(socket.error());
        if (auto ok =
                detail::sys::connect_until(socket->native_handle(), address.data(), address.size(), until);
            !ok)
            return fail(ok.error());
        return TcpStream(std::move(*socket));
    }
    /// Connects to `address` as `options` say (from a chosen source address), within `until` (forever
    /// by default). Errors: as connect(address, until), plus bind's EADDRINUSE, EADDRNOTAVAIL (not this
    /// host's address), EAFNOSUPPORT/EINVAL (source and peer of different families).
    static Result<TcpStream> connect(const Address<F>& address, const ConnectOptions<F>& options,
                                     const Until& until = {}) {
        auto socket = Base::open_for(address);
        if (!socket) return fail(socket.error());
        if (options.reuse_address)
            if (auto ok = socket->set_reuse_address(true); !ok) return fail(ok.error());
        if (options.source_address)
            if (auto ok = detail::sys::bind(socket->native_handle(), options.source_address->data(),
                                            options.source_address->size());
                !ok)
                return fail(ok.error());
        auto ok =
            until.is_forever()
                ? detail::sys::connect(socket->native_handle(), address.data(), address.size())
                : detail::sys::connect_until(socket->native_handle(), address.data(), address.size(), until);
        if (!ok) return fail(ok.error());
        return TcpStream(std::move(*socket));
    }
    /// Resolves `host` ("localhost", "example.org", "::1") and connects to the first of its addresses that
    /// answers, racing them Happy-Eyeballs style (RFC 8305): IPv6 and IPv4 interleaved, the next attempt
    /// started `attempt_delay` after the previous one while it is still pending (zero or negative: at
    /// once; milliseconds::max(): only when the previous one fails), the first to connect
    /// wins, the others are closed; all within `until`. Errors: the last failure, with every address
    /// tried in ConnectError::attempts(); resolve_category errors; timed_out; operation_canceled.
    static Result<TcpStream, ConnectError<F>> connect(
        std::string_view host, std::uint16_t port, const Until& until = {},
        std::chrono::milliseconds attempt_delay = default_attempt_delay) requires InternetFamily<F> {
        auto addresses = resolve<F>(host, port);
        if (!addresses) return fail(addresses.error());
        return connect_any(*addresses, until, attempt_delay);
    }
    /// Connects to the first of `addresses` that answers, as connect(host, port) does after resolving.
    /// Errors: as connect(host, port); errc::no_addresses when `addresses` is empty.
    static Result<TcpStream, ConnectError<F>> connect_any(
        std::span<const Address<F>> addresses, const Until& until = {},
        std::chrono::milliseconds attempt_delay = default_attempt_delay) {
        return detail::HappyEyeballs<F>(addresses, until, attempt_delay).run();
    }

    /// The wait before starting the next address while earlier attempts are pending (RFC 8305 says 250 ms).
    static constexpr std::chrono::milliseconds default_attempt_delay{250};

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
        if (this->has_timeout()) [[unlikely]]
            return read_timed(buffer);
        const auto got = detail::sys::recv_once(this->native_handle(), buffer.data(), buffer.size());
        if (got >= 0) [[likely]]
            return static_cast<std::size_t>(got);
        return detail::sys::recv_finish(this->native_handle(), got, buffer.data(), buffer.size());
    }
    /// As read(), giving up per `until` (timed_out, operation_canceled); the stream stays usable.
    Result<std::size_t> read(MutableBuffer buffer, const Until& until) {
        return detail::sys::when_ready(
            this->native_handle(), detail::sys::poll_in, until, "recv", [&](int flags) {
                return detail::sys::recv(this->native_handle(), buffer.data(), buffer.size(), flags);
            });
    }
    /// As read(), but leaves the bytes queued for the next read. Errors: as read().
    Result<std::size_t> peek(MutableBuffer buffer) noexcept {
        return detail::sys::recv(this->native_handle(), buffer.data(), buffer.size(), detail::sys::peek);
    }
    /// Sends some of `buffer` (maybe not all); returns how much. Errors: EPIPE/ECONNRESET (peer gone, never
    /// SIGPIPE), timed_out.
    Result<std::size_t> write(ConstBuffer buffer) noexcept {
        if (this->has_timeout()) [[unlikely]]
            return write_timed(buffer);
        const auto sent = detail::sys::send_once(this->native_handle(), buffer.data(), buffer.size());
        if (sent >= 0) [[likely]]
            return static_cast<std::size_t>(sent);
        return detail::sys::send_finish(this->native_handle(), sent, buffer.data(), buffer.size());
    }
    /// As write(), giving up per `until` (timed_out, operation_canceled); the stream stays usable.
    Result<std::size_t> write(ConstBuffer buffer, const Until& until) {
        return detail::sys::when_ready(
            this->native_handle(), detail::sys::poll_out, until, "send", [&](int flags) {
                return detail::sys::send(this->native_handle(), buffer.data(), buffer.size(), flags);
            });
    }

    /// Sends all of `buffer`. Errors: as write(), with bytes_transferred() telling how much was sent first.
    Result<void, TransferError> write_all(ConstBuffer buffer) noexcept {
        // Inline: the one send that usually takes everything, so the common case costs what send() costs.
        if (this->has_timeout() || buffer.size() == 0) [[unlikely]]
            return write_all_timed(buffer);
        const auto sent = detail::sys::send_once(this->native_handle(), buffer.data(), buffer.size());
        // Compared as sizes: the length converted to ssize could equal -1 (SIZE_MAX; 4 GiB - 1 on Windows).
        if (sent >= 0 && static_cast<std::size_t>(sent) == buffer.size()) [[likely]]
            return {};
        return write_all_rest(buffer, sent);
    }
    /// As write_all(), within one `until` for the whole buffer. Errors: as write(buffer, until).
    Result<void, TransferError> write_all(ConstBuffer buffer, const Until& until) {
        std::size_t done = 0;
        while (done < buffer.size()) {
            auto sent = until.is_forever() ? detail::sys::send(this->native_handle(), buffer.data() + done,
                                                               buffer.size() - done)
                                           : write(buffer.advanced(done), until);
            if (!sent) return unexpected<TransferError>(TransferError(sent.error(), done));
            done += *sent;
        }
        return {};
    }
    /// Fills all of `buffer`. Errors: errc::unexpected_eof when the stream ends first, or read()'s errors;
    /// bytes_transferred() tells how many bytes arrived (they are in the buffer).
    Result<void, TransferError> read_exact(MutableBuffer buffer) noexcept {
        // Inline: the one recv that usually fills the buffer (see write_all()).
        if (this->has_timeout() || buffer.size() == 0) [[unlikely]]
            return read_exact_timed(buffer);
        const auto got = detail::sys::recv_once(this->native_handle(), buffer.data(), buffer.size());
        if (got >= 0 && static_cast<std::size_t>(got) == buffer.size()) [[likely]]  // see write_all()
            return {};
        return read_exact_rest(buffer, got);
    }
    /// As read_exact(), within one `until` for the whole buffer. Errors: as read(buffer, until).
    Result<void, TransferError> read_exact(MutableBuffer buffer, const Until& until) {
        std::size_t done = 0;
        while (done < buffer.size()) {
            auto got = until.is_forever() ? detail::sys::recv(this->native_handle(), buffer.data() + done,
                                                              buffer.size() - done)
                                          : read(buffer.advanced(done), until);
            if (!got) return unexpected<TransferError>(TransferError(got.error(), done));
            if (*got == 0)
                return unexpected<TransferError>(TransferError(Error(errc::unexpected_eof, "read"), done));
            done += *got;
        }
        return {};
    }

    /// Appends everything until end of stream to `out` (a std::string or vector of bytes), within `until`;
    /// returns how many bytes were appended. Errors: read()'s; what arrived before the error stays in `out`.
    template <class Container>
    Result<std::size_t, TransferError> read_to_end(Container& out, const Until& until = {}) {
        const Until& limit = until.is_forever() ? this->default_until() : until;
        return detail::read_all_into(out, [&](MutableBuffer free) {
            return limit.is_forever() ? detail::sys::recv(this->native_handle(), free.data(), free.size())
                                      : read(free, limit);
        });
    }
    /// Everything until end of stream, as a string, within `until`. Errors: read()'s (use read_to_end(out)
    /// to keep what arrived before an error).
    Result<std::string> read_to_end(const Until& until = {}) { return detail::read_all_string(*this, until); }

    /// Scatter read (recvmsg) into several buffers in order; returns the total. Empty buffers are skipped;
    /// one call fills at most 1,024 non-empty buffers (IOV_MAX) and INT_MAX bytes, as read() may return less
    /// than asked. Returns 0 only at end of stream or when the buffers have no room at all (no call is
    /// made then). Errors: as read().
    Result<std::size_t> read_vectored(std::span<const MutableBuffer> buffers) noexcept {
        detail::sys::io_buffer vectors[detail::sys::max_io_buffers];
        const std::size_t count = detail::to_iovecs(buffers, vectors);
        if (count == 0) return nothing_to_move("recvmsg");
        return detail::sys::recv_vectored(this->native_handle(), vectors, count);
    }
    /// read_vectored() for a braced list of buffers. Errors: as read().
    Result<std::size_t> read_vectored(std::initializer_list<MutableBuffer> buffers) noexcept {
        return read_vectored(std::span<const MutableBuffer>(buffers.begin(), buffers.size()));
    }
    /// Gather write (sendmsg, MSG_NOSIGNAL) of several buffers in one call; returns the total sent, which
    /// may be less than their sum. Empty buffers are skipped; one call sends from at most 1,024 non-empty
    /// buffers (IOV_MAX) and INT_MAX bytes, so a retry loop over the rest always advances. Returns 0 only
    /// when there is nothing to send (no call is made then). Errors: as write().
    Result<std::size_t> write_vectored(std::span<const ConstBuffer> buffers) noexcept {
        detail::sys::io_buffer vectors[detail::sys::max_io_buffers];
        const std::size_t count = detail::to_iovecs(buffers, vectors);
        if (count == 0) return nothing_to_move("sendmsg");
        return detail::sys::send_vectored(this->native_handle(), vectors, count);
    }
    /// write_vectored() for a braced list of buffers. Errors: as write().
    Result<std::size_t> write_vectored(std::initializer_list<ConstBuffer> buffers) noexcept {
        return write_vectored(std::span<const ConstBuffer>(buffers.begin(), buffers.size()));
    }

    /// A second TcpStream for the same connection (e.g. one thread reads, another writes). Errors: EMFILE.
    Result<TcpStream> try_clone() const noexcept {
        auto copy = Base::try_clone();
        if (!copy) return fail(copy.error());
        return TcpStream(std::move(*copy));
    }

    /// Sends `count` bytes of the open file `file_fd` from `offset` (the file's own offset is not moved):
    /// Linux sendfile, so the bytes never pass through user space; elsewhere, or for a descriptor sendfile
    /// cannot read, a pread/send loop. Returns the bytes sent: `count`, or fewer when the file ends first.
    /// Errors: as write(), plus the file's read errors; bytes_transferred() tells how much was sent first.
    Result<std::size_t, TransferError> send_file(detail::sys::file_handle file_fd, std::uint64_t offset,
                                                 std::size_t count) noexcept {
        std::size_t done = 0;
        while (done < count) {
            auto sent = detail::sys::send_file(this->native_handle(), file_fd, offset + done, count - done);
            if (!sent) return unexpected<TransferError>(TransferError(sent.error(), done));
            if (*sent == 0) break;  // end of file
            done += *sent;
        }
        return done;
    }

    // --- non-blocking attempts, for readiness loops (netlite/poll.hpp) -----------------------------------
    // Each tries once without waiting (MSG_DONTWAIT: the socket's blocking mode does not matter) and says
    // "would block" with an empty optional, never with an error: `if (!r)` failed, `else if (!*r)` wait for
    // readiness, `else` use `**r`.

    /// Reads what has already arrived (0: end of stream); std::nullopt when nothing has. Errors: as read(),
    /// never timed_out.
    Result<std::optional<std::size_t>> try_read(MutableBuffer buffer) noexcept {
        return detail::sys::unless_would_block<std::optional<std::size_t>>(
            detail::sys::recv(this->native_handle(), buffer.data(), buffer.size(), detail::sys::dont_wait));
    }
    /// Sends as much of `buffer` as the send buffer takes now; std::nullopt when it takes nothing.
    /// Errors: as write() (EPIPE/ECONNRESET, never SIGPIPE), never timed_out.
    Result<std::optional<std::size_t>> try_write(ConstBuffer buffer) noexcept {
        return detail::sys::unless_would_block<std::optional<std::size_t>>(
            detail::sys::send(this->native_handle(), buffer.data(), buffer.size(), detail::sys::dont_wait));
    }

private:
    /// A vectored call with no bytes to move: 0 at once, or EBADF on an empty stream.
    Result<std::size_t> nothing_to_move(const char* operation) const noexcept {
        if (!this->is_open()) return fail(std::errc::bad_file_descriptor, operation);
        return std::size_t{0};
    }

    // The rest of the plain calls, out of line so that their inline fast paths stay small: set_timeout()'s
    // path (write_all/read_exact also send an empty buffer here: the loops make no call for it), and what
    // follows a first call that did not finish the job.
    NETLITE_NOINLINE Result<std::size_t> read_timed(MutableBuffer buffer) {
        return read(buffer, this->default_until());
    }
    NETLITE_NOINLINE Result<std::size_t> write_timed(ConstBuffer buffer) {
        return write(buffer, this->default_until());
    }
    NETLITE_NOINLINE Result<void, TransferError> write_all_timed(ConstBuffer buffer) {
        return write_all(buffer, this->default_until());
    }
    NETLITE_NOINLINE Result<void, TransferError> read_exact_timed(MutableBuffer buffer) {
        return read_exact(buffer, this->default_until());
    }
    /// write_all() after a first send_once() that returned `first` (short, EINTR or an error).
    NETLITE_NOINLINE Result<void, TransferError> write_all_rest(ConstBuffer buffer,
                                                                detail::sys::ssize first) noexcept {
        auto sent = detail::sys::send_finish(this->native_handle(), first, buffer.data(), buffer.size());
        std::size_t done = 0;
        while (sent) {
            done += *sent;
            if (done == buffer.size()) return {};
            sent = detail::sys::send(this->native_handle(), buffer.data() + done, buffer.size() - done);
        }
        return unexpected<TransferError>(TransferError(sent.error(), done));
    }
    /// read_exact() after a first recv_once() that returned `first` (short, end of stream, EINTR, an error).
    NETLITE_NOINLINE Result<void, TransferError> read_exact_rest(MutableBuffer buffer,
                                                                 detail::sys::ssize first) noexcept {
        auto got = detail::sys::recv_finish(this->native_handle(), first, buffer.data(), buffer.size());
        std::size_t done = 0;
        while (got && *got != 0) {
            done += *got;
            if (done == buffer.size()) return {};
            got = detail::sys::recv(this->native_handle(), buffer.data() + done, buffer.size() - done);
        }
        if (!got) return unexpected<TransferError>(TransferError(got.error(), done));
        return unexpected<TransferError>(TransferError(Error(errc::unexpected_eof, "read"), done));
    }
};

namespace detail {
/// Connection racing for TcpStream::connect_any: AttemptSchedule (detail/connect_race.hpp, shared with the
/// coroutine race) says which address to start and when; this starts them as non-blocking connects and
/// polls them. The first to connect wins and the rest are closed with their streams.
template <Family F>
class HappyEyeballs {
public:
    using Clock = sys::Clock;

    HappyEyeballs(std::span<const Address<F>> addresses, const Until& until,
                  std::chrono::milliseconds attempt_delay)
        : schedule_(addresses, attempt_delay), until_(until) {}

    Result<TcpStream<F>, ConnectError<F>> run() {
        if (schedule_.empty()) return fail(errc::no_addresses, "connect");
        if (until_.stop_requested()) return fail(std::errc::operation_canceled, "connect");
        for (;;) {
            if (const Address<F>* address = schedule_.start(Clock::now())) {
                if (auto winner = start(*address)) return std::move(*winner);
                continue;
            }
            if (pending_.empty()) return failure(last_);  // every address failed
            auto ready = wait(sys::earlier(schedule_.next_due(), until_.deadline()));
            if (!ready) {
                if (ready.error() == std::errc::timed_out && Clock::now() < until_.deadline())
                    continue;  // the next address is due
                return failure(ready.error());
            }
            if (auto winner = collect()) return std::move(*winner);
        }
    }

private:
    struct Pending {
        TcpStream<F> stream;
        Address<F> address;
    };

    /// Starts a non-blocking connect; returns the stream if it connected at once.
    std::optional<TcpStream<F>> start(const Address<F>& address) {
        auto socket = Socket<F, Stream>::open_for(address);
        if (!socket) return record(address, socket.error());
        TcpStream<F> stream(std::move(*socket));
        if (auto ok = sys::set_nonblocking(stream.native_handle(), true); !ok)
            return record(address, ok.error());
        auto connected = sys::connect_start(stream.native_handle(), address.data(), address.size());
        if (!connected) return record(address, connected.error());
        if (*connected) return finish(std::move(stream), address);
        pending_.push_back(Pending{std::move(stream), address});
        return std::nullopt;
    }

    /// Polls the pending attempts until one is ready or `deadline`; polled_ says which.
    Result<void> wait(Clock::time_point deadline) {
        polled_.clear();
        for (const Pending& attempt : pending_)
            polled_.push_back(sys::poll_entry{attempt.stream.native_handle(), sys::poll_out, 0});
        auto ready =
            sys::poll_until(polled_.data(), polled_.size(), until_.with_deadline(deadline), "connect");
        if (!ready) return fail(ready.error());
        return {};
    }

    /// Returns a ready attempt that connected; records and drops the ready ones that failed.
    std::optional<TcpStream<F>> collect() {
        for (std::size_t i = pending_.size(); i-- > 0;) {  // backwards, so erasing keeps the indices valid
            if (polled_[i].revents == 0) continue;
            const Address<F>& address = pending_[i].address;
            auto done =
                sys::connect_finished(pending_[i].stream.native_handle(), address.data(), address.size());
            if (done && !*done) continue;  // it had never begun and was started again: wait for it
            Pending attempt = std::move(pending_[i]);
            pending_.erase(pending_.begin() + static_cast<std::ptrdiff_t>(i));
            if (done) return finish(std::move(attempt.stream), attempt.address);
            record(attempt.address, done.error());
        }
        return std::nullopt;
    }

    /// An attempt failed: recorded, and the next address is due at once.
    std::optional<TcpStream<F>> record(const Address<F>& address, const Error& error) {
        attempts_.push_back(ConnectAttempt<F>{address, error});
        last_ = error;
        schedule_.failed(Clock::now());
        return std::nullopt;
    }
    /// Hands the winner back blocking, as every TcpStream starts; one that cannot be switched back is a
    /// failed attempt: closed, its error recorded (the caller's, if no other attempt wins).
    std::optional<TcpStream<F>> finish(TcpStream<F> stream, const Address<F>& address) {
        if (auto ok = sys::set_nonblocking(stream.native_handle(), false); !ok)
            return record(address, ok.error());
        return std::optional<TcpStream<F>>(std::move(stream));
    }
    Result<TcpStream<F>, ConnectError<F>> failure(const Error& error) {
        for (const Pending& attempt : pending_)
            attempts_.push_back(ConnectAttempt<F>{attempt.address, error});
        return unexpected<ConnectError<F>>(ConnectError<F>(error, std::move(attempts_)));
    }

    AttemptSchedule<F> schedule_;
    std::vector<Pending> pending_;
    std::vector<sys::poll_entry> polled_;
    std::vector<ConnectAttempt<F>> attempts_;
    Error last_{errc::no_addresses, "connect"};
    Until until_;
};
}  // namespace detail

/// True for an accept error that says nothing about the listener: the queued connection died before it
/// was accepted (ECONNABORTED, EPROTO) or its network went away (ENETDOWN, ENETUNREACH, EHOSTUNREACH), or
/// a firewall refused it (EPERM, Linux). A server accepts the next connection. incoming() and
/// try_accept_batch() skip these; a loop written by hand should too.
inline bool is_transient_accept_error(const Error& error) noexcept {
    return error == std::errc::connection_aborted || error == std::errc::protocol_error ||
           error == std::errc::network_down || error == std::errc::network_unreachable ||
           error == std::errc::host_unreachable || error == std::errc::operation_not_permitted;
}
/// True for an accept error that says the process is out of descriptors or memory (EMFILE, ENFILE,
/// ENOBUFS, ENOMEM): a passing state for a server, whose connections will close. The listener stays
/// readable, so waiting on it again would spin: pause (incoming() sleeps 10 ms, doubling up to 1 s) or stop
/// watching it until a connection closes, then accept again.
inline bool is_out_of_resources(const Error& error) noexcept {
    return error == std::errc::too_many_files_open || error == std::errc::too_many_files_open_in_system ||
           error == std::errc::no_buffer_space || error == std::errc::not_enough_memory;
}

/// A connection accepted by TcpListener: the stream and who is on the other end.
template <Family F>
struct Accepted {
    /// The connection.
    TcpStream<F> stream;
    /// The peer's address.
    Address<F> peer;
};

/// How TcpListener::bind sets the socket up.
struct ListenOptions {
    int backlog = detail::sys::max_backlog;  ///< connections the kernel queues before accept()
    /// A restarted server can bind its port at once (POSIX: SO_REUSEADDR; Windows always binds
    /// exclusively, SO_EXCLUSIVEADDRUSE, and rebinds at once anyway).
    bool reuse_address = true;
    std::optional<bool> ipv6_only{};   ///< for an IPv6 address: true = IPv6 only, false = dual-stack
    bool remove_stale_socket = false;  ///< Unix paths: unlink a socket file nobody listens on before bind
    bool reuse_port = false;  ///< SO_REUSEPORT (TCP): one listener per thread on one port, load shared
};

template <Family F>
class Incoming;

/// A socket listening for stream connections: TCP or Unix domain.
template <Family F = IP>
class TcpListener : public detail::SocketRole<F, Stream> {
    using Base = Socket<F, Stream>;

public:
    /// Empty, or adopting a listening descriptor or Socket.
    using detail::SocketRole<F, Stream>::SocketRole;

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
        return detail::bind_first<F>(host, port,
                                     [&](const Address<F>& address) { return bind(address, options); });
    }
    /// Binds to the Unix socket path (or "@name"). Errors: EADDRINUSE (the file exists), errc::path_too_long.
    static Result<TcpListener> bind(
        std::string_view path, const ListenOptions& options = {}) noexcept requires std::is_same_v<F, Unix> {
        auto address = Address<Unix>::parse(path);
        if (!address) return fail(address.error());
        return bind(*address, options);
    }

    /// Waits for the next connection. Errors: EMFILE/ENFILE/ENOBUFS/ENOMEM (is_out_of_resources: pause,
    /// then accept again), ECONNABORTED and the other is_transient_accept_error codes (accept the next one).
    Result<Accepted<F>> accept() noexcept {
        if (this->has_timeout()) [[unlikely]]
            return accept(this->default_until());
        return accept_now();
    }
    /// As accept(), giving up per `until` (timed_out, operation_canceled); the listener stays usable.
    /// (On a blocking listener, a connection reset between the wake-up and accept(2) can make accept(2)
    /// wait for the next one: set_nonblocking(true) on the listener rules that out.)
    Result<Accepted<F>> accept(const Until& until) {
        if (until.is_forever()) return accept_now();
        for (;;) {
            if (auto ready = detail::sys::wait(this->native_handle(), detail::sys::poll_in, until, "accept");
                !ready)
                return fail(ready.error());
            auto accepted = accept_now();
            if (accepted || !detail::sys::would_block(accepted.error())) return accepted;
        }
    }

    /// A range of accepted connections, for `for (auto&& [stream, peer] : listener.incoming())`.
    /// Connections that fail while queued (is_transient_accept_error) are skipped. Running out of descriptors
    /// or memory (is_out_of_resources) does not end it: it sleeps (10 ms, doubling up to 1 s; no CPU
    /// used) and accepts again, so a server keeps serving what it has and resumes when descriptors come
    /// back. Any other error ends the range and is kept in its error(). The listener must outlive it.
    Incoming<F> incoming() noexcept { return Incoming<F>(*this, Until()); }
    /// As incoming(), and the range also ends (error() == operation_canceled) when `stop` is requested,
    /// even while it waits for the next connection (std::stop_token: include <netlite/stop_token.hpp>).
    template <detail::StopTokenLike Token>
    Incoming<F> incoming(const Token& stop) noexcept {
        return Incoming<F>(*this, Until(stop));
    }

    /// A second TcpListener for the same socket. Errors: EMFILE.
    Result<TcpListener> try_clone() const noexcept {
        auto copy = Base::try_clone();
        if (!copy) return fail(copy.error());
        return TcpListener(std::move(*copy));
    }

    // --- non-blocking attempts, for readiness loops (netlite/poll.hpp) -----------------------------------

    /// The next queued connection, without waiting; std::nullopt when none is queued. A blocking listener
    /// is polled first (one more system call, and a connection reset between that poll and accept(2) can
    /// still make accept(2) wait): set_nonblocking(true) on the listener avoids both. Errors: as accept().
    Result<std::optional<Accepted<F>>> try_accept() noexcept {
        if (!detail::sys::is_nonblocking(this->native_handle())) {
            auto ready = detail::sys::ready_now(this->native_handle(), detail::sys::poll_in, "accept");
            if (!ready) return fail(ready.error());
            if (!*ready) return std::optional<Accepted<F>>();
        }
        return detail::sys::unless_would_block<std::optional<Accepted<F>>>(accept_now());
    }
    /// Drains the backlog in one wake-up: accepts queued connections (up to `max`) without waiting and
    /// appends them to `out`; returns how many, 0 when none was queued. Connections that died in the queue
    /// (is_transient_accept_error) are skipped, as by incoming(). An error after the first connection ends
    /// the batch early; it comes back from the next call. Errors (when none was accepted): as accept(), e.g.
    /// EMFILE/ENFILE.
    Result<std::size_t> try_accept_batch(std::vector<Accepted<F>>& out, std::size_t max = 64) {
        std::size_t count = 0;
        for (std::size_t attempts = 0; count < max && attempts < 2 * max; ++attempts) {
            auto next = try_accept();
            if (next) {
                std::optional<Accepted<F>>& accepted = *next;
                if (!accepted) break;  // the queue is empty
                out.push_back(std::move(*accepted));
                ++count;
                continue;
            }
            const Error& error = next.error();
            if (is_transient_accept_error(error)) continue;
            if (count > 0) break;
            return fail(error);
        }
        return count;
    }

private:
    Result<Accepted<F>> accept_now() noexcept {
        sockaddr_storage storage{};
        detail::sys::socklen size = sizeof storage;
        auto fd = detail::sys::accept(this->native_handle(), reinterpret_cast<sockaddr*>(&storage), &size);
        if (!fd) return fail(fd.error());
        TcpStream<F> stream(*fd);  // owns the descriptor from here on, on every path
        auto peer = Address<F>::from_native(reinterpret_cast<const sockaddr*>(&storage), size);
        if (!peer) return fail(peer.error());
        return Accepted<F>{std::move(stream), *peer};
    }

    Result<void> prepare(const Address<F>& address, const ListenOptions& options) noexcept {
        if constexpr (std::is_same_v<F, Unix>) {
            if (options.remove_stale_socket) return remove_stale(address);
        } else {
            if (auto ok = detail::sys::claim_listen_address(this->native_handle(), options.reuse_address);
                !ok)
                return ok;
            if (options.reuse_port)
                if (auto ok = this->set_reuse_port(true); !ok) return ok;
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
        if (!detail::sys::nobody_listens(address.data(), address.size()))
            return {};  // alive (or unknown): bind reports EADDRINUSE
        return detail::sys::remove_file(path.c_str());
    }
};

/// The input range TcpListener::incoming() returns; yields Accepted<F>& (stream and peer).
template <Family F>
class Incoming {
public:
    /// Accepts from `listener` until an error, or until `stop`'s stop token (if any) is stopped.
    Incoming(TcpListener<F>& listener, const Until& stop) noexcept : listener_(&listener), stop_(stop) {}

    /// The end of the range: reached when accept fails with an error that is not transient.
    struct sentinel {};

    /// Input iterator over the accepted connections.
    class iterator {
    public:
        /// What the iterator yields.
        using value_type = Accepted<F>;
        /// Required by std::input_iterator.
        using difference_type = std::ptrdiff_t;
        iterator() noexcept = default;
        /// An iterator over `owner`'s connections.
        explicit iterator(Incoming* owner) noexcept : owner_(owner) {}
        /// The connection just accepted.
        // Dereferenced only before end(), like every input iterator: current_ holds a connection then.
        // NOLINTNEXTLINE(bugprone-unchecked-optional-access)
        Accepted<F>& operator*() const noexcept { return *owner_->current_; }
        /// The connection just accepted.
        // NOLINTNEXTLINE(bugprone-unchecked-optional-access)
        Accepted<F>* operator->() const noexcept { return &*owner_->current_; }
        /// Accepts the next connection.
        iterator& operator++() noexcept {
            owner_->advance();
            return *this;
        }
        /// Accepts the next connection.
        void operator++(int) noexcept { owner_->advance(); }
        /// True once accepting stopped (see error()).
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
    /// The end of the range.
    sentinel end() const noexcept { return {}; }
    /// Why the range ended; an empty Error (value() == 0) while it has not.
    const Error& error() const noexcept { return error_; }

private:
    void advance() noexcept {
        current_.reset();
        for (;;) {
            auto next = stop_.stop_possible() ? listener_->accept(stop_) : listener_->accept();
            if (next) {
                current_.emplace(std::move(*next));
                pause_ = first_pause;
                return;
            }
            if (is_out_of_resources(next.error()) && pause_after(next.error())) continue;
            if (!is_transient_accept_error(next.error())) {
                error_ = next.error();
                return;
            }
        }
    }
    // Out of descriptors or memory is a passing state for a server: the connections it serves will close.
    // Waiting on the listener would spin (it stays readable), so sleep 10 ms, doubling up to 1 s, then
    // accept again; a stop ends the range. False (and error_ set) when stopped.
    bool pause_after(const Error& cause) noexcept {
        const auto wake_at = Until::Clock::now() + pause_;
        pause_ = pause_ * 2 < last_pause ? pause_ * 2 : last_pause;
        auto slept = detail::sys::poll_until(nullptr, 0, stop_.with_deadline(wake_at), "accept");
        if (!slept && slept.error() != std::errc::timed_out && slept.error() != std::errc::operation_canceled)
            slept = detail::sys::poll_until(nullptr, 0, Until(wake_at),
                                            "accept");  // no descriptor to cancel with
        if (!stop_.stop_requested()) return true;
        error_ = Error(std::errc::operation_canceled, cause.operation());
        return false;
    }

    static constexpr std::chrono::milliseconds first_pause{10};
    static constexpr std::chrono::milliseconds last_pause{1000};

    TcpListener<F>* listener_;
    Until stop_;  // a stop token only, no deadline
    std::optional<Accepted<F>> current_;
    Error error_;
    std::chrono::milliseconds pause_ = first_pause;
};

/// Unix-domain stream sockets: the same API over a path instead of an IP address.
using UnixStream = TcpStream<Unix>;
/// A Unix-domain stream listener: TcpListener over a path.
using UnixListener = TcpListener<Unix>;

}  // namespace netlite
