// SPDX-License-Identifier: BSL-1.0
// netlite/coro/signal.hpp - signals as awaitables: `co_await set.wait(until)` gives the number of the
// signal that arrived (POSIX: any catchable signal; Windows: the console control events Ctrl+C as SIGINT,
// Ctrl+Break as SIGBREAK, close/logoff/shutdown as SIGTERM). Opt-in (not in <netlite/coro.hpp>): it
// installs process-wide handlers, and <mutex> costs more to compile than the rest of the layer.
//
// How: while a SignalSet watches a signal, netlite's handler catches it (sigaction with SA_RESTART;
// SetConsoleCtrlHandler), marks it pending in every set that watches it and wakes their loops through
// the loop's Waker (one write(2): async-signal-safe). The set keeps what arrived until a wait() takes it,
// so a signal that comes between two waits is not lost (two of one signal before a wait count as one, as
// POSIX signals do). When the last set watching a signal closes, the signal's previous disposition is put
// back. Other threads need not block anything; a program that blocks a signal in every thread (sigwait)
// does not receive it here either.
#pragma once

#include <netlite/coro/loop.hpp>
#include <netlite/coro/operation.hpp>
#include <netlite/coro/task.hpp>
#include <netlite/deadline.hpp>
#include <netlite/detail/sys_signal.hpp>
#include <netlite/result.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>

