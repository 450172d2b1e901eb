// Winsock specifics of detail/sys_winsock.hpp (built on Windows only): the error category, lazy
// WSAStartup, non-inheritable sockets, the blocking mode netlite tracks, and the WSAPoll and wake-up
// fixes. Behaviour that every platform shares is tested in the other files and portability_smoke.
#include "test_support.hpp"

#include <netlite/detail/sys.hpp>
#include <netlite/socket.hpp>
#include <netlite/tcp.hpp>
#include <netlite/udp.hpp>

#include <array>
#include <chrono>
#include <string_view>
#include <system_error>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
namespace sys = netlite::detail::sys;

namespace {

std::error_code winsock(int code) {
    return {code, sys::winsock_category()};
}

bool inheritable(sys::native_handle fd) {
    DWORD flags = 0;
    REQUIRE(::GetHandleInformation(reinterpret_cast<HANDLE>(fd), &flags));
    return (flags & HANDLE_FLAG_INHERIT) != 0;
}

struct Pair {
    netlite::TcpListener<netlite::IPv4> listener;
    netlite::TcpStream<netlite::IPv4> client;
    netlite::TcpStream<netlite::IPv4> server;
};

Pair connected_pair(bool nonblocking_listener = false) {
    auto listener = netlite::TcpListener<netlite::IPv4>::bind(netlite::Address<netlite::IPv4>::loopback(0));
    REQUIRE_OK(listener);
    if (nonblocking_listener) REQUIRE_OK(listener->set_nonblocking(true));
    auto address = listener->local_address();
    REQUIRE_OK(address);
    auto client = netlite::TcpStream<netlite::IPv4>::connect(*address);
    REQUIRE_OK(client);
    auto accepted = listener->accept(5s);
    REQUIRE_OK(accepted);
    return Pair{std::move(*listener), std::move(*client), std::move(accepted->stream)};
}

}  // namespace

TEST_CASE("WSAE* codes compare equal to the std::errc POSIX gives", "[winsock][errors]") {
    CHECK(winsock(WSAECONNREFUSED) == std::errc::connection_refused);
    CHECK(winsock(WSAETIMEDOUT) == std::errc::timed_out);
    CHECK(winsock(WSAEWOULDBLOCK) == std::errc::operation_would_block);
    // Regression: POSIX's EAGAIN is EWOULDBLOCK, mingw's are two values; a would-block matched only one.
    CHECK(winsock(WSAEWOULDBLOCK) == std::errc::resource_unavailable_try_again);
    CHECK_FALSE(winsock(WSAECONNRESET) == std::errc::resource_unavailable_try_again);
    CHECK(winsock(WSAECONNRESET) == std::errc::connection_reset);
    CHECK(winsock(WSAECONNABORTED) == std::errc::connection_aborted);
    CHECK(winsock(WSAEADDRINUSE) == std::errc::address_in_use);
    CHECK(winsock(WSAEADDRNOTAVAIL) == std::errc::address_not_available);
    CHECK(winsock(WSAEAFNOSUPPORT) == std::errc::address_family_not_supported);
    CHECK(winsock(WSAENETUNREACH) == std::errc::network_unreachable);
    CHECK(winsock(WSAEHOSTUNREACH) == std::errc::host_unreachable);
    CHECK(winsock(WSAENOTCONN) == std::errc::not_connected);
    CHECK(winsock(WSAEMSGSIZE) == std::errc::message_size);
    CHECK(winsock(WSAEINVAL) == std::errc::invalid_argument);
    CHECK(winsock(WSAENOTSOCK) == std::errc::not_a_socket);
    CHECK(winsock(WSAEMFILE) == std::errc::too_many_files_open);
    CHECK(winsock(WSAESHUTDOWN) == std::errc::broken_pipe);
    CHECK(winsock(WSAENOPROTOOPT) == std::errc::no_protocol_option);
    CHECK_FALSE(winsock(WSAECONNREFUSED) == std::errc::timed_out);
    // netlite's would_block() test, which the try_* calls rely on, sees Winsock's code.
    CHECK(sys::would_block(netlite::Error(winsock(WSAEWOULDBLOCK), "recv")));
}

TEST_CASE("Winsock errors read as they do on POSIX, and unmapped ones keep Windows' text",
          "[winsock][errors]") {
    CHECK(winsock(WSAECONNREFUSED).message() == "Connection refused");
    CHECK(std::string_view(sys::winsock_category().name()) == "winsock");
    const auto unmapped = winsock(WSASYSNOTREADY);
    CHECK(unmapped.default_error_condition().category() == sys::winsock_category());
    CHECK_FALSE(unmapped.message().empty());
    const netlite::Error error(winsock(WSAECONNREFUSED), "connect");
    CHECK(error.message() == "connect: Connection refused");
}

TEST_CASE("WSAStartup runs once, from whichever thread gets there first", "[winsock]") {
    std::vector<std::thread> threads;
    std::array<int, 4> status{-1, -1, -1, -1};
    for (std::size_t i = 0; i < status.size(); ++i)
        threads.emplace_back([&, i] { status[i] = sys::start_winsock(); });
    for (auto& thread : threads) thread.join();
    for (const int s : status) CHECK(s == 0);
}

