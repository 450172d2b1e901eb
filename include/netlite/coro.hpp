// SPDX-License-Identifier: BSL-1.0
// netlite/coro.hpp - C++20 coroutines over netlite: `co_await async_read(stream, buffer, 60s)`.
//
// The straight-line code of a thread per connection at the cost of a readiness loop. Opt-in (not in
// netlite.hpp): it pulls in <coroutine>.
//
//  * Task<T>: a lazy, move-only coroutine whose value is usually a netlite Result. No exception is needed
//    anywhere (builds with -fno-exceptions; an exception escaping a task terminates).
//  * Loop: one thread's event loop over a Poller. run(task) is the blocking entry point: it runs `task`
//    (and whatever it spawns) until `task` finishes and returns its value.
//  * Awaitable I/O: async_accept, async_connect (one address; async_connect_any and async_connect(host,
//    port) race several as tasks), async_read, async_write, async_write_all, async_read_exact,
//    async_read_to_end, async_recv_from, async_send_to, async_sleep. Each tries the call
//    first and suspends only when it would block; each takes the same `Until` as the blocking overloads
//    with the same meaning: a deadline gives timed_out, a stop token operation_canceled, the socket stays
//    usable, and a multi-step call's TransferError says how many bytes moved. Apart from the connect
//    races (a frame per attempt) and read_to_end's container, they allocate nothing:
//    the timer and the registration live in the awaiter, in the coroutine's frame.
//  * AsyncStream: a TcpStream registered with the loop once, for its life (edge-triggered, readiness
//    cached by the loop): the same awaitables on it cost no epoll_ctl per wait and skip the read that
//    would only say "would block". On a plain TcpStream each wait registers it again (one-shot).
//  * Structured concurrency: Scope owns the tasks spawned into it; `co_await scope.join()` waits for them,
//    scope.cancel() cancels them (every operation of a cancelled task fails with operation_canceled).
//    when_all / when_any run tasks concurrently; when_any cancels the losers and waits for them to end.
//    A detached task is spelled loop.spawn_detached(task): the loop owns it.
//  * Loop::for_each_parked lists the suspended operations (operation, descriptor, deadline).
//  * WakeSignal: another thread or a signal handler wakes a task through the loop's Waker.
//
// Rules:
//  * One operation of each direction per socket at a time (one reader and one writer); a second parked
//    reader fails with std::errc::device_or_resource_busy.
//  * Do not close a socket a task is parked on: the OS forgets the registration and the task waits until
//    its deadline (cancel the task first, or give every operation a deadline).
//  * async_accept on a blocking listener costs a poll(2) per accept: set_nonblocking(true) on it.
//  * g++ 12 double-frees a lambda with captures that is created inside a co_await expression (GCC PR
//    100611): `co_await when_all([&]() -> Task<> {...}(), ...)`. Name such a lambda first
//    (`auto body = [&]() -> Task<> {...}; co_await body();`) or use a plain function.
//  * g++ 12 rejects a braced list inside a co_await expression (`co_await async_connect_any<F>({a, b})`:
//    "array used as initializer"): name the vector first.
//  * The frame holds a coroutine's locals, buffers included: a 16 KiB buffer is 160 MiB at 10,000
//    connections; size it for the protocol.
//  * Awaiting a Task resumes it inline and does not rely on symmetric transfer being a tail call (g++ 12
//    does not make it one at -O0/-O1 or under ASan): any number of synchronously completing co_awaits in
//    a row uses constant stack. A promise has no operator new/delete of its own (clang 16 rejects a sized
//    operator delete in a promise by default), so frames come from the global operator new.
#pragma once

#include <netlite/deadline.hpp>
#include <netlite/poll.hpp>
#include <netlite/result.hpp>
#include <netlite/tcp.hpp>
#include <netlite/udp.hpp>

#include <array>
#include <atomic>
#include <coroutine>
#include <cstddef>
#include <cstdlib>
#include <exception>
#include <new>
#include <optional>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace netlite {

template <class T = void>
class Task;
// Templates only so that their bodies are compiled where they are used, not in every file that includes
// this header (as poll.hpp's backends).
template <class Unused = void>
class BasicLoop;
/// The event loop (BasicLoop); run(task) is the entry point.
using Loop = BasicLoop<>;
template <class Unused = void>
class BasicScope;
/// A set of tasks with one join() and one cancel() (BasicScope).
using Scope = BasicScope<>;

namespace detail::coro {

using Clock = std::chrono::steady_clock;
struct PromiseBase;
/// A socket's handle as the loop keys it (int; SOCKET on Windows), and the value for "no socket".
using Handle = sys::native_handle;
inline constexpr Handle no_handle = sys::invalid_handle;

/// A suspended coroutine and what it waits for: an intrusive node of the loop's parked or ready list.
struct Waiter {
    Waiter() noexcept = default;
    explicit Waiter(const char* name, Handle descriptor = no_handle,
                    Interest wanted = Interest::none) noexcept
        : operation(name), fd(descriptor), interest(wanted) {}
    // Copies and moves make a fresh, unlinked node: awaiters are returned by value before they are
    // awaited, and g++ moves one into the frame (`co_await std::move(op)`). A linked node never moves.
    Waiter(const Waiter& other) noexcept : operation(other.operation) {}
    Waiter(Waiter&& other) noexcept : operation(other.operation) {}
    Waiter& operator=(const Waiter&) = delete;
    Waiter& operator=(Waiter&&) = delete;
    ~Waiter() = default;

