// SPDX-License-Identifier: BSL-1.0
// netlite/coro/io.hpp - the awaitable calls: async_accept, async_accept_next (a server's accept loop),
// async_connect (one address), async_read, async_write, async_write_all, async_read_exact,
// async_read_to_end (TcpStream or AsyncStream), async_recv_from, async_send_to, async_sleep. Part of
// <netlite/coro.hpp>.
#pragma once

#include <netlite/buffer.hpp>
#include <netlite/coro/loop.hpp>
#include <netlite/coro/operation.hpp>
#include <netlite/coro/stream.hpp>
#include <netlite/deadline.hpp>
#include <netlite/detail/chrono.hpp>
#include <netlite/detail/read_to_end.hpp>
#include <netlite/poll.hpp>
#include <netlite/result.hpp>
#include <netlite/tcp.hpp>
#include <netlite/udp.hpp>

#include <cstddef>
#include <optional>
#include <type_traits>
#include <utility>

namespace netlite {

// --- the awaitable calls ------------------------------------------------------------------------------

namespace detail::coro {

/// accept/read/write/recv_from/send_to: one try_* call, whose result is the operation's.
template <class Value, class Try>
class OnceOp : public Operation<OnceOp<Value, Try>> {
public:
    // `asked`: a stream read's buffer size; a shorter read means the socket was drained (0: no such hint).
    OnceOp(const char* name, Handle fd, Interest interest, const Until& until, Try call,
           std::size_t asked = 0) noexcept
        : Operation<OnceOp>(name, fd, interest, until), call_(call), asked_(asked) {}
    bool attempt() noexcept {
        auto got = call_();
        if (got && !*got) return false;
        if constexpr (std::is_same_v<Value, std::size_t>) {
            if (got && **got > 0 && **got < asked_) this->loop->note_drained(this->fd);
        }
        if (got)
            result_.emplace(std::move(**got));
        else
            result_ = unexpected<Error>(got.error());
        return true;
    }
    void fail_with(const Error& error) noexcept { result_ = unexpected<Error>(error); }
    Result<Value> await_resume() noexcept { return std::move(result_); }

private:
    Try call_;
    std::size_t asked_;
    Result<Value> result_{unexpect};  // set before resuming
};

/// write_all / read_exact: repeats try_write / try_read until the buffer is done; progress survives
/// waiting, and a failure reports it.
template <class Stream, bool Writing>
class TransferOp : public Operation<TransferOp<Stream, Writing>> {
    using Buffer = std::conditional_t<Writing, ConstBuffer, MutableBuffer>;

public:
    TransferOp(Stream& stream, Buffer buffer, const Until& until) noexcept
        : Operation<TransferOp>(Writing ? "write" : "read", stream.native_handle(),
                                Writing ? Interest::writable : Interest::readable, until),
          stream_(&stream),
          buffer_(buffer) {}
    bool attempt() noexcept {
        while (done_ < buffer_.size()) {
            auto moved = try_move();
            if (!moved) {
                fail_with(moved.error());
                return true;
            }
            if (!*moved) return false;
            if (!Writing && **moved == 0) {
                fail_with(Error(errc::unexpected_eof, "read"));
                return true;
            }
            done_ += **moved;
        }
        result_.emplace();
        return true;
    }
    void fail_with(const Error& error) noexcept {
        result_ = unexpected<TransferError>(TransferError(error, done_));
    }
    Result<void, TransferError> await_resume() noexcept { return std::move(result_); }

private:
    Result<std::optional<std::size_t>> try_move() noexcept {
        if constexpr (Writing)
            return stream_->try_write(buffer_.advanced(done_));
        else
            return stream_->try_read(buffer_.advanced(done_));
    }
    Stream* stream_;
    Buffer buffer_;
    std::size_t done_ = 0;
    Result<void, TransferError> result_{unexpect};  // set before resuming
};

/// read_to_end: appends to `out` until end of stream.
template <Family F, class Container>
class ReadToEndOp : public Operation<ReadToEndOp<F, Container>> {
public:
    ReadToEndOp(TcpStream<F>& stream, Container& out, const Until& until) noexcept
        : Operation<ReadToEndOp>("read", stream.native_handle(), Interest::readable, until),
          stream_(&stream),
          out_(&out),
          start_(out.size()) {}
    bool attempt() noexcept {
        for (;;) {
            const std::size_t used = out_->size();
            out_->resize(used + room_.size());  // the blocking read_to_end's rule (detail/read_to_end.hpp)
            auto got = stream_->try_read(MutableBuffer(out_->data() + used, out_->size() - used));
            out_->resize(used + (got && *got ? **got : 0));
            if (!got) {
                fail_with(got.error());
                return true;
            }
            if (!*got) return false;
            if (**got == 0) {
                result_.emplace(out_->size() - start_);
                return true;
            }
            room_.got(**got);
        }
    }
    void fail_with(const Error& error) noexcept {
        result_ = unexpected<TransferError>(TransferError(error, out_->size() - start_));
    }
    Result<std::size_t, TransferError> await_resume() noexcept { return std::move(result_); }

private:
    TcpStream<F>* stream_;
    Container* out_;
    std::size_t start_;
    ReadRoom room_;
    Result<std::size_t, TransferError> result_{unexpect};  // set before resuming
};

/// connect to one address: a non-blocking connect, then writability and sys::connect_finished.
template <Family F>
class ConnectOp : public Operation<ConnectOp<F>> {
public:
    ConnectOp(const Address<F>& address, const Until& until) noexcept
        : Operation<ConnectOp>("connect", no_handle, Interest::writable, until), address_(address) {}
    bool attempt() noexcept {
        if (!stream_.is_open()) {
            auto socket = Socket<F, Stream>::open_for(address_);
            if (!socket) return fail_now(socket.error());
            stream_ = TcpStream<F>(std::move(*socket));
            this->fd = stream_.native_handle();
            auto started = detail::start_connect(stream_.native_handle(), address_.data(), address_.size());
            if (!started) return fail_now(started.error());
            if (!*started) return false;
        } else {  // writable: the same confirmation as every other connect (SO_ERROR, then getpeername)
            auto done =
                detail::sys::connect_finished(stream_.native_handle(), address_.data(), address_.size());
            if (!done) return fail_now(done.error());
            if (!*done) return false;  // it had never begun (EINTR): started again, park until writable
        }
        if (auto blocking = stream_.set_nonblocking(false); !blocking) return fail_now(blocking.error());
        result_.emplace(std::move(stream_));
        return true;
    }
    void fail_with(const Error& error) noexcept {
        stream_ = TcpStream<F>();
        result_ = unexpected<Error>(error);
    }
    Result<TcpStream<F>> await_resume() noexcept { return std::move(result_); }

private:
    bool fail_now(const Error& error) noexcept {
        fail_with(error);
        return true;
    }
    Address<F> address_;
    TcpStream<F> stream_;
    Result<TcpStream<F>> result_{unexpect};  // set before resuming
};

/// sleep: finishes (successfully) at the deadline; a stop or a cancellation ends it early.
template <class Unused = void>
class SleepOpT : public Operation<SleepOpT<Unused>> {
public:
    explicit SleepOpT(const Until& until) noexcept
        : Operation<SleepOpT>("sleep", no_handle, Interest::none, until) {}
    bool attempt() noexcept {
        if (!this->until().has_deadline() || Clock::now() < this->until().deadline()) return false;
        result_.emplace();
        return true;
    }
    void fail_with(const Error& error) noexcept {
        if (error == std::errc::timed_out)
            result_.emplace();  // the deadline is what a sleep waits for
        else
            result_ = unexpected<Error>(error);
    }
    Result<void> await_resume() noexcept { return std::move(result_); }

private:
    Result<void> result_{unexpect};  // set before resuming
};

/// readiness of a descriptor the program owns: parks once, finishes at the first readiness event.
template <class Unused = void>
class ReadyOpT : public Operation<ReadyOpT<Unused>> {
public:
    ReadyOpT(Handle descriptor, Interest wanted, const Until& until) noexcept
        : Operation<ReadyOpT>("wait", descriptor, wanted, until) {}
    // Before parking (the probe in await_suspend) it does not know: park and wait for an event. Asked by
    // the state, not by counting calls: on a descriptor attached to the loop and known to block, the loop
    // skips that probe, and the first event would otherwise be taken for it and its wake-up lost.
    bool attempt() noexcept {
        if (this->state != Waiter::State::parked) return false;
        result_.emplace();
        return true;
    }
    void fail_with(const Error& error) noexcept { result_ = unexpected<Error>(error); }
    Result<void> await_resume() noexcept { return std::move(result_); }

private:
    Result<void> result_{unexpect};  // set before resuming
};

}  // namespace detail::coro

/// Awaits readiness of any descriptor or socket handle the program owns (a pipe, an eventfd, a driver's
/// socket) for `interest` (readable or writable, one of them), then returns; the program does the I/O.
/// Always parks once (readiness is not probed first). The primitive for an awaitable over another
/// protocol's engine (TLS: wait for what the engine asks for, then call it again). The descriptor must
/// not be closed or owned by an AsyncStream meanwhile. Errors: timed_out, operation_canceled (as `until`
/// says); device_or_resource_busy (another task waits for the same direction); as Poller::add (EBADF;
/// EPERM for a regular file under epoll).
template <class Unused = void>
[[nodiscard]] detail::coro::ReadyOpT<Unused> async_wait_ready(detail::sys::native_handle descriptor,
                                                              Interest interest,
                                                              const Until& until = {}) noexcept {
    return detail::coro::ReadyOpT<Unused>(descriptor, interest, until);
}

/// Awaits the next connection on `listener`. Errors: as TcpListener::accept(until).
template <Family F>
[[nodiscard]] auto async_accept(TcpListener<F>& listener, const Until& until = {}) noexcept {
    auto call = [l = &listener]() noexcept { return l->try_accept(); };
    return detail::coro::OnceOp<Accepted<F>, decltype(call)>("accept", listener.native_handle(),
                                                             Interest::readable, until, call);
}

/// Awaits a connection to `address` (the stream comes back in blocking mode). Errors: as
/// TcpStream::connect(address, until).
template <Family F>
[[nodiscard]] detail::coro::ConnectOp<F> async_connect(const Address<F>& address,
                                                       const Until& until = {}) noexcept {
    return detail::coro::ConnectOp<F>(address, until);
}

/// Awaits some bytes from `stream` (0: end of stream). Errors: as TcpStream::read(buffer, until).
template <Family F>
[[nodiscard]] auto async_read(TcpStream<F>& stream, MutableBuffer buffer, const Until& until = {}) noexcept {
    auto call = [s = &stream, buffer]() noexcept { return s->try_read(buffer); };
    return detail::coro::OnceOp<std::size_t, decltype(call)>("read", stream.native_handle(),
                                                             Interest::readable, until, call, buffer.size());
}

/// Awaits sending some of `buffer`; returns how much. Errors: as TcpStream::write(buffer, until).
template <Family F>
[[nodiscard]] auto async_write(TcpStream<F>& stream, ConstBuffer buffer, const Until& until = {}) noexcept {
    auto call = [s = &stream, buffer]() noexcept { return s->try_write(buffer); };
    return detail::coro::OnceOp<std::size_t, decltype(call)>("write", stream.native_handle(),
                                                             Interest::writable, until, call);
}

/// Awaits sending all of `buffer` within one `until`. Errors: as TcpStream::write_all(buffer, until),
/// bytes_transferred() says how much was sent.
template <Family F>
[[nodiscard]] detail::coro::TransferOp<TcpStream<F>, true> async_write_all(TcpStream<F>& stream,
                                                                           ConstBuffer buffer,
                                                                           const Until& until = {}) noexcept {
    return detail::coro::TransferOp<TcpStream<F>, true>(stream, buffer, until);
}

/// Awaits filling all of `buffer` within one `until`. Errors: errc::unexpected_eof, as
/// TcpStream::read_exact(buffer, until); bytes_transferred() says how much arrived.
template <Family F>
[[nodiscard]] detail::coro::TransferOp<TcpStream<F>, false> async_read_exact(
    TcpStream<F>& stream, MutableBuffer buffer, const Until& until = {}) noexcept {
    return detail::coro::TransferOp<TcpStream<F>, false>(stream, buffer, until);
}

/// Awaits end of stream, appending everything to `out` (std::string or a vector of bytes); returns how
/// many bytes were appended. Errors: as async_read; what arrived first stays in `out`.
template <Family F, class Container>
[[nodiscard]] detail::coro::ReadToEndOp<F, Container> async_read_to_end(TcpStream<F>& stream, Container& out,
                                                                        const Until& until = {}) noexcept {
    return detail::coro::ReadToEndOp<F, Container>(stream, out, until);
}

/// async_read on an AsyncStream (no epoll_ctl per wait). Errors: as async_read.
template <Family F>
[[nodiscard]] auto async_read(AsyncStream<F>& stream, MutableBuffer buffer,
                              const Until& until = {}) noexcept {
    return async_read(stream.stream(), buffer, until);
}
/// async_write on an AsyncStream. Errors: as async_write.
template <Family F>
[[nodiscard]] auto async_write(AsyncStream<F>& stream, ConstBuffer buffer, const Until& until = {}) noexcept {
    return async_write(stream.stream(), buffer, until);
}
/// async_write_all on an AsyncStream. Errors: as async_write_all.
template <Family F>
[[nodiscard]] auto async_write_all(AsyncStream<F>& stream, ConstBuffer buffer,
                                   const Until& until = {}) noexcept {
    return async_write_all(stream.stream(), buffer, until);
}
/// async_read_exact on an AsyncStream. Errors: as async_read_exact.
template <Family F>
[[nodiscard]] auto async_read_exact(AsyncStream<F>& stream, MutableBuffer buffer,
                                    const Until& until = {}) noexcept {
    return async_read_exact(stream.stream(), buffer, until);
}
/// async_read_to_end on an AsyncStream. Errors: as async_read_to_end.
template <Family F, class Container>
[[nodiscard]] auto async_read_to_end(AsyncStream<F>& stream, Container& out,
                                     const Until& until = {}) noexcept {
    return async_read_to_end(stream.stream(), out, until);
}

/// Awaits one datagram. Errors: as UdpSocket::recv_from(buffer, until).
template <Family F>
[[nodiscard]] auto async_recv_from(UdpSocket<F>& socket, MutableBuffer buffer,
                                   const Until& until = {}) noexcept {
    auto call = [s = &socket, buffer]() noexcept { return s->try_recv_from(buffer); };
    return detail::coro::OnceOp<Received<F>, decltype(call)>("recvfrom", socket.native_handle(),
                                                             Interest::readable, until, call);
}

/// Awaits sending one datagram to `to`. Errors: as UdpSocket::send_to(datagram, to, until).
template <Family F>
[[nodiscard]] auto async_send_to(UdpSocket<F>& socket, ConstBuffer datagram, const Address<F>& to,
                                 const Until& until = {}) noexcept {
    auto call = [s = &socket, datagram, to]() noexcept { return s->try_send_to(datagram, to); };
    return detail::coro::OnceOp<std::size_t, decltype(call)>("sendto", socket.native_handle(),
                                                             Interest::writable, until, call);
}

/// Sleeps until `until`'s deadline (success), or fails with operation_canceled when its stop token
/// fires or the task is cancelled first. Without a deadline it sleeps until cancelled.
template <class Unused = void>
[[nodiscard]] detail::coro::SleepOpT<Unused> async_sleep(const Until& until) noexcept {
    return detail::coro::SleepOpT<Unused>(until);
}

namespace detail::coro {

/// The pause after an accept that ran out of descriptors or memory: incoming()'s (tcp.hpp).
inline constexpr std::chrono::milliseconds accept_first_pause{10};
inline constexpr std::chrono::milliseconds accept_last_pause{1000};

/// async_accept_next with the accept call as a parameter: `accept(listener, until)` gives an awaitable
/// of Result<Accepted<F>> (async_accept; a test injects errors through it).
template <Family F, class Accept>
Task<Result<Accepted<F>>> accept_next(TcpListener<F>& listener, Until until, Accept accept) {
    std::chrono::milliseconds pause = accept_first_pause;
    for (;;) {
        Result<Accepted<F>> next = co_await accept(listener, until);
        if (next) co_return next;
        if (is_transient_accept_error(next.error())) continue;  // that client is gone: the next one
        if (!is_out_of_resources(next.error())) co_return next;
        // The listener stays readable while the queue holds the connection we could not take: waiting on
        // it would spin. Sleep instead; the connections being served close and give descriptors back.
        const Clock::time_point wake_at = Clock::now() + pause;
        pause = pause * 2 < accept_last_pause ? pause * 2 : accept_last_pause;
        const bool deadline_first = until.deadline() <= wake_at;
        auto slept = co_await async_sleep(until.with_deadline(sys::earlier(wake_at, until.deadline())));
        if (!slept) co_return fail(std::errc::operation_canceled, "accept");  // stopped or task cancelled
        if (deadline_first) co_return fail(std::errc::timed_out, "accept");
    }
}

}  // namespace detail::coro

/// Awaits the next connection on `listener` under incoming()'s policy: skips connections that failed
/// while queued (is_transient_accept_error), and out of descriptors or memory (is_out_of_resources)
/// sleeps 10 ms, doubling up to 1 s, and accepts again. Errors: operation_canceled, timed_out (as `until`
/// says, during a pause too); any other accept error (EBADF, EINVAL: the listener cannot accept).
template <Family F>
[[nodiscard]] Task<Result<Accepted<F>>> async_accept_next(TcpListener<F>& listener, Until until = {}) {
    return detail::coro::accept_next(listener, std::move(until),
                                     [](TcpListener<F>& l, const Until& u) { return async_accept(l, u); });
}

}  // namespace netlite
