// Reliability: hostile peers and signals. Writing to a closed or reset peer fails with EPIPE/ECONNRESET
// and never raises SIGPIPE (the process does NOT ignore SIGPIPE here); reading from a reset peer fails
// instead of hanging; a thread blocked for a second burns ~no CPU (no spin); and a thread hammered with a
// signal whose handler lacks SA_RESTART sees every accept/read/write/connect/recv_from complete or fail
// properly - never EINTR.
#include "reliability_support.hpp"

#include <netlite/stop_token.hpp>

#include <cstdio>
#include <future>
#include <stop_token>

using namespace netlite;
using namespace reliability;

namespace {

/// SIGPIPE's disposition for the test: a counting handler (so a raised SIGPIPE is counted, not fatal and
/// not ignored), or the default (so a raised SIGPIPE kills the test process).
class SigpipeWatch {
public:
    explicit SigpipeWatch(bool default_disposition) {
        struct sigaction action {};
        action.sa_handler = default_disposition ? SIG_DFL : reliability_count_signal;
        sigemptyset(&action.sa_mask);
        ::sigaction(SIGPIPE, &action, &old_);
        start_ = signals_handled.load();
    }
    ~SigpipeWatch() { ::sigaction(SIGPIPE, &old_, nullptr); }
    unsigned long raised() const { return signals_handled.load() - start_; }

private:
    struct sigaction old_ {};
    unsigned long start_ = 0;
};

bool is_peer_gone(const Error& error) {
    return error == std::errc::broken_pipe || error == std::errc::connection_reset;
}

/// Calls `write_once` until it fails (bounded); returns the error.
template <class Write>
std::optional<Error> write_until_error(Write&& write_once) {
    for (int i = 0; i < 10000; ++i) {
        auto result = write_once();
        if (!result) return Error(result.error());
    }
    return std::nullopt;
}

/// The peer goes away: closed in order, or reset (linger 0; Unix streams have no reset).
template <Family F>
void peer_leaves(TcpStream<F>& peer, bool reset) {
    if constexpr (!std::is_same_v<F, Unix>)
        if (reset) REQUIRE_OK(peer.set_linger(0s));
    REQUIRE_OK(peer.close());
}

}  // namespace

TEMPLATE_TEST_CASE("writing to a peer that closed or reset fails with EPIPE/ECONNRESET, never SIGPIPE",
                   "[reliability][sigpipe]", IPv4, IPv6, Unix) {
    SKIP_UNLESS_AVAILABLE(TestType);
    using F = TestType;
    const bool reset = GENERATE(false, true);
    INFO((reset ? "peer reset" : "peer closed"));

    SECTION("the check can fail: a raw send(2) without MSG_NOSIGNAL does raise SIGPIPE") {
        SigpipeWatch watch(false);
        auto [client, peer] = netlite_test::require_loopback_pair<F>();
        peer_leaves(peer, reset);
        for (int i = 0; i < 100 && watch.raised() == 0; ++i) (void)::send(client.native_handle(), "x", 1, 0);
        CHECK(watch.raised() > 0);
    }
    SECTION("every write call, with SIGPIPE counted") {
        SigpipeWatch watch(false);
        const std::byte data[512] = {};
        const ConstBuffer pieces[2] = {ConstBuffer(data, 100), ConstBuffer(data, 200)};
        std::FILE* file = std::tmpfile();
        REQUIRE(file != nullptr);
        REQUIRE(std::fwrite(data, 1, sizeof data, file) == sizeof data);
        std::fflush(file);
        const int file_fd = ::fileno(file);
        using Attempt = std::function<Result<std::size_t>(TcpStream<F>&)>;
        const std::pair<const char*, Attempt> calls[] = {
            {"write", [&](TcpStream<F>& s) { return s.write(data); }},
            {"write(until)", [&](TcpStream<F>& s) { return s.write(data, 5s); }},
            {"write with set_timeout",
             [&](TcpStream<F>& s) {
                 (void)s.set_timeout(5s);
                 return s.write(data);
             }},
            {"write_all",
             [&](TcpStream<F>& s) -> Result<std::size_t> {
                 if (auto ok = s.write_all(data); !ok) return fail(static_cast<const Error&>(ok.error()));
                 return sizeof data;
             }},
            {"write_all(until)",
             [&](TcpStream<F>& s) -> Result<std::size_t> {
                 if (auto ok = s.write_all(data, 5s); !ok) return fail(static_cast<const Error&>(ok.error()));
                 return sizeof data;
             }},
            {"write_vectored", [&](TcpStream<F>& s) { return s.write_vectored(pieces); }},
            {"send_file",
             [&](TcpStream<F>& s) -> Result<std::size_t> {
                 auto sent = s.send_file(file_fd, 0, sizeof data);
                 if (!sent) return fail(static_cast<const Error&>(sent.error()));
                 return *sent;
             }},
        };
        for (const auto& [name, call] : calls) {
            INFO(name);
            auto [client, peer] = netlite_test::require_loopback_pair<F>();
            peer_leaves(peer, reset);
            auto error = write_until_error([&] { return call(client); });
            REQUIRE(error.has_value());
            INFO(error->message());
            CHECK(is_peer_gone(*error));
            CHECK(watch.raised() == 0);
        }
        std::fclose(file);
    }
    SECTION("with SIGPIPE at its default disposition the process survives") {
        SigpipeWatch watch(true);
        const std::byte data[512] = {};
        auto [client, peer] = netlite_test::require_loopback_pair<F>();
        peer_leaves(peer, reset);
        auto error = write_until_error([&] { return client.write(data); });
        REQUIRE(error.has_value());
        CHECK(is_peer_gone(*error));
        auto again = client.write_all(data);  // and again, after the first error
        REQUIRE_FALSE(again);
        CHECK(is_peer_gone(again.error()));
    }
}

