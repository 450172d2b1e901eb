// SPDX-License-Identifier: BSL-1.0
// netlite/detail/expected.hpp - netlite::expected, the C++20 stand-in for std::expected.
//
// Where the standard library has the full C++23 std::expected (__cpp_lib_expected >= 202211L, with the
// monadic operations), or where the user forces it with NETLITE_USE_STD_EXPECTED=1 and any <expected>
// exists, netlite::expected, unexpected, unexpect and bad_expected_access are the std names. Elsewhere
// they are the types below, with the same interface (cppreference's std::expected is their documentation),
// so user code reads the same everywhere. Users include <netlite/result.hpp>, not this header.
#pragma once

#include <netlite/detail/config.hpp>  // first: the C++20 floor, with a readable message

#include <type_traits>
#include <utility>
#include <version>

#if defined(__cpp_lib_expected)
#if __cpp_lib_expected >= 202211L || (defined(NETLITE_USE_STD_EXPECTED) && NETLITE_USE_STD_EXPECTED)
#define NETLITE_HAS_STD_EXPECTED 1
#endif
#endif

// Conditionally trivial special members (P0848): clang before 16 deletes them instead, so there the
// storage is always non-trivial (correct, a little slower to copy).
#if defined(__clang__) && __clang_major__ < 16
#define NETLITE_CONDITIONALLY_TRIVIAL 0
#else
#define NETLITE_CONDITIONALLY_TRIVIAL 1
#endif

#if defined(NETLITE_HAS_STD_EXPECTED)
#include <expected>
#if __cpp_lib_expected >= 202211L
#define NETLITE_HAS_MONADIC 1
#endif
#else
#include <initializer_list>
#include <new>
#define NETLITE_HAS_MONADIC 1
#if defined(__cpp_exceptions)
#include <exception>
#else
#include <cstdlib>
#endif
#endif

namespace netlite {

#if defined(NETLITE_HAS_STD_EXPECTED)

using std::bad_expected_access;
using std::expected;
using std::unexpect;
using std::unexpect_t;
using std::unexpected;

#else

/// Holds an error to construct an expected in the error state (as std::unexpected).
template <class E>
class unexpected {
public:
    // The constraints exclude unexpected itself, as std::unexpected's do: copying and moving are not hidden.
    // NOLINTBEGIN(bugprone-forwarding-reference-overload)
    template <class Err = E>
    requires(!std::is_same_v<std::remove_cvref_t<Err>, unexpected> &&
             !std::is_same_v<std::remove_cvref_t<Err>, std::in_place_t> &&
             std::is_constructible_v<E, Err>) constexpr explicit unexpected(Err&& e)
        : error_(std::forward<Err>(e)) {}
    // NOLINTEND(bugprone-forwarding-reference-overload)
    template <class... Args>
    constexpr explicit unexpected(std::in_place_t, Args&&... args) : error_(std::forward<Args>(args)...) {}

    constexpr const E& error() const& noexcept { return error_; }
    constexpr E& error() & noexcept { return error_; }
    constexpr const E&& error() const&& noexcept { return std::move(error_); }
    constexpr E&& error() && noexcept { return std::move(error_); }

