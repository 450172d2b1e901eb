// Tests for the fast paths: UdpSocket<F>::send_batch / recv_batch (sendmmsg / recvmmsg) and
// TcpStream<F>::send_file (sendfile). Loopback and temporary Unix paths only.
#include "socket_test_support.hpp"
#include "test_support.hpp"

#include <netlite/tcp.hpp>
#include <netlite/testing.hpp>
#include <netlite/udp.hpp>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include <fcntl.h>
#if defined(_WIN32)
#include <io.h>
#include <sys/stat.h>
#else
#include <unistd.h>
#endif

namespace {

using namespace netlite_test::socket_names;
using netlite::DatagramIn;
using netlite::DatagramOut;

// The file descriptors send_file takes: POSIX's, or on Windows the C runtime's (_open), not inherited by
// child processes on either.
namespace file {
#if defined(_WIN32)
inline int create(const char* path) {
    return ::_open(path, _O_RDWR | _O_CREAT | _O_TRUNC | _O_BINARY | _O_NOINHERIT, _S_IREAD | _S_IWRITE);
}
inline long long write(int fd, const char* data, std::size_t size) {
    return ::_write(fd, data, static_cast<unsigned>(size));
}
inline long long seek(int fd, long long offset, int whence) {
    return ::_lseeki64(fd, offset, whence);
}
inline bool make_pipe(int (&fds)[2]) {
    return ::_pipe(fds, 4096, _O_BINARY | _O_NOINHERIT) == 0;
}
inline int close(int fd) {
    return ::_close(fd);
}
inline int remove(const char* path) {
    return ::_unlink(path);
}
#else
inline int create(const char* path) {
    return ::open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
}
inline long long write(int fd, const char* data, std::size_t size) {
    return ::write(fd, data, size);
}
inline long long seek(int fd, long long offset, int whence) {
    return ::lseek(fd, offset, whence);
}
inline bool make_pipe(int (&fds)[2]) {
    return ::pipe(fds) == 0;
}
inline int close(int fd) {
    return ::close(fd);
}
inline int remove(const char* path) {
    return ::unlink(path);
}
#endif
}  // namespace file

/// A bound datagram socket of family F on loopback port 0 or in a fresh temp dir (kept in `dir`).
template <class F>
netlite::Result<UdpSocket<F>> bound_socket(std::vector<TempPath>& dirs) {
    if constexpr (std::is_same_v<F, Unix>) {
        auto dir = TempPath::create("dgram");
        if (!dir) return netlite::fail(dir.error());
        dirs.push_back(std::move(*dir));
        return UdpSocket<Unix>::bind(dirs.back().address());
    } else {
        return UdpSocket<F>::bind(netlite::testing::loopback<F>());
    }
}

/// The text of datagram number i: "datagram-<i>-" padded with i % 17 'x's, so sizes differ.
std::string payload(std::size_t i) {
    return "datagram-" + std::to_string(i) + "-" + std::string(i % 17, 'x');
}

/// A file in a temp dir holding `size` bytes of a position-dependent pattern; the descriptor is closed and
/// the file removed by the destructor.
struct TempFile {
    TempPath dir;
    int fd = -1;
    std::string bytes;
    TempFile(TempPath d, std::size_t size) : dir(std::move(d)) {
        fd = file::create(dir.path().c_str());
        bytes.resize(size);
        for (std::size_t i = 0; i < size; ++i) bytes[i] = static_cast<char>((i * 131 + i / 251) & 0xff);
        std::size_t done = 0;
        while (fd >= 0 && done < size) {
            const long long wrote = file::write(fd, bytes.data() + done, size - done);
            if (wrote <= 0) break;
            done += static_cast<std::size_t>(wrote);
        }
        if (done != size && fd >= 0) {
            file::close(fd);
            fd = -1;
        }
    }
    TempFile(const TempFile&) = delete;
    TempFile& operator=(const TempFile&) = delete;
    ~TempFile() {
        if (fd >= 0) file::close(fd);
        file::remove(dir.path().c_str());
    }
};

}  // namespace

