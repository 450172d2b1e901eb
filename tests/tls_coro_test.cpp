// netlite/coro/tls.hpp on loopback: a coroutine TLS server × a coroutine client on the same loop, and ×
// openssl s_client and Python's ssl; many connections on one loop; 4 MiB each way with a reader and a
// writer task on one stream; a read that never gets data ends at its deadline, at a stop and at the task's
// cancellation, and the next read on an attached stream still wakes up; a TCP close without close_notify
// is truncated; read_to_end succeeds only after close_notify. The certificates are made at test time
// (tls_test_support.hpp).
#include "catch.hpp"
#include "test_support.hpp"
#include "tls_test_support.hpp"

#include <netlite/coro.hpp>
#include <netlite/coro/tls.hpp>
#include <netlite/stop_token.hpp>
#include <netlite/tls.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using netlite::AsyncTlsStream;
using netlite::ConstBuffer;
using netlite::IPv4;
using netlite::Loop;
using netlite::MutableBuffer;
using netlite::Scope;
using netlite::Task;
using netlite::TcpListener;
using netlite::TcpStream;
using netlite::TlsContext;
using netlite::TlsStream;
using namespace netlite_tls_test;

namespace {

/// A non-blocking loopback listener on an ephemeral port, for async_accept.
struct Listener {
    TcpListener<IPv4> listener = TcpListener<IPv4>::bind("127.0.0.1", 0).value();
    std::uint16_t port = listener.local_address().value().port();
    Listener() { REQUIRE(listener.set_nonblocking(true).has_value()); }
};

TlsContext server_context(netlite::TlsVersion lowest = netlite::TlsVersion::tls1_2) {
    auto options = server_options();
    options.min_version = lowest;
    auto context = TlsContext::server(options);
    REQUIRE_OK(context);
    return *context;
}
TlsContext client_context(std::optional<netlite::TlsVersion> only = std::nullopt) {
    auto options = client_options();
    if (only) {
        options.min_version = *only;
        options.max_version = *only;
    }
    auto context = TlsContext::client(options);
    REQUIRE_OK(context);
    return *context;
}

/// Echoes every byte until the peer's close_notify (or any failure), then sends close_notify; `stream` is a
/// TlsStream or an AsyncTlsStream.
template <class Stream>
Task<void> echo_on(Stream& stream) {
    std::vector<char> buffer(16 * 1024);
    for (;;) {
        auto got = co_await netlite::async_read(stream, MutableBuffer(buffer.data(), buffer.size()), 10s);
        if (!got || *got == 0) break;
        auto sent = co_await netlite::async_write_all(stream, ConstBuffer(buffer.data(), *got), 10s);
        if (!sent) break;
    }
    (void)co_await netlite::async_shutdown(stream, 10s);
}

/// Handshakes one accepted connection and echoes on it.
Task<void> echo_connection(TlsContext context, TcpStream<IPv4> tcp, bool attached, int* served = nullptr) {
    auto tls = co_await netlite::async_tls_accept(context, std::move(tcp), 10s);
    if (!tls) co_return;
    if (served != nullptr) ++*served;
    if (attached) {
        Loop& loop = co_await netlite::current_loop();
        auto stream = AsyncTlsStream<IPv4>::attach(loop, std::move(*tls));
        if (!stream) co_return;  // (no assertion: the interop case runs this on a thread of its own)
        co_await echo_on(*stream);
    } else {
        co_await echo_on(*tls);
    }
}

/// Accepts `count` connections and serves each in its own task; returns when all are done.
Task<void> echo_server(Listener& server, TlsContext context, int count, bool attached,
                       int* served = nullptr) {
    Loop& loop = co_await netlite::current_loop();
    Scope connections(loop);
    for (int i = 0; i < count; ++i) {
        auto accepted = co_await netlite::async_accept(server.listener, 10s);
        if (!accepted) break;
        connections.spawn(echo_connection(context, std::move(accepted->stream), attached, served));
    }
    co_await connections.join();
}

/// Accepts one connection and completes the server's handshake on the loop (10 s for each); the error of
/// either.
Task<netlite::Result<TlsStream<IPv4>>> accept_tls(Listener& server, TlsContext context) {
    auto accepted = co_await netlite::async_accept(server.listener, 10s);
    if (!accepted) co_return netlite::fail(accepted.error());
    co_return co_await netlite::async_tls_accept(context, std::move(accepted->stream), 10s);
}

/// A case's client side on the loop: starts `server_task` (serving `server`), connects a client of the test
/// CA (REQUIREd), runs `use(tls)` on that stream, then waits for the server task to end.
template <class Use>
Task<void> against(Listener& server, Task<void> server_task, Use use) {
    Scope scope(co_await netlite::current_loop());
    scope.spawn(std::move(server_task));
    auto tls = co_await netlite::async_tls_connect<IPv4>(client_context(), "localhost", server.port, 10s);
    REQUIRE_OK(tls);
    co_await use(*tls);
    co_await scope.join();
}

/// A client: connects, sends `message`, reads the echo, sends close_notify, reads to the server's.
/// Returns what came back, or the first error's message.
Task<std::string> echo_client(TlsContext context, std::uint16_t port, std::string message, bool attached,
                              std::string* version = nullptr) {
    auto tls = co_await netlite::async_tls_connect<IPv4>(context, "localhost", port, 10s);
    if (!tls) co_return "connect: " + tls.error().message();
    if (version != nullptr) *version = tls->version();
    auto run = [&](auto& stream) -> Task<std::string> {
        auto sent =
            co_await netlite::async_write_all(stream, ConstBuffer(message.data(), message.size()), 10s);
        if (!sent) co_return sent.error().message();
        std::string reply(message.size(), '\0');
        auto got = co_await netlite::async_read_exact(stream, MutableBuffer(reply.data(), reply.size()), 10s);
        if (!got) co_return got.error().message();
        if (auto closed = co_await netlite::async_shutdown(stream, 10s); !closed)
            co_return closed.error().message();
        std::string rest;
        auto end = co_await netlite::async_read_to_end(stream, rest, 10s);
        if (!end) co_return end.error().message();
        if (!rest.empty()) co_return "unexpected bytes after the echo: " + rest;
        co_return reply;
    };
    if (attached) {
        Loop& loop = co_await netlite::current_loop();
        auto stream = AsyncTlsStream<IPv4>::attach(loop, std::move(*tls));
        if (!stream) co_return "attach: " + stream.error().message();
        co_return co_await run(*stream);
    }
    co_return co_await run(*tls);
}

/// A message of `size` bytes that differs from position to position (so a reordering shows).
std::string pattern(std::size_t size, std::size_t seed) {
    std::string text(size, '\0');
    for (std::size_t i = 0; i < size; ++i) text[i] = static_cast<char>('a' + (i * 7 + seed) % 26);
    return text;
}

}  // namespace