    template <class E2>
    friend constexpr bool operator==(const unexpected& a, const unexpected<E2>& b) {
        return a.error() == b.error();
    }

private:
    E error_;
};

template <class E>
unexpected(E) -> unexpected<E>;

struct unexpect_t {
    explicit unexpect_t() = default;
};
inline constexpr unexpect_t unexpect{};

template <class E>
class bad_expected_access;

template <>
class bad_expected_access<void>
#if defined(__cpp_exceptions)
    : public std::exception
#endif
{
public:
    const char* what() const noexcept
#if defined(__cpp_exceptions)
        override
#endif
    {
        return "bad access to netlite::expected without a value";
    }
};

template <class E>
class bad_expected_access : public bad_expected_access<void> {
public:
    explicit bad_expected_access(E e) : error_(std::move(e)) {}
    const E& error() const& noexcept { return error_; }
    E& error() & noexcept { return error_; }

private:
    E error_;
};

template <class T, class E>
class expected;

namespace detail {
template <class T>
struct is_expected : std::false_type {};
template <class T, class E>
struct is_expected<expected<T, E>> : std::true_type {};
template <class T>
struct is_unexpected : std::false_type {};
template <class E>
struct is_unexpected<unexpected<E>> : std::true_type {};

// Concepts (not bare traits) so that the trivial special members' constraints subsume the general ones.
// They are the compiler's builtins where it has them (g++, clang, MSVC): the special members' constraints
// are checked for every expected<T, E> the headers name, and the std traits instantiate a chain of class
// templates for each, most of what a Result<T> costs to compile. g++ before 14 has no
// __is_trivially_destructible; its __has_trivial_destructor differs only for a deleted destructor,
// which expected's T and E cannot have (they must be destructible).
#if defined(__GNUC__) || defined(__clang__) || defined(_MSC_VER)
template <class T>
concept default_constructible_ = __is_constructible(T);
template <class T>
concept copyable_ = __is_constructible(T, const T&);
template <class T>
concept movable_ = __is_constructible(T, T&&);
template <class T>
concept trivially_copyable_ = copyable_<T> && __is_trivially_constructible(T, const T&);
template <class T>
concept trivially_movable_ = movable_<T> && __is_trivially_constructible(T, T&&);
#define NETLITE_TRIVIALLY_DESTRUCTIBLE(T) __is_trivially_destructible(T)
#if defined(__has_builtin)
#if !__has_builtin(__is_trivially_destructible) && defined(__GNUC__) && !defined(__clang__)
#undef NETLITE_TRIVIALLY_DESTRUCTIBLE
#define NETLITE_TRIVIALLY_DESTRUCTIBLE(T) __has_trivial_destructor(T)
#endif
#endif
template <class T>
concept trivially_destructible_ = NETLITE_TRIVIALLY_DESTRUCTIBLE(T);
#undef NETLITE_TRIVIALLY_DESTRUCTIBLE
#else
template <class T>
concept default_constructible_ = std::is_default_constructible_v<T>;
template <class T>
concept copyable_ = std::is_copy_constructible_v<T>;
template <class T>
concept movable_ = std::is_move_constructible_v<T>;
template <class T>
concept trivially_copyable_ = copyable_<T> && std::is_trivially_copy_constructible_v<T>;
template <class T>
concept trivially_movable_ = movable_<T> && std::is_trivially_move_constructible_v<T>;
template <class T>
concept trivially_destructible_ = std::is_trivially_destructible_v<T>;
#endif

// Placement construction without <memory> (std::construct_at), which costs 100 ms of compile time.
template <class T, class... Args>
constexpr void construct(T& slot, Args&&... args) {
    ::new (static_cast<void*>(__builtin_addressof(slot))) T(std::forward<Args>(args)...);
}

template <class E>
[[noreturn]] void throw_bad_expected_access(const E& e) {
#if defined(__cpp_exceptions)
    throw bad_expected_access<E>(e);
#else
    (void)e;
    std::abort();
#endif
}
}  // namespace detail

/// netlite's stand-in for std::expected<T, E> (same interface, monadic operations included).
template <class T, class E>
class expected {
public:
    using value_type = T;
    using error_type = E;
    using unexpected_type = unexpected<E>;
    template <class U>
    using rebind = expected<U, error_type>;

    constexpr expected() requires detail::default_constructible_<T> : value_(), has_value_(true) {}

#if NETLITE_CONDITIONALLY_TRIVIAL
    constexpr expected(
        const expected&) requires detail::trivially_copyable_<T> && detail::trivially_copyable_<E>
    = default;
#endif
    constexpr expected(const expected& other) requires detail::copyable_<T> && detail::copyable_<E>
        : has_value_(other.has_value_) {
        construct_from(other);
    }
#if NETLITE_CONDITIONALLY_TRIVIAL
    constexpr expected(
        expected&&) noexcept requires detail::trivially_movable_<T> && detail::trivially_movable_<E>
    = default;
#endif
    constexpr expected(expected&& other) noexcept(
        std::is_nothrow_move_constructible_v<T>&& std::is_nothrow_move_constructible_v<E>) requires
        detail::movable_<T> && detail::movable_<E> : has_value_(other.has_value_) {
        construct_from(std::move(other));
    }