    enum class State : std::uint8_t { idle, parked, ready };

    const char* operation = "";
    Handle fd = no_handle;
    Interest interest = Interest::none;
    State state = State::idle;
    bool timed = false;  // linked in the timer list
    Clock::time_point deadline = Clock::time_point::max();
    std::coroutine_handle<> handle;
    Loop* loop = nullptr;
    struct TaskNode* root = nullptr;  // the task this waiter belongs to (cancellation)
    // What the loop calls: readiness arrived (try again; true when finished), the deadline passed, the
    // task was cancelled or a remote stop arrived. Set by each awaiter.
    bool (*on_ready)(Waiter*) noexcept = nullptr;
    void (*on_fail)(Waiter*, const Error&) noexcept = nullptr;  // a deadline, or the registration failed
    void (*on_cancel)(Waiter*) noexcept = nullptr;
    bool (*on_remote)(Waiter*) noexcept = nullptr;  // true: a remote event finished it
    void (*on_unpark)(Waiter*) noexcept = nullptr;  // the awaiter's own cleanup as it leaves the lists
    std::atomic<bool> stop_fired{false};            // set by a stop callback in another thread
    Waiter* prev = nullptr;                         // parked or ready list
    Waiter* next = nullptr;
    Waiter* timer_prev = nullptr;  // timer list, sorted by deadline
    Waiter* timer_next = nullptr;
};

/// A circular intrusive list with a sentinel: unlinking needs no head.
struct WaiterList {
    Waiter head;
    WaiterList() noexcept { head.prev = head.next = &head; }
    WaiterList(const WaiterList&) = delete;
    WaiterList& operator=(const WaiterList&) = delete;
    ~WaiterList() = default;
    bool empty() const noexcept { return head.next == &head; }
    void push_back(Waiter* w) noexcept {
        w->prev = head.prev;
        w->next = &head;
        head.prev->next = w;
        head.prev = w;
    }
    static void unlink(Waiter* w) noexcept {
        w->prev->next = w->next;
        w->next->prev = w->prev;
        w->prev = w->next = nullptr;
    }
    /// Moves every node of `other` to the end of this list.
    void splice(WaiterList& other) noexcept {
        if (other.empty()) return;
        Waiter* first = other.head.next;
        Waiter* last = other.head.prev;
        first->prev = head.prev;
        head.prev->next = first;
        last->next = &head;
        head.prev = last;
        other.head.prev = other.head.next = &other.head;
    }
};

/// Where a task's cancellation lives: a spawned task, a when_all/when_any child or the task run() runs.
/// Tasks it awaits (nested) share it.
struct TaskNode {
    Loop* loop = nullptr;
    Waiter* parked = nullptr;  // what the task waits for now, if anything
    bool cancelled = false;
    std::size_t index = 0;  // position among when_all/when_any children
    std::coroutine_handle<> self;
    TaskNode* prev = nullptr;  // a scope's children
    TaskNode* next = nullptr;

    void cancel() noexcept {
        if (cancelled) return;
        cancelled = true;
        if (parked != nullptr && parked->on_cancel != nullptr) parked->on_cancel(parked);
    }
};

struct FinalAwaiter {
    bool await_ready() const noexcept { return false; }
    template <class P>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<P> h) noexcept;
    void await_resume() const noexcept {}
};

struct PromiseBase {
    TaskNode node;           // used when this task is a root
    TaskNode* root = &node;  // an awaited task points at its parent's root
    std::coroutine_handle<> continuation;
    void (*on_done)(PromiseBase*) noexcept = nullptr;  // roots: the owner's bookkeeping
    void* owner = nullptr;
    bool inline_start = false;  // the awaiter that started it is still on the stack

    std::suspend_always initial_suspend() const noexcept { return {}; }
    FinalAwaiter final_suspend() const noexcept { return {}; }
    void unhandled_exception() const noexcept { std::terminate(); }
};

template <class P>
std::coroutine_handle<> FinalAwaiter::await_suspend(std::coroutine_handle<P> h) noexcept {
    PromiseBase& promise = h.promise();
    if (promise.on_done != nullptr) {  // may destroy the frame: touch nothing after it
        promise.on_done(&promise);
        return std::noop_coroutine();
    }
    if (promise.inline_start || !promise.continuation) return std::noop_coroutine();
    return promise.continuation;  // a parent suspended earlier: resume it (at most task-nesting deep)
}

