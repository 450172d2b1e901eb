// SPDX-License-Identifier: BSL-1.0
// netlite/coro/tls.hpp - TLS on the coroutine loop: async_tls_connect, async_tls_accept, and
// async_handshake, async_read, async_write, async_write_all, async_read_exact, async_read_to_end and
// async_shutdown over a TlsStream or an AsyncTlsStream (a TlsStream registered with one Loop). Opt-in
// twice: it needs <netlite/tls.hpp> (OpenSSL, netlite::tls) and is not part of <netlite/coro.hpp> or
// <netlite/netlite.hpp>, so the core stays free of OpenSSL.
//
// Built on the loop's Operation, as async_wait_ready is: each call tries the TLS step first and, only when
// TLS says "would block", waits for the readiness TlsStream::wait_for() asks for (a read may have to
// write, a handshake waits for the peer's flight), then tries again, choosing the direction after every
// attempt. It never waits while decrypted bytes are buffered, because it waits only after an attempt
// that found none. Each call is a Task (one coroutine frame per call); all of a call's waits share its
// one Until, as the blocking TlsStream's do. No change to the loop.
#pragma once

#include <netlite/buffer.hpp>
#include <netlite/coro/connect.hpp>
#include <netlite/coro/io.hpp>
#include <netlite/coro/loop.hpp>
#include <netlite/coro/operation.hpp>
#include <netlite/coro/task.hpp>
#include <netlite/deadline.hpp>
#include <netlite/poll.hpp>
#include <netlite/result.hpp>
#include <netlite/tcp.hpp>
#include <netlite/tls.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace netlite {

