// Boundaries of lengths, buffer counts and option values (issue 18, items 2, 3 and 8): every case is
// generated from a table, so a new length, count or setter gets all of them by adding one row.
//
// Huge lengths are faked over a small real buffer only where the OS touches no memory: a read where the
// stream has ended (or fewer bytes wait than the real buffer holds), a write after our own
// shutdown(write). The buffer is static (low addresses), so the kernel's address-range check of one call's
// INT_MAX bytes passes and it reports the stream's state, not EFAULT. ASan checks only what a call moved.
// Windows (and wine) check that a receive buffer is wholly writable memory first (WSAEFAULT, documented
// for recv): there a faked receive length fails with bad_address, which is still never a false success.
#include "catch.hpp"
#include "test_support.hpp"

#include <netlite/netlite.hpp>
#include <netlite/testing.hpp>

#include <climits>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using netlite::ConstBuffer;
using netlite::IPv4;
using netlite::MutableBuffer;
using netlite::Shutdown;
using netlite::TcpStream;
using netlite::UdpSocket;

namespace {

/// The real memory behind every faked length: never more than its 16 bytes are written.
std::byte sink[16];
const char message[] = "0123456789";  // 10 bytes and a NUL
constexpr std::size_t message_size = sizeof message - 1;

/// Every length the issue names; the ones above 16 are faked over `sink`.
const std::vector<std::size_t> lengths = {0,
                                          1,
                                          static_cast<std::size_t>(INT_MAX),
                                          static_cast<std::size_t>(INT_MAX) + 1,
                                          std::size_t{UINT32_MAX},
                                          std::size_t{UINT32_MAX} + 1,
                                          SIZE_MAX};

/// The buffer counts the issue names.
const std::vector<std::size_t> counts = {0, 1, 64, 65, 1024, 1025, 5000};

/// True when a receive into `length` bytes of `sink` fails with bad_address before the OS looks at the
/// stream (Windows checks the whole buffer).
bool receive_checks_whole_buffer(std::size_t length) {
    return netlite_test::is_windows && length > sizeof sink;
}

/// Two UDP sockets on loopback ports and the receiver's address: the path the datagram cases send over.
struct UdpPath {
    UdpSocket<IPv4> receiver;
    UdpSocket<IPv4> sender;
    netlite::Address<IPv4> where;
};

UdpPath udp_path() {
    auto receiver = UdpSocket<IPv4>::bind(netlite::Address<IPv4>::loopback(0));
    REQUIRE_OK(receiver);
    auto sender = UdpSocket<IPv4>::bind(netlite::Address<IPv4>::loopback(0));
    REQUIRE_OK(sender);
    auto where = receiver->local_address();
    REQUIRE_OK(where);
    return {std::move(*receiver), std::move(*sender), *where};
}

}  // namespace

TEST_CASE("reads of any length at end of stream return 0, never a false success", "[boundary][length]") {
    const std::size_t length = GENERATE(from_range(lengths));
    INFO("length " << length);
    auto [client, server] = netlite_test::require_loopback_pair<IPv4>();
    REQUIRE_OK(client.shutdown(Shutdown::write));  // the server's reads see end of stream, touch nothing

    const bool faked_refused = receive_checks_whole_buffer(length);
    auto got = server.read(MutableBuffer(sink, length));
    auto vectored = server.read_vectored({MutableBuffer(), MutableBuffer(sink, length), MutableBuffer()});
    if (faked_refused) {
        REQUIRE_FALSE(got);
        CHECK(got.error() == std::errc::bad_address);
        REQUIRE_FALSE(vectored);
        CHECK(vectored.error() == std::errc::bad_address);
    } else {
        REQUIRE_OK(got);
        CHECK(*got == 0);
        REQUIRE_OK(vectored);
        CHECK(*vectored == 0);
    }
    auto exact = server.read_exact(MutableBuffer(sink, length));
    if (length == 0) {
        CHECK_OK(exact);
    } else {
        REQUIRE_FALSE(exact);
        if (faked_refused)
            CHECK(exact.error() == std::errc::bad_address);
        else
            CHECK(exact.error() == netlite::errc::unexpected_eof);
        CHECK(exact.error().bytes_transferred() == 0);
    }
    auto timed = server.read_exact(MutableBuffer(sink, length), netlite::Until(5s));
    CHECK(timed.has_value() == (length == 0));
}