template <class T>
struct Promise : PromiseBase {
    std::optional<T> value;
    Task<T> get_return_object() noexcept;
    // By value, not a forwarding template: g++ 12 copies a forwarded string literal as an array.
    void return_value(T result) noexcept(std::is_nothrow_move_constructible_v<T>) {
        value.emplace(std::move(result));
    }
    T take() noexcept { return std::move(*value); }
};
template <>
struct Promise<void> : PromiseBase {
    Task<void> get_return_object() noexcept;
    void return_void() const noexcept {}
    void take() const noexcept {}
};

/// Starts `h` on the current thread's stack. True when it already finished.
inline bool start_inline(std::coroutine_handle<> h, PromiseBase& promise) noexcept {
    promise.inline_start = true;
    h.resume();
    promise.inline_start = false;
    return h.done();
}

/// The value type a task contributes to when_all/when_any (void becomes an empty struct).
struct Nothing {};
template <class T>
using ValueOf = std::conditional_t<std::is_void_v<T>, Nothing, T>;

/// What `co_await task` is: runs the child inline inside the awaiting task (sharing its cancellation).
template <class T>
struct TaskAwaiter {
    std::coroutine_handle<Promise<T>> child;
    bool await_ready() const noexcept { return false; }
    template <class P>
    bool await_suspend(std::coroutine_handle<P> parent) noexcept {
        Promise<T>& promise = child.promise();
        promise.root = parent.promise().root;
        promise.continuation = parent;
        // When the child finishes synchronously, go on without suspending: no stack growth, whatever the
        // compiler does with symmetric transfer.
        return !start_inline(child, promise);
    }
    T await_resume() noexcept { return child.promise().take(); }
};

}  // namespace detail::coro

/// A lazy coroutine producing a T (usually a netlite Result): it starts when awaited, spawned or run.
/// Move-only; destroying it destroys the coroutine wherever it is suspended (its awaiters unregister).
template <class T>
class [[nodiscard]] Task {
public:
    /// The coroutine's promise (what the compiler needs to make a function returning Task a coroutine).
    using promise_type = detail::coro::Promise<T>;
    /// What `co_await task` gives.
    using value_type = T;

    /// An empty task (as a moved-from one): not runnable.
    Task() noexcept = default;
    /// Takes ownership of the coroutine `h` (the promise makes tasks this way).
    explicit Task(std::coroutine_handle<promise_type> h) noexcept : handle_(h) {}
    /// Takes `other`'s coroutine; `other` becomes empty.
    Task(Task&& other) noexcept : handle_(std::exchange(other.handle_, {})) {}
    /// Destroys this task's coroutine (if any) and takes `other`'s; `other` becomes empty.
    Task& operator=(Task&& other) noexcept {
        if (this != &other) {
            reset();
            handle_ = std::exchange(other.handle_, {});
        }
        return *this;
    }
    Task(const Task&) = delete;
    Task& operator=(const Task&) = delete;
    ~Task() { reset(); }

    /// False for an empty (moved-from) task.
    explicit operator bool() const noexcept { return static_cast<bool>(handle_); }
    /// True when the coroutine has finished (its value is ready); false for an empty task.
    bool done() const noexcept { return handle_ && handle_.done(); }

    /// Runs the task inside the awaiting one; the awaiting task's cancellation covers it.
    detail::coro::TaskAwaiter<T> operator co_await() && noexcept { return {handle_}; }

    /// Gives up ownership of the coroutine (for Scope and Loop).
    std::coroutine_handle<promise_type> release() noexcept { return std::exchange(handle_, {}); }
    /// The coroutine, still owned by the task (empty for an empty task).
    std::coroutine_handle<promise_type> handle() const noexcept { return handle_; }

private:
    void reset() noexcept {
        if (handle_) std::exchange(handle_, {}).destroy();
    }
    std::coroutine_handle<promise_type> handle_;
};

namespace detail::coro {
template <class T>
Task<T> Promise<T>::get_return_object() noexcept {
    return Task<T>(std::coroutine_handle<Promise<T>>::from_promise(*this));
}
inline Task<void> Promise<void>::get_return_object() noexcept {
    return Task<void>(std::coroutine_handle<Promise<void>>::from_promise(*this));
}

/// The root (cancellation node) of the task awaiting with handle `h`.
template <class P>
TaskNode* root_of(std::coroutine_handle<P> h) noexcept {
    static_assert(std::is_base_of_v<PromiseBase, P>, "netlite: awaitables work inside netlite::Task only");
    return h.promise().root;
}
}  // namespace detail::coro

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

