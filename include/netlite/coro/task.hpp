// SPDX-License-Identifier: BSL-1.0
// netlite/coro/task.hpp - Task<T>, its promise, and what the loop knows of a suspended coroutine (Waiter,
// TaskNode: the intrusive nodes of the loop's lists and of cancellation). Part of <netlite/coro.hpp>.
#pragma once

#include <netlite/poll.hpp>
#include <netlite/result.hpp>

#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <netlite/detail/atomic.hpp>
#include <netlite/detail/chrono.hpp>
#include <optional>
#include <type_traits>
#include <utility>

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
    bool timed = false;  // in the loop's timer heap
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
    detail::Atomic<bool> stop_fired{false};         // set by a stop callback in another thread
    Waiter* prev = nullptr;                         // parked or ready list
    Waiter* next = nullptr;
    std::size_t timer_slot = 0;  // its position in the timer heap, while timed
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

}  // namespace netlite