TEST_CASE("a read of any length takes what is waiting", "[boundary][length]") {
    const std::size_t length = GENERATE(from_range(lengths));
    if (length < message_size) return;  // the real buffer must hold what waits
    INFO("length " << length);
    auto [client, server] = netlite_test::require_loopback_pair<IPv4>();
    REQUIRE_OK(client.write_all(ConstBuffer(message, message_size)));
    REQUIRE_OK(client.shutdown(Shutdown::write));  // a read that wanted more would see the end, not wait
    if (receive_checks_whole_buffer(length)) {
        auto refused = server.read(MutableBuffer(sink, length));
        REQUIRE_FALSE(refused);
        CHECK(refused.error() == std::errc::bad_address);
        return;
    }
    std::size_t total = 0;
    for (int reads = 0; reads < 100 && total < message_size; ++reads) {
        auto got = server.read(MutableBuffer(sink + total, length - total));
        REQUIRE_OK(got);
        if (*got == 0) break;
        total += *got;
    }
    CHECK(total == message_size);
    CHECK(std::string(reinterpret_cast<const char*>(sink), total) == std::string(message, message_size));
}

TEST_CASE("writes of any length after shutdown(write) fail, never a false success", "[boundary][length]") {
    const std::size_t length = GENERATE(from_range(lengths));
    INFO("length " << length);
    auto [client, server] = netlite_test::require_loopback_pair<IPv4>();
    REQUIRE_OK(client.shutdown(Shutdown::write));  // every send fails before it reads a byte
    const ConstBuffer faked(sink, length);

    auto all = client.write_all(faked);
    if (length == 0) {
        CHECK_OK(all);  // nothing to send: no call is made
    } else {
        REQUIRE_FALSE(all);
        CHECK(all.error().bytes_transferred() == 0);
        CHECK(all.error() != std::errc::invalid_argument);
    }
    auto timed = client.write_all(faked, netlite::Until(5s));
    CHECK(timed.has_value() == (length == 0));
    if (length > 0) {
        CHECK_FALSE(client.write(faked));
        auto vectored = client.write_vectored({ConstBuffer(), faked});
        REQUIRE_FALSE(vectored);
        CHECK(vectored.error() != std::errc::invalid_argument);
    }
}

TEST_CASE("vectored lengths that add up past SIZE_MAX are cut per call, not refused", "[boundary][length]") {
    auto [client, server] = netlite_test::require_loopback_pair<IPv4>();
    REQUIRE_OK(client.shutdown(Shutdown::write));
    const std::size_t half = SIZE_MAX / 2 + 1;  // two of them overflow size_t and ssize_t
    auto sent = client.write_vectored({ConstBuffer(sink, half), ConstBuffer(sink, half)});
    REQUIRE_FALSE(sent);
    CHECK(sent.error() != std::errc::invalid_argument);
    auto got = server.read_vectored({MutableBuffer(sink, half), MutableBuffer(sink, half)});
    if (receive_checks_whole_buffer(half)) {
        REQUIRE_FALSE(got);
        CHECK(got.error() == std::errc::bad_address);
    } else {
        REQUIRE_OK(got);
        CHECK(*got == 0);
    }
}

TEST_CASE("UDP lengths: a datagram is received whole whatever room is claimed", "[boundary][length]") {
    const std::size_t length = GENERATE(from_range(lengths));
    if (length < message_size) return;
    INFO("length " << length);
    auto [receiver, sender, where] = udp_path();
    REQUIRE_OK(sender.send_to(ConstBuffer(message, message_size), where));
    auto got = receiver.recv_from(MutableBuffer(sink, length), netlite::Until(5s));
    if (receive_checks_whole_buffer(length)) {
        REQUIRE_FALSE(got);
        CHECK(got.error() == std::errc::bad_address);
        return;
    }
    REQUIRE_OK(got);
    CHECK(got->size == message_size);
    CHECK_FALSE(got->truncated);
}