/// A single-threaded event loop over a Poller: resumes parked tasks when their socket is ready, their
/// deadline passes or they are cancelled. Not movable (tasks point at it); every member belongs to the
/// thread that runs it, except waker() and WakeSignal::notify().
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
        timers_.timer_prev = timers_.timer_next = &timers_;
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
        if (fd == detail::sys::invalid_handle || static_cast<std::size_t>(fd) >= slots_.size()) return true;
        const FdSlot& slot = slots_[static_cast<std::size_t>(fd)];
        if (!slot.attached) return true;
        return includes(interest, Interest::readable) ? slot.readable : slot.writable;
    }
    /// A read on attached `fd` returned less than asked: the receive queue was empty then, and the edge
    /// registration reports whatever arrives after. No effect on a descriptor that is not attached.
    /// Not after an event that said the peer shut down or failed: a short read may have consumed the end of
    /// stream's marker (or left an error behind) that no new event will report.
    void note_drained(native_handle_type fd) noexcept {
        if (fd == detail::sys::invalid_handle || static_cast<std::size_t>(fd) >= slots_.size()) return;
        FdSlot& slot = slots_[static_cast<std::size_t>(fd)];
        if (!slot.closing) slot.readable = false;
    }

    /// Something happened outside the loop thread (a stop, a WakeSignal): look at the parked remote ones.
    void remote_event() noexcept {
        remote_.store(true, std::memory_order_release);
        waker_.wake();
    }

private:
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
    std::optional<std::chrono::milliseconds> wait_time(bool block) const noexcept;

    Poller poller_;
    Waker waker_;
    std::atomic<bool> remote_{false};
    std::array<Event, 128> events_{};
    std::vector<FdSlot> slots_;
    detail::coro::WaiterList parked_;
    detail::coro::WaiterList ready_;
    detail::coro::Waiter timers_;  // sentinel of the timer list (timer_prev/timer_next)
    std::size_t remote_parked_ = 0;
    std::uint64_t iterations_ = 0;
    Scope* detached_ = nullptr;
};

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
        if constexpr (requires { &Derived::remote_check; }) on_remote = &Derived::remote_check;
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
        if (!w->stop_fired.load(std::memory_order_acquire)) return false;
        static_cast<Derived*>(w)->fail_with(Error(std::errc::operation_canceled, w->operation));
        return true;
    }
    static void stop_thunk(void* context) noexcept {
        auto* w = static_cast<Waiter*>(context);
        w->stop_fired.store(true, std::memory_order_release);
        w->loop->remote_event();
    }

    Until until_;
    bool guarded_ = false;
    alignas(StopGuard) unsigned char guard_[sizeof(StopGuard)];
};

}  // namespace detail::coro

// --- the awaitable calls ------------------------------------------------------------------------------

namespace detail::coro {

template <Family F>
class AcceptOp : public Operation<AcceptOp<F>> {
public:
    AcceptOp(TcpListener<F>& listener, const Until& until) noexcept
        : Operation<AcceptOp>("accept", listener.native_handle(), Interest::readable, until),
          listener_(&listener) {}
    bool attempt() noexcept {
        auto next = listener_->try_accept();
        if (next && !*next) return false;
        if (next)
            result_.emplace(std::move(**next));
        else
            result_.emplace(unexpected<Error>(next.error()));
        return true;
    }
    void fail_with(const Error& error) noexcept { result_.emplace(unexpected<Error>(error)); }
    Result<Accepted<F>> await_resume() noexcept { return std::move(*result_); }

private:
    TcpListener<F>* listener_;
    std::optional<Result<Accepted<F>>> result_;
};

/// read/write/recv_from/send_to: one try_* call, whose result is the operation's.
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
            result_.emplace(unexpected<Error>(got.error()));
        return true;
    }
    void fail_with(const Error& error) noexcept { result_.emplace(unexpected<Error>(error)); }
    Result<Value> await_resume() noexcept { return std::move(*result_); }

private:
    Try call_;
    std::size_t asked_;
    std::optional<Result<Value>> result_;
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
        result_.emplace(unexpected<TransferError>(TransferError(error, done_)));
    }
    Result<void, TransferError> await_resume() noexcept { return std::move(*result_); }

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
    std::optional<Result<void, TransferError>> result_;
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
        constexpr std::size_t chunk = std::size_t{16} * 1024;
        for (;;) {
            const std::size_t used = out_->size();
            out_->resize(used + (used - start_ < chunk ? chunk : used - start_));
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
        }
    }
    void fail_with(const Error& error) noexcept {
        result_.emplace(unexpected<TransferError>(TransferError(error, out_->size() - start_)));
    }
    Result<std::size_t, TransferError> await_resume() noexcept { return std::move(*result_); }

private:
    TcpStream<F>* stream_;
    Container* out_;
    std::size_t start_;
    std::optional<Result<std::size_t, TransferError>> result_;
};

/// connect to one address: a non-blocking connect, then writability and SO_ERROR.
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
        } else {
            auto pending = stream_.take_error();
            if (!pending) return fail_now(pending.error());
            if (*pending) return fail_now(Error(*pending, "connect"));
        }
        if (auto blocking = stream_.set_nonblocking(false); !blocking) return fail_now(blocking.error());
        result_.emplace(std::move(stream_));
        return true;
    }
    void fail_with(const Error& error) noexcept {
        stream_ = TcpStream<F>();
        result_.emplace(unexpected<Error>(error));
    }
    Result<TcpStream<F>> await_resume() noexcept { return std::move(*result_); }

