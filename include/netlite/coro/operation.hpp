// SPDX-License-Identifier: BSL-1.0
// netlite/coro/operation.hpp - Operation<Derived>, the base of every awaitable I/O call: try first, park
// on the loop until the descriptor is ready, the Until's deadline passes or its stop fires, try again.
// A new awaitable (another header's) derives from it. Part of <netlite/coro.hpp>.
#pragma once

#include <netlite/coro/loop.hpp>
#include <netlite/coro/task.hpp>
#include <netlite/deadline.hpp>
#include <netlite/detail/atomic.hpp>
#include <netlite/poll.hpp>
#include <netlite/result.hpp>

#include <coroutine>
#include <new>

namespace netlite {

namespace detail::coro {

/// Common part of the I/O awaiters: try first (in await_suspend, after the cancellation checks), park
/// when the call would block. Derived provides `bool attempt()` (true: finished, result set) and
/// `void fail_with(Error)`.
template <class Derived>
class Operation : public Waiter {
public:
    Operation(const char* name, Handle descriptor, Interest wanted, const Until& until) noexcept
        : Waiter(name, descriptor, wanted), until_(until) {}
    // A fresh, unlinked, unguarded operation (see Waiter): only before it is awaited.
    Operation(const Operation& other) noexcept
        : Waiter(other.operation, other.fd, other.interest), until_(other.until_) {}
    Operation(Operation&& other) noexcept
        : Waiter(other.operation, other.fd, other.interest), until_(other.until_) {}
    Operation& operator=(const Operation&) = delete;
    Operation& operator=(Operation&&) = delete;
    ~Operation() {
        if (state != State::idle) loop->forget(this);
        release_guard();
    }

    bool await_ready() const noexcept { return false; }
    template <class P>
    bool await_suspend(std::coroutine_handle<P> h) noexcept {
        root = root_of(h);
        loop = root->loop;
        if (root->cancelled || until_.stop_requested()) return !finish_now(std::errc::operation_canceled);
        if (loop->worth_trying(fd, interest) && self().attempt()) return false;
        if (until_.has_deadline() && Clock::now() >= until_.deadline())
            return !finish_now(self().timeout_error());
        handle = h;
        deadline = until_.deadline();
        timed = until_.has_deadline();
        on_ready = &ready_thunk;
        on_fail = &fail_thunk;
        on_cancel = &cancel_thunk;
        on_unpark = &unpark_thunk;
        on_remote = until_.stop_possible() ? &remote_thunk : nullptr;
        if constexpr (requires { Derived::completes_remotely; }) on_remote = &stop_or_attempt_thunk;
        if (auto parked = loop->park(this); !parked) return !finish_now(parked.error());
        root->parked = this;
        if (until_.stop_possible()) {
            ::new (static_cast<void*>(guard_)) StopGuard(until_, StopWake{&stop_thunk, this});
            guarded_ = true;
        }
        return true;
    }

protected:
    const Until& until() const noexcept { return until_; }
    Error timeout_error() const noexcept { return Error(std::errc::timed_out, operation); }

private:
    Derived& self() noexcept { return *static_cast<Derived*>(this); }
    bool finish_now(const Error& error) noexcept {
        self().fail_with(error);
        return true;
    }
    void release_guard() noexcept {
        if (guarded_) {
            guarded_ = false;
            std::launder(reinterpret_cast<StopGuard*>(guard_))->~StopGuard();
        }
    }
    static bool ready_thunk(Waiter* w) noexcept { return static_cast<Derived*>(w)->attempt(); }
    static void fail_thunk(Waiter* w, const Error& error) noexcept {
        static_cast<Derived*>(w)->fail_with(error);
    }
    static void unpark_thunk(Waiter* w) noexcept { static_cast<Derived*>(w)->release_guard(); }
    static void cancel_thunk(Waiter* w) noexcept {
        static_cast<Derived*>(w)->fail_with(Error(std::errc::operation_canceled, w->operation));
        w->loop->finish(w);
    }
    static bool remote_thunk(Waiter* w) noexcept {
        if (!w->stop_fired.load(detail::order_acquire)) return false;
        static_cast<Derived*>(w)->fail_with(Error(std::errc::operation_canceled, w->operation));
        return true;
    }
    // An operation another thread or a signal handler completes (completes_remotely: a signal, a notify, a
    // resolver thread): after any remote event, a stop ends it, and otherwise it tries again.
    static bool stop_or_attempt_thunk(Waiter* w) noexcept {
        return remote_thunk(w) || static_cast<Derived*>(w)->attempt();
    }
    static void stop_thunk(void* context) noexcept {
        auto* w = static_cast<Waiter*>(context);
        w->stop_fired.store(true, detail::order_release);
        w->loop->remote_event();
    }

    Until until_;
    bool guarded_ = false;
    alignas(StopGuard) unsigned char guard_[sizeof(StopGuard)];
};

}  // namespace detail::coro

}  // namespace netlite
