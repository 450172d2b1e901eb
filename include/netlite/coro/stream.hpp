// SPDX-License-Identifier: BSL-1.0
// netlite/coro/stream.hpp - AsyncStream: a TcpStream registered with one Loop for its life (edge-
// triggered, readiness cached). Part of <netlite/coro.hpp>.
#pragma once

#include <netlite/coro/loop.hpp>
#include <netlite/result.hpp>
#include <netlite/tcp.hpp>

#include <utility>

namespace netlite {

/// A TcpStream registered with one Loop for as long as it lives: the awaitables below wait on it with no
/// epoll_ctl per wait and skip the read that would only say "would block" (the loop caches readiness from
/// an edge-triggered registration). The registration ends before the stream closes, so a reused descriptor
/// number never sees the old socket's events. The plain TcpStream overloads work without it (one
/// epoll_ctl per wait). Use it in one loop's tasks; it must not outlive its Loop.
/// Reads: a read that returned less than its buffer, or would block, waits for the loop's next readiness
/// event instead of asking the kernel again (bytes that arrived in between come with that event, in the
/// loop's next iteration); any other read tries first and does not suspend when data is there.
template <Family F>
class AsyncStream {
public:
    /// Registers `stream` with `loop` (once: two AsyncStreams on one socket would end each other's
    /// registration). Errors: as Poller::add (ENOMEM, ENOSPC: fs.epoll.max_user_watches,
    /// EBADF for a closed stream); the stream is closed then.
    static Result<AsyncStream> attach(Loop& loop, TcpStream<F> stream) noexcept {
        auto attached = loop.attach(stream.native_handle());
        if (!attached) return fail(attached.error());
        return AsyncStream(*attached ? &loop : nullptr, std::move(stream));
    }
    /// Takes `other`'s stream and registration; `other` is left with neither.
    AsyncStream(AsyncStream&& other) noexcept
        : loop_(std::exchange(other.loop_, nullptr)), stream_(std::move(other.stream_)) {}
    /// Ends this registration (closing this stream) and takes `other`'s stream and registration.
    AsyncStream& operator=(AsyncStream&& other) noexcept {
        if (this != &other) {
            detach();
            loop_ = std::exchange(other.loop_, nullptr);
            stream_ = std::move(other.stream_);
        }
        return *this;
    }
    AsyncStream(const AsyncStream&) = delete;
    AsyncStream& operator=(const AsyncStream&) = delete;
    ~AsyncStream() { detach(); }

    /// The stream, for its options and addresses. Do not close it or move it out: use release().
    TcpStream<F>& stream() noexcept { return stream_; }
    /// The stream, read-only.
    const TcpStream<F>& stream() const noexcept { return stream_; }
    /// Ends the registration and gives the stream back.
    TcpStream<F> release() noexcept {
        detach();
        return std::move(stream_);
    }

private:
    AsyncStream(Loop* loop, TcpStream<F> stream) noexcept : loop_(loop), stream_(std::move(stream)) {}
    void detach() noexcept {
        if (loop_ != nullptr) std::exchange(loop_, nullptr)->detach(stream_.native_handle());
    }
    Loop* loop_;
    TcpStream<F> stream_;
};

}  // namespace netlite