namespace netlite {

/// Signal numbers for a SignalSet: `{SIGINT, SIGTERM}`. A value, so it can be a coroutine's parameter.
class SignalList {
public:
    /// No signals.
    SignalList() noexcept = default;
    /// The signals listed (repeats are kept once; numbers outside 1..64 make open() fail).
    SignalList(std::initializer_list<int> signals) noexcept {
        for (int signo : signals) add(signo);
    }
    /// Adds `signo`.
    void add(int signo) noexcept {
        if (detail::sys::signal_number_in_range(signo))
            bits_ |= std::uint64_t{1} << (signo - 1);
        else
            invalid_ = true;
    }
    /// The signals as bits: bit n - 1 for signal n.
    std::uint64_t bits() const noexcept { return bits_; }
    /// True when a number outside 1..64 was listed.
    bool has_invalid() const noexcept { return invalid_; }

private:
    std::uint64_t bits_ = 0;
    bool invalid_ = false;
};

namespace detail::coro {

static_assert(std::atomic<std::uint64_t>::is_always_lock_free && std::atomic<Loop*>::is_always_lock_free,
              "netlite: a signal handler may touch only lock-free atomics");

/// One open SignalSet, as the handler sees it: what it watches, what arrived, whom to wake. Slots are
/// static (a handler must not touch memory that can be freed); a set claims one while it is open.
struct SignalSlot {
    std::atomic<std::uint64_t> wanted{0};
    std::atomic<std::uint64_t> pending{0};
    std::atomic<Loop*> loop{nullptr};
};

/// How many SignalSets may be open at once in the process.
inline constexpr std::size_t max_signal_sets = 64;
inline SignalSlot signal_slots[max_signal_sets];
inline std::atomic<int> signal_handlers_running{0};
inline std::mutex signal_registry_lock;                       // claim and release
inline int signal_watchers[sys::max_signal_number + 1] = {};  // open sets per signal (under the lock)

/// The handler: async-signal-safe (lock-free atomics and one write(2) per waiting loop).
inline void on_signal(int signo) noexcept {
    signal_handlers_running.fetch_add(1, std::memory_order_acq_rel);
    const std::uint64_t bit = std::uint64_t{1} << (signo - 1);
    for (SignalSlot& slot : signal_slots) {
        if ((slot.wanted.load(std::memory_order_acquire) & bit) == 0) continue;
        slot.pending.fetch_or(bit, std::memory_order_acq_rel);
        if (Loop* loop = slot.loop.load(std::memory_order_acquire)) loop->remote_event();
    }
    signal_handlers_running.fetch_sub(1, std::memory_order_acq_rel);
}

/// Stops watching `bits` (under the lock): the last watcher of a signal puts its disposition back.
inline void unwatch_signals(std::uint64_t bits) noexcept {
    for (int signo = 1; signo <= sys::max_signal_number; ++signo)
        if ((bits & (std::uint64_t{1} << (signo - 1))) != 0 && --signal_watchers[signo] == 0)
            sys::release_signal(signo);
}

/// Claims a slot for `signals` on `loop` and catches each signal not caught yet. Errors: invalid_argument
/// (no signal, or a number outside 1..64), too_many_files_open (max_signal_sets open), catch_signal's.
inline Result<std::size_t> open_signal_slot(Loop& loop, const SignalList& signals) {
    if (signals.has_invalid() || signals.bits() == 0) return fail(std::errc::invalid_argument, "signal set");
    const std::lock_guard<std::mutex> lock(signal_registry_lock);
    std::size_t index = 0;
    while (index < max_signal_sets && signal_slots[index].loop.load(std::memory_order_relaxed) != nullptr)
        ++index;
    if (index == max_signal_sets) return fail(std::errc::too_many_files_open, "signal set");
    std::uint64_t caught = 0;
    for (int signo = 1; signo <= sys::max_signal_number; ++signo) {
        const std::uint64_t bit = std::uint64_t{1} << (signo - 1);
        if ((signals.bits() & bit) == 0) continue;
        if (signal_watchers[signo] == 0)
            if (auto ok = sys::catch_signal(signo, &on_signal); !ok) {
                unwatch_signals(caught);
                return fail(ok.error());
            }
        ++signal_watchers[signo];
        caught |= bit;
    }
    SignalSlot& slot = signal_slots[index];
    slot.pending.store(0, std::memory_order_relaxed);
    slot.loop.store(&loop, std::memory_order_release);
    slot.wanted.store(signals.bits(), std::memory_order_release);
    return index;
}

/// Gives the slot back; returns once no handler can still be using it (they run for microseconds).
inline void close_signal_slot(std::size_t index) noexcept {
    const std::lock_guard<std::mutex> lock(signal_registry_lock);
    SignalSlot& slot = signal_slots[index];
    const std::uint64_t bits = slot.wanted.exchange(0, std::memory_order_acq_rel);
    unwatch_signals(bits);
    slot.loop.store(nullptr, std::memory_order_release);
    while (signal_handlers_running.load(std::memory_order_acquire) != 0) std::this_thread::yield();
}

/// Takes the lowest-numbered pending signal of the slot; 0 when none.
inline int take_signal(SignalSlot& slot) noexcept {
    std::uint64_t pending = slot.pending.load(std::memory_order_acquire);
    while (pending != 0) {
        const std::uint64_t lowest = pending & (~pending + 1);
        if (slot.pending.compare_exchange_weak(pending, pending & ~lowest, std::memory_order_acq_rel)) {
            int signo = 1;
            for (std::uint64_t bit = lowest; bit > 1; bit >>= 1) ++signo;
            return signo;
        }
    }
    return 0;
}

}  // namespace detail::coro

/// Watches a few signals for the tasks of one loop, from open() until it is destroyed: each arrival is
/// kept until a wait() takes it. Move-only. (A template only so that its body is compiled where used.)
template <class Unused = void>
class BasicSignalSet {
public:
    /// Watches `signals` ({SIGINT, SIGTERM}) for tasks of `loop` (which must outlive the set), replacing
    /// their disposition in the whole process until the last set watching them closes. Errors:
    /// invalid_argument (an empty list, or a number outside 1..64); POSIX: EINVAL from sigaction (SIGKILL,
    /// SIGSTOP); Windows: operation_not_supported for anything but SIGINT, SIGBREAK and SIGTERM;
    /// too_many_files_open when 64 sets are open.
    static Result<BasicSignalSet> open(Loop& loop, const SignalList& signals) {
        auto slot = detail::coro::open_signal_slot(loop, signals);
        if (!slot) return fail(slot.error());
        return BasicSignalSet(*slot);
    }
    /// Takes over `other`'s watch; `other` watches nothing.
    BasicSignalSet(BasicSignalSet&& other) noexcept : slot_(std::exchange(other.slot_, none)) {}
    /// Closes this set's watch and takes over `other`'s.
    BasicSignalSet& operator=(BasicSignalSet&& other) noexcept {
        if (this != &other) {
            close();
            slot_ = std::exchange(other.slot_, none);
        }
        return *this;
    }
    BasicSignalSet(const BasicSignalSet&) = delete;
    BasicSignalSet& operator=(const BasicSignalSet&) = delete;
    /// Stops watching (see close()).
    ~BasicSignalSet() { close(); }