// --- netlite × netlite on one loop ----------------------------------------------------------------------

TEST_CASE("tls coro: a coroutine client and server on one loop: handshake, echo, close_notify both ways",
          "[tls][coro]") {
    const bool attached = GENERATE(false, true);
    const auto version = GENERATE(netlite::TlsVersion::tls1_2, netlite::TlsVersion::tls1_3);
    auto loop = Loop::open();
    REQUIRE_OK(loop);
    Listener server;
    const std::string message = pattern(100 * 1024, 1);  // more than one record and one socket buffer
    std::string negotiated;
    auto body = [&]() -> Task<std::string> {
        Scope scope(*loop);
        scope.spawn(echo_server(server, server_context(), 1, attached));
        auto reply =
            co_await echo_client(client_context(version), server.port, message, attached, &negotiated);
        co_await scope.join();
        co_return reply;
    };
    const std::string reply = loop->run(body());
    CHECK(reply.size() == message.size());
    CHECK(reply == message);
    CHECK(negotiated == (version == netlite::TlsVersion::tls1_3 ? "TLSv1.3" : "TLSv1.2"));
    CHECK(loop->parked_count() == 0);
}

TEST_CASE("tls coro: many TLS connections at once on one loop", "[tls][coro]") {
    constexpr int clients = 40;
    auto loop = Loop::open();
    REQUIRE_OK(loop);
    Listener server;
    const int fds_before = open_fd_count();
    int served = 0;
    std::vector<std::string> replies(clients);
    auto client = [&](int i) -> Task<void> {
        replies[static_cast<std::size_t>(i)] = co_await echo_client(
            client_context(), server.port, pattern(32 * 1024, static_cast<std::size_t>(i)), i % 2 == 0);
    };
    auto body = [&]() -> Task<void> {
        Scope scope(*loop);
        scope.spawn(echo_server(server, server_context(), clients, true, &served));
        for (int i = 0; i < clients; ++i) scope.spawn(client(i));
        co_await scope.join();
    };
    loop->run(body());
    CHECK(served == clients);
    for (int i = 0; i < clients; ++i) {
        INFO("client " << i);
        CHECK(replies[static_cast<std::size_t>(i)] == pattern(32 * 1024, static_cast<std::size_t>(i)));
    }
    CHECK(open_fd_count() == fds_before);
}

