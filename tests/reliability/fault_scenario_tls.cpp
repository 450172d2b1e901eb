// fault_scenario_tls - netlite's TLS calls, checking their own results, for fault_injection.py to run under
// `strace -e inject=SYSCALL:error=E:when=N` (as fault_scenario, whose exit codes it keeps). One process: a
// server thread and a client over loopback, with a throwaway CA and server certificate made in memory.
//
//   1. blocking: TlsStream::connect("localhost") and TlsStream::accept, write_all/read_exact both ways,
//      then close_notify each way (shutdown; the other end's read returns 0);
//   2. evented: start_client on a connected TcpStream (name 127.0.0.1), try_handshake, try_write and
//      try_read driven by a Poller, against a blocking accept;
//   3. coroutines: async_tls_connect, async_write_all/async_read_exact, async_shutdown and the server's
//      close_notify read on a Loop, against a blocking accept.
//
// The TLS BIO reads and writes through netlite's own send/recv, so every injected sendto/recvfrom fault
// passes through OpenSSL before it reaches the caller. A side that fails stops the other (a StopSource),
// so a failed run ends at once instead of at a deadline.
//
// Exit codes: 0 every step succeeded; 10 a step failed with a specific error (printed); 2 a step reported
// success it did not have, or lost data; 3 an error with no code or message; 4 descriptors leaked. With
// FAULT_STRICT=1 (EINTR injected into a call that may block), any failure at all is exit 6.
#include "fault_support.hpp"

#include "../tls_pki.hpp"

#include <netlite/coro.hpp>
#include <netlite/coro/tls.hpp>
#include <netlite/netlite.hpp>
#include <netlite/stop_source.hpp>
#include <netlite/tls.hpp>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

using namespace netlite;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

using namespace fault;  // check, expect, Failed, finish, finish_run, open_descriptors, strict

/// A wait that ended at its deadline though the other end reported success: that success was false.
template <class R>
void expect_no_timeout(const R& result, const std::string& why) {
    expect(result || result.error() != std::errc::timed_out, 2, why);
}

// The message is larger than one TLS record (16 KiB), so write_all and read_exact each take several.
std::string pattern(std::size_t size, char seed) {
    std::string text(size, '\0');
    for (std::size_t i = 0; i < size; ++i) text[i] = static_cast<char>(seed + static_cast<char>(i % 61));
    return text;
}
const std::string request = pattern(40 * 1024, 'a');
const std::string response = pattern(24 * 1024, 'A');
constexpr std::string_view ping = "ping";
constexpr std::string_view pong = "pong";

struct Contexts {
    TlsContext server, client;
};

/// An EC CA and a server certificate for localhost and 127.0.0.1, as PEM in memory (no files: cheap, and
/// nothing to remove). EC keys because each injected run makes them again.
Contexts make_contexts() {
    const auto pem = netlite_tls_test::make_localhost_pem("netlite fault CA");
    TlsOptions server_options;
    server_options.certificate.pem = pem.cert;
    server_options.private_key.pem = pem.key;
    TlsOptions client_options;
    client_options.trust.pem = pem.ca;
    auto server = TlsContext::server(server_options);
    check(server, "TlsContext::server");
    auto client = TlsContext::client(client_options);
    check(client, "TlsContext::client");
    return {std::move(*server), std::move(*client)};
}

/// The first failure of either side; it stops the other side's waits.
struct Outcome {
    StopSource stop;
    std::mutex lock;
    std::optional<Failed> failed;

    void fail(Failed failure) {
        {
            const std::lock_guard guard(lock);
            if (!failed) failed = std::move(failure);
        }
        stop.request_stop();
    }
    Until until() { return Until(5s, stop.get_token()); }
};

/// The server's side of steps 2 and 3: accepts the `client`'s connection, reads its ping (sent by
/// `write_call`, named in the messages) and answers pong; the stream is left open for the step's ending.
TlsStream<IPv4> serve_ping(TcpListener<IPv4>& listener, const TlsContext& context, Outcome& outcome,
                           const std::string& client, const std::string& write_call) {
    auto tcp = listener.accept(outcome.until());
    check(tcp, "server: accept (" + client + ")");
    auto tls = TlsStream<IPv4>::accept(context, std::move(tcp->stream), outcome.until());
    check(tls, "server: TlsStream::accept (" + client + ")");
    char got[ping.size()];
    auto read = tls->read_exact(MutableBuffer(got, sizeof got), outcome.until());
    expect_no_timeout(read, "the client's " + write_call + " reported bytes the server never got");
    check(read, "server: read_exact (" + client + ")");
    expect(std::string_view(got, sizeof got) == ping, 2,
           "the server received other bytes than " + write_call + " sent");
    check(tls->write_all(ConstBuffer(pong.data(), pong.size()), outcome.until()), "server: write_all (pong)");
    return std::move(*tls);
}