// --- buffer counts ------------------------------------------------------------------------------------

namespace {

/// One shape of buffer list: `count` entries, each either empty or one byte, per `has_room(i)`.
struct Shape {
    const char* name;
    std::function<bool(std::size_t index, std::size_t count)> has_room;
};

const std::vector<Shape> shapes = {
    {"all empty", [](std::size_t, std::size_t) { return false; }},
    {"all one byte", [](std::size_t, std::size_t) { return true; }},
    {"empty, one byte, alternating", [](std::size_t i, std::size_t) { return i % 2 == 1; }},
    {"empty but the last", [](std::size_t i, std::size_t count) { return i + 1 == count; }},
    {"empty but every 100th", [](std::size_t i, std::size_t) { return i % 100 == 99; }},
};

/// The buffers of `shape` over `storage` (one byte per entry with room).
template <class Buffer, class Byte>
std::vector<Buffer> make_buffers(const Shape& shape, std::size_t count, Byte* storage) {
    std::vector<Buffer> buffers;
    for (std::size_t i = 0; i < count; ++i)
        buffers.emplace_back(storage + i, shape.has_room(i, count) ? 1 : 0);
    return buffers;
}

/// Bytes one call moves for `shape`: one per non-empty entry, at most 1,024 of them (IOV_MAX).
std::size_t expected_room(const Shape& shape, std::size_t count) {
    std::size_t room = 0;
    for (std::size_t i = 0; i < count; ++i)
        if (shape.has_room(i, count)) ++room;
    return room < 1024 ? room : 1024;
}

}  // namespace

TEST_CASE("read_vectored skips empty buffers and takes any number", "[boundary][count]") {
    const std::size_t count = GENERATE(from_range(counts));
    const Shape& shape = GENERATE(from_range(shapes));
    INFO(count << " buffers, " << shape.name);
    auto [client, server] = netlite_test::require_loopback_pair<IPv4>();
    REQUIRE_OK(client.write_all(ConstBuffer(message, message_size)));

    std::vector<char> storage(count, '\0');
    const auto buffers = make_buffers<MutableBuffer>(shape, count, storage.data());
    const std::size_t room = expected_room(shape, count);
    auto got = server.read_vectored(buffers);
    REQUIRE_OK(got);
    if (room == 0) {
        CHECK(*got == 0);  // no room at all: 0, and the bytes stay queued
    } else {
        CHECK(*got > 0);  // never 0 with bytes waiting and room for them
        CHECK(*got <= room);
        std::string arrived;
        for (std::size_t i = 0; i < count && arrived.size() < *got; ++i)
            if (buffers[i].size() > 0) arrived += storage[i];
        CHECK(arrived == std::string(message, arrived.size()));
    }
}

TEST_CASE("read_vectored: 100 empty buffers then room for 16 bytes, 10 waiting, reads 10",
          "[boundary][count]") {
    auto [client, server] = netlite_test::require_loopback_pair<IPv4>();
    REQUIRE_OK(client.write_all(ConstBuffer(message, message_size)));
    REQUIRE_OK(client.shutdown(Shutdown::write));  // the bytes are all there once the end is
    char room[16] = {};
    std::vector<MutableBuffer> buffers(100);
    buffers.emplace_back(room, sizeof room);
    std::size_t total = 0;
    for (int reads = 0; reads < 10 && total < message_size; ++reads) {
        buffers.back() = MutableBuffer(room + total, sizeof room - total);
        auto got = server.read_vectored(buffers);
        REQUIRE_OK(got);
        REQUIRE(*got > 0);
        total += *got;
    }
    CHECK(std::string(room, total) == std::string(message, message_size));
}

