// SPDX-License-Identifier: BSL-1.0
// netlite/coro/tls.hpp - TLS on the coroutine loop: async_handshake, async_read, async_write,
// async_write_all, async_read_exact, async_read_to_end and async_shutdown over a TlsStream, and
// AsyncTlsStream (a TlsStream registered with one Loop). Opt-in twice: it needs <netlite/tls.hpp> (OpenSSL,
// netlite::tls) and is not part of <netlite/coro.hpp> or <netlite/netlite.hpp>, so the core stays free of
// OpenSSL.
//
// A TLS call may need the other direction than its name says (a read that must write a handshake
// message, a handshake that waits for the peer's flight), so every awaitable here tries first and, when
// TLS says "would block", parks for what TlsStream::wait_for() asks, choosing again after each attempt.
// It never parks while decrypted bytes are buffered (TlsStream::pending()): each call tries before it waits.
#pragma once

#include <netlite/tls.hpp>

#include <netlite/buffer.hpp>
#include <netlite/coro/loop.hpp>
#include <netlite/coro/operation.hpp>
#include <netlite/coro/task.hpp>
#include <netlite/deadline.hpp>
#include <netlite/poll.hpp>
#include <netlite/result.hpp>
#include <netlite/tcp.hpp>

#include <cstddef>
#include <optional>
#include <type_traits>
#include <utility>

namespace netlite {

namespace detail::coro {

/// The common part of the TLS awaiters: an Operation whose descriptor and direction are chosen by the
/// last attempt (TlsStream::wait_for()). Until an attempt would block it has no descriptor, so that the
/// loop never skips the first attempt on a cached "would block": TLS may hold bytes the socket no longer
/// has.
template <class Derived, Family F>
class TlsOperation : public Operation<Derived> {
protected:
    TlsOperation(const char* name, TlsStream<F>& stream, const Until& until) noexcept
        : Operation<Derived>(name, no_handle, Interest::readable, until), stream_(&stream) {}

    TlsStream<F>& stream() noexcept { return *stream_; }

    /// The attempt would block: wait for the direction TLS asked for. Returns false (not finished) unless
    /// moving a parked wait to the other direction failed (then the operation failed with that error).
    bool wait_as_asked() noexcept {
        const Interest wanted =
            stream_->wait_for() == TlsWait::writable ? Interest::writable : Interest::readable;
        const Handle fd = stream_->tcp().native_handle();
        if (this->state != Waiter::State::parked) {  // first attempt, in await_suspend: it parks next
            this->fd = fd;
            this->interest = wanted;
            return false;
        }
        if (wanted == this->interest) return false;
        return !repark(wanted);
    }

private:
    /// Moves this parked wait to the other direction's slot, keeping its deadline, stop guard and task.
    bool repark(Interest wanted) noexcept {
        TaskNode* task = this->root;
        auto* cleanup = std::exchange(this->on_unpark, nullptr);  // keep the stop guard armed
        this->loop->forget(this);
        this->on_unpark = cleanup;
        this->interest = wanted;
        this->timed = this->until().has_deadline();
        if (auto parked = this->loop->park(this); !parked) {
            cleanup(this);
            static_cast<Derived*>(this)->fail_with(parked.error());
            return false;
        }
        task->parked = this;
        return true;
    }