TEMPLATE_TEST_CASE("reading from a reset peer fails with ECONNRESET instead of hanging",
                   "[reliability][reset]", IPv4, IPv6) {
    SKIP_UNLESS_AVAILABLE(TestType);
    using F = TestType;
    SECTION("reset before the read: plain read (bounded by SO_RCVTIMEO), read(until), read_exact") {
        for (int how = 0; how < 3; ++how) {
            auto [client, peer] = netlite_test::require_loopback_pair<F>();
            REQUIRE_OK(client.set_read_timeout(10s));  // the bound, should the read wait
            peer_leaves(peer, true);
            std::byte buffer[64];
            const auto start = Clock::now();
            Error error;
            if (how == 0) error = client.read(buffer).error();
            if (how == 1) error = client.read(buffer, 10s).error();
            if (how == 2) error = client.read_exact(buffer, 10s).error();
            INFO("variant " << how << ": " << error.message());
            CHECK(error == std::errc::connection_reset);
            CHECK(Clock::now() - start < 2s);
        }
    }
    SECTION("reset while the reader is blocked in read") {
        for (const bool with_until : {false, true}) {
            auto [client, peer] = netlite_test::require_loopback_pair<F>();
            REQUIRE_OK(client.set_read_timeout(10s));
            std::promise<pid_t> started;
            auto tid = started.get_future();
            auto reader = std::async(std::launch::async, [&, with_until] {
                started.set_value(thread_id());
                std::byte buffer[64];
                return with_until ? client.read(buffer, 10s) : client.read(buffer);
            });
            REQUIRE(wait_until_sleeping(tid.get()));
            const auto start = Clock::now();
            peer_leaves(peer, true);
            REQUIRE(reader.wait_for(5s) == std::future_status::ready);
            auto got = reader.get();
            REQUIRE_FALSE(got);
            CHECK(got.error() == std::errc::connection_reset);
            CHECK(Clock::now() - start < 2s);
        }
    }
}