    // The constraints exclude expected and unexpected, as std::expected's do: copying and moving are not
    // hidden, and an error goes to the constructor from unexpected.
    // NOLINTBEGIN(bugprone-forwarding-reference-overload)
    template <class U = T>
    requires(!std::is_same_v<std::remove_cvref_t<U>, std::in_place_t> &&
             !std::is_same_v<std::remove_cvref_t<U>, expected> &&
             !std::is_same_v<std::remove_cvref_t<U>, unexpect_t> &&
             !detail::is_expected<std::remove_cvref_t<U>>::value &&
             !detail::is_unexpected<std::remove_cvref_t<U>>::value &&
             std::is_constructible_v<T, U>) constexpr explicit(!std::is_convertible_v<U, T>) expected(U&& v)
        : value_(std::forward<U>(v)), has_value_(true) {}
    // NOLINTEND(bugprone-forwarding-reference-overload)

    template <class G>
    requires std::is_constructible_v<E, const G&>
    constexpr explicit(!std::is_convertible_v<const G&, E>) expected(const unexpected<G>& e)
        : error_(e.error()), has_value_(false) {}
    template <class G>
    requires std::is_constructible_v<E, G>
    constexpr explicit(!std::is_convertible_v<G, E>) expected(unexpected<G>&& e)
        : error_(std::move(e).error()), has_value_(false) {}

    template <class U, class G>
    requires(!std::is_same_v<expected<U, G>, expected> && std::is_constructible_v<T, const U&> &&
             std::is_constructible_v<E, const G&>) constexpr explicit(!std::is_convertible_v<const U&, T> ||
                                                                      !std::is_convertible_v<const G&, E>)
        expected(const expected<U, G>& other)
        : has_value_(other.has_value()) {
        if (has_value_)
            detail::construct(value_, *other);
        else
            detail::construct(error_, other.error());
    }
    template <class U, class G>
    requires(!std::is_same_v<expected<U, G>, expected> && std::is_constructible_v<T, U> &&
             std::is_constructible_v<E, G>) constexpr explicit(!std::is_convertible_v<U, T> ||
                                                               !std::is_convertible_v<G, E>)
        expected(expected<U, G>&& other)
        : has_value_(other.has_value()) {
        if (has_value_)
            detail::construct(value_, std::move(*other));
        else
            detail::construct(error_, std::move(other).error());
    }

    template <class... Args>
    constexpr explicit expected(std::in_place_t, Args&&... args)
        : value_(std::forward<Args>(args)...), has_value_(true) {}
    template <class... Args>
    constexpr explicit expected(unexpect_t, Args&&... args)
        : error_(std::forward<Args>(args)...), has_value_(false) {}

#if NETLITE_CONDITIONALLY_TRIVIAL
    constexpr ~expected() requires detail::trivially_destructible_<T> && detail::trivially_destructible_<E>
    = default;
#endif
    constexpr ~expected() {
        destroy();
    }

    constexpr expected& operator=(
        const expected& other) requires detail::copyable_<T> && detail::copyable_<E> {
        if (this != &other) {
            destroy();
            has_value_ = other.has_value_;
            construct_from(other);
        }
        return *this;
    }
    constexpr expected& operator=(expected&& other) noexcept(
        std::is_nothrow_move_constructible_v<T>&& std::is_nothrow_move_constructible_v<E>) requires
        detail::movable_<T> && detail::movable_<E> {
        if (this != &other) {
            destroy();
            has_value_ = other.has_value_;
            construct_from(std::move(other));
        }
        return *this;
    }
    template <class U = T>
    requires(!std::is_same_v<std::remove_cvref_t<U>, expected> &&
             !detail::is_expected<std::remove_cvref_t<U>>::value &&
             !detail::is_unexpected<std::remove_cvref_t<U>>::value &&
             std::is_constructible_v<T, U>) constexpr expected&
    operator=(U&& v) {
        destroy();
        detail::construct(value_, std::forward<U>(v));
        has_value_ = true;
        return *this;
    }
    template <class G>
    constexpr expected& operator=(const unexpected<G>& e) {
        destroy();
        detail::construct(error_, e.error());
        has_value_ = false;
        return *this;
    }
    template <class G>
    constexpr expected& operator=(unexpected<G>&& e) {
        destroy();
        detail::construct(error_, std::move(e).error());
        has_value_ = false;
        return *this;
    }

