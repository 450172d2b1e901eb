// fault_scenario - a run of netlite's public API that checks its own results, for fault_injection.py to run
// under `strace -e inject=SYSCALL:error=E:when=N`. Every step either succeeds truly (what it reports is
// then verified from the other end) or fails with a specific error, which ends the run cleanly.
//
// Exit codes: 0 every step succeeded; 10 a step failed with a specific error (printed); 2 a step
// reported success it did not have, or lost data; 3 an error with no code or message; 4 descriptors
// leaked; 5 a timeout fired early or far too late, or a stop was not seen. With FAULT_STRICT=1 (EINTR
// injected into a call that may block), any failure at all is exit 6: EINTR must never reach the caller.
#include "fault_support.hpp"

#include <netlite/coro.hpp>
#include <netlite/netlite.hpp>
#include <netlite/stop_source.hpp>
#include <netlite/stop_token.hpp>
#include <netlite/testing.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

using namespace netlite;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

using namespace fault;  // check, expect, Failed, finish, finish_run, open_descriptors, strict

void tcp_round_trip() {
    auto listener = TcpListener<IPv4>::bind(Address<IPv4>::loopback(0));
    check(listener, "bind");
    auto where = listener->local_address();
    check(where, "local_address");
    auto client = TcpStream<IPv4>::connect(*where, Until(5s));
    check(client, "connect");
    // connect said yes: the listener must have the connection (no success on a never-connected socket).
    auto accepted = listener->accept(Until(5s));
    expect(accepted || accepted.error() != std::errc::timed_out, 2,
           "connect reported success but no connection reached the listener");
    check(accepted, "accept");
    auto peer = client->peer_address();
    check(peer, "peer_address");
    expect(*peer == *where, 2, "connect reported a peer other than the listener");

    const std::string_view message = "netlite fault injection: every byte counts";
    auto sent = client->write_all(message, Until(5s));
    check(sent, "write_all");
    std::string received(message.size(), '\0');
    auto got = accepted->stream.read_exact(received, Until(5s));
    expect(got || got.error() != std::errc::timed_out, 2, "write_all reported bytes the peer never got");
    check(got, "read_exact");
    expect(received == message, 2, "the bytes received differ from the bytes sent");

    check(client->shutdown(Shutdown::write), "shutdown");
    char rest[16];
    auto eof = accepted->stream.read(rest, Until(5s));
    check(eof, "read");
    expect(*eof == 0, 2, "read after the peer's shutdown returned data, not end of stream");
}

// A connect that reported success must have reached `listener`, whose address is `where`.
void expect_connected(TcpListener<IPv4>& listener, TcpStream<IPv4>& client, const Address<IPv4>& where,
                      const char* step) {
    auto accepted = listener.accept(Until(5s));
    expect(accepted || accepted.error() != std::errc::timed_out, 2,
           std::string(step) + " reported success but no connection reached the listener");
    check(accepted, "accept");
    auto peer = client.peer_address();
    check(peer, "peer_address");
    expect(*peer == where, 2, std::string(step) + " reported a peer other than the listener");
}

// The non-blocking connects of Happy Eyeballs: connect_any over one address and connect(host, port). An
// interrupted non-blocking connect polls writable with no error though it never began (issue 18, item 5).
void happy_eyeballs_connects() {
    auto listener = TcpListener<IPv4>::bind(Address<IPv4>::loopback(0));
    check(listener, "bind");
    auto where = listener->local_address();
    check(where, "local_address");
    const Address<IPv4> addresses[] = {*where};
    auto raced = TcpStream<IPv4>::connect_any(addresses, Until(5s));
    check(raced, "connect_any");
    expect_connected(*listener, *raced, *where, "connect_any");
    auto named = TcpStream<IPv4>::connect("127.0.0.1", where->port(), Until(5s));
    check(named, "connect(host, port)");
    expect_connected(*listener, *named, *where, "connect(host, port)");
}

