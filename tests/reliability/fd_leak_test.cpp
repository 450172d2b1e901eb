// Reliability: no descriptor leaks. 10,000 connect/accept/close cycles per family and every error path
// (refused connect, failed bind, timeouts, resets, out of descriptors, move-assign over an open socket,
// the destructor after a failed call, close() followed by the destructor) end with /proc/self/fd back
// at its starting count.
#include "reliability_support.hpp"

#include <fcntl.h>
#include <sys/resource.h>

#include <vector>

using namespace netlite;
using namespace reliability;

namespace {

// A cycle count large enough to notice one leaked descriptor per N cycles, with either default or soak.
constexpr int cycles = soak ? 100000 : 10000;

template <class T>
void move_assign(T& to, T& from) {
    to = std::move(from);
}

}  // namespace

TEMPLATE_TEST_CASE("10,000 connect/accept/close cycles leave the descriptor count where it was",
                   "[reliability][fd]", IPv4, IPv6, Unix) {
    SKIP_UNLESS_AVAILABLE(TestType);
    auto server = bind_server<TestType>();
    {  // one warm-up cycle: anything the C library opens once and keeps is counted in `before`
        auto client = TcpStream<TestType>::connect(server.address);
        REQUIRE_OK(client);
        REQUIRE_OK(server.listener.accept());
    }
    const std::size_t before = open_descriptors();
    for (int i = 0; i < cycles; ++i) {
        auto client = TcpStream<TestType>::connect(server.address);
        if (!client) FAIL("cycle " << i << ": connect: " << client.error().message());
        auto accepted = server.listener.accept();
        if (!accepted) FAIL("cycle " << i << ": accept: " << accepted.error().message());
        if constexpr (!std::is_same_v<TestType, Unix>) {
            // Most cycles end with a reset (linger 0), so 10,000 cycles do not fill the port range with
            // TIME_WAIT; every 4th closes in order.
            if (i % 4 != 0) REQUIRE_OK(client->set_linger(0s));
        }
        if (i % 2 == 0) REQUIRE_OK(client->close());  // half closed explicitly, half by the destructor
    }
    INFO("cycles: " << cycles);
    CHECK(open_descriptors() == before);
}