void server_side(TcpListener<IPv4>& listener, const TlsContext& context, Outcome& outcome) {
    // 1. blocking
    {
        auto tcp = listener.accept(outcome.until());
        check(tcp, "server: accept");
        auto tls = TlsStream<IPv4>::accept(context, std::move(tcp->stream), outcome.until());
        check(tls, "server: TlsStream::accept");
        std::string got(request.size(), '\0');
        auto read = tls->read_exact(MutableBuffer(got.data(), got.size()), outcome.until());
        expect_no_timeout(read, "the client's write_all reported bytes the server never got");
        check(read, "server: read_exact");
        expect(got == request, 2, "the server received other bytes than the client sent");
        check(tls->write_all(ConstBuffer(response.data(), response.size()), outcome.until()),
              "server: write_all");
        char rest[16];
        auto end = tls->read(MutableBuffer(rest, sizeof rest), outcome.until());
        expect_no_timeout(end, "the client's shutdown reported a close_notify the server never got");
        check(end, "server: read (close_notify)");
        expect(*end == 0, 2, "the server read data after the client's close_notify, not the end");
        check(tls->shutdown(outcome.until()), "server: shutdown");
    }
    // 2. evented client, blocking server
    auto tls = serve_ping(listener, context, outcome, "evented client", "try_write");
    // Closing only once the client has closed (it does so without close_notify: truncated, or a stop if
    // it failed), so the pong is not raced by this end's close. Either outcome is the expected one.
    char got[ping.size()];
    (void)tls.read(MutableBuffer(got, sizeof got), outcome.until());
}

void server_coroutine_client(TcpListener<IPv4>& listener, const TlsContext& context, Outcome& outcome) {
    auto tls = serve_ping(listener, context, outcome, "coroutine client", "async_write_all");
    char got[ping.size()];
    auto end = tls.read(MutableBuffer(got, sizeof got), outcome.until());
    expect_no_timeout(end, "the client's async_shutdown reported a close_notify the server never got");
    check(end, "server: read (coroutine client's close_notify)");
    expect(*end == 0, 2, "the server read data after async_shutdown's close_notify, not the end");
    check(tls.shutdown(outcome.until()), "server: shutdown (coroutine client)");
}

void blocking_client(const TlsContext& context, std::uint16_t port, Outcome& outcome) {
    auto tls = TlsStream<IPv4>::connect(context, "localhost", port, outcome.until());
    check(tls, "client: TlsStream::connect");
    expect(!tls->peer_subject().empty(), 2, "the handshake succeeded without a server certificate");
    check(tls->write_all(ConstBuffer(request.data(), request.size()), outcome.until()), "client: write_all");
    std::string got(response.size(), '\0');
    auto read = tls->read_exact(MutableBuffer(got.data(), got.size()), outcome.until());
    expect_no_timeout(read, "the server's write_all reported bytes the client never got");
    check(read, "client: read_exact");
    expect(got == response, 2, "the client received other bytes than the server sent");
    check(tls->shutdown(outcome.until()), "client: shutdown");
    char rest[16];
    auto end = tls->read(MutableBuffer(rest, sizeof rest), outcome.until());
    expect_no_timeout(end, "the server's shutdown reported a close_notify the client never got");
    check(end, "client: read (close_notify)");
    expect(*end == 0, 2, "the client read data after the server's close_notify, not the end");
}

/// Waits for what `tls` asked for, as a readiness loop does; the run's stop is seen within 100 ms.
void wait_for(Poller& poller, TlsStream<IPv4>& tls, Outcome& outcome, Clock::time_point deadline,
              const char* step) {
    const Interest wanted = tls.wait_for() == TlsWait::readable ? Interest::readable : Interest::writable;
    check(poller.modify(tls.tcp().native_handle(), wanted, Token(1)), std::string("client: modify: ") + step);
    std::array<Event, 1> events;
    check(poller.wait(events, 100ms), std::string("client: wait: ") + step);
    if (outcome.stop.get_token().stop_requested())
        throw Failed{std::string("client: ") + step + ": stopped (the server failed)"};
    expect(Clock::now() < deadline, 2, std::string("client: ") + step + ": no progress within 5 s");
}