    template <class... Args>
    constexpr T& emplace(Args&&... args) {
        destroy();
        detail::construct(value_, std::forward<Args>(args)...);
        has_value_ = true;
        return value_;
    }

    constexpr void swap(expected& other) {
        expected tmp(std::move(other));
        other = std::move(*this);
        *this = std::move(tmp);
    }
    friend constexpr void swap(expected& a, expected& b) {
        a.swap(b);
    }

    constexpr bool has_value() const noexcept {
        return has_value_;
    }
    constexpr explicit operator bool() const noexcept {
        return has_value_;
    }

    constexpr const T* operator->() const noexcept {
        return __builtin_addressof(value_);
    }
    constexpr T* operator->() noexcept {
        return __builtin_addressof(value_);
    }
    constexpr const T& operator*() const& noexcept {
        return value_;
    }
    constexpr T& operator*() & noexcept {
        return value_;
    }
    constexpr const T&& operator*() const&& noexcept {
        return std::move(value_);
    }
    constexpr T&& operator*() && noexcept {
        return std::move(value_);
    }

    constexpr const T& value() const& {
        if (!has_value_) detail::throw_bad_expected_access(error_);
        return value_;
    }
    constexpr T& value() & {
        if (!has_value_) detail::throw_bad_expected_access(error_);
        return value_;
    }
    constexpr T&& value() && {
        if (!has_value_) detail::throw_bad_expected_access(error_);
        return std::move(value_);
    }
    constexpr const T&& value() const&& {
        if (!has_value_) detail::throw_bad_expected_access(error_);
        return std::move(value_);
    }

    constexpr const E& error() const& noexcept {
        return error_;
    }
    constexpr E& error() & noexcept {
        return error_;
    }
    constexpr const E&& error() const&& noexcept {
        return std::move(error_);
    }
    constexpr E&& error() && noexcept {
        return std::move(error_);
    }

    template <class U>
    constexpr T value_or(U&& fallback) const& {
        return has_value_ ? value_ : static_cast<T>(std::forward<U>(fallback));
    }
    template <class U>
    constexpr T value_or(U&& fallback) && {
        return has_value_ ? std::move(value_) : static_cast<T>(std::forward<U>(fallback));
    }
    template <class G = E>
    constexpr E error_or(G&& fallback) const& {
        return has_value_ ? static_cast<E>(std::forward<G>(fallback)) : error_;
    }