TEMPLATE_TEST_CASE("every error path releases its descriptor", "[reliability][fd]", IPv4, IPv6, Unix) {
    SKIP_UNLESS_AVAILABLE(TestType);
    using F = TestType;
    { auto warm = testing::loopback_pair<F>(); }
    const std::size_t before = open_descriptors();

    SECTION("refused connect, plain and with a deadline") {
        Address<F> gone;
        std::optional<testing::TempPath> temp;
        {
            auto server = bind_server<F>();
            gone = server.address;
            temp = std::move(server.temp);
        }  // the listener is closed: nobody listens at `gone` (a Unix path no longer exists)
        for (int i = 0; i < 100; ++i) {
            auto plain = TcpStream<F>::connect(gone);
            REQUIRE_FALSE(plain);
            CHECK((plain.error() == std::errc::connection_refused ||
                   plain.error() == std::errc::no_such_file_or_directory));
            auto timed = TcpStream<F>::connect(gone, 2s);
            REQUIRE_FALSE(timed);
            CHECK((timed.error() == std::errc::connection_refused ||
                   timed.error() == std::errc::no_such_file_or_directory));
        }
    }
    SECTION("failed bind of an address in use: listener and datagram socket") {
        auto server = bind_server<F>();
        for (int i = 0; i < 100; ++i) {
            auto again = TcpListener<F>::bind(server.address);
            REQUIRE_FALSE(again);
            CHECK(again.error() == std::errc::address_in_use);
        }
        auto datagram = UdpSocket<F>::bind(server.address);  // Unix: the path exists; IP: another protocol
        if constexpr (std::is_same_v<F, Unix>) {
            REQUIRE_FALSE(datagram);
            CHECK(datagram.error() == std::errc::address_in_use);
        }
    }
    SECTION("timeouts: accept, read, write, connect") {
        auto server = bind_server<F>(ListenOptions{.backlog = 4});
        CHECK(server.listener.accept(10ms).error() == std::errc::timed_out);
        auto pair = testing::loopback_pair<F>();
        REQUIRE_OK(pair);
        auto& [client, peer] = *pair;
        std::byte buffer[16];
        CHECK(client.read(buffer, 10ms).error() == std::errc::timed_out);
        REQUIRE_OK(client.set_timeout(10ms));
        CHECK(client.read(buffer).error() == std::errc::timed_out);
        REQUIRE_OK(client.set_timeout(std::nullopt));
        REQUIRE_OK(client.set_read_timeout(10ms));
        CHECK(client.read(buffer).error() == std::errc::timed_out);
        const std::vector<std::byte> big(8 << 20);
        auto partial = client.write_all(big, 50ms);
        REQUIRE_FALSE(partial);
        CHECK(partial.error() == std::errc::timed_out);
        std::optional<testing::TempPath> temp;
        auto full = make_full_listener<F>(local_address_for<F>(temp));
        REQUIRE(full.full);
        for (int i = 0; i < 5; ++i)
            CHECK(TcpStream<F>::connect(full.address, 20ms).error() == std::errc::timed_out);
    }
    SECTION("reset by the peer, then read and write fail and the destructor closes") {
        if constexpr (std::is_same_v<F, Unix>) {
            SUCCEED("Unix streams have no reset");
        } else {
            for (int i = 0; i < 50; ++i) {
                auto pair = testing::loopback_pair<F>();
                REQUIRE_OK(pair);
                auto& [client, peer] = *pair;
                REQUIRE_OK(peer.set_linger(0s));
                REQUIRE_OK(peer.close());
                std::byte buffer[16];
                auto got = client.read(buffer, 5s);
                REQUIRE_FALSE(got);
                CHECK(got.error() == std::errc::connection_reset);
            }
        }
    }
    SECTION("move-assign over an open socket closes the old descriptor") {
        auto first = testing::loopback_pair<F>();
        auto second = testing::loopback_pair<F>();
        REQUIRE_OK(first);
        REQUIRE_OK(second);
        const std::size_t with_both = open_descriptors();
        first->first = std::move(second->first);  // first's old client is closed here
        CHECK(open_descriptors() == with_both - 1);
        CHECK_FALSE(second->first.is_open());
        move_assign(first->first, first->first);  // self-move keeps the descriptor
        CHECK(first->first.is_open());
        CHECK(open_descriptors() == with_both - 1);
        UdpSocket<F> datagram;
        if constexpr (std::is_same_v<F, Unix>) {
            auto opened = UdpSocket<F>::open();
            REQUIRE_OK(opened);
            datagram = std::move(*opened);
        } else {
            auto opened = UdpSocket<F>::bind(testing::loopback<F>());
            REQUIRE_OK(opened);
            datagram = std::move(*opened);
            auto another = UdpSocket<F>::bind(testing::loopback<F>());
            REQUIRE_OK(another);
            datagram = std::move(*another);
        }
        CHECK(open_descriptors() == with_both);
    }
    SECTION("close() then the destructor never closes a descriptor that reused the number") {
        auto pair = testing::loopback_pair<F>();
        REQUIRE_OK(pair);
        int reused = -1;
        {
            TcpStream<F> stream = std::move(pair->first);
            const int number = stream.native_handle();
            const int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
            REQUIRE_OK(stream.close());
            CHECK_FALSE(stream.is_open());
            CHECK(stream.close().error() == std::errc::bad_file_descriptor);  // a second close reports EBADF
            reused = ::fcntl(null_fd, F_DUPFD_CLOEXEC, number);  // the lowest free number >= `number`
            ::close(null_fd);
            REQUIRE(reused == number);
        }  // the destructor of the closed stream must leave `reused` alone
        CHECK(::fcntl(reused, F_GETFD) != -1);
        ::close(reused);
    }
    SECTION("the destructor after failed calls") {
        for (int i = 0; i < 100; ++i) {
            auto pair = testing::loopback_pair<F>();
            REQUIRE_OK(pair);
            auto& [client, peer] = *pair;
            CHECK_FALSE(client.set_read_timeout(-1s));  // EINVAL
            CHECK_FALSE(client.set_timeout(0ms));
            std::byte buffer[4];
            CHECK_FALSE(client.read(buffer, 1ms));
            REQUIRE_OK(peer.close());
            const std::byte data[4] = {};
            for (int j = 0; j < 100; ++j)  // EPIPE / ECONNRESET after the peer went away
                if (!client.write(data)) break;
            CHECK_FALSE(client.write(data));
            auto clone = client.try_clone();
            REQUIRE_OK(clone);
        }
        UdpSocket<F> unbound;
        CHECK_FALSE(unbound.local_address());  // an empty socket: EBADF, nothing to close
    }
    SECTION("a multi-address connect that fails everywhere closes every attempt") {
        if constexpr (std::is_same_v<F, Unix>) {
            SUCCEED("connect_any is for IP families here");
        } else {
            std::vector<Address<F>> addresses;
            for (int i = 0; i < 4; ++i) {
                auto server = bind_server<F>();
                addresses.push_back(server.address);
            }
            for (int i = 0; i < 20; ++i) {
                auto connected = TcpStream<F>::connect_any(addresses, 5s, 1ms);
                REQUIRE_FALSE(connected);
                CHECK(connected.error() == std::errc::connection_refused);
                CHECK(connected.error().attempts().size() == addresses.size());
            }
        }
    }
    CHECK(open_descriptors() == before);
}