void evented_client(const TlsContext& context, const Address<IPv4>& where, Outcome& outcome) {
    auto tcp = TcpStream<IPv4>::connect(where, outcome.until());
    check(tcp, "client: connect (evented)");
    auto tls = TlsStream<IPv4>::start_client(context, std::move(*tcp), "127.0.0.1");
    check(tls, "client: start_client");
    auto poller = Poller::open();
    check(poller, "client: Poller::open");
    check(poller->add(tls->tcp().native_handle(), Interest::none, Token(1)), "client: Poller::add");
    const auto deadline = Clock::now() + 5s;
    for (;;) {
        auto done = tls->try_handshake();
        check(done, "client: try_handshake");
        if (*done) break;
        wait_for(*poller, *tls, outcome, deadline, "try_handshake");
    }
    for (;;) {
        auto sent = tls->try_write(ConstBuffer(ping.data(), ping.size()));
        check(sent, "client: try_write");
        if (*sent) {
            expect(**sent == ping.size(), 2, "try_write took part of a 4-byte buffer");
            break;
        }
        wait_for(*poller, *tls, outcome, deadline, "try_write");
    }
    std::string got;
    while (got.size() < pong.size()) {
        char buffer[16];
        auto read = tls->try_read(MutableBuffer(buffer, sizeof buffer));
        check(read, "client: try_read");
        if (*read) {
            expect(**read != 0, 2, "try_read saw close_notify before the server's pong");
            got.append(buffer, **read);
        } else if (tls->pending() == 0) {
            wait_for(*poller, *tls, outcome, deadline, "try_read");
        }
    }
    expect(got == pong, 2, "try_read returned other bytes than the server sent");
    (void)poller->remove(tls->tcp().native_handle());
}

/// A failed result as check() reports it, for a coroutine (which returns it rather than throwing).
template <class R>
std::string failure_of(const R& result, const char* step) {
    const auto& error = result.error();
    if (error.value() == 0 || error.message().empty())
        finish(3, std::string(step) + ": failed with no error code or message");
    return std::string(step) + ": " + error.message();
}

void coroutine_client(const TlsContext& context, std::uint16_t port, Outcome& outcome) {
    auto loop = Loop::open();
    check(loop, "client: Loop::open");
    auto body = [&]() -> Task<std::string> {
        auto tls = co_await async_tls_connect<IPv4>(context, "localhost", port, outcome.until());
        if (!tls) co_return failure_of(tls, "client: async_tls_connect");
        auto sent = co_await async_write_all(*tls, ConstBuffer(ping.data(), ping.size()), outcome.until());
        if (!sent) co_return failure_of(sent, "client: async_write_all");
        char got[pong.size()];
        auto read = co_await async_read_exact(*tls, MutableBuffer(got, sizeof got), outcome.until());
        expect_no_timeout(read, "the server's write_all reported bytes async_read_exact never got");
        if (!read) co_return failure_of(read, "client: async_read_exact");
        expect(std::string_view(got, sizeof got) == pong, 2, "async_read_exact returned other bytes");
        auto closed = co_await async_shutdown(*tls, outcome.until());
        if (!closed) co_return failure_of(closed, "client: async_shutdown");
        auto end = co_await async_read(*tls, MutableBuffer(got, sizeof got), outcome.until());
        expect_no_timeout(end, "the server's shutdown reported a close_notify async_read never got");
        if (!end) co_return failure_of(end, "client: async_read (close_notify)");
        expect(*end == 0, 2, "async_read returned data after the server's close_notify, not the end");
        co_return std::string();
    };
    if (std::string failure = loop->run(body()); !failure.empty()) throw Failed{failure};
}

}  // namespace

int main() {
    const int descriptors_before = open_descriptors();
    std::optional<Failed> failed;
    {
        Outcome outcome;
        try {
            const Contexts contexts = make_contexts();
            auto listener = TcpListener<IPv4>::bind(Address<IPv4>::loopback(0));
            check(listener, "bind");
            auto where = listener->local_address();
            check(where, "local_address");
            std::thread server([&] {
                try {
                    server_side(*listener, contexts.server, outcome);
                    server_coroutine_client(*listener, contexts.server, outcome);
                } catch (const Failed& f) {
                    outcome.fail(f);
                }
            });
            try {
                blocking_client(contexts.client, where->port(), outcome);
                evented_client(contexts.client, *where, outcome);
                coroutine_client(contexts.client, where->port(), outcome);
            } catch (const Failed& f) {
                outcome.fail(f);
            }
            server.join();
        } catch (const Failed& f) {  // before the server thread started
            outcome.fail(f);
        }
        failed = outcome.failed;
    }
    finish_run(descriptors_before, failed);
}