TEST_CASE("tls coro: 4 MiB each way: a reader and a writer task on one stream, both waiting at times",
          "[tls][coro]") {
    const bool attached = GENERATE(false, true);
    auto loop = Loop::open();
    REQUIRE_OK(loop);
    Listener server;
    // Far more than the socket buffers hold: the writer runs until its socket says "would block", then the
    // server reads; the echo comes back while the rest is still being sent.
    const std::string message = pattern(4 * 1024 * 1024, 3);
    auto serve = [&]() -> Task<void> {
        auto accepted = co_await netlite::async_accept(server.listener, 10s);
        REQUIRE_OK(accepted);
        co_await echo_connection(server_context(), std::move(accepted->stream), attached);
    };
    std::string reply;
    auto body = [&]() -> Task<void> {
        Scope scope(*loop);
        scope.spawn(serve());
        auto tcp = co_await netlite::async_connect<IPv4>("localhost", server.port, 10s);
        REQUIRE_OK(tcp);
        auto tls = TlsStream<IPv4>::start_client(client_context(), std::move(*tcp), "localhost");
        REQUIRE_OK(tls);
        auto stream = AsyncTlsStream<IPv4>::attach(*loop, std::move(*tls));
        REQUIRE_OK(stream);
        CHECK_OK(co_await netlite::async_handshake(*stream, 10s));
        auto writer = [&]() -> Task<void> {
            CHECK_OK(
                co_await netlite::async_write_all(*stream, ConstBuffer(message.data(), message.size()), 10s));
            CHECK_OK(co_await netlite::async_shutdown(*stream, 10s));
        };
        auto reader = [&]() -> Task<void> {
            auto done = co_await netlite::async_read_to_end(*stream, reply, 10s);
            CHECK_OK(done);
        };
        Scope directions(*loop);
        directions.spawn(reader());
        directions.spawn(writer());
        co_await directions.join();
        co_await scope.join();
    };
    loop->run(body());
    CHECK(reply.size() == message.size());
    CHECK(reply == message);
}

// --- netlite coroutine server × real TLS clients --------------------------------------------------------