private:
    bool fail_now(const Error& error) noexcept {
        fail_with(error);
        return true;
    }
    Address<F> address_;
    TcpStream<F> stream_;
    std::optional<Result<TcpStream<F>>> result_;
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
            result_.emplace(unexpected<Error>(error));
    }
    Result<void> await_resume() noexcept { return std::move(*result_); }

private:
    std::optional<Result<void>> result_;
};

}  // namespace detail::coro

/// Awaits the next connection on `listener`. Errors: as TcpListener::accept(until).
template <Family F>
[[nodiscard]] detail::coro::AcceptOp<F> async_accept(TcpListener<F>& listener,
                                                     const Until& until = {}) noexcept {
    return detail::coro::AcceptOp<F>(listener, until);
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

template <Family F>
struct ConnectRace {
    Scope* attempts = nullptr;
    std::optional<TcpStream<F>> winner;
    std::vector<ConnectAttempt<F>> failures;
    Error last{errc::no_addresses, "connect"};
};
}  // namespace detail::coro

/// The Loop that runs the awaiting task: `Loop& loop = co_await current_loop();`.
[[nodiscard]] inline detail::coro::CurrentLoop current_loop() noexcept {
    return {};
}

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
        notified_.store(true, std::memory_order_release);
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
            if (!signal_->notified_.exchange(false, std::memory_order_acq_rel)) return false;
            result_.emplace();
            return true;
        }
        /// Ends the wait with `error`.
        void fail_with(const Error& error) noexcept { result_.emplace(unexpected<Error>(error)); }
        /// Empty once notified. Errors: timed_out, operation_canceled (as `until` says).
        Result<void> await_resume() noexcept {
            return std::move(*result_);  // NOLINT(bugprone-unchecked-optional-access): set before resuming
        }
        /// The loop's check after an event from another thread: a stop or a notify() ends the wait.
        static bool remote_check(detail::coro::Waiter* w) noexcept {
            auto* self = static_cast<WaitOp*>(w);
            if (self->until().stop_possible() && self->stop_fired.load(std::memory_order_acquire)) {
                self->fail_with(Error(std::errc::operation_canceled, "wait"));
                return true;
            }
            return self->attempt();
        }

    private:
        BasicWakeSignal* signal_;
        std::optional<Result<void>> result_;
    };

    /// Awaits notify(). Errors: timed_out, operation_canceled (as `until` says).
    [[nodiscard]] WaitOp wait(const Until& until = {}) noexcept { return WaitOp(*this, until); }

private:
    Loop* loop_;
    std::atomic<bool> notified_{false};
};

// --- structured concurrency ----------------------------------------------------------------------------

/// Owns the tasks spawned into it. `co_await scope.join()` waits for all of them; cancel() cancels them.
/// A scope destroyed with tasks still running destroys them where they are suspended (their awaiters
/// unregister; their sockets close): join() first to let them finish.
template <class Unused>
class BasicScope {
public:
    /// An empty scope whose tasks run in `loop` (it must outlive the scope).
    explicit BasicScope(Loop& loop) noexcept : loop_(&loop) { head_.prev = head_.next = &head_; }
    BasicScope(const BasicScope&) = delete;
    BasicScope& operator=(const BasicScope&) = delete;
    ~BasicScope() {
        while (head_.next != &head_) {
            detail::coro::TaskNode* child = head_.next;
            unlink(child);
            child->self.destroy();
        }
    }

    /// Starts `task` now (it runs until its first suspension before spawn returns). Its result is dropped.
    template <class T>
    void spawn(Task<T> task) noexcept {
        auto h = task.release();
        if (!h) return;
        detail::coro::PromiseBase& promise = h.promise();
        promise.node.loop = loop_;
        promise.node.self = h;
        promise.node.cancelled = cancelled_;
        promise.on_done = &child_done;
        promise.owner = this;
        link(&promise.node);
        ++size_;
        h.resume();  // may finish (and be destroyed) right here
    }

    /// Cancels every task in the scope, and every task spawned into it from now on.
    void cancel() noexcept {
        cancelled_ = true;
        for (detail::coro::TaskNode* child = head_.next; child != &head_;) {
            detail::coro::TaskNode* next = child->next;  // cancelling resumes nothing inline
            child->cancel();
            child = next;
        }
    }
    /// True once cancel() was called (or a join() of a cancelled task cancelled it).
    bool cancelled() const noexcept { return cancelled_; }
    /// Tasks still running.
    std::size_t size() const noexcept { return size_; }