    // Monadic operations, each for every value category of *this.
    template <class F>
    constexpr auto and_then(F&& f) & {
        return and_then_impl(*this, std::forward<F>(f));
    }
    template <class F>
    constexpr auto and_then(F&& f) const& {
        return and_then_impl(*this, std::forward<F>(f));
    }
    template <class F>
    constexpr auto and_then(F&& f) && {
        return and_then_impl(std::move(*this), std::forward<F>(f));
    }
    template <class F>
    constexpr auto and_then(F&& f) const&& {
        return and_then_impl(std::move(*this), std::forward<F>(f));
    }
    template <class F>
    constexpr auto or_else(F&& f) & {
        return or_else_impl(*this, std::forward<F>(f));
    }
    template <class F>
    constexpr auto or_else(F&& f) const& {
        return or_else_impl(*this, std::forward<F>(f));
    }
    template <class F>
    constexpr auto or_else(F&& f) && {
        return or_else_impl(std::move(*this), std::forward<F>(f));
    }
    template <class F>
    constexpr auto or_else(F&& f) const&& {
        return or_else_impl(std::move(*this), std::forward<F>(f));
    }
    template <class F>
    constexpr auto transform(F&& f) & {
        return transform_impl(*this, std::forward<F>(f));
    }
    template <class F>
    constexpr auto transform(F&& f) const& {
        return transform_impl(*this, std::forward<F>(f));
    }
    template <class F>
    constexpr auto transform(F&& f) && {
        return transform_impl(std::move(*this), std::forward<F>(f));
    }
    template <class F>
    constexpr auto transform(F&& f) const&& {
        return transform_impl(std::move(*this), std::forward<F>(f));
    }
    template <class F>
    constexpr auto transform_error(F&& f) & {
        return transform_error_impl(*this, std::forward<F>(f));
    }
    template <class F>
    constexpr auto transform_error(F&& f) const& {
        return transform_error_impl(*this, std::forward<F>(f));
    }
    template <class F>
    constexpr auto transform_error(F&& f) && {
        return transform_error_impl(std::move(*this), std::forward<F>(f));
    }
    template <class F>
    constexpr auto transform_error(F&& f) const&& {
        return transform_error_impl(std::move(*this), std::forward<F>(f));
    }

    template <class U, class G>
    friend constexpr bool operator==(const expected& a, const expected<U, G>& b) {
        if (a.has_value() != b.has_value()) return false;
        return a.has_value() ? static_cast<bool>(*a == *b) : static_cast<bool>(a.error() == b.error());
    }
    template <class U>
    requires(!detail::is_expected<U>::value) friend constexpr bool operator==(const expected& a, const U& v) {
        return a.has_value() && static_cast<bool>(*a == v);
    }
    template <class G>
    friend constexpr bool operator==(const expected& a, const unexpected<G>& e) {
        return !a.has_value() && static_cast<bool>(a.error() == e.error());
    }

private:
    template <class Self, class F>
    static constexpr auto and_then_impl(Self&& self, F&& f) {
        using R = std::remove_cvref_t<std::invoke_result_t<F, decltype(*std::forward<Self>(self))>>;
        if (self.has_value()) return std::forward<F>(f)(*std::forward<Self>(self));
        return R(unexpect, std::forward<Self>(self).error());
    }
    template <class Self, class F>
    static constexpr auto or_else_impl(Self&& self, F&& f) {
        using R = std::remove_cvref_t<std::invoke_result_t<F, decltype(std::forward<Self>(self).error())>>;
        if (self.has_value()) return R(std::in_place, *std::forward<Self>(self));
        return std::forward<F>(f)(std::forward<Self>(self).error());
    }
    template <class Self, class F>
    static constexpr auto transform_impl(Self&& self, F&& f) {
        using U = std::remove_cv_t<std::invoke_result_t<F, decltype(*std::forward<Self>(self))>>;
        using R = expected<U, E>;
        if (!self.has_value()) return R(unexpect, std::forward<Self>(self).error());
        if constexpr (std::is_void_v<U>) {
            std::forward<F>(f)(*std::forward<Self>(self));
            return R();
        } else {
            return R(std::in_place, std::forward<F>(f)(*std::forward<Self>(self)));
        }
    }
    template <class Self, class F>
    static constexpr auto transform_error_impl(Self&& self, F&& f) {
        using G = std::remove_cv_t<std::invoke_result_t<F, decltype(std::forward<Self>(self).error())>>;
        using R = expected<T, G>;
        if (self.has_value()) return R(std::in_place, *std::forward<Self>(self));
        return R(unexpect, std::forward<F>(f)(std::forward<Self>(self).error()));
    }

    template <class Other>
    constexpr void construct_from(Other&& other) {
        if (has_value_)
            detail::construct(value_, *std::forward<Other>(other));
        else
            detail::construct(error_, std::forward<Other>(other).error());
    }
    constexpr void destroy() noexcept {
        if (has_value_)
            value_.~T();
        else
            error_.~E();
    }

