// SPDX-License-Identifier: BSL-1.0
// netlite/coro/wake.hpp - WakeSignal: another thread or a signal handler wakes a task through the loop's
// Waker. Part of <netlite/coro.hpp>.
#pragma once

#include <netlite/coro/loop.hpp>
#include <netlite/coro/operation.hpp>
#include <netlite/deadline.hpp>
#include <netlite/detail/atomic.hpp>
#include <netlite/result.hpp>

#include <utility>

namespace netlite {

// --- wake-ups from outside the loop --------------------------------------------------------------------

template <class Unused>
class BasicWakeSignal {
public:
    /// A signal that wakes tasks of `loop` (it must outlive the signal).
    explicit BasicWakeSignal(Loop& loop) noexcept : loop_(&loop) {}
    BasicWakeSignal(const BasicWakeSignal&) = delete;
    BasicWakeSignal& operator=(const BasicWakeSignal&) = delete;
    ~BasicWakeSignal() = default;

    /// Wakes the task waiting in wait() (or the next one to wait). Any thread; async-signal-safe.
    void notify() noexcept {
        notified_.store(true, detail::order_release);
        loop_->remote_event();
    }

    /// What wait() returns: `co_await` it.
    class WaitOp : public detail::coro::Operation<WaitOp> {
    public:
        /// Use wait().
        WaitOp(BasicWakeSignal& signal, const Until& until) noexcept
            : detail::coro::Operation<WaitOp>("wait", detail::coro::no_handle, Interest::none, until),
              signal_(&signal) {}
        /// Consumes a pending notify(); true when there was one.
        bool attempt() noexcept {
            if (!signal_->notified_.exchange(false, detail::order_acq_rel)) return false;
            result_.emplace();
            return true;
        }
        /// Ends the wait with `error`.
        void fail_with(const Error& error) noexcept { result_ = unexpected<Error>(error); }
        /// Empty once notified. Errors: timed_out, operation_canceled (as `until` says).
        Result<void> await_resume() noexcept { return std::move(result_); }
        /// Another thread's notify() completes it (see Operation).
        static constexpr bool completes_remotely = true;

    private:
        BasicWakeSignal* signal_;
        Result<void> result_{unexpect};  // set before resuming
    };

    /// Awaits notify(). Errors: timed_out, operation_canceled (as `until` says).
    [[nodiscard]] WaitOp wait(const Until& until = {}) noexcept { return WaitOp(*this, until); }

private:
    Loop* loop_;
    detail::Atomic<bool> notified_{false};
};

}  // namespace netlite