    /// What join() returns: `co_await` it.
    class JoinOp : public detail::coro::Waiter {
    public:
        /// Use join().
        explicit JoinOp(BasicScope& scope) noexcept : Waiter("join"), scope_(&scope) {}
        /// A fresh, unparked copy, for before it is awaited (g++ moves an awaiter into the frame).
        JoinOp(const JoinOp&) noexcept = default;
        /// As the copy: a fresh, unparked awaiter.
        JoinOp(JoinOp&&) noexcept = default;
        JoinOp& operator=(const JoinOp&) = delete;
        JoinOp& operator=(JoinOp&&) = delete;
        ~JoinOp() {
            if (state != State::idle) loop->forget(this);
            if (scope_->joiner_ == this) scope_->joiner_ = nullptr;
        }
        /// True (no suspension) when the scope has no task left.
        bool await_ready() const noexcept { return scope_->size_ == 0; }
        /// Parks the awaiting task until the last task of the scope ends; false when none is left.
        template <class P>
        bool await_suspend(std::coroutine_handle<P> h) noexcept {
            root = detail::coro::root_of(h);
            loop = scope_->loop_;
            if (root->cancelled) scope_->cancel();
            if (scope_->size_ == 0) return false;
            handle = h;
            on_cancel = &cancel_thunk;
            (void)loop->park(this);  // no descriptor, no deadline: cannot fail
            root->parked = this;
            scope_->joiner_ = this;
            return true;
        }
        /// Nothing: every task of the scope has ended.
        void await_resume() const noexcept {}

    private:
        static void cancel_thunk(Waiter* w) noexcept { static_cast<JoinOp*>(w)->scope_->cancel(); }
        BasicScope* scope_;
    };

    /// Awaits the end of every task in the scope. If the awaiting task is cancelled, so is the scope.
    [[nodiscard]] JoinOp join() noexcept { return JoinOp(*this); }

private:
    void link(detail::coro::TaskNode* node) noexcept {
        node->prev = head_.prev;
        node->next = &head_;
        head_.prev->next = node;
        head_.prev = node;
    }
    static void unlink(detail::coro::TaskNode* node) noexcept {
        node->prev->next = node->next;
        node->next->prev = node->prev;
    }
    static void child_done(detail::coro::PromiseBase* promise) noexcept {
        auto* scope = static_cast<BasicScope*>(promise->owner);
        unlink(&promise->node);
        --scope->size_;
        promise->node.self.destroy();
        if (scope->size_ == 0 && scope->joiner_ != nullptr) {
            JoinOp* joiner = scope->joiner_;
            scope->joiner_ = nullptr;
            joiner->loop->finish(joiner);
        }
    }

    Loop* loop_;
    detail::coro::TaskNode head_;
    std::size_t size_ = 0;
    bool cancelled_ = false;
    JoinOp* joiner_ = nullptr;
};

namespace detail::coro {

/// when_all / when_any: starts every child inline, parks until the last one ends.
template <bool Any, class... T>
class WhenOp : public Waiter {
public:
    explicit WhenOp(Task<T>&&... tasks) noexcept
        : Waiter(Any ? "when_any" : "when_all"), tasks_(std::move(tasks)...) {}
    // Before it is awaited (see Waiter); the tasks are move-only.
    WhenOp(WhenOp&& other) noexcept : Waiter(other), tasks_(std::move(other.tasks_)) {}
    WhenOp(const WhenOp&) = delete;
    WhenOp& operator=(const WhenOp&) = delete;
    WhenOp& operator=(WhenOp&&) = delete;
    ~WhenOp() {
        if (state != State::idle) loop->forget(this);
    }

    bool await_ready() const noexcept { return false; }
    template <class P>
    bool await_suspend(std::coroutine_handle<P> h) noexcept {
        root = root_of(h);
        loop = root->loop;
        handle = h;
        on_cancel = &cancel_thunk;
        remaining_ = sizeof...(T);
        starting_ = true;
        start(std::index_sequence_for<T...>{});
        starting_ = false;
        if (remaining_ == 0) return false;
        (void)loop->park(this);
        root->parked = this;
        return true;
    }
    /// when_all: every child's value, in order.
    std::tuple<ValueOf<T>...> await_resume() noexcept requires(!Any) {
        return collect(std::index_sequence_for<T...>{});
    }
    /// when_any: which child finished first, and its value.
    auto await_resume() noexcept requires Any {
        using V = ValueOf<std::tuple_element_t<0, std::tuple<T...>>>;
        return take_winner<V>(std::index_sequence_for<T...>{});
    }

private:
    template <std::size_t... I>
    void start(std::index_sequence<I...>) noexcept {
        (start_one(std::get<I>(tasks_), I), ...);
    }
    template <class U>
    void start_one(Task<U>& task, std::size_t index) noexcept {
        auto h = task.handle();
        PromiseBase& promise = h.promise();
        promise.node.loop = loop;
        promise.node.index = index;
        promise.node.cancelled = root->cancelled || (Any && winner_ != none);
        promise.on_done = &child_done;
        promise.owner = this;
        h.resume();
    }
    template <std::size_t... I>
    void cancel_all(std::index_sequence<I...>) noexcept {
        (cancel_one(std::get<I>(tasks_)), ...);
    }
    template <class U>
    static void cancel_one(Task<U>& task) noexcept {
        if (!task.done()) task.handle().promise().node.cancel();
    }
    static void cancel_thunk(Waiter* w) noexcept {
        static_cast<WhenOp*>(w)->cancel_all(std::index_sequence_for<T...>{});
    }
    static void child_done(PromiseBase* promise) noexcept {
        auto* self = static_cast<WhenOp*>(promise->owner);
        if (Any && self->winner_ == none) {
            self->winner_ = promise->node.index;
            self->cancel_all(std::index_sequence_for<T...>{});  // the finishing child is done() already?
        }
        if (--self->remaining_ == 0 && !self->starting_) self->loop->finish(self);
    }
    template <class U>
    static ValueOf<U> value_of(Task<U>& task) noexcept {
        if constexpr (std::is_void_v<U>)
            return Nothing{};
        else
            return task.handle().promise().take();
    }
    template <std::size_t... I>
    std::tuple<ValueOf<T>...> collect(std::index_sequence<I...>) noexcept {
        return std::tuple<ValueOf<T>...>(value_of(std::get<I>(tasks_))...);
    }
    template <class V, std::size_t... I>
    auto take_winner(std::index_sequence<I...>) noexcept {
        struct AnyResult {
            std::size_t index;
            V value;
        };
        std::optional<V> value;
        ((I == winner_ ? (void)value.emplace(value_of(std::get<I>(tasks_))) : (void)0), ...);
        return AnyResult{winner_, std::move(*value)};
    }

