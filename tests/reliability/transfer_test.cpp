// Reliability: bytes and bounds. write_all of 64 MiB to a slow reader that takes small pieces arrives
// whole and in order; read/write/accept/connect timeouts fire within their bound and leave the socket
// usable as documented; UDP bursts larger than the receive buffer lose datagrams but never corrupt one,
// oversized datagrams are reported truncated, ICMP port unreachable surfaces as ECONNREFUSED on a
// connected socket and the socket works again afterwards; and the nasty address texts not already in
// tests/address_test.cpp.
#include "reliability_support.hpp"

#include <future>

using namespace netlite;
using namespace reliability;

namespace {

constexpr std::size_t big_transfer = (soak ? 512u : 64u) << 20;

/// Reads `size` bytes in small, uneven pieces (1..4093 bytes), pausing now and then, and checks each
/// byte against the pattern. Returns the bytes that matched in order (== size when all is well).
template <Family F>
std::size_t slow_reader(TcpStream<F>& stream, std::uint64_t seed, std::size_t size) {
    static constexpr std::size_t pieces[] = {1, 7, 100, 512, 1000, 4093, 3, 2048};
    std::vector<std::byte> buffer(4096);
    std::size_t done = 0;
    for (std::size_t n = 0; done < size; ++n) {
        const std::size_t want = std::min(pieces[n % std::size(pieces)], size - done);
        auto got = stream.read(MutableBuffer(buffer.data(), want), 30s);
        if (!got || *got == 0) return done;
        for (std::size_t i = 0; i < *got; ++i)
            if (buffer[i] != pattern_byte(seed, done + i)) return done + i;
        done += *got;
        if (n % 512 == 0) std::this_thread::sleep_for(1ms);  // slow: the writer's buffer fills up
    }
    return done;
}

}  // namespace

TEMPLATE_TEST_CASE("write_all of 64 MiB to a slow reader in small pieces delivers every byte in order",
                   "[reliability][partial]", IPv4, IPv6, Unix) {
    SKIP_UNLESS_AVAILABLE(TestType);
    using F = TestType;
    const auto data = pattern(42, big_transfer);
    // 0: plain blocking, 1: with an Until (non-blocking sends, so partial writes for sure),
    // 2: set_timeout (the poll path), 3: plain blocking under a signal storm (interrupted sends are short).
    const int variant = GENERATE(0, 1, 2, 3);
    INFO("variant " << variant << ", " << big_transfer << " bytes");
    auto [writer, reader] = netlite_test::require_loopback_pair<F>();
    // Small buffers, so the writer waits on the reader all the time (not so small that TCP's delayed
    // window updates crawl).
    REQUIRE_OK(writer.set_send_buffer_size(64 * 1024));
    REQUIRE_OK(reader.set_recv_buffer_size(64 * 1024));
    std::promise<pthread_t> started;
    auto target = started.get_future();
    auto sent = std::async(std::launch::async, [&]() -> Result<void, TransferError> {
        started.set_value(::pthread_self());
        if (variant == 1) return writer.write_all(data, 120s);
        if (variant == 2) {
            if (auto ok = writer.set_timeout(30s); !ok)
                return unexpected<TransferError>(TransferError(ok.error(), 0));
        }
        return writer.write_all(data);
    });
    std::optional<SignalHammer> hammer;
    if (variant == 3) hammer.emplace(target.get(), 2000000);
    const auto start = Clock::now();
    const std::size_t arrived = slow_reader(reader, 42, big_transfer);
    REQUIRE(sent.wait_for(60s) == std::future_status::ready);
    const unsigned long signals = hammer ? hammer->stop() : 0;
    auto outcome = sent.get();
    INFO("write_all: " << (outcome ? std::string("ok") : outcome.error().message())
                       << "; arrived in order: " << arrived << "; signals: " << signals << "; "
                       << std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count()
                       << " ms");
    CHECK(outcome.has_value());
    CHECK(arrived == big_transfer);
    REQUIRE_OK(writer.shutdown(Shutdown::write));
    std::byte extra[16];
    auto end = reader.read(extra, 10s);  // nothing after the last byte: end of stream
    REQUIRE_OK(end);
    CHECK(*end == 0);
}

// --- timeouts ------------------------------------------------------------------------------------------