TEST_CASE("tls coro: the coroutine server × openssl s_client and Python's ssl", "[tls][coro][interop]") {
    Listener server;
    const std::string port = std::to_string(server.port);
    int served = 0;
    const TlsContext context = server_context();
    // The loop runs on its own thread, which makes no Catch assertion (Catch is not thread-safe); this one
    // drives the peer program.
    auto serve = [&] {
        std::jthread thread([&] {
            auto loop = Loop::open();
            if (loop) loop->run(echo_server(server, context, 1, true, &served));
        });
        return thread;
    };
    SECTION("openssl s_client, TLS 1.2 and 1.3") {
        if (!have("openssl")) NETLITE_SKIP("openssl is not installed");
        const bool tls13 = GENERATE(false, true);
        std::jthread thread = serve();
        Peer client({"openssl", "s_client", "-connect", "127.0.0.1:" + port, "-servername", "localhost",
                     "-verify_hostname", "localhost", "-CAfile", pki().ca_file, "-verify_return_error",
                     tls13 ? "-tls1_3" : "-tls1_2", "-quiet", "-no_ign_eof"});
        client.send("hello from s_client\n");
        CHECK(client.line_with("hello from s_client"));
        client.close_stdin();  // s_client sends close_notify: the server's read returns 0, it answers
        thread.join();
        CHECK(served == 1);
        CHECK(client.exit_status() == 0);
    }
    SECTION("Python's ssl client") {
        if (!have("python3")) NETLITE_SKIP("python3 is not installed");
        std::jthread thread = serve();
        Peer client({"python3", "-c",
                     "import socket, ssl, sys\n"
                     "ctx = ssl.create_default_context(cafile=sys.argv[1])\n"
                     "s = ctx.wrap_socket(socket.create_connection(('localhost', int(sys.argv[2]))), "
                     "server_hostname='localhost')\n"
                     "data = b'python ' * 5000\n"
                     "s.sendall(data)\n"
                     "got = b''\n"
                     "while len(got) < len(data):\n"
                     "    chunk = s.recv(65536)\n"
                     "    if not chunk: break\n"
                     "    got += chunk\n"
                     "print('echoed', got == data, s.version(), flush=True)\n"
                     "s = s.unwrap()\n"  // close_notify both ways
                     "print('unwrapped', flush=True)\n",
                     pki().ca_file, port});
        CHECK(client.line_with("echoed True TLSv1.3"));
        CHECK(client.line_with("unwrapped"));
        thread.join();
        CHECK(served == 1);
    }
}

// --- cancellation ---------------------------------------------------------------------------------------

namespace {
/// A server that completes the handshake on the loop and then keeps the connection open without writing
/// until the client closes (or 10 s pass).
Task<void> silent_server(Listener& server, TlsContext context) {
    auto tls = co_await accept_tls(server, context);
    if (!tls) co_return;
    std::string ignored;
    (void)co_await netlite::async_read_to_end(*tls, ignored, 10s);
}
}  // namespace