TEST_CASE("a thread blocked for a second uses almost no CPU (no spin)", "[reliability][spin]") {
    // Every blocking call waits about 1 s in its own thread (all at once); each thread measures its own
    // CPU time. A busy-wait would burn ~1 s of CPU; a proper wait well under 100 ms.
    auto pair = netlite_test::require_loopback_pair<IPv4>();
    auto& [client, peer] = pair;
    auto pair2 = netlite_test::require_loopback_pair<IPv4>();
    auto pair3 = netlite_test::require_loopback_pair<IPv4>();
    auto pair4 = netlite_test::require_loopback_pair<IPv4>();
    auto full_writer = netlite_test::require_loopback_pair<IPv4>();
    auto server = bind_server<IPv4>();
    auto full = make_full_listener<IPv4>(testing::loopback<IPv4>());
    REQUIRE(full.full);
    auto udp = UdpSocket<IPv4>::bind(testing::loopback<IPv4>());
    REQUIRE_OK(udp);
    // Fill full_writer's send path so the next write must wait.
    REQUIRE_OK(full_writer.first.set_send_buffer_size(4096));
    REQUIRE_OK(full_writer.second.set_recv_buffer_size(4096));
    {
        const std::vector<std::byte> chunk(64 * 1024);
        for (int i = 0; i < 1000; ++i)
            if (!full_writer.first.write(chunk, 50ms)) break;
    }
    std::stop_source stop;
    using Blocker = std::function<bool()>;  // true when the call ended the way it should
    std::byte buffer[64];
    const std::vector<std::pair<const char*, Blocker>> blockers = {
        {"read(until 1s)", [&] { return client.read(buffer, 1s).error() == std::errc::timed_out; }},
        {"read with set_timeout(1s)",
         [&] {
             return pair2.first.set_timeout(1s) && pair2.first.read(buffer).error() == std::errc::timed_out;
         }},
        {"read with SO_RCVTIMEO 1s",
         [&] {
             return pair3.first.set_read_timeout(1s) &&
                    pair3.first.read(buffer).error() == std::errc::timed_out;
         }},
        {"read(stop_token) stopped after 1s",
         [&] { return pair4.first.read(buffer, stop.get_token()).error() == std::errc::operation_canceled; }},
        {"accept(until 1s)", [&] { return server.listener.accept(1s).error() == std::errc::timed_out; }},
        {"recv_from(until 1s)", [&] { return udp->recv_from(buffer, 1s).error() == std::errc::timed_out; }},
        {"write(until 1s) on a full buffer",
         [&] {
             const std::vector<std::byte> chunk(64 * 1024);
             return full_writer.first.write(chunk, 1s).error() == std::errc::timed_out;
         }},
        {"connect(until 1s) to a full accept queue",
         [&] { return TcpStream<IPv4>::connect(full.address, 1s).error() == std::errc::timed_out; }},
    };
    struct Outcome {
        bool ok;
        std::chrono::microseconds cpu;
        Clock::duration wall;
    };
    std::vector<std::future<Outcome>> outcomes;
    for (const auto& [name, call] : blockers) {
        outcomes.push_back(std::async(std::launch::async, [&call] {
            const auto cpu = thread_cpu_time();
            const auto start = Clock::now();
            const bool ok = call();
            return Outcome{ok, thread_cpu_time() - cpu, Clock::now() - start};
        }));
    }
    std::this_thread::sleep_for(1s);  // the measured duration for the stop_token case, not synchronisation
    stop.request_stop();
    for (std::size_t i = 0; i < blockers.size(); ++i) {
        const Outcome outcome = outcomes[i].get();
        INFO(blockers[i].first << ": cpu " << outcome.cpu.count() << " us, wall "
                               << std::chrono::duration_cast<std::chrono::milliseconds>(outcome.wall).count()
                               << " ms");
        CHECK(outcome.ok);
        CHECK(outcome.wall >= 900ms);
        CHECK(outcome.cpu < 100ms);
    }
}

// --- EINTR ---------------------------------------------------------------------------------------------