namespace {

template <class Call>
std::pair<Error, Clock::duration> timed(Call&& call) {
    const auto start = Clock::now();
    auto result = call();
    const auto took = Clock::now() - start;
    return {result ? Error() : Error(result.error()), took};
}

constexpr auto bound = 200ms;
constexpr auto slack = 1500ms;  // loose: a loaded CI machine, a sanitizer

#define CHECK_TIMED_OUT_WITHIN_BOUND(outcome)                                                             \
    do {                                                                                                  \
        const auto& [error_, took_] = (outcome);                                                          \
        INFO("error: " << error_.message() << ", took "                                                   \
                       << std::chrono::duration_cast<std::chrono::milliseconds>(took_).count() << " ms"); \
        CHECK(error_ == std::errc::timed_out);                                                            \
        CHECK(took_ >= bound - 5ms); /* SO_RCVTIMEO rounds to the kernel's tick */                        \
        CHECK(took_ < bound + slack);                                                                     \
    } while (false)

/// Fills the path from `writer` to its peer (small buffers, nobody reading); returns the bytes queued.
template <Family F>
std::size_t fill(TcpStream<F>& writer, TcpStream<F>& reader) {
    (void)writer.set_send_buffer_size(4096);
    (void)reader.set_recv_buffer_size(4096);
    const std::vector<std::byte> chunk(16 * 1024);
    std::size_t queued = 0;
    for (int i = 0; i < 100000; ++i) {
        auto sent = writer.write(chunk, 20ms);
        if (!sent) break;
        queued += *sent;
    }
    return queued;
}

template <Family F>
std::size_t drain(TcpStream<F>& reader, std::size_t expected) {
    std::vector<std::byte> buffer(64 * 1024);
    std::size_t got_total = 0;
    while (got_total < expected) {
        auto got = reader.read(buffer, 5s);
        if (!got || *got == 0) break;
        got_total += *got;
    }
    return got_total;
}

}  // namespace

TEMPLATE_TEST_CASE("timeouts fire within their bound and leave the socket usable", "[reliability][timeout]",
                   IPv4, IPv6, Unix) {
    SKIP_UNLESS_AVAILABLE(TestType);
    using F = TestType;
    std::byte buffer[64];

    SECTION("read: Until, set_timeout, SO_RCVTIMEO; the next read gets what arrives") {
        for (int how = 0; how < 3; ++how) {
            INFO("variant " << how);
            auto [client, peer] = netlite_test::require_loopback_pair<F>();
            if (how == 1) REQUIRE_OK(client.set_timeout(bound));
            if (how == 2) REQUIRE_OK(client.set_read_timeout(bound));
            CHECK_TIMED_OUT_WITHIN_BOUND(
                timed([&] { return how == 0 ? client.read(buffer, bound) : client.read(buffer); }));
            REQUIRE_OK(peer.write_all(ConstBuffer("after", 5)));
            auto got = client.read(buffer, 5s);
            REQUIRE_OK(got);
            CHECK(std::string_view(reinterpret_cast<const char*>(buffer), *got) == "after");
        }
    }
    SECTION("write: Until, set_timeout, SO_SNDTIMEO on a full path; what write_all reports sent arrives") {
        for (int how = 0; how < 3; ++how) {
            INFO("variant " << how);
            auto [client, peer] = netlite_test::require_loopback_pair<F>();
            const std::size_t queued = fill(client, peer);
            REQUIRE(queued > 0);
            if (how == 1) REQUIRE_OK(client.set_timeout(bound));
            if (how == 2) REQUIRE_OK(client.set_write_timeout(bound));
            const std::vector<std::byte> more(256 * 1024);
            CHECK_TIMED_OUT_WITHIN_BOUND(
                timed([&] { return how == 0 ? client.write(more, bound) : client.write(more); }));
            // write_all: times out too, and says exactly how much went before it did.
            std::size_t partial = 0;
            {
                const auto start = Clock::now();
                auto all = how == 0 ? client.write_all(more, bound) : client.write_all(more);
                REQUIRE_FALSE(all);
                CHECK(all.error() == std::errc::timed_out);
                CHECK(Clock::now() - start < bound + slack);
                partial = all.error().bytes_transferred();
            }
            // Usable: after the peer drains, a write goes through and everything arrives.
            auto drained = std::async(std::launch::async, [&] { return drain(peer, queued + partial + 5); });
            REQUIRE_OK(client.write_all(ConstBuffer("tail!", 5), 10s));
            CHECK(drained.get() == queued + partial + 5);
        }
    }
    SECTION("accept: Until and set_timeout; the listener accepts afterwards") {
        auto server = bind_server<F>();
        CHECK_TIMED_OUT_WITHIN_BOUND(timed([&] { return server.listener.accept(bound); }));
        REQUIRE_OK(server.listener.set_timeout(bound));
        CHECK_TIMED_OUT_WITHIN_BOUND(timed([&] { return server.listener.accept(); }));
        REQUIRE_OK(server.listener.set_timeout(std::nullopt));
        REQUIRE_OK(server.listener.set_read_timeout(bound));  // SO_RCVTIMEO bounds a blocking accept(2) too
        CHECK_TIMED_OUT_WITHIN_BOUND(timed([&] { return server.listener.accept(); }));
        auto client = TcpStream<F>::connect(server.address);
        REQUIRE_OK(client);
        CHECK_OK(server.listener.accept(5s));
    }
    SECTION(
        "connect(until) to a full accept queue: timed_out, no descriptor kept; works once there is room") {
        std::optional<testing::TempPath> temp;
        auto full = make_full_listener<F>(local_address_for<F>(temp));
        REQUIRE(full.full);
        const std::size_t before = open_descriptors();
        CHECK_TIMED_OUT_WITHIN_BOUND(timed([&] { return TcpStream<F>::connect(full.address, bound); }));
        CHECK(open_descriptors() == before);
        auto drained = full.drain();
        CHECK_FALSE(drained.empty());
        CHECK_OK(TcpStream<F>::connect(full.address, 10s));
    }
    SECTION("recv_from: Until and set_timeout; the socket receives afterwards") {
        std::optional<testing::TempPath> temp_a, temp_b;
        auto a = UdpSocket<F>::bind(local_address_for<F>(temp_a));
        auto b = UdpSocket<F>::bind(local_address_for<F>(temp_b));
        REQUIRE_OK(a);
        REQUIRE_OK(b);
        CHECK_TIMED_OUT_WITHIN_BOUND(timed([&] { return b->recv_from(buffer, bound); }));
        REQUIRE_OK(b->set_timeout(bound));
        CHECK_TIMED_OUT_WITHIN_BOUND(timed([&] { return b->recv_from(buffer); }));
        REQUIRE_OK(a->send_to(ConstBuffer("late", 4), *b->local_address()));
        auto got = b->recv_from(buffer);
        REQUIRE_OK(got);
        CHECK(got->size == 4);
    }
}