    TlsStream<F>* stream_;
};

/// One TLS write (ConstBuffer) or read (MutableBuffer) attempt.
template <Family F>
Result<std::optional<std::size_t>> try_move(TlsStream<F>& stream, ConstBuffer buffer) {
    return stream.try_write(buffer);
}
template <Family F>
Result<std::optional<std::size_t>> try_move(TlsStream<F>& stream, MutableBuffer buffer) {
    return stream.try_read(buffer);
}

/// The handshake (client or server, as the stream was started).
template <Family F>
class TlsHandshakeOp : public TlsOperation<TlsHandshakeOp<F>, F> {
public:
    TlsHandshakeOp(TlsStream<F>& stream, const Until& until) noexcept
        : TlsOperation<TlsHandshakeOp, F>("tls handshake", stream, until) {}
    bool attempt() noexcept {
        auto step = this->stream().try_handshake();
        if (!step) {
            fail_with(step.error());
            return true;
        }
        if (!*step) return this->wait_as_asked();
        result_.emplace();
        return true;
    }
    void fail_with(const Error& error) noexcept { result_.emplace(unexpected<Error>(error)); }
    Result<void> await_resume() noexcept { return std::move(*result_); }

private:
    std::optional<Result<void>> result_;
};

/// close_notify.
template <Family F>
class TlsShutdownOp : public TlsOperation<TlsShutdownOp<F>, F> {
public:
    TlsShutdownOp(TlsStream<F>& stream, const Until& until) noexcept
        : TlsOperation<TlsShutdownOp, F>("tls shutdown", stream, until) {}
    bool attempt() noexcept {
        auto step = this->stream().try_shutdown();
        if (!step) {
            fail_with(step.error());
            return true;
        }
        if (!*step) return this->wait_as_asked();
        result_.emplace();
        return true;
    }
    void fail_with(const Error& error) noexcept { result_.emplace(unexpected<Error>(error)); }
    Result<void> await_resume() noexcept { return std::move(*result_); }

private:
    std::optional<Result<void>> result_;
};

/// One read or one write: its byte count is the result.
template <Family F, bool Writing>
class TlsOnceOp : public TlsOperation<TlsOnceOp<F, Writing>, F> {
    using Buffer = std::conditional_t<Writing, ConstBuffer, MutableBuffer>;

public:
    TlsOnceOp(TlsStream<F>& stream, Buffer buffer, const Until& until) noexcept
        : TlsOperation<TlsOnceOp, F>(Writing ? "tls write" : "tls read", stream, until), buffer_(buffer) {}
    bool attempt() noexcept {
        auto moved = try_move(this->stream(), buffer_);
        if (!moved) {
            fail_with(moved.error());
            return true;
        }
        if (!*moved) return this->wait_as_asked();
        result_.emplace(**moved);
        return true;
    }
    void fail_with(const Error& error) noexcept { result_.emplace(unexpected<Error>(error)); }
    Result<std::size_t> await_resume() noexcept { return std::move(*result_); }

private:
    Buffer buffer_;
    std::optional<Result<std::size_t>> result_;
};

/// write_all / read_exact: repeats the TLS write / read until the buffer is done; progress survives
/// waiting, and a failure reports it.
template <Family F, bool Writing>
class TlsTransferOp : public TlsOperation<TlsTransferOp<F, Writing>, F> {
    using Buffer = std::conditional_t<Writing, ConstBuffer, MutableBuffer>;

public:
    TlsTransferOp(TlsStream<F>& stream, Buffer buffer, const Until& until) noexcept
        : TlsOperation<TlsTransferOp, F>(Writing ? "tls write" : "tls read", stream, until),
          buffer_(buffer) {}
    bool attempt() noexcept {
        while (done_ < buffer_.size()) {
            auto moved = try_move(this->stream(), buffer_.advanced(done_));
            if (!moved) {
                fail_with(moved.error());
                return true;
            }
            if (!*moved) return this->wait_as_asked();
            if (!Writing && **moved == 0) {
                fail_with(Error(errc::unexpected_eof, "tls read"));
                return true;
            }
            done_ += **moved;
        }
        result_.emplace();
        return true;
    }
    void fail_with(const Error& error) noexcept {
        result_.emplace(unexpected<TransferError>(TransferError(error, done_)));
    }
    Result<void, TransferError> await_resume() noexcept { return std::move(*result_); }

private:
    Buffer buffer_;
    std::size_t done_ = 0;
    std::optional<Result<void, TransferError>> result_;
};

/// read_to_end: appends to `out` until the peer's close_notify.
template <Family F, class Container>
class TlsReadToEndOp : public TlsOperation<TlsReadToEndOp<F, Container>, F> {
public:
    TlsReadToEndOp(TlsStream<F>& stream, Container& out, const Until& until) noexcept
        : TlsOperation<TlsReadToEndOp, F>("tls read", stream, until), out_(&out), start_(out.size()) {}
    bool attempt() noexcept {
        constexpr std::size_t chunk = std::size_t{16} * 1024;
        for (;;) {
            const std::size_t used = out_->size();
            out_->resize(used + chunk);
            auto got = this->stream().try_read(MutableBuffer(out_->data() + used, chunk));
            out_->resize(used + (got && *got ? **got : 0));
            if (!got) {
                fail_with(got.error());
                return true;
            }
            if (!*got) return this->wait_as_asked();
            if (**got == 0) {
                result_.emplace(out_->size() - start_);
                return true;
            }
        }
    }
    void fail_with(const Error& error) noexcept {
        result_.emplace(unexpected<TransferError>(TransferError(error, out_->size() - start_)));
    }
    Result<std::size_t, TransferError> await_resume() noexcept { return std::move(*result_); }

private:
    Container* out_;
    std::size_t start_;
    std::optional<Result<std::size_t, TransferError>> result_;
};

}  // namespace detail::coro

/// A TlsStream registered with one Loop for as long as it lives (edge-triggered, readiness cached by the
/// loop), as AsyncStream is for a TcpStream: the awaitables wait on it with no epoll_ctl per wait. The
/// registration ends before the stream closes. Use it in one loop's tasks; it must not outlive its Loop.
/// One read and one write may be in progress at a time, unless TLS makes both wait for the same
/// direction (a read that must write while a write waits): the second fails with device_or_resource_busy.
template <Family F = IP>
class AsyncTlsStream {
public:
    /// Registers `stream`'s socket with `loop`. Errors: as AsyncStream::attach; the stream is closed then.
    static Result<AsyncTlsStream> attach(Loop& loop, TlsStream<F> stream) noexcept {
        auto attached = loop.attach(stream.tcp().native_handle());
        if (!attached) return fail(attached.error());
        return AsyncTlsStream(*attached ? &loop : nullptr, std::move(stream));
    }
    /// Takes `other`'s stream and registration; `other` is left with neither.
    AsyncTlsStream(AsyncTlsStream&& other) noexcept
        : loop_(std::exchange(other.loop_, nullptr)), stream_(std::move(other.stream_)) {}
    /// Ends this registration (closing this stream) and takes `other`'s stream and registration.
    AsyncTlsStream& operator=(AsyncTlsStream&& other) noexcept {
        if (this != &other) {
            detach();
            loop_ = std::exchange(other.loop_, nullptr);
            stream_ = std::move(other.stream_);
        }
        return *this;
    }
    AsyncTlsStream(const AsyncTlsStream&) = delete;
    AsyncTlsStream& operator=(const AsyncTlsStream&) = delete;
    ~AsyncTlsStream() { detach(); }