namespace {

/// Runs `call` in a thread that is hammered with SIGUSR1 (no SA_RESTART). Once the thread has handled at
/// least 20 signals while inside the call, `release` runs (it lets the call complete), and the call's
/// result comes back. Reports how many signals were sent.
template <class Call, class Release>
auto hammered(Call&& call, Release&& release, unsigned long* sent_out = nullptr) {
    std::promise<pthread_t> started;
    auto target = started.get_future();
    std::atomic<bool> inside{false};
    auto worker = std::async(std::launch::async, [&] {
        started.set_value(::pthread_self());
        // Block until the hammer is installed, so no SIGUSR1 reaches the default disposition (which kills).
        while (!inside.load()) std::this_thread::yield();
        return call();
    });
    SignalHammer hammer(target.get());
    REQUIRE(hammer.installed());
    const unsigned long start = signals_handled.load();
    inside.store(true);
    // At least 20 signals handled while the call runs (or the call already returned: its result tells).
    const auto bound = Clock::now() + 10s;
    while (signals_handled.load() < start + 20 && Clock::now() < bound &&
           worker.wait_for(1ms) != std::future_status::ready) {
    }
    const bool interrupted =
        signals_handled.load() >= start + 20 || worker.wait_for(0s) == std::future_status::ready;
    release();
    const bool finished = worker.wait_for(30s) == std::future_status::ready;
    const unsigned long sent = hammer.stop();
    if (sent_out) *sent_out = sent;
    CHECK(interrupted);
    REQUIRE(finished);
    return worker.get();
}

template <class R>
std::string outcome_of(const R& result) {
    return result ? std::string("ok") : result.error().message();
}

}  // namespace

