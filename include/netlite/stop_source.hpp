// SPDX-License-Identifier: BSL-1.0
// netlite/stop_source.hpp - netlite's own stop source and token: what std::stop_source does for netlite's
// blocking calls, at one descriptor per source instead of one per waiting call, and on every standard
// library (libc++ 16 has no <stop_token>).
//
//     netlite::StopSource stop;
//     std::thread reader([&] { auto n = stream.read(buffer, stop.get_token()); /* operation_canceled */ });
//     stop.request_stop();  // from any thread, or a signal-handling thread
//
// A std::stop_token works too (<netlite/stop_token.hpp>), but each call waiting on one opens an eventfd
// of its own for as long as it waits: a server with a thousand connections blocked in read() holds a
// thousand more descriptors. Every call waiting on a netlite::StopToken polls the source's one descriptor.
#pragma once

#include <netlite/deadline.hpp>
#include <netlite/detail/sys.hpp>

#include <atomic>
#include <mutex>
#include <new>
#include <optional>

namespace netlite {

namespace detail {

/// What a StopSource and its tokens share: the stop flag, the wake-up descriptor (made on the first wait
/// that needs it, then written once by request_stop) and the registered callbacks.
class StopState {
public:
    /// A registered callback, living in the registering StopGuard's storage.
    struct Callback {
        StopWake wake{};
        Callback* next = nullptr;
        Callback* previous = nullptr;
    };

    void add_token() noexcept { references_.fetch_add(1, std::memory_order_relaxed); }
    void add_source() noexcept {
        sources_.fetch_add(1, std::memory_order_relaxed);
        add_token();
    }
    /// Drops one reference; the last one frees the state.
    static void release(StopState* state) noexcept {
        if (state != nullptr && state->references_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete state;
    }
    static void release_source(StopState* state) noexcept {
        if (state == nullptr) return;
        state->sources_.fetch_sub(1, std::memory_order_release);
        release(state);
    }

    bool requested() const noexcept { return requested_.load(std::memory_order_acquire); }
    bool possible() const noexcept { return requested() || sources_.load(std::memory_order_acquire) > 0; }

    /// Sets the flag, makes the wake-up descriptor readable and runs the callbacks, once; true the first
    /// time. A callback runs in this thread, with the state locked (a detach waits for it).
    bool request() noexcept {
        Locked locked(lock_);
        if (requested_.exchange(true, std::memory_order_acq_rel)) return false;
        if (wake_) wake_->signal();
        for (Callback* callback = callbacks_; callback != nullptr; callback = callback->next)
            callback->wake();
        return true;
    }

    /// The wake-up descriptor, made now if no wait has needed it yet (already readable if the stop was
    /// requested before). Errors: EMFILE/ENFILE when no descriptor can be made.
    SharedWake wake_handle() noexcept {
        Locked locked(lock_);
        if (!wake_) {
            wake_.emplace();
            if (!wake_->ok()) {
                const std::error_code error = wake_->error().code();
                wake_.reset();
                return SharedWake{-1, error};
            }
            if (requested()) wake_->signal();
        }
        return SharedWake{static_cast<std::intptr_t>(wake_->fd()), {}};
    }

    /// Registers `callback`; runs it at once (in this thread) if the stop was already requested.
    void attach(Callback* callback) noexcept {
        Locked locked(lock_);
        if (requested()) {
            callback->wake();
            return;
        }
        callback->next = callbacks_;
        if (callbacks_ != nullptr) callbacks_->previous = callback;
        callbacks_ = callback;
    }
    /// Unregisters `callback`, waiting for it to finish if it is running in another thread.
    void detach(Callback* callback) noexcept {
        Locked locked(lock_);
        if (callback->previous != nullptr) {
            callback->previous->next = callback->next;
        } else if (callbacks_ == callback) {
            callbacks_ = callback->next;
        }
        if (callback->next != nullptr) callback->next->previous = callback->previous;
    }

private:
    // A small lock: held only to make the descriptor, link a callback or run the callbacks once. A mutex,
    // not an atomic_flag wait: libstdc++ 12's atomic wait, where it has no futex (mingw-w64), can miss a
    // notify and block forever.
    using Locked = std::lock_guard<std::mutex>;

    std::atomic<unsigned> references_{1};
    std::atomic<unsigned> sources_{1};
    std::atomic<bool> requested_{false};
    std::mutex lock_;
    std::optional<sys::WakeFd> wake_;
    Callback* callbacks_ = nullptr;
};

}  // namespace detail

class StopSource;

/// Says whether a stop was requested through its StopSource; what netlite's blocking calls take (through
/// Until) to be cancellable. Copies share the source's state. A default-constructed token never stops.
// operator=(StopToken) takes its argument by value: it is the copy and the move assignment.
// NOLINTNEXTLINE(cppcoreguidelines-special-member-functions)
class StopToken {
public:
    StopToken() noexcept = default;
    /// Another token of the same source.
    StopToken(const StopToken& other) noexcept : state_(other.state_) {
        if (state_ != nullptr) state_->add_token();
    }
    /// Takes `other`'s source; `other` then never stops.
    StopToken(StopToken&& other) noexcept : state_(std::exchange(other.state_, nullptr)) {}
    /// Becomes a token of `other`'s source.
    StopToken& operator=(StopToken other) noexcept {
        std::swap(state_, other.state_);
        return *this;
    }
    ~StopToken() { detail::StopState::release(state_); }

