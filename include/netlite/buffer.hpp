// SPDX-License-Identifier: BSL-1.0
// netlite/buffer.hpp - ConstBuffer and MutableBuffer: a pointer and a size, made from what users hold.
//
// Every read takes a MutableBuffer and every write a ConstBuffer, so a call accepts a char array,
// std::array, std::vector<std::byte>, std::string, std::span or a string literal without casts.
#pragma once

#include <netlite/detail/config.hpp>  // first: the C++20 floor, with a readable message

#include <cstddef>
#include <cstring>
#include <string_view>
#include <type_traits>
#include <utility>

namespace netlite {

namespace detail {
template <class T>
concept ByteLike = sizeof(T) == 1 &&
                   (std::is_integral_v<T> || std::is_same_v<T, std::byte>)&&!std::is_same_v<T, bool>;

// std::data/std::size (declared by <string_view>) instead of <ranges>: the same reach, far less to compile.
template <class R>
using element_t = std::remove_pointer_t<decltype(std::data(std::declval<R>()))>;

template <class R>
concept ContiguousBytes = requires(R range) {
    std::data(range);
    std::size(range);
}
&&ByteLike<std::remove_cv_t<element_t<R>>>;

template <class R>
concept CharArray = std::is_array_v<std::remove_cvref_t<R>> &&
                    std::is_same_v < std::remove_cv_t<std::remove_extent_t<std::remove_cvref_t<R>>>,
char > ;
}  // namespace detail

/// Writable bytes to receive into. Views the caller's memory; owns nothing.
class MutableBuffer {
public:
    constexpr MutableBuffer() noexcept = default;
    /// The `size` bytes at `data`.
    MutableBuffer(void* data, std::size_t size) noexcept
        : data_(static_cast<std::byte*>(data)), size_(size) {}
    /// Any contiguous range of non-const bytes: char[N], std::array, std::vector, std::string, std::span.
    template <class R>
    requires detail::ContiguousBytes<R&> &&
        (!std::is_const_v<detail::element_t<R&>>)MutableBuffer(R& range) noexcept
        : data_(reinterpret_cast<std::byte*>(std::data(range))), size_(std::size(range)) {}

    /// The first byte.
    constexpr std::byte* data() const noexcept { return data_; }
    /// The number of bytes.
    constexpr std::size_t size() const noexcept { return size_; }
    /// The bytes after the first `count` (count is clamped to size()).
    MutableBuffer advanced(std::size_t count) const noexcept {
        if (count > size_) count = size_;
        return {data_ + count, size_ - count};
    }

private:
    std::byte* data_ = nullptr;
    std::size_t size_ = 0;
};

/// Read-only bytes to send. Views the caller's memory; owns nothing.
class ConstBuffer {
public:
    constexpr ConstBuffer() noexcept = default;
    /// The `size` bytes at `data`.
    ConstBuffer(const void* data, std::size_t size) noexcept
        : data_(static_cast<const std::byte*>(data)), size_(size) {}
    /// Text: a std::string_view or std::string.
    ConstBuffer(std::string_view text) noexcept
        : data_(reinterpret_cast<const std::byte*>(text.data())), size_(text.size()) {}
    /// A NUL-terminated C string (a char pointer), without the NUL. A template, so that an array argument
    /// prefers the array constructors below instead of decaying to a pointer.
    template <class Pointer>
    requires std::is_same_v<Pointer, const char*> || std::is_same_v<Pointer, char*> ConstBuffer(Pointer text)
    noexcept : ConstBuffer(std::string_view(text)) {}
    /// A string literal (or another const char array): every character but the terminating NUL, so
    /// "a\0b" is three bytes.
    template <std::size_t N>
    ConstBuffer(const char (&text)[N]) noexcept
        : data_(reinterpret_cast<const std::byte*>(text)), size_(N > 0 && text[N - 1] == '\0' ? N - 1 : N) {}
    /// A writable char array is a buffer, not text: all N bytes, NULs included (as MutableBuffer takes it),
    /// so binary data in `char buffer[N]` is never cut at its first zero byte.
    template <std::size_t N>
    ConstBuffer(char (&bytes)[N]) noexcept : data_(reinterpret_cast<const std::byte*>(bytes)), size_(N) {}
    /// Any contiguous range of bytes (std::string, std::vector, std::array, std::span) except a char array,
    /// which the two constructors above take.
    template <class R>
    requires detail::ContiguousBytes<const R&> &&(!detail::CharArray<R>)ConstBuffer(const R& range) noexcept
        : data_(reinterpret_cast<const std::byte*>(std::data(range))), size_(std::size(range)) {}
    /// The same bytes, read-only.
    ConstBuffer(MutableBuffer buffer) noexcept : data_(buffer.data()), size_(buffer.size()) {}

    /// The first byte.
    constexpr const std::byte* data() const noexcept { return data_; }
    /// The number of bytes.
    constexpr std::size_t size() const noexcept { return size_; }
    /// The bytes after the first `count` (count is clamped to size()).
    ConstBuffer advanced(std::size_t count) const noexcept {
        if (count > size_) count = size_;
        return {data_ + count, size_ - count};
    }

private:
    const std::byte* data_ = nullptr;
    std::size_t size_ = 0;
};

}  // namespace netlite