// The coroutine loop's connects: async_connect (one address) and async_connect_any (the race).
void coroutine_connects() {
    auto loop = Loop::open();
    check(loop, "Loop::open");
    auto listener = TcpListener<IPv4>::bind(Address<IPv4>::loopback(0));
    check(listener, "bind");
    auto where = listener->local_address();
    check(where, "local_address");
    auto one = [&]() -> Task<Result<TcpStream<IPv4>>> {
        co_return co_await async_connect(*where, Until(5s));
    };
    auto single = loop->run(one());
    check(single, "async_connect");
    expect_connected(*listener, *single, *where, "async_connect");
    std::vector<Address<IPv4>> addresses(1, *where);  // g++ 12: no braced list inside a co_await
    auto race = [&]() -> Task<Result<TcpStream<IPv4>, ConnectError<IPv4>>> {
        co_return co_await async_connect_any<IPv4>(addresses, Until(5s));
    };
    auto raced = loop->run(race());
    check(raced, "async_connect_any");
    expect_connected(*listener, *raced, *where, "async_connect_any");
}

void udp_round_trip() {
    auto a = UdpSocket<IPv4>::bind(Address<IPv4>::loopback(0));
    check(a, "udp bind");
    auto b = UdpSocket<IPv4>::bind(Address<IPv4>::loopback(0));
    check(b, "udp bind");
    auto b_address = b->local_address();
    check(b_address, "udp local_address");
    const std::string_view datagram = "one datagram";
    auto sent = a->send_to(datagram, *b_address, Until(5s));
    check(sent, "send_to");
    expect(*sent == datagram.size(), 2, "send_to reported a short datagram");
    char buffer[64];
    auto got = b->recv_from(buffer, Until(5s));
    expect(got || got.error() != std::errc::timed_out, 2, "send_to reported a datagram that never arrived");
    check(got, "recv_from");
    expect(std::string_view(buffer, got->size) == datagram && !got->truncated, 2, "the datagram changed");
}

// A read on a silent connection with a deadline: timed_out, never early, not long after.
void timeout_keeps_its_bound() {
    auto pair = testing::loopback_pair<IPv4>();
    check(pair, "loopback_pair");
    char buffer[16];
    const auto start = Clock::now();
    auto got = pair->first.read(buffer, Until(200ms));
    const auto waited = Clock::now() - start;
    expect(!got, 2, "a read on a silent connection returned data");
    if (got.error() != std::errc::timed_out) check(got, "read with a deadline");
    expect(waited >= 200ms, 5, "a 200 ms timeout fired early");
    expect(waited < 3s, 5, "a 200 ms timeout took over 3 s");
}

// A stop requested from another thread releases a blocked read, with either kind of stop token.
template <class Source>
void stop_releases_a_read(const char* step) {
    auto pair = testing::loopback_pair<IPv4>();
    check(pair, "loopback_pair");
    Source stop;
    std::thread stopper([&stop] {
        std::this_thread::sleep_for(50ms);  // the read below is blocked by then, or about to be
        stop.request_stop();
    });
    char buffer[16];
    const auto start = Clock::now();
    auto got = pair->first.read(buffer, Until(5s, stop.get_token()));
    const auto waited = Clock::now() - start;
    stopper.join();
    expect(!got, 2, std::string(step) + ": a read on a silent connection returned data");
    if (got.error() != std::errc::operation_canceled) check(got, step);
    expect(waited < 3s, 5, std::string(step) + ": the stop took over 3 s to release the read");
}

}  // namespace

int main() {
    const int descriptors_before = open_descriptors();
    std::optional<Failed> failed;
    try {
        tcp_round_trip();
        happy_eyeballs_connects();
        coroutine_connects();
        udp_round_trip();
        timeout_keeps_its_bound();
        stop_releases_a_read<StopSource>("read cancelled by a netlite::StopToken");
        stop_releases_a_read<std::stop_source>("read cancelled by a std::stop_token");
    } catch (const Failed& f) {
        failed = f;
    }
    finish_run(descriptors_before, failed);
}
