// Shared helpers for netlite's Catch2 tests: readable failure output for Results and a few
// assertion macros that print the error a failed call returned.
#pragma once

#include "catch.hpp"
#include "test_platform.hpp"

#include <netlite/result.hpp>
#include <netlite/testing.hpp>

#include <cstdint>
#include <string>

#include <type_traits>

namespace Catch {
template <>
struct StringMaker<netlite::Error> {
    static std::string convert(const netlite::Error& error) { return error.message(); }
};
template <>
struct StringMaker<netlite::TransferError> {
    static std::string convert(const netlite::TransferError& error) {
        return error.message() + " after " + std::to_string(error.bytes_transferred()) + " bytes";
    }
};
template <class T>
struct StringMaker<netlite::Result<T>> {
    static std::string convert(const netlite::Result<T>& result) {
        if (!result) return "error: " + result.error().message();
        if constexpr (std::is_void_v<T>)
            return "ok";
        else
            return Catch::Detail::stringify(*result);
    }
};
}  // namespace Catch

/// Open descriptors of this process (see netlite_test::open_descriptor_count); -1 when they cannot be
/// counted.
inline int open_fd_count() {
    return netlite_test::open_descriptor_count();
}

namespace netlite_test {
/// "ok", or the error's message: what an assertion on a Result prints.
template <class R>
std::string describe(const R& result) {
    return result.has_value() ? std::string("ok") : result.error().message();
}

/// Checks that `found` (what a resolve() gave) is a non-empty list of loopback addresses, all with `port`.
template <class Addresses>
void check_all_loopback(const Addresses& found, std::uint16_t port) {
    REQUIRE_FALSE(found.empty());
    for (const auto& address : found) {
        INFO(address);
        CHECK(address.is_loopback());
        CHECK(address.port() == port);
    }
}
}  // namespace netlite_test

// REQUIRE/CHECK that a Result holds a value (evaluated once), printing the error when it does not.
#define REQUIRE_OK(expr) NETLITE_TEST_ASSERT_OK_(REQUIRE, #expr, expr)
#define CHECK_OK(expr) NETLITE_TEST_ASSERT_OK_(CHECK, #expr, expr)
// REQUIRE_OK/CHECK_OK's body; `text` is the caller's expression as written, before macro expansion.
#define NETLITE_TEST_ASSERT_OK_(assertion, text, expr)     \
    do {                                                   \
        const auto& ok_ = (expr);                          \
        INFO(text << ": " << netlite_test::describe(ok_)); \
        assertion(ok_.has_value());                        \
    } while (false)
// CHECK that a Result failed with `code` (a std::errc or netlite::errc).
#define CHECK_FAILS_WITH(expr, code)                       \
    do {                                                   \
        const auto& r_ = (expr);                           \
        INFO(#expr << ": " << netlite_test::describe(r_)); \
        REQUIRE_FALSE(r_.has_value());                     \
        CHECK(r_.error() == (code));                       \
    } while (false)

// Skips a family-parameterised test when TestType's family is IPv6 and this machine has none.
#define SKIP_WITHOUT_IPV6(F)                                       \
    if constexpr (std::is_same_v<F, netlite::IPv6>) {              \
        if (!netlite::testing::available<netlite::IPv6>())         \
            NETLITE_SKIP("IPv6 is not available on this machine"); \
    }