TEST_CASE("write_vectored skips empty buffers and takes any number", "[boundary][count]") {
    const std::size_t count = GENERATE(from_range(counts));
    const Shape& shape = GENERATE(from_range(shapes));
    INFO(count << " buffers, " << shape.name);
    auto [client, server] = netlite_test::require_loopback_pair<IPv4>();

    std::string storage;
    for (std::size_t i = 0; i < count; ++i) storage += static_cast<char>('a' + i % 26);
    const auto buffers = make_buffers<ConstBuffer>(shape, count, storage.data());
    std::string expected;
    for (std::size_t i = 0; i < count; ++i)
        if (buffers[i].size() > 0) expected += storage[i];
    const std::size_t room = expected_room(shape, count);

    auto sent = client.write_vectored(buffers);
    REQUIRE_OK(sent);
    CHECK(*sent == room);  // the loopback send buffer takes 1,024 bytes at once
    REQUIRE_OK(client.shutdown(Shutdown::write));
    auto received = server.read_to_end(netlite::Until(5s));
    REQUIRE_OK(received);
    CHECK(*received == expected.substr(0, *sent));
}

TEST_CASE("write_vectored: 100 empty buffers then 10 bytes writes 10", "[boundary][count]") {
    auto [client, server] = netlite_test::require_loopback_pair<IPv4>();
    std::vector<ConstBuffer> buffers(100);
    buffers.emplace_back(message, message_size);
    auto sent = client.write_vectored(buffers);
    REQUIRE_OK(sent);
    CHECK(*sent == message_size);
}

TEST_CASE("vectored calls on an empty stream fail with EBADF, whatever the buffers", "[boundary][count]") {
    const std::size_t count = GENERATE(from_range(counts));
    TcpStream<IPv4> empty;
    std::vector<MutableBuffer> buffers(count);
    auto got = empty.read_vectored(buffers);
    REQUIRE_FALSE(got);
    CHECK(got.error() == std::errc::bad_file_descriptor);
    std::vector<ConstBuffer> out(count);
    auto sent = empty.write_vectored(out);
    REQUIRE_FALSE(sent);
    CHECK(sent.error() == std::errc::bad_file_descriptor);
}

TEST_CASE("send_batch and recv_batch take any number of datagrams, empty ones too", "[boundary][count]") {
    const std::size_t count = GENERATE(from_range(counts));
    INFO(count << " datagrams");
    auto [receiver, sender, where] = udp_path();
    std::vector<netlite::DatagramOut<IPv4>> out;
    for (std::size_t i = 0; i < count; ++i)
        out.push_back({i % 2 == 0 ? ConstBuffer() : ConstBuffer(message, 1), where});
    auto sent = sender.send_batch(out, netlite::Until(5s));
    REQUIRE_OK(sent);
    CHECK(*sent == count);
    if (count == 0) return;
    std::vector<char> storage(count);
    std::vector<netlite::DatagramIn<IPv4>> slots;
    for (std::size_t i = 0; i < count; ++i) slots.push_back({MutableBuffer(&storage[i], 1)});
    auto got = receiver.recv_batch(slots, netlite::Until(5s));
    REQUIRE_OK(got);
    REQUIRE(*got >= 1);         // the receive buffer may have dropped some; those it kept come in order
    CHECK(slots[0].size == 0);  // the first datagram was the empty one
}

// --- option setters: 0, 1, the type's max, the OS field's max + 1, negative ------------------------------