    /// The TLS stream, for what was negotiated. Do not move it out: use release().
    TlsStream<F>& stream() noexcept { return stream_; }
    /// The TLS stream, read-only.
    const TlsStream<F>& stream() const noexcept { return stream_; }
    /// Ends the registration and gives the stream back.
    TlsStream<F> release() noexcept {
        detach();
        return std::move(stream_);
    }

private:
    AsyncTlsStream(Loop* loop, TlsStream<F> stream) noexcept : loop_(loop), stream_(std::move(stream)) {}
    void detach() noexcept {
        if (loop_ != nullptr) std::exchange(loop_, nullptr)->detach(stream_.tcp().native_handle());
    }
    Loop* loop_;
    TlsStream<F> stream_;
};

/// Awaits the handshake of a stream from TlsStream::start_client() or start_server() within `until`.
/// Errors: as TlsStream::client() and accept() (the stream stays open: drop it).
template <Family F>
[[nodiscard]] detail::coro::TlsHandshakeOp<F> async_handshake(TlsStream<F>& stream,
                                                              const Until& until = {}) noexcept {
    return detail::coro::TlsHandshakeOp<F>(stream, until);
}

/// Awaits some decrypted bytes (0: the peer's close_notify). Errors: as TlsStream::read (tls_errc::truncated
/// when TCP closed without close_notify).
template <Family F>
[[nodiscard]] detail::coro::TlsOnceOp<F, false> async_read(TlsStream<F>& stream, MutableBuffer buffer,
                                                           const Until& until = {}) noexcept {
    return detail::coro::TlsOnceOp<F, false>(stream, buffer, until);
}

/// Awaits encrypting and sending some of `buffer`; returns how much was taken. Errors: as TlsStream::write.
template <Family F>
[[nodiscard]] detail::coro::TlsOnceOp<F, true> async_write(TlsStream<F>& stream, ConstBuffer buffer,
                                                           const Until& until = {}) noexcept {
    return detail::coro::TlsOnceOp<F, true>(stream, buffer, until);
}

/// Awaits sending all of `buffer` within one `until`. Errors: as TlsStream::write_all, bytes_transferred()
/// says how much was taken.
template <Family F>
[[nodiscard]] detail::coro::TlsTransferOp<F, true> async_write_all(TlsStream<F>& stream, ConstBuffer buffer,
                                                                   const Until& until = {}) noexcept {
    return detail::coro::TlsTransferOp<F, true>(stream, buffer, until);
}

/// Awaits filling all of `buffer` within one `until`. Errors: as TlsStream::read_exact (errc::unexpected_eof
/// when close_notify came first); bytes_transferred() says how much arrived.
template <Family F>
[[nodiscard]] detail::coro::TlsTransferOp<F, false> async_read_exact(TlsStream<F>& stream,
                                                                     MutableBuffer buffer,
                                                                     const Until& until = {}) noexcept {
    return detail::coro::TlsTransferOp<F, false>(stream, buffer, until);
}

/// Awaits the peer's close_notify, appending everything before it to `out` (std::string or a vector of
/// bytes); returns how many bytes were appended. Errors: as TlsStream::read_to_end (tls_errc::truncated);
/// what arrived first stays in `out`.
template <Family F, class Container>
[[nodiscard]] detail::coro::TlsReadToEndOp<F, Container> async_read_to_end(TlsStream<F>& stream,
                                                                           Container& out,
                                                                           const Until& until = {}) noexcept {
    return detail::coro::TlsReadToEndOp<F, Container>(stream, out, until);
}

/// Awaits sending close_notify (this side writes no more; read on until the peer's). Errors: as
/// TlsStream::shutdown.
template <Family F>
[[nodiscard]] detail::coro::TlsShutdownOp<F> async_shutdown(TlsStream<F>& stream,
                                                            const Until& until = {}) noexcept {
    return detail::coro::TlsShutdownOp<F>(stream, until);
}

/// async_handshake on an AsyncTlsStream. Errors: as async_handshake.
template <Family F>
[[nodiscard]] auto async_handshake(AsyncTlsStream<F>& stream, const Until& until = {}) noexcept {
    return async_handshake(stream.stream(), until);
}
/// async_read on an AsyncTlsStream. Errors: as async_read.
template <Family F>
[[nodiscard]] auto async_read(AsyncTlsStream<F>& stream, MutableBuffer buffer,
                              const Until& until = {}) noexcept {
    return async_read(stream.stream(), buffer, until);
}
/// async_write on an AsyncTlsStream. Errors: as async_write.
template <Family F>
[[nodiscard]] auto async_write(AsyncTlsStream<F>& stream, ConstBuffer buffer,
                               const Until& until = {}) noexcept {
    return async_write(stream.stream(), buffer, until);
}
/// async_write_all on an AsyncTlsStream. Errors: as async_write_all.
template <Family F>
[[nodiscard]] auto async_write_all(AsyncTlsStream<F>& stream, ConstBuffer buffer,
                                   const Until& until = {}) noexcept {
    return async_write_all(stream.stream(), buffer, until);
}
/// async_read_exact on an AsyncTlsStream. Errors: as async_read_exact.
template <Family F>
[[nodiscard]] auto async_read_exact(AsyncTlsStream<F>& stream, MutableBuffer buffer,
                                    const Until& until = {}) noexcept {
    return async_read_exact(stream.stream(), buffer, until);
}
/// async_read_to_end on an AsyncTlsStream. Errors: as async_read_to_end.
template <Family F, class Container>
[[nodiscard]] auto async_read_to_end(AsyncTlsStream<F>& stream, Container& out,
                                     const Until& until = {}) noexcept {
    return async_read_to_end(stream.stream(), out, until);
}
/// async_shutdown on an AsyncTlsStream. Errors: as async_shutdown.
template <Family F>
[[nodiscard]] auto async_shutdown(AsyncTlsStream<F>& stream, const Until& until = {}) noexcept {
    return async_shutdown(stream.stream(), until);
}

}  // namespace netlite