TEMPLATE_TEST_CASE("send_batch and recv_batch move many datagrams, each with its sender", "[udp][batch]",
                   IPv4, IPv6, Unix) {
    SKIP_UNLESS_AVAILABLE(TestType);
    std::vector<TempPath> dirs;
    auto receiver = bound_socket<TestType>(dirs);
    auto sender = bound_socket<TestType>(dirs);
    REQUIRE_OK(receiver);
    REQUIRE_OK(sender);
    REQUIRE_OK(receiver->set_read_timeout(5s));
    REQUIRE_OK(sender->set_write_timeout(5s));  // a Unix datagram queue is short: sends wait for reads
    auto to = receiver->local_address();
    auto from = sender->local_address();
    REQUIRE_OK(to);
    REQUIRE_OK(from);

    // More than max_batch, so both calls take several system calls.
    constexpr std::size_t total = 150;
    static_assert(total > UdpSocket<TestType>::max_batch);
    std::vector<std::string> texts;
    std::vector<DatagramOut<TestType>> out;
    for (std::size_t i = 0; i < total; ++i) texts.push_back(payload(i));
    for (const std::string& text : texts) out.push_back({text, *to});

    std::size_t sent = 0;
    netlite::Error send_error;
    std::thread writer([&] {
        for (int calls = 0; sent < total && calls < 1000; ++calls) {  // bounded: each call sends >= 1
            auto n = sender->send_batch(std::span<const DatagramOut<TestType>>(out).subspan(sent));
            if (!n) {
                send_error = n.error();
                return;
            }
            sent += *n;
        }
    });

    std::vector<std::array<char, 64>> storage(40);
    std::vector<DatagramIn<TestType>> slots(storage.size());
    std::vector<std::string> received;
    netlite::Error recv_error;
    for (int calls = 0; received.size() < total && calls < 1000; ++calls) {
        for (std::size_t i = 0; i < slots.size(); ++i)
            slots[i] = DatagramIn<TestType>{storage[i], 0, {}, false};
        auto n = receiver->recv_batch(slots);
        if (!n) {
            recv_error = n.error();
            break;
        }
        REQUIRE(*n >= 1);
        REQUIRE(*n <= slots.size());
        for (std::size_t i = 0; i < *n; ++i) {
            CHECK_FALSE(slots[i].truncated);
            CHECK(slots[i].sender == *from);
            received.emplace_back(storage[i].data(), slots[i].size);
        }
    }
    writer.join();
    INFO("send error: " << send_error.message() << "; receive error: " << recv_error.message());
    REQUIRE(sent == total);
    REQUIRE(received.size() == total);
    CHECK(received == texts);  // one sender, one receiver: loopback keeps the order
}

TEST_CASE("send_batch sends each datagram to its own address", "[udp][batch]") {
    auto a = UdpSocket<IPv4>::bind(Address<IPv4>::loopback(0));
    auto b = UdpSocket<IPv4>::bind(Address<IPv4>::loopback(0));
    auto sender = UdpSocket<IPv4>::open();
    REQUIRE_OK(a);
    REQUIRE_OK(b);
    REQUIRE_OK(sender);
    REQUIRE_OK(a->set_read_timeout(5s));
    REQUIRE_OK(b->set_read_timeout(5s));
    auto to_a = a->local_address();
    auto to_b = b->local_address();
    REQUIRE_OK(to_a);
    REQUIRE_OK(to_b);

    const std::array<DatagramOut<IPv4>, 6> out{
        {{"a0", *to_a}, {"b0", *to_b}, {"a1", *to_a}, {"b1", *to_b}, {"a2", *to_a}, {"b2", *to_b}}};
    auto n = sender->send_batch(out);
    REQUIRE_OK(n);
    REQUIRE(*n == out.size());

    auto collect = [](UdpSocket<IPv4>& socket) {
        std::string seen;
        std::array<std::array<char, 8>, 8> storage{};
        std::array<DatagramIn<IPv4>, 8> slots{};
        for (int calls = 0; seen.size() < 6 && calls < 10; ++calls) {
            for (std::size_t i = 0; i < slots.size(); ++i) slots[i] = {storage[i], 0, {}, false};
            auto got = socket.recv_batch(slots);
            if (!got) break;
            for (std::size_t i = 0; i < *got; ++i) seen.append(storage[i].data(), slots[i].size);
        }
        return seen;
    };
    CHECK(collect(*a) == "a0a1a2");
    CHECK(collect(*b) == "b0b1b2");
}