namespace {

using Tcp = TcpStream<IPv4>;
using Udp = UdpSocket<IPv4>;

/// The values every setter is tried with (those its parameter type holds).
const std::vector<long long> option_values = {0,
                                              1,
                                              -1,
                                              255,
                                              256,
                                              65535,
                                              65536,
                                              INT_MAX,
                                              static_cast<long long>(INT_MAX) + 1,
                                              INT_MIN,
                                              static_cast<long long>(UINT32_MAX),
                                              (1ll << 32) + 10,
                                              LLONG_MAX,
                                              LLONG_MIN};

/// One setter: the range netlite documents (outside it: invalid_argument, always) and, when there is a
/// getter, what it must read back after a successful set (nothing: the kernel may round).
struct Setter {
    const char* name;
    long long type_min, type_max;  // the parameter type's range: other values are not tried
    long long low, high;           // the documented range
    std::function<netlite::Result<void>(Tcp&, Udp&, long long)> set;
    std::function<std::optional<long long>(Tcp&, Udp&, long long)> read_back;  // expected, when checkable
    std::function<netlite::Result<long long>(Tcp&, Udp&)> get;
};

netlite::Result<long long> as_long(const netlite::Result<int>& value) {
    if (!value) return netlite::fail(value.error());
    return static_cast<long long>(*value);
}

/// The row of one of set_keepalive_params' seconds fields: `field` takes the value tried, the other
/// fields stay in range (60 s idle, 75 s interval, 9 probes), and keepalive_params() reads it back.
Setter keepalive_seconds(const char* name, std::chrono::seconds netlite::KeepAliveParams::*field) {
    return {name,
            LLONG_MIN,
            LLONG_MAX,
            1,
            INT_MAX,
            [field](Tcp& t, Udp&, long long v) {
                netlite::KeepAliveParams params{std::chrono::seconds(60), std::chrono::seconds(75), 9};
                params.*field = std::chrono::seconds(v);
                return t.set_keepalive_params(params);
            },
            [](Tcp&, Udp&, long long v) { return std::optional<long long>(v); },
            [field](Tcp& t, Udp&) -> netlite::Result<long long> {
                auto value = t.keepalive_params();
                if (!value) return netlite::fail(value.error());
                return static_cast<long long>(((*value).*field).count());
            }};
}

const std::vector<Setter>& setters() {
    using std::chrono::seconds;
    static const std::vector<Setter> table = {
        {"set_ttl", INT_MIN, INT_MAX, 1, 255, [](Tcp& t, Udp&, long long v) { return t.set_ttl(int(v)); },
         [](Tcp&, Udp&, long long v) { return std::optional<long long>(v); },
         [](Tcp& t, Udp&) { return as_long(t.ttl()); }},
        {"set_multicast_ttl", INT_MIN, INT_MAX, 0, 255,
         [](Tcp&, Udp& u, long long v) { return u.set_multicast_ttl(int(v)); },
         [](Tcp&, Udp&, long long v) { return std::optional<long long>(v); },
         [](Tcp&, Udp& u) { return as_long(u.multicast_ttl()); }},
        {"set_send_buffer_size", INT_MIN, INT_MAX, 0, INT_MAX,
         [](Tcp& t, Udp&, long long v) { return t.set_send_buffer_size(int(v)); }, nullptr, nullptr},
        {"set_recv_buffer_size", INT_MIN, INT_MAX, 0, INT_MAX,
         [](Tcp& t, Udp&, long long v) { return t.set_recv_buffer_size(int(v)); }, nullptr, nullptr},
        {"set_linger", LLONG_MIN, LLONG_MAX, 0, LLONG_MAX,
         [](Tcp& t, Udp&, long long v) { return t.set_linger(seconds(v)); },
         [](Tcp&, Udp&, long long v) {  // clamped to the OS field's longest, never wrapped
             const long long longest = netlite::detail::sys::max_linger_seconds;
             return std::optional<long long>(v < longest ? v : longest);
         },
         [](Tcp& t, Udp&) -> netlite::Result<long long> {
             auto value = t.linger();
             if (!value) return netlite::fail(value.error());
             return value->has_value() ? static_cast<long long>((*value)->count()) : -1;
         }},
        keepalive_seconds("set_keepalive_params(idle)", &netlite::KeepAliveParams::idle),
        keepalive_seconds("set_keepalive_params(interval)", &netlite::KeepAliveParams::interval),
        {"set_keepalive_params(count)", INT_MIN, INT_MAX, 1, INT_MAX,
         [](Tcp& t, Udp&, long long v) {
             return t.set_keepalive_params({seconds(60), seconds(75), int(v)});
         },
         nullptr, nullptr},
        {"set_multicast_interface", 0, UINT_MAX, 0, INT_MAX,
         [](Tcp&, Udp& u, long long v) { return u.set_multicast_interface(unsigned(v)); }, nullptr, nullptr},
        {"join_multicast(interface)", 0, UINT_MAX, 0, INT_MAX,
         [](Tcp&, Udp& u, long long v) {
             return u.join_multicast(*netlite::Address<IPv4>::parse("239.255.0.1", 0), unsigned(v));
         },
         nullptr, nullptr},
    };
    return table;
}

}  // namespace