    union {
        T value_;
        E error_;
    };
    bool has_value_;
};

/// expected<void, E>: success carries nothing.
template <class E>
class expected<void, E> {
public:
    using value_type = void;
    using error_type = E;
    using unexpected_type = unexpected<E>;
    template <class U>
    using rebind = expected<U, error_type>;

    constexpr expected() noexcept : has_value_(true) {}
#if NETLITE_CONDITIONALLY_TRIVIAL
    constexpr expected(const expected&) requires detail::trivially_copyable_<E>
    = default;
#endif
    constexpr expected(const expected& other) requires detail::copyable_<E> : has_value_(other.has_value_) {
        if (!has_value_) detail::construct(error_, other.error_);
    }
#if NETLITE_CONDITIONALLY_TRIVIAL
    constexpr expected(expected&&) noexcept requires detail::trivially_movable_<E>
    = default;
#endif
    constexpr expected(expected&& other) noexcept(
        std::is_nothrow_move_constructible_v<E>) requires detail::movable_<E> : has_value_(other.has_value_) {
        if (!has_value_) detail::construct(error_, std::move(other.error_));
    }
    template <class G>
    requires std::is_constructible_v<E, const G&>
    constexpr explicit(!std::is_convertible_v<const G&, E>) expected(const unexpected<G>& e)
        : error_(e.error()), has_value_(false) {}
    template <class G>
    requires std::is_constructible_v<E, G>
    constexpr explicit(!std::is_convertible_v<G, E>) expected(unexpected<G>&& e)
        : error_(std::move(e).error()), has_value_(false) {}
    template <class G>
    requires std::is_constructible_v<E, const G&>
    constexpr explicit(!std::is_convertible_v<const G&, E>) expected(const expected<void, G>& other)
        : has_value_(other.has_value()) {
        if (!has_value_) detail::construct(error_, other.error());
    }
    constexpr explicit expected(std::in_place_t) noexcept : has_value_(true) {}
    template <class... Args>
    constexpr explicit expected(unexpect_t, Args&&... args)
        : error_(std::forward<Args>(args)...), has_value_(false) {}

#if NETLITE_CONDITIONALLY_TRIVIAL
    constexpr ~expected() requires detail::trivially_destructible_<E>
    = default;
#endif
    constexpr ~expected() {
        if (!has_value_) error_.~E();
    }

    constexpr expected& operator=(const expected& other) requires detail::copyable_<E> {
        if (this != &other) {
            reset();
            has_value_ = other.has_value_;
            if (!has_value_) detail::construct(error_, other.error_);
        }
        return *this;
    }
    constexpr expected& operator=(expected&& other) noexcept(
        std::is_nothrow_move_constructible_v<E>) requires detail::movable_<E> {
        if (this != &other) {
            reset();
            has_value_ = other.has_value_;
            if (!has_value_) detail::construct(error_, std::move(other.error_));
        }
        return *this;
    }
    template <class G>
    constexpr expected& operator=(const unexpected<G>& e) {
        reset();
        detail::construct(error_, e.error());
        has_value_ = false;
        return *this;
    }
    template <class G>
    constexpr expected& operator=(unexpected<G>&& e) {
        reset();
        detail::construct(error_, std::move(e).error());
        has_value_ = false;
        return *this;
    }
    constexpr void emplace() noexcept {
        reset();
        has_value_ = true;
    }
    constexpr void swap(expected& other) {
        expected tmp(std::move(other));
        other = std::move(*this);
        *this = std::move(tmp);
    }
    friend constexpr void swap(expected& a, expected& b) {
        a.swap(b);
    }

    constexpr bool has_value() const noexcept {
        return has_value_;
    }
    constexpr explicit operator bool() const noexcept {
        return has_value_;
    }
    constexpr void operator*() const noexcept {}
    constexpr void value() const& {
        if (!has_value_) detail::throw_bad_expected_access(error_);
    }
    constexpr void value() && {
        if (!has_value_) detail::throw_bad_expected_access(error_);
    }
    constexpr const E& error() const& noexcept {
        return error_;
    }
    constexpr E& error() & noexcept {
        return error_;
    }
    constexpr const E&& error() const&& noexcept {
        return std::move(error_);
    }
    constexpr E&& error() && noexcept {
        return std::move(error_);
    }
    template <class G = E>
    constexpr E error_or(G&& fallback) const& {
        return has_value_ ? static_cast<E>(std::forward<G>(fallback)) : error_;
    }