    /// Stops watching now: the signals' previous dispositions come back if no other set watches them, and
    /// what arrived but was not taken is dropped. A wait must not be pending on the set.
    void close() noexcept {
        if (slot_ != none) detail::coro::close_signal_slot(std::exchange(slot_, none));
    }
    /// True until close() (or a move from it).
    bool is_open() const noexcept { return slot_ != none; }

    /// What wait() returns: `co_await` it.
    class WaitOp : public detail::coro::Operation<WaitOp> {
    public:
        /// Use wait().
        WaitOp(std::size_t slot, const Until& until) noexcept
            : detail::coro::Operation<WaitOp>("signal", detail::coro::no_handle, Interest::none, until),
              slot_(slot) {}
        /// Takes a signal that has arrived; false when none has.
        bool attempt() noexcept {
            if (slot_ == none) return fail_now(Error(std::errc::bad_file_descriptor, "signal"));
            const int signo = detail::coro::take_signal(detail::coro::signal_slots[slot_]);
            if (signo == 0) return false;
            result_.emplace(signo);
            return true;
        }
        /// Ends the wait with `error`.
        void fail_with(const Error& error) noexcept { result_.emplace(unexpected<Error>(error)); }
        /// The signal's number. Errors: timed_out, operation_canceled (as `until` says); bad_file_descriptor
        /// for a closed set.
        Result<int> await_resume() noexcept {
            return std::move(*result_);  // NOLINT(bugprone-unchecked-optional-access): set before resuming
        }
        /// A signal handler's wake-up completes it (see Operation).
        static constexpr bool completes_remotely = true;

    private:
        bool fail_now(const Error& error) noexcept {
            fail_with(error);
            return true;
        }
        std::size_t slot_;
        std::optional<Result<int>> result_;
    };

    /// Awaits the next signal of the set (one that arrived since the last wait is taken at once; with
    /// several, the lowest number first). Errors: timed_out, operation_canceled (as `until` says);
    /// bad_file_descriptor for a closed set.
    [[nodiscard]] WaitOp wait(const Until& until = {}) noexcept { return WaitOp(slot_, until); }

private:
    static constexpr std::size_t none = static_cast<std::size_t>(-1);
    explicit BasicSignalSet(std::size_t slot) noexcept : slot_(slot) {}
    std::size_t slot_ = none;
};

/// Watches a few signals for the tasks of one loop (BasicSignalSet).
using SignalSet = BasicSignalSet<>;

/// Awaits one of `signals` ({SIGINT, SIGTERM}) on the awaiting task's loop: watches them from the call
/// until one arrives or `until` ends (outside that window they keep their usual disposition; keep a
/// SignalSet open to miss none between waits). Gives the signal's number. Errors: as SignalSet::open;
/// timed_out; operation_canceled.
inline Task<Result<int>> async_signal(SignalList signals, Until until = {}) {
    auto set = SignalSet::open(co_await current_loop(), signals);
    if (!set) co_return fail(set.error());
    co_return co_await set->wait(until);
}

}  // namespace netlite