TEST_CASE("every option setter at the extremes: refused with invalid_argument, or set as read back",
          "[boundary][option]") {
    const Setter& setter = GENERATE(from_range(setters()));
    const long long value = GENERATE(from_range(option_values));
    if (value < setter.type_min || value > setter.type_max) return;  // not a value of its parameter type
    INFO(setter.name << "(" << value << ")");
    auto [stream, server] = netlite_test::require_loopback_pair<IPv4>();
    auto udp = Udp::bind(netlite::Address<IPv4>::loopback(0));
    REQUIRE_OK(udp);

    const auto before = setter.get ? setter.get(stream, *udp) : netlite::Result<long long>(0ll);
    auto set = setter.set(stream, *udp, value);
    if (value < setter.low || value > setter.high) {
        REQUIRE_FALSE(set);
        CHECK(set.error() == std::errc::invalid_argument);
        if (setter.get && before) {
            auto after = setter.get(stream, *udp);
            REQUIRE_OK(after);
            CHECK(*after == *before);  // a refused value changes nothing
        }
        return;
    }
    // In range: the kernel may still refuse a value beyond its own limits (Linux: TTL 0, keep-alive idle
    // above 32,767 s, probe count above 127), or lack the option (wine), but it is never truncated.
    if (!set) {
        INFO(set.error().message());
        CHECK(set.error() != std::errc::bad_file_descriptor);
        return;
    }
    if (setter.get && setter.read_back) {
        auto after = setter.get(stream, *udp);
        if (after) CHECK(*after == *setter.read_back(stream, *udp, value));
    }
}

TEST_CASE("set_linger beyond the OS field keeps the longest linger, never 0", "[boundary][option]") {
    auto [stream, server] = netlite_test::require_loopback_pair<IPv4>();
    REQUIRE_OK(stream.set_linger(std::chrono::seconds(1ll << 32)));
    auto linger = stream.linger();
    REQUIRE_OK(linger);
    REQUIRE(linger->has_value());
    CHECK(**linger == std::chrono::seconds(netlite::detail::sys::max_linger_seconds));
}

TEST_CASE("set_keepalive_params with an idle time of 2^32 + 10 s is refused, not taken as 10 s",
          "[boundary][option]") {
    auto [stream, server] = netlite_test::require_loopback_pair<IPv4>();
    auto set = stream.set_keepalive_params({std::chrono::seconds((1ll << 32) + 10), 75s, 9});
    REQUIRE_FALSE(set);
    CHECK(set.error() == std::errc::invalid_argument);
}

TEST_CASE("set_ttl(-1) and set_multicast_ttl(-1) fail with invalid_argument, as documented",
          "[boundary][option]") {
    auto [stream, server] = netlite_test::require_loopback_pair<IPv4>();
    auto ttl = stream.set_ttl(-1);
    REQUIRE_FALSE(ttl);
    CHECK(ttl.error() == std::errc::invalid_argument);
    auto udp = Udp::bind(netlite::Address<IPv4>::loopback(0));
    REQUIRE_OK(udp);
    auto multicast = udp->set_multicast_ttl(-1);
    REQUIRE_FALSE(multicast);
    CHECK(multicast.error() == std::errc::invalid_argument);
}