TEST_CASE("tls coro: a read that never gets data ends at its deadline, its stop, or the task's cancellation",
          "[tls][coro][negative]") {
    auto loop = Loop::open();
    REQUIRE_OK(loop);
    Listener server;
    const int fds_before = open_fd_count();
    auto body = [&](TlsStream<IPv4>& tls) -> Task<void> {
        char byte = 0;

        // The deadline.
        const auto start = std::chrono::steady_clock::now();
        auto timed = co_await netlite::async_read(tls, MutableBuffer(&byte, 1), 100ms);
        REQUIRE_FALSE(timed);
        CHECK(timed.error() == std::errc::timed_out);
        CHECK(timed.error().message() == "tls read: Connection timed out");
        CHECK(std::chrono::steady_clock::now() - start >= 100ms);
        CHECK(std::chrono::steady_clock::now() - start < 5s);

        // A deadline already past: tried once, not waited for.
        auto past = co_await netlite::async_read_exact(tls, MutableBuffer(&byte, 1),
                                                       std::chrono::steady_clock::now() - 1s);
        REQUIRE_FALSE(past);
        CHECK(past.error() == std::errc::timed_out);
        CHECK(past.error().bytes_transferred() == 0);

        // A stop, requested while the read is parked (from this thread: the wake-up goes through the loop).
        std::stop_source stop;
        std::optional<netlite::Result<std::size_t>> stopped;
        auto stopped_reader = [&]() -> Task<void> {
            stopped =
                co_await netlite::async_read(tls, MutableBuffer(&byte, 1), netlite::Until(stop.get_token()));
        };
        Scope readers(*loop);
        readers.spawn(stopped_reader());
        CHECK_FALSE(stopped);  // parked
        stop.request_stop();
        co_await readers.join();
        REQUIRE(stopped);
        REQUIRE_FALSE(*stopped);
        CHECK(stopped->error() == std::errc::operation_canceled);
        CHECK(stopped->error().message() == "tls read: Operation canceled");

        // A stop requested before the call: nothing is tried.
        auto early =
            co_await netlite::async_write(tls, ConstBuffer("x", 1), netlite::Until(stop.get_token()));
        REQUIRE_FALSE(early);
        CHECK(early.error() == std::errc::operation_canceled);

        // The task cancelled (Scope::cancel) while its read_to_end waits.
        std::optional<netlite::Result<std::size_t, netlite::TransferError>> cancelled;
        std::string sink;
        auto cancelled_reader = [&]() -> Task<void> {
            cancelled = co_await netlite::async_read_to_end(tls, sink, 10s);
        };
        Scope cancellable(*loop);
        cancellable.spawn(cancelled_reader());
        CHECK_FALSE(cancelled);
        cancellable.cancel();
        co_await cancellable.join();
        REQUIRE(cancelled);
        REQUIRE_FALSE(*cancelled);
        CHECK(cancelled->error() == std::errc::operation_canceled);
        CHECK(cancelled->error().bytes_transferred() == 0);

        // The connection still works: close_notify both ways.
        auto closed = co_await netlite::async_shutdown(tls, 10s);
        CHECK_OK(closed);
    };
    loop->run(against(server, silent_server(server, server_context()), body));
    CHECK(loop->parked_count() == 0);
    CHECK(open_fd_count() == fds_before);
}

namespace {
/// Handshakes, then for each 1-byte request from the client writes "late" back, until close_notify.
Task<void> on_request_server(Listener& server, TlsContext context) {
    auto tls = co_await accept_tls(server, context);
    if (!tls) co_return;
    char request = 0;
    while (co_await netlite::async_read_exact(*tls, MutableBuffer(&request, 1), 10s))
        if (!co_await netlite::async_write_all(*tls, ConstBuffer("late", 4), 10s)) co_return;
    (void)co_await netlite::async_shutdown(*tls, 10s);
}
}  // namespace

// Regression: a wait that timed out leaves the loop's cache of an attached socket at "would block", so the
// next wait parks without a first probe; the event that then arrives is its wake-up. A wait that took that
// event for the skipped probe (as async_wait_ready's does) slept on until its deadline.
TEST_CASE("tls coro: on an attached stream, a read after one that timed out or was stopped still wakes up",
          "[tls][coro][negative]") {
    const bool by_stop = GENERATE(false, true);
    auto loop = Loop::open();
    REQUIRE_OK(loop);
    Listener server;
    auto body = [&](TlsStream<IPv4>& tls) -> Task<void> {
        auto stream = AsyncTlsStream<IPv4>::attach(*loop, std::move(tls));
        REQUIRE_OK(stream);
        char reply[4] = {};
        for (int round = 0; round < 3; ++round) {
            INFO("round " << round);
            if (by_stop) {
                std::stop_source stop;
                std::optional<netlite::Result<std::size_t>> stopped;
                auto reader = [&]() -> Task<void> {
                    stopped = co_await netlite::async_read(*stream, MutableBuffer(reply, sizeof reply),
                                                           netlite::Until(stop.get_token()));
                };
                Scope readers(*loop);
                readers.spawn(reader());
                stop.request_stop();
                co_await readers.join();
                REQUIRE(stopped);
                CHECK_FALSE(*stopped);
            } else {
                auto early = co_await netlite::async_read(*stream, MutableBuffer(reply, sizeof reply), 50ms);
                REQUIRE_FALSE(early);
                CHECK(early.error() == std::errc::timed_out);
            }
            CHECK_OK(co_await netlite::async_write_all(*stream, ConstBuffer("?", 1), 10s));
            auto late = co_await netlite::async_read_exact(*stream, MutableBuffer(reply, sizeof reply), 10s);
            CHECK_OK(late);
            CHECK(std::string(reply, sizeof reply) == "late");
        }
        CHECK_OK(co_await netlite::async_shutdown(*stream, 10s));
    };
    // A missed wake-up fails `late` with timed_out after 10 s.
    loop->run(against(server, on_request_server(server, server_context()), body));
}

