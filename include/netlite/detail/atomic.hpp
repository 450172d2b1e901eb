// SPDX-License-Identifier: BSL-1.0
// netlite/detail/atomic.hpp - detail::Atomic<T>: the few lock-free operations the coroutine layer needs
// (load, store, exchange, compare_exchange_weak) on a bool or a pointer, with explicit memory orders.
//
// Where the compiler has the __atomic builtins (g++, clang) they are what libstdc++'s and libc++'s
// std::atomic call, so the code generated, the memory orders and what ThreadSanitizer sees are the same;
// <atomic> itself costs ~170 M compiler instructions (libstdc++ 12, C++20: atomic_wait, gthr, std_mutex)
// for three flags and a list head. Elsewhere Atomic is std::atomic and the orders are std's.
#pragma once

#include <netlite/detail/config.hpp>

#if defined(__GNUC__) || defined(__clang__)

#include <type_traits>

namespace netlite::detail {

/// A memory order of the __atomic builtins (as std::memory_order).
enum class MemoryOrder : int {
    relaxed = __ATOMIC_RELAXED,
    acquire = __ATOMIC_ACQUIRE,
    release = __ATOMIC_RELEASE,
    acq_rel = __ATOMIC_ACQ_REL,
};
inline constexpr MemoryOrder order_relaxed = MemoryOrder::relaxed;
inline constexpr MemoryOrder order_acquire = MemoryOrder::acquire;
inline constexpr MemoryOrder order_release = MemoryOrder::release;
inline constexpr MemoryOrder order_acq_rel = MemoryOrder::acq_rel;

/// A lock-free atomic bool or pointer: the subset of std::atomic<T> that netlite uses, same semantics.
template <class T>
class Atomic {
    static_assert(std::is_same_v<T, bool> || std::is_pointer_v<T>,
                  "detail::Atomic holds a bool or a pointer");
    static constexpr decltype(sizeof(bool)) size = std::is_pointer_v<T> ? sizeof(void*) : sizeof(bool);
    static_assert(__atomic_always_lock_free(size, nullptr), "detail::Atomic must be lock-free");

public:
    constexpr Atomic() noexcept : value_() {}
    constexpr explicit Atomic(T value) noexcept : value_(value) {}
    Atomic(const Atomic&) = delete;
    Atomic& operator=(const Atomic&) = delete;
    ~Atomic() = default;

    T load(MemoryOrder order) const noexcept { return __atomic_load_n(&value_, static_cast<int>(order)); }
    void store(T value, MemoryOrder order) noexcept {
        __atomic_store_n(&value_, value, static_cast<int>(order));
    }
    T exchange(T value, MemoryOrder order) noexcept {
        return __atomic_exchange_n(&value_, value, static_cast<int>(order));
    }
    bool compare_exchange_weak(T& expected, T desired, MemoryOrder success, MemoryOrder failure) noexcept {
        return __atomic_compare_exchange_n(&value_, &expected, desired, true, static_cast<int>(success),
                                           static_cast<int>(failure));
    }

private:
    alignas(size) T value_;
};

}  // namespace netlite::detail

#else

#include <atomic>

namespace netlite::detail {

using MemoryOrder = std::memory_order;
inline constexpr MemoryOrder order_relaxed = std::memory_order_relaxed;
inline constexpr MemoryOrder order_acquire = std::memory_order_acquire;
inline constexpr MemoryOrder order_release = std::memory_order_release;
inline constexpr MemoryOrder order_acq_rel = std::memory_order_acq_rel;

template <class T>
using Atomic = std::atomic<T>;

}  // namespace netlite::detail

#endif
