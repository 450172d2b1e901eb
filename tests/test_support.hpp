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

// Helpers the socket tests share: each REQUIREs or CHECKs what it reads, so a failure names its cause.
namespace netlite_test {
/// A connected stream pair of family F (netlite::testing::loopback_pair); REQUIREs that it was made, so a
/// test can bind it at once: `auto [client, server] = netlite_test::require_loopback_pair<F>();`.
template <class F>
std::pair<netlite::TcpStream<F>, netlite::TcpStream<F>> require_loopback_pair() {
    auto pair = netlite::testing::loopback_pair<F>();
    REQUIRE_OK(pair);
    return std::move(*pair);
}

/// The local and peer addresses of both ends of one connection.
template <class F>
struct ConnectionAddresses {
    netlite::Address<F> client_local;
    netlite::Address<F> client_peer;
    netlite::Address<F> server_local;
    netlite::Address<F> server_peer;
};

/// Reads the four addresses of the connection between `client` and `server`, REQUIRing each one.
template <class F>
ConnectionAddresses<F> require_connection_addresses(const netlite::TcpStream<F>& client,
                                                    const netlite::TcpStream<F>& server) {
    auto client_local = client.local_address();
    auto client_peer = client.peer_address();
    auto server_local = server.local_address();
    auto server_peer = server.peer_address();
    REQUIRE_OK(client_local);
    REQUIRE_OK(client_peer);
    REQUIRE_OK(server_local);
    REQUIRE_OK(server_peer);
    return {*client_local, *client_peer, *server_local, *server_peer};
}

/// Where `supported`, REQUIREs that `result` holds a value and returns true; elsewhere CHECKs that it
/// failed with operation_not_supported and returns false: the caller then stops, having nothing to test.
template <class R>
bool require_ok_where_supported(const R& result, bool supported) {
    if (!supported) {
        CHECK_FAILS_WITH(result, std::errc::operation_not_supported);
        return false;
    }
    REQUIRE_OK(result);
    return true;
}

/// Sends `text` from `sender` to the multicast address `to` out of the interface numbered `via`, looped
/// back, and CHECKs that `receiver` gets it within 5 s. Returns why the test cannot go on here (the system
/// sends no multicast on loopback, or does not loop it back), or an empty string once the datagram came.
template <class F>
std::string multicast_round_trip(netlite::UdpSocket<F>& sender, unsigned via, const netlite::Address<F>& to,
                                 netlite::UdpSocket<F>& receiver, std::string_view text) {
    REQUIRE_OK(sender.set_multicast_interface(via));
    REQUIRE_OK(sender.set_multicast_loop(true));
    auto sent = sender.send_to(text, to);
    if (!sent) return "cannot send multicast on loopback here: " + sent.error().message();
    char buffer[256];
    auto got = receiver.recv_from(buffer, std::chrono::seconds(5));
    if (!got && got.error() == std::errc::timed_out)
        return "this system does not loop multicast back on the loopback interface";
    REQUIRE_OK(got);
    CHECK(std::string(buffer, got->size) == text);
    return {};
}

/// The value `result` holds; REQUIREs that it holds one, printing the error when it does not.
template <class T>
T require_value(const netlite::Result<T>& result) {
    REQUIRE_OK(result);
    return *result;
}
}  // namespace netlite_test
