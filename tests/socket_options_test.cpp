// Tests for any socket option, typed (issue 21, item 2; include/netlite/socket_options.hpp): the generic
// RawOption get/set, and each typed option at the edges of what it takes (0, 1, the largest, one past
// it, negative). Where the platform lacks an option the calls fail with operation_not_supported.
// Loopback only.
#include "catch.hpp"
#include "socket_test_support.hpp"
#include "test_support.hpp"

#include <netlite/socket.hpp>
#include <netlite/tcp.hpp>
#include <netlite/testing.hpp>
#include <netlite/udp.hpp>

#include <chrono>
#include <climits>
#include <limits>
#include <string>
#include <system_error>

#if defined(_WIN32)
#include <winsock2.h>
#else
#include <sys/socket.h>
#endif

namespace {

using namespace netlite_test::socket_names;
using netlite::RawOption;
using netlite::Result;

// Which options this build offers (docs/platforms.md): Linux has them all; the portable-POSIX paths
// have TCP_FASTOPEN and the type of service (and TCP_NOPUSH on a real BSD); Windows the type of service.
#if defined(__linux__) && !defined(NETLITE_PORTABLE_POSIX)
constexpr bool linux_options = true;
#else
constexpr bool linux_options = false;
#endif
#if defined(_WIN32)
constexpr bool has_fastopen = false;
#else
constexpr bool has_fastopen = true;
#endif

/// CHECKs that `result` holds `expected`, or, where the platform lacks the option, that it failed with
/// operation_not_supported.
template <class R, class V>
void check_value_or_unsupported(const R& result, const V& expected, bool supported) {
    INFO(netlite_test::describe(result));
    if (!supported) {
        REQUIRE_FALSE(result.has_value());
        CHECK(result.error() == std::errc::operation_not_supported);
        return;
    }
    REQUIRE(result.has_value());
    CHECK(*result == expected);
}

TEST_CASE("RawOption: any option by level and name", "[options][raw]") {
    auto socket = UdpSocket<IPv4>::bind(Address<IPv4>::loopback(0));
    REQUIRE_OK(socket);
    const RawOption<int> broadcast{SOL_SOCKET, SO_BROADCAST};
    REQUIRE_OK(socket->set_option(broadcast, 1));
    CHECK(socket->option(broadcast) == Result<int>(1));
    CHECK(socket->broadcast() == Result<bool>(true));  // the typed call sees what the raw one set
    REQUIRE_OK(socket->set_option(broadcast, 0));
    CHECK(socket->option(broadcast) == Result<int>(0));

    const RawOption<int> receive_buffer{SOL_SOCKET, SO_RCVBUF};
    REQUIRE_OK(socket->set_option(receive_buffer, 64 * 1024));
    CHECK(socket->option(receive_buffer) == socket->recv_buffer_size());

    SECTION("an unknown name is the OS's error") {
        const RawOption<int> unknown{SOL_SOCKET, 0x7ead};
        CHECK_FAILS_WITH(socket->set_option(unknown, 1), std::errc::no_protocol_option);
        CHECK_FAILS_WITH(socket->option(unknown), std::errc::no_protocol_option);
    }
    SECTION("an empty socket") {
        UdpSocket<IPv4> empty;
        CHECK_FAILS_WITH(empty.set_option(broadcast, 1), std::errc::bad_file_descriptor);
        CHECK_FAILS_WITH(empty.option(broadcast), std::errc::bad_file_descriptor);
    }
}

TEMPLATE_TEST_CASE("set_type_of_service: IP_TOS / IPV6_TCLASS take 0..255", "[options][tos]", IPv4, IPv6) {
    SKIP_UNLESS_AVAILABLE(TestType);
    auto socket = UdpSocket<TestType>::bind(netlite::testing::loopback<TestType>());
    REQUIRE_OK(socket);
    if (auto probe = socket->set_type_of_service(0);
        netlite_test::under_wine() && !probe && probe.error() == std::errc::no_protocol_option)
        NETLITE_SKIP("wine has no IPV6_TCLASS (Windows has)");
    for (int value : {0, 1, 0x2e << 2, 255}) {
        INFO("value " << value);
        REQUIRE_OK(socket->set_type_of_service(value));
        CHECK(socket->type_of_service() == Result<int>(value));
    }
    for (int value : {256, -1, INT_MAX, INT_MIN})
        CHECK_FAILS_WITH(socket->set_type_of_service(value), std::errc::invalid_argument);
    CHECK(socket->type_of_service() == Result<int>(255));  // a refused value changed nothing
}

TEST_CASE("set_type_of_service on an Address<IP> socket picks the family's option", "[options][tos]") {
    auto v4 = UdpSocket<IP>::bind(Address<IP>(Address<IPv4>::loopback(0)));
    REQUIRE_OK(v4);
    REQUIRE_OK(v4->set_type_of_service(0x20));
    CHECK(v4->type_of_service() == Result<int>(0x20));
    CHECK(v4->option(RawOption<int>{IPPROTO_IP, IP_TOS}) == Result<int>(0x20));
}

TEST_CASE("set_user_timeout: 0 .. INT_MAX milliseconds", "[options][tcp]") {
    auto socket = netlite::Socket<IPv4, netlite::Stream>::open();
    REQUIRE_OK(socket);
    using ms = std::chrono::milliseconds;
    for (ms value : {ms(0), ms(1), ms(30000), ms(INT_MAX)}) {
        INFO("value " << value.count() << " ms");
        auto set = socket->set_user_timeout(value);
        check_value_or_unsupported(
            set.has_value() ? socket->user_timeout() : Result<ms>(netlite::fail(set.error())), value,
            linux_options);
    }
    for (ms value : {ms(std::int64_t{INT_MAX} + 1), ms(-1), ms::max(), ms::min()})
        CHECK_FAILS_WITH(socket->set_user_timeout(value), std::errc::invalid_argument);
    CHECK_FAILS_WITH(
        socket->set_user_timeout(std::chrono::duration_cast<ms>(std::chrono::hours(24 * 365 * 100))),
        std::errc::invalid_argument);
}

TEST_CASE("set_cork, set_quickack, set_fastopen_connect: on and off", "[options][tcp]") {
    auto pair = netlite::testing::loopback_pair<IPv4>();
    REQUIRE_OK(pair);
    TcpStream<IPv4>& stream = pair->first;
    for (bool on : {true, false, true}) {
        INFO("on " << on);
        auto cork = stream.set_cork(on);
        check_value_or_unsupported(cork ? stream.cork() : Result<bool>(netlite::fail(cork.error())), on,
                                   linux_options);
        auto quickack = stream.set_quickack(on);
        check_value_or_unsupported(
            quickack ? stream.quickack() : Result<bool>(netlite::fail(quickack.error())), on, linux_options);
    }
    auto fresh = netlite::Socket<IPv4, netlite::Stream>::open();  // TCP_FASTOPEN_CONNECT: before connect
    REQUIRE_OK(fresh);
    auto fastopen = fresh->set_fastopen_connect(true);
    check_value_or_unsupported(
        fastopen ? fresh->fastopen_connect() : Result<bool>(netlite::fail(fastopen.error())), true,
        linux_options);
}

TEST_CASE("set_fastopen: a listener's queue of 0 .. INT_MAX", "[options][tcp]") {
    for (int value : {0, 1, 16, INT_MAX}) {
        INFO("value " << value);
        auto socket = netlite::Socket<IPv4, netlite::Stream>::open();
        REQUIRE_OK(socket);
        if (!netlite_test::require_ok_where_supported(socket->set_fastopen(value), has_fastopen)) continue;
        auto read = socket->fastopen();
        REQUIRE_OK(read);
        if (value <= 16)
            CHECK(*read == value);
        else
            CHECK(*read > 0);  // the kernel clamps a huge queue (Linux: to somaxconn)
    }
    auto socket = netlite::Socket<IPv4, netlite::Stream>::open();
    REQUIRE_OK(socket);
    for (int value : {-1, INT_MIN})
        CHECK_FAILS_WITH(socket->set_fastopen(value), std::errc::invalid_argument);
}

TEST_CASE("set_bound_device: SO_BINDTODEVICE by interface name", "[options][device]") {
    auto socket = UdpSocket<IPv4>::open();
    REQUIRE_OK(socket);
    const std::string too_long(300, 'x');
    CHECK_FAILS_WITH(socket->set_bound_device(too_long), std::errc::invalid_argument);
    CHECK_FAILS_WITH(socket->set_bound_device(std::string_view("lo\0x", 4)), std::errc::invalid_argument);
    if (!linux_options) {
        CHECK_FAILS_WITH(socket->set_bound_device("lo"), std::errc::operation_not_supported);
        CHECK_FAILS_WITH(socket->bound_device(), std::errc::operation_not_supported);
        return;
    }
    CHECK(socket->bound_device() == Result<std::string>(""));
    auto bound = socket->set_bound_device("lo");
    if (!bound && bound.error() == std::errc::operation_not_permitted)
        NETLITE_SKIP("SO_BINDTODEVICE needs CAP_NET_RAW on this kernel");
    REQUIRE_OK(bound);
    CHECK(socket->bound_device() == Result<std::string>("lo"));
    CHECK_FAILS_WITH(socket->set_bound_device(std::string(15, 'x')),
                     std::errc::no_such_device);  // longest name
    CHECK_FAILS_WITH(socket->set_bound_device(std::string(16, 'x')),
                     std::errc::invalid_argument);  // IFNAMSIZ
    REQUIRE_OK(socket->set_bound_device(""));
    CHECK(socket->bound_device() == Result<std::string>(""));
}

TEST_CASE("tcp_info: round-trip time, retransmissions, congestion window", "[options][tcp]") {
    auto pair = netlite::testing::loopback_pair<IPv4>();
    REQUIRE_OK(pair);
    REQUIRE_OK(pair->first.write_all(std::string_view("ping")));
    char buffer[4];
    REQUIRE_OK(pair->second.read_exact(buffer));
    auto info = pair->first.tcp_info();
    if (!netlite_test::require_ok_where_supported(info, linux_options)) return;
    CHECK(info->rtt >= 0us);
    CHECK(info->rtt < 10s);
    CHECK(info->congestion_window > 0);
    CHECK(info->retransmits < 1000);
    TcpStream<IPv4> empty;
    CHECK_FAILS_WITH(empty.tcp_info(), std::errc::bad_file_descriptor);
}

TEST_CASE("typed options on an empty socket fail with EBADF (or operation_not_supported)", "[options]") {
    TcpStream<IPv4> empty;
    CHECK_FAILS_WITH(empty.set_type_of_service(0), std::errc::bad_file_descriptor);
    CHECK_FAILS_WITH(empty.type_of_service(), std::errc::bad_file_descriptor);
    const auto expected = linux_options ? std::errc::bad_file_descriptor : std::errc::operation_not_supported;
    CHECK_FAILS_WITH(empty.set_user_timeout(1ms), expected);
    CHECK_FAILS_WITH(empty.set_cork(true), expected);
    CHECK_FAILS_WITH(empty.quickack(), expected);
}

}  // namespace