TEST_CASE("recv_batch reports truncation per datagram and returns what is queued", "[udp][batch]") {
    auto receiver = UdpSocket<IPv4>::bind(Address<IPv4>::loopback(0));
    auto sender = UdpSocket<IPv4>::open();
    REQUIRE_OK(receiver);
    REQUIRE_OK(sender);
    REQUIRE_OK(receiver->set_read_timeout(200ms));
    auto to = receiver->local_address();
    REQUIRE_OK(to);

    const std::string small = "tiny";
    const std::string large(100, 'L');
    const std::array<DatagramOut<IPv4>, 3> out{{{small, *to}, {large, *to}, {small, *to}}};
    auto n = sender->send_batch(out);
    REQUIRE_OK(n);
    REQUIRE(*n == 3);

    std::array<std::array<char, 16>, 10> storage{};
    std::array<DatagramIn<IPv4>, 10> slots{};
    std::vector<DatagramIn<IPv4>> got;
    std::vector<std::string> texts;
    // Ask for 10: only 3 exist, so the calls return them (in one or more pieces) and then time out.
    netlite::Result<std::size_t> last = 0;
    for (int calls = 0; calls < 10; ++calls) {
        for (std::size_t i = 0; i < slots.size(); ++i) slots[i] = {storage[i], 0, {}, false};
        last = receiver->recv_batch(slots);
        if (!last) break;
        REQUIRE(*last >= 1);
        for (std::size_t i = 0; i < *last; ++i) {
            got.push_back(slots[i]);
            texts.emplace_back(storage[i].data(), slots[i].size);
        }
    }
    REQUIRE_FALSE(last.has_value());
    CHECK(last.error() == std::errc::timed_out);
    REQUIRE(got.size() == 3);
    CHECK_FALSE(got[0].truncated);
    CHECK(texts[0] == small);
    CHECK(got[1].truncated);
    CHECK(got[1].size == 16);
    CHECK(texts[1] == large.substr(0, 16));
    CHECK_FALSE(got[2].truncated);
    CHECK(texts[2] == small);
}

TEST_CASE("batches of nothing make no call; errors come back with the count sent", "[udp][batch]") {
    auto receiver = UdpSocket<IPv4>::bind(Address<IPv4>::loopback(0));
    auto sender = UdpSocket<IPv4>::open();
    REQUIRE_OK(receiver);
    REQUIRE_OK(sender);
    auto to = receiver->local_address();
    REQUIRE_OK(to);

    auto none = sender->send_batch({});
    REQUIRE_OK(none);
    CHECK(*none == 0);
    auto nothing = receiver->recv_batch({});
    REQUIRE_OK(nothing);
    CHECK(*nothing == 0);

    // A datagram over 64 KiB cannot be sent: alone it is the call's error; after a good one the call
    // reports the one that went, and the next call the error.
    const std::string too_big(70000, 'x');
    const std::array<DatagramOut<IPv4>, 1> bad{{{too_big, *to}}};
    CHECK_FAILS_WITH(sender->send_batch(bad), std::errc::message_size);
    const std::array<DatagramOut<IPv4>, 2> mixed{{{"fine", *to}, {too_big, *to}}};
    auto partial = sender->send_batch(mixed);
    REQUIRE_OK(partial);
    CHECK(*partial == 1);
    CHECK_FAILS_WITH(sender->send_batch(std::span(mixed).subspan(1)), std::errc::message_size);

    UdpSocket<IPv4> closed;  // no descriptor
    std::array<char, 8> byte{};
    std::array<DatagramIn<IPv4>, 1> slot{{{byte, 0, {}, false}}};
    CHECK_FAILS_WITH(closed.recv_batch(slot), std::errc::bad_file_descriptor);
}

TEMPLATE_TEST_CASE("send_file sends a file's range and stops at its end", "[tcp][sendfile]", IPv4, IPv6,
                   Unix) {
    SKIP_UNLESS_AVAILABLE(TestType);
    auto dir = TempPath::create("data");
    REQUIRE_OK(dir);
    TempFile file(std::move(*dir), 300000);
    REQUIRE(file.fd >= 0);
    REQUIRE(file::seek(file.fd, 0, SEEK_SET) == 0);
    auto pair = netlite::testing::loopback_pair<TestType>();
    REQUIRE_OK(pair);
    auto& [client, server] = *pair;
    REQUIRE_OK(client.set_read_timeout(5s));
    REQUIRE_OK(server.set_write_timeout(5s));

    netlite::Result<std::size_t, netlite::TransferError> middle = 0, tail = 0;
    std::thread writer([&] {
        middle = server.send_file(file.fd, 1000, 200000);               // from inside the file
        tail = server.send_file(file.fd, file.bytes.size() - 10, 100);  // runs past its end
        (void)server.shutdown(netlite::Shutdown::write);
    });
    auto all = client.read_to_end();
    writer.join();
    REQUIRE_OK(middle);
    CHECK(*middle == 200000);
    REQUIRE(tail.has_value());
    CHECK(*tail == 10);
    REQUIRE_OK(all);
    CHECK(all->size() == 200010);
    CHECK(*all == file.bytes.substr(1000, 200000) + file.bytes.substr(file.bytes.size() - 10));
    CHECK(file::seek(file.fd, 0, SEEK_CUR) == 0);  // the file's own offset did not move
}

