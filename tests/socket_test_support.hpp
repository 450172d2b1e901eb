// What the socket tests share: the netlite names they use unqualified, declared once (a test file says
// `using namespace netlite_test::socket_names;` and declares only the names of its own beside it), the
// skip for a family this machine lacks, option round trips, and reading back where a socket is bound. Apart
// from test_support.hpp, so that a test with assertion helpers of its own (udp_test) can use it too.
#pragma once

#include "catch.hpp"

#include <netlite/tcp.hpp>
#include <netlite/testing.hpp>
#include <netlite/udp.hpp>

#include <chrono>
#include <string>

namespace netlite_test::socket_names {
using namespace std::chrono_literals;
using netlite::Address;
using netlite::IP;
using netlite::IPv4;
using netlite::IPv6;
using netlite::TcpStream;
using netlite::UdpSocket;
using netlite::Unix;
using netlite::testing::TempPath;
}  // namespace netlite_test::socket_names

namespace netlite_test {
/// The address `socket` (any netlite socket) is bound to; REQUIREs that it can be read.
template <class S>
auto require_local_address(const S& socket) {
    auto where = socket.local_address();
    INFO("local_address(): " << (where ? std::string("ok") : where.error().message()));
    REQUIRE(where.has_value());
    return *where;
}
}  // namespace netlite_test

// Skips a family-parameterised test where this machine lacks the family F (IPv6 switched off, no AF_UNIX
// as under wine). A macro: NETLITE_SKIP returns from the test case.
#define SKIP_UNLESS_AVAILABLE(F)                                                            \
    do {                                                                                    \
        if (!netlite::testing::available<F>())                                              \
            NETLITE_SKIP("family unavailable here (no IPv6, or no AF_UNIX as under wine)"); \
    } while (false)

// Sets the option `name` of `socket` to each value of the braced list in turn (socket.set_<name>(value)),
// REQUIRing success, and CHECKs that socket.<name>() reads it back. A macro: an option is a pair of members.
// The test supplies REQUIRE_OK (test_support.hpp's or its own).
#define CHECK_OPTION_ROUND_TRIP(socket, name, ...)      \
    for (const auto& option_value_ : __VA_ARGS__) {     \
        INFO(#name " set to " << option_value_);        \
        REQUIRE_OK((socket).set_##name(option_value_)); \
        const auto option_read_ = (socket).name();      \
        REQUIRE_OK(option_read_);                       \
        CHECK(*option_read_ == option_value_);          \
    }
