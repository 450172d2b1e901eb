// SPDX-License-Identifier: BSL-1.0
// netlite/coro/loop.hpp - the event loop (Loop): parks suspended operations on their socket, deadline or
// remote event and resumes them; run(task), spawn_detached, current_loop(). Part of <netlite/coro.hpp>.
#pragma once

#include <netlite/coro/task.hpp>
#include <netlite/poll.hpp>
#include <netlite/result.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <netlite/detail/atomic.hpp>
#include <netlite/detail/chrono.hpp>
#include <optional>
#include <span>
#include <vector>

namespace netlite {

/// One suspended operation, as Loop::for_each_parked reports it.
struct ParkedInfo {
    /// What it is: "read", "accept", "sleep", "join", "when_any", ...
    const char* operation = "";
    /// The socket it waits for (as Socket::native_handle()); detail::sys::invalid_handle (-1;
    /// INVALID_SOCKET on Windows) when it waits for none.
    detail::sys::native_handle fd = detail::sys::invalid_handle;
    /// When it times out; time_point::max() when it has no deadline.
    std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
};

/// Wakes a task of a Loop from another thread or a signal handler (`notify()` is async-signal-safe).
template <class Unused = void>
class BasicWakeSignal;
/// Wakes a task of a Loop from another thread or a signal handler (BasicWakeSignal).
using WakeSignal = BasicWakeSignal<>;

namespace detail::coro {

/// A function posted to a loop from another thread: a node of the loop's lock-free posted stack.
struct Posted {
    Posted* next = nullptr;
    void (*run)(Posted*) noexcept = nullptr;   // calls the function, then frees the node
    void (*drop)(Posted*) noexcept = nullptr;  // frees the node without calling it (the loop ended)
};

template <class Fn>
struct PostedFn : Posted {
    explicit PostedFn(Fn&& function) : Posted{nullptr, &run_and_free, &free}, fn(std::move(function)) {}
    static void run_and_free(Posted* p) noexcept {
        auto* self = static_cast<PostedFn*>(p);
        self->fn();
        delete self;
    }
    static void free(Posted* p) noexcept { delete static_cast<PostedFn*>(p); }
    Fn fn;
};

/// The loop's deadlines: a binary min-heap of (deadline, waiter) pairs in a vector, each waiter knowing its
/// position, so that taking out any one (an operation that finishes before its deadline: the common case)
/// is a sift, not a walk. Costs, n = deadlines pending: park (push) O(log n), O(1) on average for deadlines
/// in random order; unpark (remove) O(log n); the next deadline O(1); each expiry O(log n). Comparisons
/// read the pair, not the waiter. The vector grows (amortised) to the most deadlines ever pending at
/// once and keeps its capacity. A template (instantiated by BasicLoop<Unused>) only so that its bodies,
/// std::vector's growth among them, are compiled where a loop is used, not in every file that includes
/// this header.
template <class Unused = void>
class TimerHeap {
public:
    bool empty() const noexcept { return entries_.empty(); }
    /// The earliest deadline's waiter; the heap must not be empty.
    Waiter* first() const noexcept { return entries_.front().waiter; }
    /// The earliest deadline; the heap must not be empty.
    Clock::time_point earliest() const noexcept { return entries_.front().deadline; }
    void push(Waiter* w) {
        entries_.push_back(Entry{w->deadline, w});
        sift_up(entries_.size() - 1);
    }
    /// Takes out `w`, which is in the heap: the last entry fills its place and moves up or down.
    void remove(Waiter* w) noexcept {
        const std::size_t slot = w->timer_slot;
        const Entry last = entries_.back();
        entries_.pop_back();
        if (slot == entries_.size()) return;
        entries_[slot] = last;
        if (slot > 0 && last.deadline < entries_[(slot - 1) / 2].deadline)
            sift_up(slot);
        else
            sift_down(slot);
    }

private:
    struct Entry {
        Clock::time_point deadline{};
        Waiter* waiter = nullptr;
    };
    void place(std::size_t slot, const Entry& entry) noexcept {
        entries_[slot] = entry;
        entry.waiter->timer_slot = slot;
    }
    void sift_up(std::size_t slot) noexcept {
        const Entry moving = entries_[slot];
        while (slot > 0) {
            const std::size_t parent = (slot - 1) / 2;
            if (!(moving.deadline < entries_[parent].deadline)) break;
            place(slot, entries_[parent]);
            slot = parent;
        }
        place(slot, moving);
    }
    void sift_down(std::size_t slot) noexcept {
        const Entry moving = entries_[slot];
        const std::size_t size = entries_.size();
        for (;;) {
            std::size_t child = 2 * slot + 1;
            if (child >= size) break;
            if (child + 1 < size && entries_[child + 1].deadline < entries_[child].deadline) ++child;
            if (!(entries_[child].deadline < moving.deadline)) break;
            place(slot, entries_[child]);
            slot = child;
        }
        place(slot, moving);
    }
    std::vector<Entry> entries_;
};

}  // namespace detail::coro

/// A single-threaded event loop over a Poller: resumes parked tasks when their socket is ready, their
/// deadline passes or they are cancelled. Not movable (tasks point at it); every member belongs to the
/// thread that runs it, except post(), waker() and WakeSignal::notify().
template <class Unused>
class BasicLoop {
public:
    /// The clock of every deadline the loop keeps.
    using Clock = std::chrono::steady_clock;
    /// A socket's handle, as Socket::native_handle_type (int; SOCKET on Windows).
    using native_handle_type = detail::sys::native_handle;