namespace detail::coro {

/// Waits for the readiness the last TLS attempt asked for: finishes at the first readiness event after it
/// parked (the attempt just before found that the socket would block). As async_wait_ready's wait, it asks
/// the operation's state, not a count of calls: on a socket attached to the loop (AsyncTlsStream) whose
/// cached "would block" makes the loop skip the attempt before parking (after an earlier wait timed out
/// or was cancelled), the first event is the wake-up, not the answer to the skipped probe.
template <class Unused = void>
class TlsWaitOp : public Operation<TlsWaitOp<Unused>> {
public:
    TlsWaitOp(Handle descriptor, Interest wanted, const Until& until) noexcept
        : Operation<TlsWaitOp>("wait", descriptor, wanted, until) {}
    bool attempt() noexcept {  // before parking (in await_suspend) it does not know: park, wait for an event
        if (this->state != Waiter::State::parked) return false;
        result_.emplace();
        return true;
    }
    void fail_with(const Error& error) noexcept { result_.emplace(unexpected<Error>(error)); }
    Result<void> await_resume() noexcept { return std::move(*result_); }

private:
    std::optional<Result<void>> result_;
};

/// The wait for what the last TLS attempt on `stream` asked for, within `until` (an awaitable: no frame
/// of its own). Its errors name the wait: the callers report them under the TLS call's name (renamed()).
template <Family F>
TlsWaitOp<> tls_ready(const TlsStream<F>& stream, const Until& until) noexcept {
    const Interest wanted = stream.wait_for() == TlsWait::writable ? Interest::writable : Interest::readable;
    return TlsWaitOp<>(stream.tcp().native_handle(), wanted, until);
}

/// `error` as the TLS call `operation` reports it.
inline Error renamed(const Error& error, const char* operation) noexcept {
    return Error(error.code(), operation);
}

/// Attempts `once` (a TlsStream try_* call as Result<std::optional<std::size_t>>) until it does not
/// block, waiting in between as TLS asks, within `until`. A stop already requested fails before the first
/// attempt (as the blocking TlsStream calls do); a past deadline allows that one attempt.
template <Family F, class Attempt>
Task<Result<std::size_t>> tls_drive(TlsStream<F>& stream, Until until, const char* operation, Attempt once) {
    if (until.stop_requested()) co_return fail(std::errc::operation_canceled, operation);
    for (;;) {
        auto step = once();
        if (!step) co_return fail(step.error());
        if (*step) co_return **step;
        if (auto ready = co_await tls_ready(stream, until); !ready)
            co_return fail(renamed(ready.error(), operation));
    }
}

/// A yes/no TLS step (handshake, shutdown) in tls_drive's form: 0 when done, std::nullopt when it would
/// block.
inline Result<std::optional<std::size_t>> as_step(Result<bool> done) noexcept {
    if (!done) return fail(done.error());
    return *done ? std::optional<std::size_t>(0) : std::nullopt;
}

/// A yes/no TLS step driven to its end, as Result<void> (errors: the step's).
template <Family F, class Step>
Task<Result<void>> tls_finish(TlsStream<F>& stream, Until until, const char* operation, Step step) {
    auto done = co_await tls_drive(stream, until, operation, step);
    if (!done) co_return fail(done.error());
    co_return Result<void>();
}

/// The handshake, as TlsStream::handshake() (errors: its).
template <Family F>
Task<Result<void>> tls_handshake(TlsStream<F>& stream, Until until) {
    return tls_finish(stream, until, "tls handshake", [s = &stream] { return as_step(s->try_handshake()); });
}

/// close_notify, as TlsStream::shutdown() (errors: its).
template <Family F>
Task<Result<void>> tls_shutdown(TlsStream<F>& stream, Until until) {
    return tls_finish(stream, until, "tls shutdown", [s = &stream] { return as_step(s->try_shutdown()); });
}

/// write_all / read_exact: repeats TLS writes / reads until the buffer is done, all within `until`;
/// a failure reports how much moved first.
template <Family F, bool Writing, class Buffer>
Task<Result<void, TransferError>> tls_transfer(TlsStream<F>& stream, Buffer buffer, Until until) {
    const char* operation = Writing ? "tls write" : "tls read";
    if (until.stop_requested())
        co_return unexpected<TransferError>(
            TransferError(Error(std::errc::operation_canceled, operation), 0));
    std::size_t done = 0;
    while (done < buffer.size()) {
        auto moved = [&] {
            if constexpr (Writing)
                return stream.try_write(buffer.advanced(done));
            else
                return stream.try_read(buffer.advanced(done));
        }();
        if (!moved) co_return unexpected<TransferError>(TransferError(moved.error(), done));
        if (!*moved) {
            if (auto ready = co_await tls_ready(stream, until); !ready)
                co_return unexpected<TransferError>(TransferError(renamed(ready.error(), operation), done));
            continue;
        }
        if (!Writing && **moved == 0)
            co_return unexpected<TransferError>(TransferError(Error(errc::unexpected_eof, operation), done));
        done += **moved;
    }
    co_return Result<void, TransferError>();
}

/// read_to_end: appends to `out` until the peer's close_notify, within `until`.
template <Family F, class Container>
Task<Result<std::size_t, TransferError>> tls_read_to_end(TlsStream<F>& stream, Container& out, Until until) {
    constexpr std::size_t chunk = std::size_t{16} * 1024;
    const std::size_t start = out.size();
    if (until.stop_requested())
        co_return unexpected<TransferError>(
            TransferError(Error(std::errc::operation_canceled, "tls read"), 0));
    for (;;) {
        const std::size_t used = out.size();
        out.resize(used + chunk);
        auto got = stream.try_read(MutableBuffer(out.data() + used, chunk));
        out.resize(used + (got && *got ? **got : 0));
        if (!got) co_return unexpected<TransferError>(TransferError(got.error(), used - start));
        if (!*got) {
            if (auto ready = co_await tls_ready(stream, until); !ready)
                co_return unexpected<TransferError>(
                    TransferError(renamed(ready.error(), "tls read"), used - start));
            continue;
        }
        if (**got == 0) co_return out.size() - start;
    }
}

}  // namespace detail::coro

/// A TlsStream registered with one Loop for as long as it lives (edge-triggered, readiness cached by the
/// loop), as AsyncStream is for a TcpStream: its waits cost no epoll_ctl. The registration ends before the
/// stream closes. Use it in one loop's tasks; it must not outlive its Loop. A read and a write may be in
/// progress at once (two tasks), unless TLS makes both wait for the same direction (a read that must
/// write while a write waits for writable): the second wait then fails with device_or_resource_busy.
/// (A TLS call waits only after its socket said "would block", which is what the loop's cache records as
/// it parks: the next edge is the wake-up.)
template <Family F = IP>
class AsyncTlsStream {
public:
    /// Registers `stream`'s socket with `loop` (once per socket). Errors: as AsyncStream::attach (ENOMEM,
    /// ENOSPC, EBADF for an empty stream); the stream is closed then.
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

