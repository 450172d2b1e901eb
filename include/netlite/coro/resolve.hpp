// SPDX-License-Identifier: BSL-1.0
// netlite/coro/resolve.hpp - async_resolve: name resolution on a helper thread, awaited on the loop with
// an Until, so that a slow or silent DNS server stalls only the task that asked. Opt-in (not in
// <netlite/coro.hpp>): <thread>, <mutex> and <memory> cost more to compile than the rest of the layer.
#pragma once

#include <netlite/address.hpp>
#include <netlite/coro/loop.hpp>
#include <netlite/coro/operation.hpp>
#include <netlite/deadline.hpp>
#include <netlite/poll.hpp>
#include <netlite/result.hpp>

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace netlite {

namespace detail::coro {

/// One lookup, shared by the awaiting task and its helper thread (whichever ends last frees it). The
/// thread only ever touches this, and the loop only while `loop` is set, under the mutex: a task that
/// stops waiting clears it, so a late answer is dropped without touching the freed awaiter or loop.
template <Family F>
struct Lookup {
    Lookup(std::string name, std::uint16_t number, Loop* waiting) noexcept
        : host(std::move(name)), port(number), loop(waiting) {}
    std::string host;
    std::uint16_t port;
    std::mutex mutex;
    Loop* loop;  // null once nobody waits
    std::optional<Result<std::vector<Address<F>>>> answer;
};

/// Waits (parked, no descriptor) until the helper thread posts the answer, the deadline or a stop.
template <Family F>
class ResolveWait : public Operation<ResolveWait<F>> {
public:
    ResolveWait(std::shared_ptr<Lookup<F>> lookup, const Until& until) noexcept
        : Operation<ResolveWait>("resolve", no_handle, Interest::none, until), lookup_(std::move(lookup)) {}
    ResolveWait(ResolveWait&& other) noexcept : Operation<ResolveWait>(other), lookup_(other.lookup_) {}
    ResolveWait(const ResolveWait&) = delete;
    ResolveWait& operator=(const ResolveWait&) = delete;
    ResolveWait& operator=(ResolveWait&&) = delete;
    ~ResolveWait() { abandon(); }

    bool attempt() noexcept {
        const std::lock_guard<std::mutex> lock(lookup_->mutex);
        if (!lookup_->answer) return false;
        result_.emplace(std::move(*lookup_->answer));
        lookup_->loop = nullptr;
        return true;
    }
    void fail_with(const Error& error) noexcept {
        abandon();
        result_.emplace(unexpected<Error>(error));
    }
    Result<std::vector<Address<F>>> await_resume() noexcept { return std::move(*result_); }
    /// The resolver thread's answer completes it (see Operation).
    static constexpr bool completes_remotely = true;

private:
    void abandon() noexcept {
        if (!lookup_) return;
        const std::lock_guard<std::mutex> lock(lookup_->mutex);
        lookup_->loop = nullptr;
    }
    std::shared_ptr<Lookup<F>> lookup_;
    std::optional<Result<std::vector<Address<F>>>> result_;
};

/// The helper thread's body: resolve, then hand the answer over if someone still waits.
template <Family F>
void resolve_and_post(const std::shared_ptr<Lookup<F>>& lookup) noexcept {
    auto answer = netlite::resolve<F>(lookup->host, lookup->port);
    const std::lock_guard<std::mutex> lock(lookup->mutex);
    if (lookup->loop == nullptr) return;  // given up: the answer is dropped
    lookup->answer.emplace(std::move(answer));
    lookup->loop->remote_event();
}

}  // namespace detail::coro

/// Resolves `host` as resolve<F>(host, port) does, on a thread of its own (one per lookup: getaddrinfo
/// has no readiness interface, and lookups are rare next to I/O), while the loop goes on. On a deadline
/// or a stop the task gets timed_out or operation_canceled at once; the thread finishes its lookup in
/// the background and its answer is dropped. Allocates: the lookup's shared state and a thread.
/// Errors: resolve_category errors (as resolve); timed_out; operation_canceled; if no thread can be
/// started, std::thread's exception (terminate without exceptions).
template <Family F = IP>
requires InternetFamily<F> Task<Result<std::vector<Address<F>>>> async_resolve(std::string host,
                                                                               std::uint16_t port,
                                                                               Until until = {}) {
    if (until.stop_requested()) co_return fail(std::errc::operation_canceled, "resolve");
    Loop& loop = co_await current_loop();
    auto lookup = std::make_shared<detail::coro::Lookup<F>>(std::move(host), port, &loop);
    std::thread([lookup] { detail::coro::resolve_and_post<F>(lookup); }).detach();
    co_return co_await detail::coro::ResolveWait<F>(lookup, until);
}

}  // namespace netlite