    /// A loop with its own poller. Errors: as Poller::open (EMFILE, ENFILE, ENOMEM).
    static Result<Loop> open() {
        auto poller = Poller::open();
        if (!poller) return fail(poller.error());
        return Result<Loop>(std::in_place, Private{}, std::move(*poller));
    }

    /// Makes the constructor usable by open() only (through Result's in-place construction).
    struct Private {};
    /// Use open(): the loop over `poller` (takes it).
    BasicLoop(Private, Poller poller) : poller_(std::move(poller)), waker_(poller_.waker()) {
        slots_.resize(256);
    }
    BasicLoop(const BasicLoop&) = delete;
    BasicLoop& operator=(const BasicLoop&) = delete;
    ~BasicLoop();

    /// Runs `task` and everything it spawns until `task` finishes; returns its value.
    template <class T>
    T run(Task<T> task);

    /// Starts `task` now, owned by the loop (its result is dropped); the loop destroys it if it is still
    /// suspended when the loop is destroyed. The explicit way to detach a task.
    template <class T>
    void spawn_detached(Task<T> task);

    /// Calls visit(const ParkedInfo&) for every suspended operation, for debugging a stuck program.
    template <class Visit>
    void for_each_parked(Visit&& visit) const {
        for (const detail::coro::Waiter* w = parked_.head.next; w != &parked_.head; w = w->next)
            visit(ParkedInfo{w->operation, w->fd, w->deadline});
    }
    /// How many operations are suspended.
    std::size_t parked_count() const noexcept {
        std::size_t count = 0;
        for (const detail::coro::Waiter* w = parked_.head.next; w != &parked_.head; w = w->next) ++count;
        return count;
    }

    /// How many times the loop has waited on its poller (one loop iteration each).
    std::uint64_t iterations() const noexcept { return iterations_; }

    /// A handle that wakes this loop from another thread or a signal handler.
    Waker waker() const noexcept { return waker_; }