    /// The TLS stream, for what was negotiated. Do not close it or move it out: use release().
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

// --- streams: connect and accept ----------------------------------------------------------------------

/// Resolves `host`, connects on the loop (Happy Eyeballs, as async_connect) and completes a client
/// handshake, all within `until`; `host` is the SNI name and the name checked against the certificate,
/// as TlsStream::connect. Errors: as async_connect (every address tried); the handshake's, as
/// TlsStream::client() ("tls handshake: certificate verify failed: ...", timed_out, operation_canceled).
template <Family F = IP>
requires InternetFamily<F> Task<Result<TlsStream<F>, ConnectError<F>>> async_tls_connect(TlsContext context,
                                                                                         std::string host,
                                                                                         std::uint16_t port,
                                                                                         Until until = {}) {
    using Outcome = Result<TlsStream<F>, ConnectError<F>>;
    auto tcp = co_await async_connect<F>(host, port, until);
    if (!tcp) co_return Outcome(unexpected<ConnectError<F>>(std::move(tcp.error())));
    auto tls = TlsStream<F>::start_client(context, std::move(*tcp), host);
    if (!tls) co_return Outcome(unexpected<ConnectError<F>>(ConnectError<F>(tls.error())));
    if (auto done = co_await detail::coro::tls_handshake(*tls, until); !done)
        co_return Outcome(unexpected<ConnectError<F>>(ConnectError<F>(done.error())));
    co_return Outcome(std::move(*tls));
}

/// Starts TLS as a server on an accepted connection and completes the handshake on the loop within
/// `until` (a slow client holds only its own task). The connection is closed on failure. Errors: as
/// TlsStream::accept() (the peer's alerts, "peer did not return a certificate", tls_errc::truncated,
/// timed_out, operation_canceled).
template <Family F>
Task<Result<TlsStream<F>>> async_tls_accept(TlsContext context, TcpStream<F> tcp, Until until = {}) {
    auto tls = TlsStream<F>::start_server(context, std::move(tcp));
    if (!tls) co_return fail(tls.error());
    if (auto done = co_await detail::coro::tls_handshake(*tls, until); !done) co_return fail(done.error());
    co_return std::move(*tls);
}

// --- the calls on a TlsStream ----------------------------------------------------------------------------

/// Awaits the handshake of a stream from TlsStream::start_client() or start_server() within `until`.
/// Errors: as TlsStream::handshake() (certificate verify failures, the peer's alerts, tls_errc::truncated,
/// timed_out, operation_canceled); the stream stays open: drop it.
template <Family F>
[[nodiscard]] Task<Result<void>> async_handshake(TlsStream<F>& stream, const Until& until = {}) {
    return detail::coro::tls_handshake(stream, until);
}

/// Awaits some decrypted bytes (0: the peer's close_notify). Errors:
/// tls_errc::truncated (TCP closed without close_notify), the peer's alerts, ECONNRESET, timed_out,
/// operation_canceled, device_or_resource_busy (another task waits for the same direction).
template <Family F>
[[nodiscard]] Task<Result<std::size_t>> async_read(TlsStream<F>& stream, MutableBuffer buffer,
                                                   const Until& until = {}) {
    return detail::coro::tls_drive(stream, until, "tls read",
                                   [s = &stream, buffer] { return s->try_read(buffer); });
}

/// Awaits encrypting and sending some of `buffer`; returns how much was taken. Errors: EPIPE/ECONNRESET
/// (never SIGPIPE), timed_out, operation_canceled, device_or_resource_busy.
template <Family F>
[[nodiscard]] Task<Result<std::size_t>> async_write(TlsStream<F>& stream, ConstBuffer buffer,
                                                    const Until& until = {}) {
    return detail::coro::tls_drive(stream, until, "tls write",
                                   [s = &stream, buffer] { return s->try_write(buffer); });
}

/// Awaits sending all of `buffer` within one `until`. Errors: as async_write, with bytes_transferred().
template <Family F>
[[nodiscard]] Task<Result<void, TransferError>> async_write_all(TlsStream<F>& stream, ConstBuffer buffer,
                                                                const Until& until = {}) {
    return detail::coro::tls_transfer<F, true>(stream, buffer, until);
}

/// Awaits filling all of `buffer` within one `until`. Errors: errc::unexpected_eof (close_notify came
/// first), as async_read; bytes_transferred() says how much arrived (it is in the buffer).
template <Family F>
[[nodiscard]] Task<Result<void, TransferError>> async_read_exact(TlsStream<F>& stream, MutableBuffer buffer,
                                                                 const Until& until = {}) {
    return detail::coro::tls_transfer<F, false>(stream, buffer, until);
}

/// Awaits the peer's close_notify, appending everything before it to `out` (std::string or a vector of
/// bytes); returns how many bytes were appended. A TCP close without close_notify is not an end:
/// tls_errc::truncated. Errors: as async_read, with bytes_transferred(); what arrived stays in `out`.
template <Family F, class Container>
[[nodiscard]] Task<Result<std::size_t, TransferError>> async_read_to_end(TlsStream<F>& stream, Container& out,
                                                                         const Until& until = {}) {
    return detail::coro::tls_read_to_end(stream, out, until);
}

/// Awaits sending close_notify (this side writes no more; read on until the peer's). Errors:
/// EPIPE/ECONNRESET, timed_out, operation_canceled.
template <Family F>
[[nodiscard]] Task<Result<void>> async_shutdown(TlsStream<F>& stream, const Until& until = {}) {
    return detail::coro::tls_shutdown(stream, until);
}

// --- the same on an AsyncTlsStream -----------------------------------------------------------------------

/// async_handshake on an AsyncTlsStream. Errors: as async_handshake.
template <Family F>
[[nodiscard]] Task<Result<void>> async_handshake(AsyncTlsStream<F>& stream, const Until& until = {}) {
    return async_handshake(stream.stream(), until);
}
/// async_read on an AsyncTlsStream. Errors: as async_read.
template <Family F>
[[nodiscard]] Task<Result<std::size_t>> async_read(AsyncTlsStream<F>& stream, MutableBuffer buffer,
                                                   const Until& until = {}) {
    return async_read(stream.stream(), buffer, until);
}
/// async_write on an AsyncTlsStream. Errors: as async_write.
template <Family F>
[[nodiscard]] Task<Result<std::size_t>> async_write(AsyncTlsStream<F>& stream, ConstBuffer buffer,
                                                    const Until& until = {}) {
    return async_write(stream.stream(), buffer, until);
}
/// async_write_all on an AsyncTlsStream. Errors: as async_write_all.
template <Family F>
[[nodiscard]] Task<Result<void, TransferError>> async_write_all(AsyncTlsStream<F>& stream, ConstBuffer buffer,
                                                                const Until& until = {}) {
    return async_write_all(stream.stream(), buffer, until);
}
/// async_read_exact on an AsyncTlsStream. Errors: as async_read_exact.
template <Family F>
[[nodiscard]] Task<Result<void, TransferError>> async_read_exact(AsyncTlsStream<F>& stream,
                                                                 MutableBuffer buffer,
                                                                 const Until& until = {}) {
    return async_read_exact(stream.stream(), buffer, until);
}
/// async_read_to_end on an AsyncTlsStream. Errors: as async_read_to_end.
template <Family F, class Container>
[[nodiscard]] Task<Result<std::size_t, TransferError>> async_read_to_end(AsyncTlsStream<F>& stream,
                                                                         Container& out,
                                                                         const Until& until = {}) {
    return async_read_to_end(stream.stream(), out, until);
}
/// async_shutdown on an AsyncTlsStream. Errors: as async_shutdown.
template <Family F>
[[nodiscard]] Task<Result<void>> async_shutdown(AsyncTlsStream<F>& stream, const Until& until = {}) {
    return async_shutdown(stream.stream(), until);
}

}  // namespace netlite
