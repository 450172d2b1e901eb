// SPDX-License-Identifier: BSL-1.0
// netlite/coro/scope.hpp - structured concurrency: Scope (spawn, join, cancel), when_all, when_any.
// Part of <netlite/coro.hpp>.
#pragma once

#include <netlite/coro/loop.hpp>
#include <netlite/coro/task.hpp>

#include <cstddef>
#include <optional>
#include <tuple>
#include <type_traits>
#include <utility>

namespace netlite {

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

}  // namespace netlite