TEST_CASE("Sockets are not inherited by child processes, accepted ones included", "[winsock]") {
    auto pair = connected_pair();
    CHECK_FALSE(inheritable(pair.listener.native_handle()));
    CHECK_FALSE(inheritable(pair.client.native_handle()));
    CHECK_FALSE(inheritable(pair.server.native_handle()));
}

TEST_CASE("The blocking mode netlite set is what it reports", "[winsock]") {
    auto pair = connected_pair();
    auto before = pair.client.nonblocking();
    REQUIRE_OK(before);
    CHECK_FALSE(*before);
    REQUIRE_OK(pair.client.set_nonblocking(true));
    auto after = pair.client.nonblocking();
    REQUIRE_OK(after);
    CHECK(*after);
    std::array<char, 8> buffer{};
    CHECK_FAILS_WITH(pair.client.read(buffer), std::errc::operation_would_block);
}

TEST_CASE("A connection accepted by a non-blocking listener is blocking, as with accept4", "[winsock]") {
    // Winsock gives the accepted socket the listener's non-blocking mode; netlite clears it. Blocking, a
    // read with a receive timeout times out; non-blocking it would fail at once with would-block.
    auto pair = connected_pair(true);
    auto mode = pair.server.nonblocking();
    REQUIRE_OK(mode);
    CHECK_FALSE(*mode);
    REQUIRE_OK(pair.server.set_read_timeout(100ms));
    std::array<char, 8> buffer{};
    CHECK_FAILS_WITH(pair.server.read(buffer), std::errc::timed_out);
}

TEST_CASE("The wake-up socket wakes a wait and drains", "[winsock]") {
    sys::WakeFd wake;
    REQUIRE(wake.ok());
    auto idle = sys::ready_now(wake.fd(), sys::poll_in, "poll");
    REQUIRE_OK(idle);
    CHECK_FALSE(*idle);
    wake.signal();
    wake.signal();
    sys::poll_entry entry{wake.fd(), sys::poll_in, 0};
    auto ready = sys::poll_for(&entry, 1, sys::Clock::now() + 5s);
    REQUIRE_OK(ready);
    CHECK(*ready == 1);
    sys::drain(wake.fd());
    auto drained = sys::ready_now(wake.fd(), sys::poll_in, "poll");
    REQUIRE_OK(drained);
    CHECK_FALSE(*drained);
}

TEST_CASE("poll_for: a peer's FIN is readable, skipped entries are left out, nothing to wait on sleeps",
          "[winsock][poll]") {
    auto pair = connected_pair();
    pair.server.close();
    std::array<sys::poll_entry, 2> entries{sys::poll_entry{sys::invalid_handle, sys::poll_in, 0},
                                           sys::poll_entry{pair.client.native_handle(), sys::poll_in, 0}};
    auto ready = sys::poll_for(entries.data(), entries.size(), sys::Clock::now() + 5s);
    REQUIRE_OK(ready);
    CHECK(*ready == 1);
    CHECK(entries[0].revents == 0);
    CHECK((entries[1].revents & sys::poll_in) != 0);

    const auto start = sys::Clock::now();
    auto slept = sys::poll_for(nullptr, 0, start + 50ms);
    REQUIRE_OK(slept);
    CHECK(*slept == 0);
    CHECK(sys::Clock::now() - start >= 50ms);
}

TEST_CASE("Keep-alive timing goes through SIO_KEEPALIVE_VALS where the per-option names are missing",
          "[winsock]") {
    auto pair = connected_pair();
    // Windows' fixed probe count is 10; any count works where TCP_KEEPCNT exists (Windows 10 1709).
    CHECK_OK(pair.client.set_keepalive_params({std::chrono::seconds(30), std::chrono::seconds(5), 10}));
}

TEST_CASE("A listener takes its port exclusively: SO_REUSEADDR elsewhere cannot steal it", "[winsock]") {
    auto first = netlite::TcpListener<netlite::IPv4>::bind(netlite::Address<netlite::IPv4>::loopback(0));
    REQUIRE_OK(first);
    auto exclusive = sys::get_int_option(first->native_handle(), sys::option::exclusive_address);
    REQUIRE_OK(exclusive);
    CHECK(*exclusive != 0);
    auto address = first->local_address();
    REQUIRE_OK(address);
    auto thief = netlite::Socket<netlite::IPv4, netlite::Stream>::open();
    REQUIRE_OK(thief);
    REQUIRE_OK(thief->set_reuse_address(true));
    auto bound = sys::bind(thief->native_handle(), address->data(), address->size());
    REQUIRE_FALSE(bound.has_value());
    // Windows says WSAEACCES to a SO_REUSEADDR bind on an exclusive port; wine says it to any.
    CHECK((bound.error() == std::errc::permission_denied || bound.error() == std::errc::address_in_use));
}