    static constexpr std::size_t none = static_cast<std::size_t>(-1);
    std::tuple<Task<T>...> tasks_;
    std::size_t remaining_ = 0;
    std::size_t winner_ = none;
    bool starting_ = false;
};

}  // namespace detail::coro

/// Runs the tasks concurrently and awaits all of them; gives a tuple of their values (an empty
/// struct for a Task<void>). Cancelling the awaiting task cancels them. Allocates nothing but their frames.
template <class... T>
[[nodiscard]] detail::coro::WhenOp<false, T...> when_all(Task<T>... tasks) noexcept {
    return detail::coro::WhenOp<false, T...>(std::move(tasks)...);
}

/// Runs the tasks (of one value type) concurrently; when the first finishes, cancels the others and
/// waits for them to end. Gives {index, value} of the first. Allocates nothing but their frames.
template <class T, class... U>
requires(std::is_same_v<T, U>&&...)
    [[nodiscard]] detail::coro::WhenOp<true, T, U...> when_any(Task<T> first, Task<U>... rest) noexcept {
    return detail::coro::WhenOp<true, T, U...>(std::move(first), std::move(rest)...);
}

namespace detail::coro {
template <Family F>
Task<void> connect_attempt(Address<F> address, Clock::time_point start, Until until, ConnectRace<F>& race) {
    if (start > Clock::now()) {
        auto waited = co_await async_sleep(until.with_deadline(sys::earlier(start, until.deadline())));
        if (!waited) co_return;  // cancelled: another attempt won, or the whole race was stopped
    }
    auto stream = co_await async_connect(address, until);
    if (stream) {
        if (!race.winner) {
            race.winner.emplace(std::move(*stream));
            race.attempts->cancel();  // the others end with operation_canceled, and are not recorded
        }
    } else if (!race.winner && stream.error() != std::errc::operation_canceled) {
        race.failures.push_back(ConnectAttempt<F>{address, stream.error()});
        race.last = stream.error();
    } else if (!race.winner) {
        race.last = stream.error();
    }
}
}  // namespace detail::coro

/// Connects to the first of `addresses` that answers, racing them Happy-Eyeballs style (RFC 8305) on
/// the loop: families interleaved, attempt i starts i * `attempt_delay` after the first while the earlier
/// ones go on (unlike the blocking connect_any, a failure does not start the next attempt early), the
/// first to connect wins and the others are cancelled and closed; all within `until`. Allocates: a frame
/// per attempt. Errors: the last failure with every attempt in ConnectError::attempts();
/// errc::no_addresses; timed_out; operation_canceled.
template <Family F>
Task<Result<TcpStream<F>, ConnectError<F>>> async_connect_any(
    std::vector<Address<F>> addresses, Until until = {},
    std::chrono::milliseconds attempt_delay = TcpStream<F>::default_attempt_delay) {
    using Outcome = Result<TcpStream<F>, ConnectError<F>>;
    if (addresses.empty())
        co_return Outcome(unexpected<ConnectError<F>>(ConnectError<F>(Error(errc::no_addresses, "connect"))));
    Loop& loop = co_await current_loop();
    detail::coro::ConnectRace<F> race;
    Scope attempts(loop);
    race.attempts = &attempts;
    const auto order = detail::interleave_families<F>(addresses);
    const auto first = detail::coro::Clock::now();
    for (std::size_t i = 0; i < order.size(); ++i)
        attempts.spawn(detail::coro::connect_attempt<F>(order[i], first + attempt_delay * static_cast<int>(i),
                                                        until, race));
    co_await attempts.join();
    if (race.winner) co_return Outcome(std::move(*race.winner));
    co_return Outcome(unexpected<ConnectError<F>>(ConnectError<F>(race.last, std::move(race.failures))));
}