TEST_CASE("out of descriptors (EMFILE): every call fails cleanly and works again afterwards",
          "[reliability][fd]") {
    auto server = bind_server<IPv4>();
    auto waiting = TcpStream<IPv4>::connect(server.address);  // queued in the listener's backlog
    REQUIRE_OK(waiting);
    const std::size_t before = open_descriptors();

    rlimit old{};
    REQUIRE(::getrlimit(RLIMIT_NOFILE, &old) == 0);
    std::vector<int> fillers;
    {
        // Lower the limit to just above the highest open descriptor, then fill the holes below it.
        int highest = 0;
        for (int fd = 0; fd < 4096; ++fd)
            if (::fcntl(fd, F_GETFD) != -1) highest = fd;
        rlimit low = old;
        low.rlim_cur = static_cast<rlim_t>(highest + 1);
        REQUIRE(::setrlimit(RLIMIT_NOFILE, &low) == 0);
        for (int i = 0; i < 4096; ++i) {
            const int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
            if (fd < 0) break;
            fillers.push_back(fd);
        }
        auto accepted = server.listener.accept();
        auto connected = TcpStream<IPv4>::connect(server.address);
        auto bound = UdpSocket<IPv4>::bind(testing::loopback<IPv4>());
        auto listener = TcpListener<IPv4>::bind(testing::loopback<IPv4>());
        auto clone = waiting->try_clone();
        auto pair = UnixStream::pair();
        ::setrlimit(RLIMIT_NOFILE, &old);  // restore before any REQUIRE can leave the section
        for (const int fd : fillers) ::close(fd);
        REQUIRE_FALSE(accepted);
        CHECK(accepted.error() == std::errc::too_many_files_open);
        REQUIRE_FALSE(connected);
        CHECK(connected.error() == std::errc::too_many_files_open);
        REQUIRE_FALSE(bound);
        CHECK(bound.error() == std::errc::too_many_files_open);
        REQUIRE_FALSE(listener);
        REQUIRE_FALSE(clone);
        CHECK(clone.error() == std::errc::too_many_files_open);
        REQUIRE_FALSE(pair);
    }
    CHECK(open_descriptors() == before);
    // The queued connection survived the failed accept.
    auto accepted = server.listener.accept(5s);
    REQUIRE_OK(accepted);
    const char hello[] = "hi";
    REQUIRE_OK(waiting->write_all(ConstBuffer(hello, 2)));
    char got[2];
    REQUIRE_OK(accepted->stream.read_exact(MutableBuffer(got, 2), 5s));
    CHECK(std::string_view(got, 2) == "hi");
}