// --- UDP -----------------------------------------------------------------------------------------------

namespace {

/// A self-checking datagram: [sequence 4][size 4][FNV-1a of the rest 8][pattern bytes].
constexpr std::size_t header_size = 16;

std::vector<std::byte> make_datagram(std::uint32_t sequence, std::size_t size) {
    std::vector<std::byte> datagram = pattern(sequence, size);
    std::memcpy(datagram.data(), &sequence, 4);
    const auto size32 = static_cast<std::uint32_t>(size);
    std::memcpy(datagram.data() + 4, &size32, 4);
    const std::uint64_t hash = fnv1a(datagram.data() + header_size, size - header_size);
    std::memcpy(datagram.data() + 8, &hash, 8);
    return datagram;
}

bool datagram_intact(const std::byte* data, std::size_t size) {
    if (size < header_size) return false;
    std::uint32_t size32 = 0;
    std::uint64_t hash = 0;
    std::memcpy(&size32, data + 4, 4);
    std::memcpy(&hash, data + 8, 8);
    return size32 == size && hash == fnv1a(data + header_size, size - header_size);
}

std::size_t datagram_size(std::uint32_t sequence) {
    return header_size + (sequence * 7919u) % 4000u;
}

}  // namespace

TEMPLATE_TEST_CASE("a UDP burst larger than the receive buffer loses datagrams but never corrupts one",
                   "[reliability][udp]", IPv4, IPv6) {
    SKIP_UNLESS_AVAILABLE(TestType);
    using F = TestType;
    auto receiver = UdpSocket<F>::bind(testing::loopback<F>());
    auto sender = UdpSocket<F>::bind(testing::loopback<F>());
    REQUIRE_OK(receiver);
    REQUIRE_OK(sender);
    REQUIRE_OK(receiver->set_recv_buffer_size(16 * 1024));
    const auto to = *receiver->local_address();
    const std::uint32_t count = soak ? 200000 : 20000;

    // A reader that is slower than the sender: it drains concurrently, so the queue overflows again and
    // again while datagrams are also being read.
    auto reading = std::async(std::launch::async, [&] {
        std::vector<std::byte> buffer(8192);
        struct Tally {
            std::uint32_t received = 0, corrupt = 0, reordered = 0, truncated = 0;
            std::uint64_t bytes = 0;
        } tally;
        std::optional<std::uint32_t> last;
        for (;;) {
            auto got = receiver->recv_from(buffer, 500ms);
            if (!got) break;  // quiet for 500 ms: the burst is over
            ++tally.received;
            tally.bytes += got->size;
            if (got->truncated) ++tally.truncated;
            if (!datagram_intact(buffer.data(), got->size)) ++tally.corrupt;
            std::uint32_t sequence = 0;
            std::memcpy(&sequence, buffer.data(), 4);
            if (last && sequence <= *last) ++tally.reordered;
            last = sequence;
            if (tally.received % 64 == 0) std::this_thread::sleep_for(1ms);
        }
        return tally;
    });
    std::uint32_t sent = 0;
    for (std::uint32_t sequence = 0; sequence < count; ++sequence) {
        const auto datagram = make_datagram(sequence, datagram_size(sequence));
        auto ok = sender->send_to(datagram, to, 5s);
        if (ok) ++sent;
    }
    const auto tally = reading.get();
    INFO("sent " << sent << ", received " << tally.received << " (" << tally.bytes << " bytes), lost "
                 << sent - tally.received << ", corrupt " << tally.corrupt);
    CHECK(sent == count);
    CHECK(tally.received > 0);
    CHECK(tally.received < sent);  // the premise: the burst did overflow the receive buffer
    CHECK(tally.corrupt == 0);
    CHECK(tally.truncated == 0);
    CHECK(tally.reordered == 0);  // loopback does not reorder: a lost datagram is simply missing
    WARN("UDP burst: sent " << sent << ", received " << tally.received << ", lost " << sent - tally.received
                            << ", checked " << tally.bytes << " bytes, corrupt " << tally.corrupt);
}