    template <class F>
    constexpr auto and_then(F&& f) & {
        return and_then_impl(*this, std::forward<F>(f));
    }
    template <class F>
    constexpr auto and_then(F&& f) const& {
        return and_then_impl(*this, std::forward<F>(f));
    }
    template <class F>
    constexpr auto and_then(F&& f) && {
        return and_then_impl(std::move(*this), std::forward<F>(f));
    }
    template <class F>
    constexpr auto or_else(F&& f) & {
        return or_else_impl(*this, std::forward<F>(f));
    }
    template <class F>
    constexpr auto or_else(F&& f) const& {
        return or_else_impl(*this, std::forward<F>(f));
    }
    template <class F>
    constexpr auto or_else(F&& f) && {
        return or_else_impl(std::move(*this), std::forward<F>(f));
    }
    template <class F>
    constexpr auto transform(F&& f) & {
        return transform_impl(*this, std::forward<F>(f));
    }
    template <class F>
    constexpr auto transform(F&& f) const& {
        return transform_impl(*this, std::forward<F>(f));
    }
    template <class F>
    constexpr auto transform(F&& f) && {
        return transform_impl(std::move(*this), std::forward<F>(f));
    }
    template <class F>
    constexpr auto transform_error(F&& f) & {
        return transform_error_impl(*this, std::forward<F>(f));
    }
    template <class F>
    constexpr auto transform_error(F&& f) const& {
        return transform_error_impl(*this, std::forward<F>(f));
    }
    template <class F>
    constexpr auto transform_error(F&& f) && {
        return transform_error_impl(std::move(*this), std::forward<F>(f));
    }

    template <class G>
    friend constexpr bool operator==(const expected& a, const expected<void, G>& b) {
        if (a.has_value() != b.has_value()) return false;
        return a.has_value() || static_cast<bool>(a.error() == b.error());
    }
    template <class G>
    friend constexpr bool operator==(const expected& a, const unexpected<G>& e) {
        return !a.has_value() && static_cast<bool>(a.error() == e.error());
    }

private:
    template <class Self, class F>
    static constexpr auto and_then_impl(Self&& self, F&& f) {
        using R = std::remove_cvref_t<std::invoke_result_t<F>>;
        if (self.has_value()) return std::forward<F>(f)();
        return R(unexpect, std::forward<Self>(self).error());
    }
    template <class Self, class F>
    static constexpr auto or_else_impl(Self&& self, F&& f) {
        using R = std::remove_cvref_t<std::invoke_result_t<F, decltype(std::forward<Self>(self).error())>>;
        if (self.has_value()) return R();
        return std::forward<F>(f)(std::forward<Self>(self).error());
    }
    template <class Self, class F>
    static constexpr auto transform_impl(Self&& self, F&& f) {
        using U = std::remove_cv_t<std::invoke_result_t<F>>;
        using R = expected<U, E>;
        if (!self.has_value()) return R(unexpect, std::forward<Self>(self).error());
        if constexpr (std::is_void_v<U>) {
            std::forward<F>(f)();
            return R();
        } else {
            return R(std::in_place, std::forward<F>(f)());
        }
    }
    template <class Self, class F>
    static constexpr auto transform_error_impl(Self&& self, F&& f) {
        using G = std::remove_cv_t<std::invoke_result_t<F, decltype(std::forward<Self>(self).error())>>;
        using R = expected<void, G>;
        if (self.has_value()) return R();
        return R(unexpect, std::forward<F>(f)(std::forward<Self>(self).error()));
    }
    constexpr void reset() noexcept {
        if (!has_value_) error_.~E();
    }

    union {
        E error_;
    };
    bool has_value_;
};

#endif  // NETLITE_HAS_STD_EXPECTED

}  // namespace netlite