TEST_CASE("tls coro: a silent peer during the handshake meets the deadline", "[tls][coro][negative]") {
    auto loop = Loop::open();
    REQUIRE_OK(loop);
    Listener server;  // the connection completes from the backlog; nobody ever answers
    const int fds_before = open_fd_count();
    auto tls = loop->run(netlite::async_tls_connect<IPv4>(client_context(), "localhost", server.port, 200ms));
    REQUIRE_FALSE(tls);
    CHECK(tls.error() == std::errc::timed_out);
    CHECK(tls.error().message() == "tls handshake: Connection timed out");
    CHECK(open_fd_count() == fds_before);
}

// --- the end of the stream --------------------------------------------------------------------------------

namespace {
/// Handshakes, writes `body`, then sends close_notify (when `notify`) or just closes TCP.
Task<void> body_server(Listener& server, TlsContext context, std::string body, bool notify) {
    auto tls = co_await accept_tls(server, context);
    if (!tls) co_return;
    if (!co_await netlite::async_write_all(*tls, ConstBuffer(body.data(), body.size()), 10s)) co_return;
    if (!notify) co_return;  // the stream closes here: TCP FIN, no close_notify
    if (!co_await netlite::async_shutdown(*tls, 10s)) co_return;
    char byte = 0;
    (void)co_await netlite::async_read(*tls, MutableBuffer(&byte, 1), 10s);  // the client's close_notify
}
}  // namespace

TEST_CASE("tls coro: a TCP close without close_notify is truncated, with the bytes read",
          "[tls][coro][negative]") {
    auto loop = Loop::open();
    REQUIRE_OK(loop);
    Listener server;
    std::string body;
    std::optional<netlite::Result<std::size_t, netlite::TransferError>> done;
    auto run = [&](TlsStream<IPv4>& tls) -> Task<void> {
        done = co_await netlite::async_read_to_end(tls, body, 10s);
    };
    loop->run(against(server, body_server(server, server_context(), "partial body", false), run));
    REQUIRE(done);
    REQUIRE_FALSE(*done);
    CHECK(done->error() == netlite::tls_errc::truncated);
    CHECK(done->error().bytes_transferred() == 12);
    CHECK(body == "partial body");
    CHECK(done->error().message() == "tls read: connection closed without close_notify (truncated)");
}

TEST_CASE("tls coro: read_to_end succeeds after close_notify; read_exact past it is unexpected_eof",
          "[tls][coro]") {
    const bool exact = GENERATE(false, true);
    auto loop = Loop::open();
    REQUIRE_OK(loop);
    Listener server;
    auto run = [&](TlsStream<IPv4>& tls) -> Task<void> {
        if (exact) {
            char buffer[20] = {};
            auto got = co_await netlite::async_read_exact(tls, MutableBuffer(buffer, sizeof buffer), 10s);
            REQUIRE_FALSE(got);
            CHECK(got.error() == netlite::errc::unexpected_eof);
            CHECK(got.error().bytes_transferred() == 10);
            CHECK(std::string(buffer, 10) == "whole body");
        } else {
            std::string body;
            auto done = co_await netlite::async_read_to_end(tls, body, 10s);
            CHECK_OK(done);
            CHECK(done.value_or(0) == 10);
            CHECK(body == "whole body");
        }
        CHECK_OK(co_await netlite::async_shutdown(tls, 10s));
    };
    loop->run(against(server, body_server(server, server_context(), "whole body", true), run));
    CHECK(loop->parked_count() == 0);
}