TEMPLATE_TEST_CASE(
    "mixed-size datagrams into a smaller buffer: truncated exactly when too big, prefix intact",
    "[reliability][udp]", IPv4, IPv6, Unix) {
    SKIP_UNLESS_AVAILABLE(TestType);
    using F = TestType;
    std::optional<testing::TempPath> temp_a, temp_b;
    auto a = UdpSocket<F>::bind(local_address_for<F>(temp_a));
    auto b = UdpSocket<F>::bind(local_address_for<F>(temp_b));
    REQUIRE_OK(a);
    REQUIRE_OK(b);
    const auto to = *b->local_address();
    constexpr std::size_t buffer_size = 1024;
    for (std::uint32_t sequence = 0; sequence < 200; ++sequence) {
        const std::size_t size = datagram_size(sequence);
        const auto datagram = make_datagram(sequence, size);
        REQUIRE_OK(a->send_to(datagram, to, 5s));
        std::vector<std::byte> buffer(buffer_size);
        auto got = b->recv_from(buffer, 5s);
        REQUIRE_OK(got);
        INFO("datagram " << sequence << " of " << size << " bytes");
        CHECK(got->truncated == (size > buffer_size));
        CHECK(got->size == std::min(size, buffer_size));
        CHECK(std::memcmp(buffer.data(), datagram.data(), got->size) == 0);
    }
    std::vector<std::byte> buffer(buffer_size);
    CHECK(b->recv_from(buffer, 0ms).error() == std::errc::timed_out);  // no tail left behind as a datagram
}

TEMPLATE_TEST_CASE(
    "ICMP port unreachable: recv_from on a connected socket fails with ECONNREFUSED, then works",
    "[reliability][udp]", IPv4, IPv6) {
    SKIP_UNLESS_AVAILABLE(TestType);
    using F = TestType;
    Address<F> gone;
    {
        auto peer = UdpSocket<F>::bind(testing::loopback<F>());
        REQUIRE_OK(peer);
        gone = *peer->local_address();
    }
    auto client = UdpSocket<F>::bind(testing::loopback<F>());
    REQUIRE_OK(client);
    REQUIRE_OK(client->connect(gone));
    std::byte buffer[64];
    bool refused = false;
    for (int round = 0; round < 5 && !refused; ++round) {
        auto sent = client->send(ConstBuffer("ping", 4));
        if (!sent) {
            refused = sent.error() == std::errc::connection_refused;
            continue;
        }
        auto got = client->recv_from(buffer, 2s);  // recv_from, not recv: the other receive path
        REQUIRE_FALSE(got);
        INFO(got.error().message());
        CHECK(got.error() != std::errc::interrupted);
        refused = got.error() == std::errc::connection_refused;
    }
    CHECK(refused);
    // The error was reported once; the socket is fine: a peer on that port now gets the datagrams.
    auto peer = UdpSocket<F>::bind(gone);
    if (!peer) NETLITE_SKIP("the port was taken in between: " << peer.error().message());
    REQUIRE_OK(client->send(ConstBuffer("again", 5)));
    auto got = peer->recv_from(buffer, 5s);
    REQUIRE_OK(got);
    CHECK(got->size == 5);
}