TEMPLATE_TEST_CASE("a signal storm (no SA_RESTART) never surfaces as EINTR", "[reliability][eintr]", IPv4,
                   IPv6, Unix) {
    SKIP_UNLESS_AVAILABLE(TestType);
    using F = TestType;
    unsigned long sent = 0;

    SECTION("accept, plain and with a deadline, completes when a client arrives") {
        for (const bool with_until : {false, true}) {
            auto server = bind_server<F>();
            std::optional<TcpStream<F>> client;
            auto accepted =
                hammered([&] { return with_until ? server.listener.accept(30s) : server.listener.accept(); },
                         [&] {
                             auto connected = TcpStream<F>::connect(server.address);
                             REQUIRE_OK(connected);
                             client = std::move(*connected);
                         },
                         &sent);
            INFO("until: " << with_until << ", signals sent: " << sent
                           << ", accept: " << outcome_of(accepted));
            CHECK(accepted.has_value());
        }
    }
    SECTION("accept(until) with nobody coming times out at its deadline, not early") {
        auto server = bind_server<F>();
        const auto start = Clock::now();
        auto accepted = hammered([&] { return server.listener.accept(300ms); }, [] {});
        INFO("accept: " << outcome_of(accepted));
        REQUIRE_FALSE(accepted);
        CHECK(accepted.error() == std::errc::timed_out);
        CHECK(Clock::now() - start >= 300ms);
    }
    SECTION("read, plain and with a deadline, returns the bytes that arrive") {
        for (const bool with_until : {false, true}) {
            auto [client, peer] = netlite_test::require_loopback_pair<F>();
            std::byte buffer[16];
            auto got = hammered([&] { return with_until ? client.read(buffer, 30s) : client.read(buffer); },
                                [&] { REQUIRE_OK(peer.write_all(ConstBuffer("xyz", 3))); });
            INFO("until: " << with_until << ", read: " << outcome_of(got));
            REQUIRE(got.has_value());
            CHECK(*got >= 1);
        }
    }
    SECTION("read(until) with nothing sent times out, not early") {
        auto [client, peer] = netlite_test::require_loopback_pair<F>();
        std::byte buffer[16];
        const auto start = Clock::now();
        auto got = hammered([&] { return client.read(buffer, 300ms); }, [] {});
        REQUIRE_FALSE(got);
        CHECK(got.error() == std::errc::timed_out);
        CHECK(Clock::now() - start >= 300ms);
    }
    SECTION("write_all and write(until) blocked on a full buffer deliver every byte once the peer reads") {
        for (int variant = 0; variant < 3; ++variant) {
            auto [client, peer] = netlite_test::require_loopback_pair<F>();
            const std::size_t size = 4 << 20;
            const auto data = pattern(static_cast<std::uint64_t>(variant), size);
            std::atomic<std::size_t> received{0};
            std::atomic<bool> intact{true};
            std::future<void> reader;
            std::size_t before = 0;  // variant 2: bytes queued before the hammered call
            if (variant == 2) {      // fill the path first, so the single write(until) has to wait
                for (int i = 0; i < 10000 && before < size; ++i) {
                    auto sent = client.write(ConstBuffer(data).advanced(before), 20ms);
                    if (!sent) break;
                    before += *sent;
                }
                REQUIRE(before < size);
            }
            auto written = hammered(
                [&]() -> Result<std::size_t> {
                    if (variant == 0) {
                        if (auto ok = client.write_all(data); !ok)
                            return fail(static_cast<const Error&>(ok.error()));
                        return size;
                    }
                    if (variant == 1) {
                        if (auto ok = client.write_all(data, 30s); !ok)
                            return fail(static_cast<const Error&>(ok.error()));
                        return size;
                    }
                    auto sent = client.write(ConstBuffer(data).advanced(before), 30s);  // some, never EINTR
                    if (!sent) return sent;
                    return before + *sent;
                },
                [&] {
                    reader = std::async(std::launch::async, [&] {  // reads until the end of the stream
                        std::vector<std::byte> chunk(64 * 1024);
                        for (;;) {
                            auto got = peer.read(chunk, 20s);
                            if (!got || *got == 0) return;
                            const std::size_t at = received.load();
                            for (std::size_t i = 0; i < *got; ++i)
                                if (at + i >= size || chunk[i] != data[at + i]) intact = false;
                            received += *got;
                        }
                    });
                });
            INFO("variant " << variant << ": " << outcome_of(written));
            REQUIRE_OK(client.shutdown(Shutdown::write));  // the reader sees the end after the last byte
            REQUIRE(reader.wait_for(30s) == std::future_status::ready);
            REQUIRE(written.has_value());
            CHECK(*written > 0);
            if (variant < 2) CHECK(*written == size);
            CHECK(received.load() == *written);
            CHECK(intact.load());
        }
    }
    SECTION("connect, plain and with a deadline, completes once the accept queue has room") {
        for (const bool with_until : {false, true}) {
            if (std::is_same_v<F, Unix> && !with_until)
                continue;  // the plain Unix case has its own regression test below
            std::optional<testing::TempPath> temp;
            auto full = make_full_listener<F>(local_address_for<F>(temp));
            REQUIRE(full.full);
            std::vector<Accepted<F>> drained;
            auto connected = hammered(
                [&] {
                    return with_until ? TcpStream<F>::connect(full.address, 30s)
                                      : TcpStream<F>::connect(full.address);
                },
                [&] {
                    drained =
                        full.drain();  // room in the queue: a retransmitted SYN / blocked connect gets in
                });
            INFO("until: " << with_until << ", connect: " << outcome_of(connected));
            REQUIRE(connected.has_value());
            // Connected for real: a byte goes through to the listener's side.
            CHECK_OK(connected->write_all(ConstBuffer("!", 1)));
            auto more = full.listener.accept(5s);
            if (more) drained.push_back(std::move(*more));
            bool arrived = false;
            for (auto& accepted : drained) {
                char byte = 0;
                auto got = accepted.stream.read(MutableBuffer(&byte, 1), 100ms);
                if (got && *got == 1 && byte == '!') arrived = true;
            }
            CHECK(arrived);
        }
    }
    SECTION("connect(until) to a full accept queue times out, not early") {
        std::optional<testing::TempPath> temp;
        auto full = make_full_listener<F>(local_address_for<F>(temp));
        REQUIRE(full.full);
        const auto start = Clock::now();
        auto connected = hammered([&] { return TcpStream<F>::connect(full.address, 300ms); }, [] {});
        REQUIRE_FALSE(connected);
        CHECK(connected.error() == std::errc::timed_out);
        CHECK(Clock::now() - start >= 300ms);
    }
    SECTION("recv_from, plain and with a deadline, returns the datagram that arrives") {
        for (const bool with_until : {false, true}) {
            std::optional<testing::TempPath> temp_a, temp_b;
            auto a = UdpSocket<F>::bind(local_address_for<F>(temp_a));
            auto b = UdpSocket<F>::bind(local_address_for<F>(temp_b));
            REQUIRE_OK(a);
            REQUIRE_OK(b);
            auto b_address = b->local_address();
            REQUIRE_OK(b_address);
            std::byte buffer[64];
            auto got = hammered([&] { return with_until ? b->recv_from(buffer, 30s) : b->recv_from(buffer); },
                                [&] { REQUIRE_OK(a->send_to(ConstBuffer("datagram", 8), *b_address)); });
            INFO("until: " << with_until << ", recv_from: " << outcome_of(got));
            REQUIRE(got.has_value());
            CHECK(got->size == 8);
            CHECK_FALSE(got->truncated);
            auto received = b->recv_from(buffer, 0ms);  // nothing else queued
            CHECK_FALSE(received);
        }
    }
    SECTION("recv_from(until) with nothing sent times out, not early") {
        std::optional<testing::TempPath> temp;
        auto b = UdpSocket<F>::bind(local_address_for<F>(temp));
        REQUIRE_OK(b);
        std::byte buffer[64];
        const auto start = Clock::now();
        auto got = hammered([&] { return b->recv_from(buffer, 300ms); }, [] {});
        REQUIRE_FALSE(got);
        CHECK(got.error() == std::errc::timed_out);
        CHECK(Clock::now() - start >= 300ms);
    }
}