/// Resolves `host` (blocking: the resolver has no readiness interface) and connects as
/// async_connect_any. Errors: resolve_category errors, then as async_connect_any.
template <Family F = IP>
requires InternetFamily<F> Task<Result<TcpStream<F>, ConnectError<F>>> async_connect(
    std::string host, std::uint16_t port, Until until = {},
    std::chrono::milliseconds attempt_delay = TcpStream<F>::default_attempt_delay) {
    auto addresses = resolve<F>(host, port);
    if (!addresses) co_return unexpected<ConnectError<F>>(ConnectError<F>(addresses.error()));
    co_return co_await async_connect_any<F>(std::move(*addresses), until, attempt_delay);
}

// --- Loop ------------------------------------------------------------------------------------------------

template <class Unused>
BasicLoop<Unused>::~BasicLoop() {
    delete detached_;
    detached_ = nullptr;
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
    if (detached_ == nullptr) detached_ = new Scope(*this);
    detached_->spawn(std::move(task));
}

template <class Unused>
Result<void> BasicLoop<Unused>::park(detail::coro::Waiter* w) noexcept {
    using detail::coro::Waiter;
    if (w->fd != detail::sys::invalid_handle && w->interest != Interest::none) {
        const auto index = static_cast<std::size_t>(w->fd);
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
    if (w->timed) {  // sorted insert, from the back: deadlines mostly arrive in order
        Waiter* after = timers_.timer_prev;
        while (after != &timers_ && after->deadline > w->deadline) after = after->timer_prev;
        w->timer_prev = after;
        w->timer_next = after->timer_next;
        after->timer_next->timer_prev = w;
        after->timer_next = w;
    }
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
        static_cast<std::size_t>(w->fd) < slots_.size()) {
        FdSlot& slot = slots_[static_cast<std::size_t>(w->fd)];
        if (slot.reader == w) slot.reader = nullptr;
        if (slot.writer == w) slot.writer = nullptr;
    }
    if (w->timed) {
        w->timer_prev->timer_next = w->timer_next;
        w->timer_next->timer_prev = w->timer_prev;
        w->timer_prev = w->timer_next = nullptr;
        w->timed = false;
    }
    if (w->on_remote != nullptr) --remote_parked_;
    if (w->root != nullptr && w->root->parked == w) w->root->parked = nullptr;
    if (w->on_unpark != nullptr) w->on_unpark(w);  // the awaiter's own cleanup (its stop guard)
}

template <class Unused>
Result<void> BasicLoop<Unused>::arm(native_handle_type fd) noexcept {
    const FdSlot& slot = slots_[static_cast<std::size_t>(fd)];
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
        const auto index = static_cast<std::size_t>(fd);
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
    if (fd == detail::sys::invalid_handle || static_cast<std::size_t>(fd) >= slots_.size()) return;
    FdSlot& slot = slots_[static_cast<std::size_t>(fd)];
    if (!slot.attached) return;
    (void)poller_.remove(fd);  // fails only if the descriptor was closed under us: the kernel dropped it
    slot.attached = slot.closing = false;
    slot.readable = slot.writable = true;
}

template <class Unused>
void BasicLoop<Unused>::dispatch(const Event& event) noexcept {
    const auto fd = static_cast<native_handle_type>(event.token.value());
    if (fd == detail::sys::invalid_handle || static_cast<std::size_t>(fd) >= slots_.size()) return;
    FdSlot& slot = slots_[static_cast<std::size_t>(fd)];
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
    while (timers_.timer_next != &timers_ && timers_.timer_next->deadline <= now) {
        detail::coro::Waiter* w = timers_.timer_next;
        w->on_fail(w, Error(std::errc::timed_out, w->operation));
        finish(w);
    }
}

template <class Unused>
void BasicLoop<Unused>::scan_remote() noexcept {
    if (!remote_.exchange(false, std::memory_order_acq_rel) || remote_parked_ == 0) return;
    for (detail::coro::Waiter* w = parked_.head.next; w != &parked_.head;) {
        detail::coro::Waiter* next = w->next;
        if (w->on_remote != nullptr && w->on_remote(w)) finish(w);
        w = next;
    }
}

template <class Unused>
std::optional<std::chrono::milliseconds> BasicLoop<Unused>::wait_time(bool block) const noexcept {
    if (!block || !ready_.empty()) return std::chrono::milliseconds(0);
    if (timers_.timer_next == &timers_) return std::nullopt;
    const auto left = timers_.timer_next->deadline - Clock::now();
    if (left <= Clock::duration::zero()) return std::chrono::milliseconds(0);
    return std::chrono::ceil<std::chrono::milliseconds>(left);
}

template <class Unused>
void BasicLoop<Unused>::step(bool block) {
    ++iterations_;
    auto ready = poller_.wait(std::span<Event>(events_), wait_time(block));
    if (ready)
        for (std::size_t i = 0; i < *ready; ++i) dispatch(events_[i]);
    scan_remote();
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