    // --- for the awaiters in this header -----------------------------------------------------------------
    /// Parks `w`: waits for its descriptor (if any), its deadline (if any). Errors: the registration's.
    Result<void> park(detail::coro::Waiter* w) noexcept;
    /// Unparks `w` and queues its coroutine to resume in this loop iteration.
    void finish(detail::coro::Waiter* w) noexcept {
        unpark(w);
        w->state = detail::coro::Waiter::State::ready;
        ready_.push_back(w);
    }
    /// Takes `w` out of every list (an awaiter destroyed mid-wait).
    void forget(detail::coro::Waiter* w) noexcept {
        if (w->state == detail::coro::Waiter::State::ready)
            detail::coro::WaiterList::unlink(w);
        else if (w->state == detail::coro::Waiter::State::parked)
            unpark(w);
        w->state = detail::coro::Waiter::State::idle;
    }
    /// Registers `fd` for as long as an AsyncStream owns it: edge-triggered, readable and writable, with
    /// readiness cached in its slot, so waiting costs no epoll_ctl. False (nothing registered: the
    /// one-shot path goes on) when the poller has no edge trigger. Errors: as Poller::add.
    Result<bool> attach(native_handle_type fd) noexcept;
    /// Ends attach(fd)'s registration, before the descriptor is closed (so a reused number starts clean).
    void detach(native_handle_type fd) noexcept;
    /// False only when `fd` is attached and the loop knows it would block for `interest` (a would-block or
    /// a short read since its last readiness event): the attempt is skipped, the operation parks.
    bool worth_trying(native_handle_type fd, Interest interest) const noexcept {
        if (fd == detail::sys::invalid_handle || slot_index(fd) >= slots_.size()) return true;
        const FdSlot& slot = slots_[slot_index(fd)];
        if (!slot.attached) return true;
        return includes(interest, Interest::readable) ? slot.readable : slot.writable;
    }
    /// A read on attached `fd` returned less than asked: the receive queue was empty then, and the edge
    /// registration reports whatever arrives after. No effect on a descriptor that is not attached.
    /// Not after an event that said the peer shut down or failed: a short read may have consumed the end of
    /// stream's marker (or left an error behind) that no new event will report.
    void note_drained(native_handle_type fd) noexcept {
        if (fd == detail::sys::invalid_handle || slot_index(fd) >= slots_.size()) return;
        FdSlot& slot = slots_[slot_index(fd)];
        if (!slot.closing) slot.readable = false;
    }

    /// Something happened outside the loop thread (a stop, a WakeSignal): look at the parked remote ones.
    void remote_event() noexcept {
        remote_.store(true, detail::order_release);
        waker_.wake();
    }

    /// Runs `fn()` on the loop's thread in its next iteration (in the order posted), waking the loop.
    /// The one member any thread may call (with waker()): how a task or a message is handed from one
    /// loop to another. `fn` must not throw; it is destroyed without being called if the loop is
    /// destroyed first. Allocates one node per call (with the global operator new).
    template <class Fn>
    void post(Fn fn) {
        auto* node = new detail::coro::PostedFn<Fn>(std::move(fn));
        node->next = posted_.load(detail::order_relaxed);
        while (
            !posted_.compare_exchange_weak(node->next, node, detail::order_release, detail::order_relaxed)) {
        }
        waker_.wake();
    }
    /// Starts `task` on the loop's thread as spawn_detached(task) would, from any thread (post()).
    template <class T>
    void post(Task<T> task) {
        post([this, owned = std::move(task)]() mutable noexcept { spawn_detached(std::move(owned)); });
    }

private:
    /// The slot of `fd`: its number on POSIX; on Windows its handle value / 4 (sys::handle_index), so the
    /// table grows with the number of handles, not with their values' unused low bits.
    static std::size_t slot_index(native_handle_type fd) noexcept { return detail::sys::handle_index(fd); }
    struct FdSlot {
        detail::coro::Waiter* reader = nullptr;
        detail::coro::Waiter* writer = nullptr;
        bool attached = false;  // a persistent edge registration (attach); else one-shot per wait
        bool readable = true;   // attached only: no would-block seen since the last readiness event
        bool writable = true;
        bool closing = false;  // attached only: an event said end of stream, hang-up or error is queued
    };