    /// True once request_stop() was called on the source.
    bool stop_requested() const noexcept { return state_ != nullptr && state_->requested(); }
    /// True while a stop can still be requested (a source is alive) or was requested.
    bool stop_possible() const noexcept { return state_ != nullptr && state_->possible(); }

private:
    friend class StopSource;
    friend detail::SharedWake shared_wake(detail::StopHook, const StopToken& token) noexcept;
    friend void attach_stop(detail::StopHook, const StopToken& token, void* callback,
                            detail::StopWake wake) noexcept;
    friend void detach_stop(detail::StopHook, const StopToken& token, void* callback) noexcept;

    explicit StopToken(detail::StopState* state) noexcept : state_(state) { state_->add_token(); }

    detail::StopState* state_ = nullptr;
};

/// Requests a stop that every StopToken it gave out sees, waking each netlite call blocked on one within
/// a poll wake-up. Copies share the state. Costs one descriptor, opened by the first wait that needs it.
// No move: moving copies, so a StopSource never lacks its state (request_stop() needs no null check).
// NOLINTNEXTLINE(cppcoreguidelines-special-member-functions)
class StopSource {
public:
    StopSource() : state_(new detail::StopState) {}
    /// Another handle on the same stop state: a stop requested through either stops both.
    StopSource(const StopSource& other) noexcept : state_(other.state_) { state_->add_source(); }
    /// Shares `other`'s stop state instead of its own.
    StopSource& operator=(const StopSource& other) noexcept {
        if (this != &other) {
            other.state_->add_source();
            detail::StopState::release_source(state_);
            state_ = other.state_;
        }
        return *this;
    }
    ~StopSource() { detail::StopState::release_source(state_); }

    /// A token that sees this source's stop.
    StopToken get_token() const noexcept { return StopToken(state_); }
    /// Requests the stop (thread-safe; not async-signal-safe: call it from a thread, e.g. one that waits
    /// for signals). True the first time. Errors: none.
    bool request_stop() noexcept {
        // The stop may let another thread destroy this source and every token (main() returning while a
        // signal-watching thread stops it) before request() is done: hold the state until then.
        detail::StopState* state = state_;
        state->add_token();
        const bool first = state->request();
        detail::StopState::release(state);
        return first;
    }
    /// True once request_stop() was called.
    bool stop_requested() const noexcept { return state_->requested(); }

private:
    detail::StopState* state_;
};

/// Until's hook: the source's shared wake-up descriptor (made on first use). Errors: EMFILE/ENFILE.
inline detail::SharedWake shared_wake(detail::StopHook, const StopToken& token) noexcept {
    if (token.state_ == nullptr) return {};
    return token.state_->wake_handle();
}
/// Until's hook for callbacks (StopGuard): registers `wake` in the storage at `callback`.
inline void attach_stop(detail::StopHook, const StopToken& token, void* callback,
                        detail::StopWake wake) noexcept {
    auto* node = ::new (callback) detail::StopState::Callback{wake};
    if (token.state_ != nullptr) token.state_->attach(node);
}
/// Unregisters it, waiting for a `wake` running in another thread.
inline void detach_stop(detail::StopHook, const StopToken& token, void* callback) noexcept {
    auto* node = static_cast<detail::StopState::Callback*>(callback);
    if (token.state_ != nullptr) token.state_->detach(node);
    node->~Callback();
}

}  // namespace netlite
