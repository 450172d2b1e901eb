// ConstBuffer and MutableBuffer: what each kind of argument views, byte for byte.
#include "catch.hpp"

#include <netlite/buffer.hpp>

#include <array>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

using netlite::ConstBuffer;
using netlite::MutableBuffer;

TEST_CASE("text arguments view their characters without a terminating NUL", "[buffer]") {
    CHECK(ConstBuffer("hello").size() == 5);
    CHECK(ConstBuffer("").size() == 0);
    CHECK(ConstBuffer("a\0b").size() == 3);  // a literal's embedded NUL is data
    const char* c_string = "c string";
    CHECK(ConstBuffer(c_string).size() == 8);
    const std::string text = "string";
    CHECK(ConstBuffer(text).size() == 6);
    CHECK(ConstBuffer(text).data() == reinterpret_cast<const std::byte*>(text.data()));
    CHECK(ConstBuffer(std::string_view("view")).size() == 4);
    static constexpr char no_terminator[3] = {'x', 'y', 'z'};
    CHECK(ConstBuffer(no_terminator).size() == 3);
}

// Regression: a writable char array was taken as a C string, so `char data[64] = {}` sent 0 bytes and
// binary data was cut at its first zero byte.
TEST_CASE("a writable char array is a buffer: all of it, zero bytes included", "[buffer]") {
    char zeros[64] = {};
    CHECK(ConstBuffer(zeros).size() == 64);
    char binary[4] = {'\x01', '\0', '\x02', '\0'};
    const ConstBuffer view(binary);
    CHECK(view.size() == 4);
    CHECK(view.data() == reinterpret_cast<const std::byte*>(binary));
    CHECK(MutableBuffer(binary).size() == ConstBuffer(binary).size());  // what a read fills, a write sends
}

TEST_CASE("byte ranges view their whole contents", "[buffer]") {
    std::array<char, 16> array{};
    std::vector<unsigned char> vector(7);
    std::array<std::byte, 5> bytes{};
    CHECK(ConstBuffer(array).size() == 16);
    CHECK(ConstBuffer(vector).size() == 7);
    CHECK(ConstBuffer(std::span<const std::byte>(bytes)).size() == 5);
    CHECK(MutableBuffer(array).size() == 16);
    CHECK(MutableBuffer(vector).size() == 7);
    CHECK(MutableBuffer(array).data() == reinterpret_cast<std::byte*>(array.data()));
    const ConstBuffer from_mutable = MutableBuffer(array);
    CHECK(from_mutable.size() == 16);
}

TEST_CASE("advanced() skips a prefix and clamps at the end", "[buffer]") {
    const ConstBuffer text("abcdef");
    CHECK(text.advanced(2).size() == 4);
    CHECK(text.advanced(2).data() == text.data() + 2);
    CHECK(text.advanced(100).size() == 0);
    char storage[8] = {};
    CHECK(MutableBuffer(storage).advanced(8).size() == 0);
    CHECK(MutableBuffer(storage).advanced(3).size() == 5);
}