TEST_CASE("send_file reports errors with the bytes sent before them", "[tcp][sendfile]") {
    auto dir = TempPath::create("data");
    REQUIRE_OK(dir);
    TempFile file(std::move(*dir), 4 * 1024 * 1024);
    REQUIRE(file.fd >= 0);

    SECTION("a descriptor that is not open") {
        auto pair = netlite::testing::loopback_pair<IPv4>();
        REQUIRE_OK(pair);
        auto sent = pair->second.send_file(-1, 0, 10);
        REQUIRE_FALSE(sent.has_value());
        CHECK(sent.error() == std::errc::bad_file_descriptor);
        CHECK(sent.error().bytes_transferred() == 0);
    }
    SECTION("a pipe, which has no offsets") {
        int fds[2];
        REQUIRE(file::make_pipe(fds));
        REQUIRE(file::write(fds[1], "abc", 3) == 3);
        auto pair = netlite::testing::loopback_pair<IPv4>();
        REQUIRE_OK(pair);
        auto sent = pair->second.send_file(fds[0], 0, 3);
        file::close(fds[0]);
        file::close(fds[1]);
        REQUIRE_FALSE(sent.has_value());
        CHECK(sent.error() == std::errc::invalid_seek);
        CHECK(sent.error().bytes_transferred() == 0);
    }
    SECTION("a peer that has gone: what went before the error is counted") {
        // A Unix stream pair; loopback TCP on Windows (wine has no AF_UNIX).
        auto pair =
            netlite::testing::loopback_pair<std::conditional_t<netlite_test::is_windows, IPv4, Unix>>();
        REQUIRE_OK(pair);
        auto& [client, server] = *pair;
        REQUIRE_OK(server.set_write_timeout(5s));
        // Fill the socket buffers first, so the error comes after some bytes went.
        std::thread reader([&] {
            std::array<char, 1000> head{};
            (void)client.read_exact(head);
            (void)client.close();
        });
        auto sent = server.send_file(file.fd, 0, file.bytes.size());
        reader.join();
        REQUIRE_FALSE(sent.has_value());
        CHECK((sent.error() == std::errc::broken_pipe || sent.error() == std::errc::connection_reset));
        CHECK(sent.error().bytes_transferred() >= 1000);
        CHECK(sent.error().bytes_transferred() < file.bytes.size());
    }
}

// Regression: send_file discarded the SIGPIPE only when sendfile itself failed with EPIPE; a SIGPIPE that
// came with another outcome (seen on gVisor: about one run in ten of the case above) killed the process.
// The process does not ignore SIGPIPE here, so a stray one ends the test run.
TEMPLATE_TEST_CASE("send_file to peers that vanish mid-transfer never raises SIGPIPE", "[tcp][sendfile]",
                   IPv4, Unix) {
    SKIP_UNLESS_AVAILABLE(TestType);
    auto dir = TempPath::create("data");
    REQUIRE_OK(dir);
    TempFile file(std::move(*dir), 1024 * 1024);
    REQUIRE(file.fd >= 0);
    int failures = 0;
    for (int round = 0; round < 100; ++round) {
        auto pair = netlite::testing::loopback_pair<TestType>();
        REQUIRE_OK(pair);
        auto& [client, server] = *pair;
        // Small buffers: 1 MiB cannot all be queued, so the transfer is still running when the peer goes.
        REQUIRE_OK(server.set_send_buffer_size(16 * 1024));
        REQUIRE_OK(client.set_recv_buffer_size(16 * 1024));
        std::thread reader([&client = client] {
            std::array<char, 100> head{};
            (void)client.read_exact(head);
            (void)client.close();
        });
        auto sent = server.send_file(file.fd, 0, file.bytes.size());
        reader.join();
        if (!sent) ++failures;
    }
    CHECK(failures == 100);  // every transfer outlived its peer, so each one took the error path
}