    void step(bool block);
    void resume_ready() noexcept;
    void unpark(detail::coro::Waiter* w) noexcept;
    Result<void> arm(native_handle_type fd) noexcept;
    void dispatch(const Event& event) noexcept;
    void fire_timers() noexcept;
    void scan_remote() noexcept;
    void run_posted() noexcept;
    std::optional<std::chrono::milliseconds> wait_time(bool block) const noexcept;

    Poller poller_;
    Waker waker_;
    detail::Atomic<bool> remote_{false};
    detail::Atomic<detail::coro::Posted*> posted_{nullptr};  // newest first: pushed by any thread
    std::array<Event, 128> events_{};
    std::vector<FdSlot> slots_;
    detail::coro::WaiterList parked_;
    detail::coro::WaiterList ready_;
    detail::coro::TimerHeap<Unused> timers_;
    std::size_t remote_parked_ = 0;
    std::uint64_t iterations_ = 0;
    BasicScope<Unused>* detached_ = nullptr;  // dependent: Scope is defined after the loop
};

namespace detail::coro {
/// `co_await current_loop()`: the Loop running the awaiting task.
struct CurrentLoop {
    Loop* loop = nullptr;
    bool await_ready() const noexcept { return false; }
    template <class P>
    bool await_suspend(std::coroutine_handle<P> h) noexcept {
        loop = root_of(h)->loop;
        return false;
    }
    Loop& await_resume() const noexcept { return *loop; }
};
}  // namespace detail::coro

/// The Loop that runs the awaiting task: `Loop& loop = co_await current_loop();`.
[[nodiscard]] inline detail::coro::CurrentLoop current_loop() noexcept {
    return {};
}

// --- Loop ------------------------------------------------------------------------------------------------

template <class Unused>
BasicLoop<Unused>::~BasicLoop() {
    delete detached_;
    detached_ = nullptr;
    for (detail::coro::Posted* p = posted_.exchange(nullptr, detail::order_acquire); p != nullptr;) {
        detail::coro::Posted* next = p->next;
        p->drop(p);
        p = next;
    }
}

template <class Unused>
void BasicLoop<Unused>::run_posted() noexcept {
    detail::coro::Posted* newest = posted_.exchange(nullptr, detail::order_acquire);
    detail::coro::Posted* oldest = nullptr;  // reversed: run in the order posted
    while (newest != nullptr) {
        detail::coro::Posted* next = newest->next;
        newest->next = oldest;
        oldest = newest;
        newest = next;
    }
    while (oldest != nullptr) {
        detail::coro::Posted* next = oldest->next;
        oldest->run(oldest);
        oldest = next;
    }
}

template <class Unused>
template <class T>
T BasicLoop<Unused>::run(Task<T> task) {
    auto h = task.handle();
    auto& promise = h.promise();
    promise.node.loop = this;
    if (!detail::coro::start_inline(h, promise)) {
        while (!h.done()) {
            resume_ready();
            if (h.done()) break;
            step(true);
        }
    }
    return promise.take();
}

template <class Unused>
template <class T>
void BasicLoop<Unused>::spawn_detached(Task<T> task) {
    if (detached_ == nullptr) detached_ = new BasicScope<Unused>(*this);
    detached_->spawn(std::move(task));
}

template <class Unused>
Result<void> BasicLoop<Unused>::park(detail::coro::Waiter* w) noexcept {
    using detail::coro::Waiter;
    if (w->fd != detail::sys::invalid_handle && w->interest != Interest::none) {
        const auto index = slot_index(w->fd);
        if (index >= slots_.size()) slots_.resize(index * 2 + 1);
        Waiter*& slot =
            includes(w->interest, Interest::readable) ? slots_[index].reader : slots_[index].writer;
        if (slot != nullptr) return fail(std::errc::device_or_resource_busy, w->operation);
        slot = w;
        FdSlot& record = slots_[index];
        if (record.attached) {  // it would block: wait for the next edge, no epoll_ctl
            (includes(w->interest, Interest::readable) ? record.readable : record.writable) = false;
        } else if (auto armed = arm(w->fd); !armed) {
            slot = nullptr;
            return armed;
        }
    }
    if (w->timed) timers_.push(w);
    if (w->on_remote != nullptr) ++remote_parked_;
    w->state = Waiter::State::parked;
    parked_.push_back(w);
    return {};
}

template <class Unused>
void BasicLoop<Unused>::unpark(detail::coro::Waiter* w) noexcept {
    using detail::coro::Waiter;
    if (w->state != Waiter::State::parked) return;
    detail::coro::WaiterList::unlink(w);
    w->state = Waiter::State::idle;
    if (w->fd != detail::sys::invalid_handle && w->interest != Interest::none &&
        slot_index(w->fd) < slots_.size()) {
        FdSlot& slot = slots_[slot_index(w->fd)];
        if (slot.reader == w) slot.reader = nullptr;
        if (slot.writer == w) slot.writer = nullptr;
    }
    if (w->timed) {
        timers_.remove(w);
        w->timed = false;
    }
    if (w->on_remote != nullptr) --remote_parked_;
    if (w->root != nullptr && w->root->parked == w) w->root->parked = nullptr;
    if (w->on_unpark != nullptr) w->on_unpark(w);  // the awaiter's own cleanup (its stop guard)
}

template <class Unused>
Result<void> BasicLoop<Unused>::arm(native_handle_type fd) noexcept {
    const FdSlot& slot = slots_[slot_index(fd)];
    const Interest wanted = (slot.reader ? Interest::readable : Interest::none) |
                            (slot.writer ? Interest::writable : Interest::none);
    auto armed = poller_.modify(fd, wanted, Token(fd), Trigger::oneshot);
    if (!armed && armed.error() == std::errc::no_such_file_or_directory)
        armed = poller_.add(fd, wanted, Token(fd), Trigger::oneshot);
    return armed;
}

template <class Unused>
Result<bool> BasicLoop<Unused>::attach(native_handle_type fd) noexcept {
    if constexpr (!Poller::supports_edge) {
        return false;
    } else {
        if (fd == detail::sys::invalid_handle) return fail(std::errc::bad_file_descriptor, "attach");
        const auto index = slot_index(fd);
        if (index >= slots_.size()) slots_.resize(index * 2 + 1);
        const Interest both = Interest::readable | Interest::writable;
        auto added = poller_.add(fd, both, Token(fd), Trigger::edge);
        if (!added && added.error() == std::errc::file_exists)  // left armed by an earlier one-shot wait
            added = poller_.modify(fd, both, Token(fd), Trigger::edge);
        if (!added) return fail(added.error());
        FdSlot& slot = slots_[index];
        slot.attached = slot.readable = slot.writable = true;
        slot.closing = false;
        return true;
    }
}

template <class Unused>
void BasicLoop<Unused>::detach(native_handle_type fd) noexcept {
    if (fd == detail::sys::invalid_handle || slot_index(fd) >= slots_.size()) return;
    FdSlot& slot = slots_[slot_index(fd)];
    if (!slot.attached) return;
    (void)poller_.remove(fd);  // fails only if the descriptor was closed under us: the kernel dropped it
    slot.attached = slot.closing = false;
    slot.readable = slot.writable = true;
}

template <class Unused>
void BasicLoop<Unused>::dispatch(const Event& event) noexcept {
    const auto fd = static_cast<native_handle_type>(event.token.value());
    if (fd == detail::sys::invalid_handle || slot_index(fd) >= slots_.size()) return;
    FdSlot& slot = slots_[slot_index(fd)];
    const bool failed = event.hangup || event.error;
    if (slot.attached) {
        slot.closing = slot.closing || event.read_closed || failed;
        slot.readable = slot.readable || event.readable || failed;
        slot.writable = slot.writable || event.writable || failed;
        if (slot.reader != nullptr && slot.readable) {
            detail::coro::Waiter* w = slot.reader;
            if (w->on_ready(w))
                finish(w);
            else
                slot.readable = false;  // a spurious edge: wait for the next one
        }
        if (slot.writer != nullptr && slot.writable) {
            detail::coro::Waiter* w = slot.writer;
            if (w->on_ready(w))
                finish(w);
            else
                slot.writable = false;
        }
        return;
    }
    if (slot.reader != nullptr && (event.readable || failed)) {
        detail::coro::Waiter* w = slot.reader;
        if (w->on_ready(w)) finish(w);
    }
    if (slot.writer != nullptr && (event.writable || failed)) {
        detail::coro::Waiter* w = slot.writer;
        if (w->on_ready(w)) finish(w);
    }
    if (slot.reader != nullptr || slot.writer != nullptr) {
        if (auto armed = arm(fd); !armed) {
            for (detail::coro::Waiter* w : {slot.reader, slot.writer})
                if (w != nullptr) {
                    w->on_fail(w, armed.error());  // the descriptor can no longer be watched
                    finish(w);
                }
        }
    }
}

template <class Unused>
void BasicLoop<Unused>::fire_timers() noexcept {
    const auto now = Clock::now();
    while (!timers_.empty() && timers_.earliest() <= now) {
        detail::coro::Waiter* w = timers_.first();  // finish() takes it out of the heap
        w->on_fail(w, Error(std::errc::timed_out, w->operation));
        finish(w);
    }
}

template <class Unused>
void BasicLoop<Unused>::scan_remote() noexcept {
    if (!remote_.exchange(false, detail::order_acq_rel) || remote_parked_ == 0) return;
    for (detail::coro::Waiter* w = parked_.head.next; w != &parked_.head;) {
        detail::coro::Waiter* next = w->next;
        if (w->on_remote != nullptr && w->on_remote(w)) finish(w);
        w = next;
    }
}

template <class Unused>
std::optional<std::chrono::milliseconds> BasicLoop<Unused>::wait_time(bool block) const noexcept {
    if (!block || !ready_.empty()) return std::chrono::milliseconds(0);
    if (timers_.empty()) return std::nullopt;
    const auto left = timers_.earliest() - Clock::now();
    if (left <= Clock::duration::zero()) return std::chrono::milliseconds(0);
    // At most a day per wait: the poller adds the wait to now(), which a deadline near time_point::max()
    // would overflow. A deadline further away costs one empty iteration a day.
    constexpr auto longest = std::chrono::hours(24);
    if (left >= longest) return std::chrono::milliseconds(longest);
    return std::chrono::ceil<std::chrono::milliseconds>(left);
}

template <class Unused>
void BasicLoop<Unused>::step(bool block) {
    ++iterations_;
    auto ready = poller_.wait(std::span<Event>(events_), wait_time(block));
    if (ready)
        for (std::size_t i = 0; i < *ready; ++i) dispatch(events_[i]);
    scan_remote();
    run_posted();
    fire_timers();
}

template <class Unused>
void BasicLoop<Unused>::resume_ready() noexcept {
    detail::coro::WaiterList batch;  // only what is ready now: what these resumptions make ready waits
    batch.splice(ready_);
    while (!batch.empty()) {
        detail::coro::Waiter* w = batch.head.next;
        detail::coro::WaiterList::unlink(w);
        w->state = detail::coro::Waiter::State::idle;
        w->handle.resume();
    }
}

}  // namespace netlite

// The loop owns its detached tasks through a Scope, which needs the complete loop: included last.
#include <netlite/coro/scope.hpp>