// --- nasty address texts not already in tests/address_test.cpp ----------------------------------------

TEMPLATE_TEST_CASE("nasty address texts fail cleanly for every family", "[reliability][address]", IPv4, IPv6,
                   IP) {
    using F = TestType;
    // address_test.cpp covers these for Address<IP> (and some for IPv4/IPv6); here every family gets all.
    const std::string digits(4096, '9');
    const std::string_view texts[] = {"",
                                      ":",
                                      "[::1",
                                      "1.2.3.4:99999",
                                      "[::1]:99999",
                                      "256.0.0.1:1",
                                      "[256.0.0.1]:1",
                                      std::string_view("1.2.3.4:80\0", 11),
                                      std::string_view("\0", 1),
                                      std::string_view("[::1]\0:80", 9),
                                      digits,
                                      "[]:",
                                      "]:80",
                                      "[::1]]:80",
                                      "[::1]:80:80",
                                      "1.2.3.4::80",
                                      "[::ffff:1.2.3.4%]:1"};
    for (const std::string_view text : texts) {
        INFO("text of " << text.size() << " bytes: " << std::string(text.substr(0, 40)));
        auto parsed = Address<F>::parse(text);
        CHECK_FALSE(parsed);
        if (!parsed) CHECK((parsed.error() == errc::invalid_address || parsed.error() == errc::invalid_port));
        auto ip_only = Address<F>::parse(text, 80);
        CHECK_FALSE(ip_only);
    }
}

TEST_CASE("nasty Unix address texts: sun_path exactly, one over, NUL, and 4 KiB", "[reliability][address]") {
    const std::size_t sun_path_size = sizeof(sockaddr_un::sun_path);
    const std::string exact(sun_path_size - 1, 'p');  // fills sun_path with its terminating NUL
    auto fits = Address<Unix>::parse(exact);
    REQUIRE_OK(fits);
    CHECK(fits->path() == exact);
    CHECK(Address<Unix>::parse(fits->to_string())->path() == exact);
    for (const std::size_t size : {sun_path_size, sun_path_size + 1, std::size_t{4096}}) {
        INFO(size << " bytes");
        CHECK(Address<Unix>::parse(std::string(size, 'p')).error() == errc::path_too_long);
        if (Address<Unix>::has_abstract_names) {
            // "@" + std::string(size, 'n') trips g++ 12's -Wrestrict false positive at -O3 (GCC PR 105329).
            std::string abstract(size + 1, 'n');
            abstract[0] = '@';
            CHECK(Address<Unix>::parse(abstract).error() == errc::path_too_long);
        }
    }
    CHECK(Address<Unix>::parse(std::string_view("/tmp/a\0b", 8)).error() == errc::invalid_address);
    CHECK(Address<Unix>::parse("").error() == errc::invalid_address);
    if (!Address<Unix>::has_abstract_names) {
        WARN("skipped: abstract Unix names exist only on Linux (NETLITE_PORTABLE_POSIX build)");
        return;
    }
    // An abstract name of exactly sun_path less one byte round-trips; NUL inside is allowed there only.
    const std::string name = "@" + std::string(sun_path_size - 1, 'n');
    auto abstract = Address<Unix>::parse(name);
    REQUIRE_OK(abstract);
    CHECK(abstract->to_string() == name);
    const std::string_view with_nul("@a\0b", 4);
    auto nul_name = Address<Unix>::parse(with_nul);
    REQUIRE_OK(nul_name);
    CHECK(nul_name->to_string() == with_nul);
    CHECK(*Address<Unix>::parse(nul_name->to_string()) == *nul_name);
}