// Regression (found by this suite, issue 5): a blocking connect on a Unix stream socket that a signal
// interrupted (EINTR; the handler has no SA_RESTART) reported success although the socket was NOT connected
// - the first write then failed with ENOTCONN. detail::sys::connect treated EINTR as "the connect goes on in
// the background" and waited for POLLOUT: right for TCP, but an interrupted AF_UNIX connect is abandoned, and
// an unconnected Unix socket polls writable at once with SO_ERROR 0. The library now calls connect again.
TEST_CASE(
    "a blocking UnixStream::connect interrupted by a signal connects, or fails, but never half-succeeds",
    "[reliability][eintr]") {
    testing::TempPath temp = *testing::TempPath::create();
    auto full = make_full_listener<Unix>(temp.address());
    REQUIRE(full.full);
    std::vector<Accepted<Unix>> drained;
    auto connected =
        hammered([&] { return UnixStream::connect(full.address); }, [&] { drained = full.drain(); });
    if (connected) {
        auto peer = connected->peer_address();
        INFO("connect said ok; peer_address: " << outcome_of(peer));
        CHECK(peer.has_value());  // fails: ENOTCONN
        CHECK_OK(connected->write_all(ConstBuffer("!", 1)));
    } else {
        INFO("connect: " << connected.error().message());
        CHECK(connected.error() != std::errc::interrupted);
    }
}

// KNOWN LIMITATION (found by this suite, issue 5; reported, not asserted): set_read_timeout (SO_RCVTIMEO)
// is the kernel's timer, and detail::sys::recv retries EINTR with a fresh one, so under a signal storm a
// 200 ms read timeout fires only ~200 ms after the LAST signal (measured: 1.7 s for a 1.5 s storm). The
// Until overloads and set_timeout() keep their deadline (see the EINTR cases above). [!mayfail]: reported
// by CTest as passed either way; the printed figure is the evidence.
TEST_CASE("set_read_timeout under a signal storm keeps its bound",
          "[reliability][eintr][timeout][!mayfail]") {
    auto [client, peer] = netlite_test::require_loopback_pair<IPv4>();
    REQUIRE_OK(client.set_read_timeout(200ms));
    std::promise<pthread_t> started;
    auto target = started.get_future();
    auto reader = std::async(std::launch::async, [&] {
        started.set_value(::pthread_self());
        std::byte buffer[4];
        const auto start = Clock::now();
        auto got = client.read(buffer);
        return std::make_pair(got.has_value() ? std::string("ok") : got.error().message(),
                              Clock::now() - start);
    });
    {
        SignalHammer hammer(target.get(), 15000);  // ~1.5 s of signals
        REQUIRE(reader.wait_for(10s) == std::future_status::ready);
    }
    const auto [outcome, took] = reader.get();
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(took).count();
    WARN("read with SO_RCVTIMEO 200 ms under a signal storm: " << outcome << " after " << ms << " ms");
    CHECK(outcome != "ok");
    CHECK(took < 200ms + 1s);
}
