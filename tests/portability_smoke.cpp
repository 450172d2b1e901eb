// portability_smoke: netlite's public API only, no platform #if. The same source is built natively and
// with mingw-w64 (run under wine), and must behave the same on both: timeouts, cancellation with a
// netlite::StopSource, portable error codes, UDP truncation, end of stream after shutdown, a second listener
// on a live port refused, Happy Eyeballs over two loopback addresses, and a Poller seeing a peer's FIN.
//
// Prints one "ok ..." line per check and "portability smoke: N checks passed"; exits 1 at the first
// failure, naming it.
#include <netlite/netlite.hpp>
#include <netlite/stop_source.hpp>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

int passed = 0;

void check(bool ok, const char* what, const std::string& detail = {}) {
    if (!ok) {
        std::printf("FAILED %s%s%s\n", what, detail.empty() ? "" : ": ", detail.c_str());
        std::fflush(stdout);
        std::exit(1);
    }
    ++passed;
    std::printf("ok %s\n", what);
}

template <class T>
T need(netlite::Result<T>&& result, const char* what) {
    if (!result) check(false, what, result.error().message());
    if constexpr (!std::is_void_v<T>) return std::move(*result);
}

const auto loopback_any_port = netlite::Address<netlite::IPv4>::loopback(0);

struct Pair {
    netlite::TcpListener<netlite::IPv4> listener;
    netlite::TcpStream<netlite::IPv4> client;
    netlite::TcpStream<netlite::IPv4> server;
};

Pair connected_pair() {
    auto listener = need(netlite::TcpListener<netlite::IPv4>::bind(loopback_any_port), "bind a listener");
    const auto address = need(listener.local_address(), "listener address");
    auto client = need(netlite::TcpStream<netlite::IPv4>::connect(address), "connect to the listener");
    auto accepted = need(listener.accept(), "accept");
    return Pair{std::move(listener), std::move(client), std::move(accepted.stream)};
}

void read_times_out() {
    auto pair = connected_pair();
    std::array<char, 16> buffer{};
    const auto start = Clock::now();
    auto got = pair.client.read(buffer, 200ms);
    const auto waited = Clock::now() - start;
    check(!got && got.error() == std::errc::timed_out, "a read with nothing to read times out",
          got ? "read returned data" : got.error().message());
    check(waited >= 190ms && waited < 5s, "the timeout took about its time",
          std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(waited).count()) + " ms");
    // The stream stays usable after a timeout.
    auto sent = pair.server.write_all(std::string_view("hello"));
    check(sent.has_value(), "write after the timeout", sent ? std::string() : sent.error().message());
    auto after = pair.client.read(buffer, 5s);
    check(after && *after > 0 &&
              std::string_view(buffer.data(), *after) == std::string_view("hello").substr(0, *after),
          "the stream reads after a timeout", after ? std::string() : after.error().message());
}

void read_is_cancelled() {
    auto pair = connected_pair();
    // netlite's StopSource, not std::stop_source with a std::jthread: cross-thread std::stop_token
    // cancellation can hang in mingw-w64's libstdc++ 12 (a lost atomic-wait wake-up; seen twice here under
    // wine, and why deadline_test leaves its [cancel] cases out on Windows). std::stop_token is tested
    // natively.
    netlite::StopSource stop;
    std::thread stopper([&] { stop.request_stop(); });
    std::array<char, 16> buffer{};
    const auto start = Clock::now();
    auto got = pair.client.read(buffer, netlite::Until(30s, stop.get_token()));
    stopper.join();
    check(!got && got.error() == std::errc::operation_canceled, "a stop token cancels a read",
          got ? "read returned data" : got.error().message());
    check(Clock::now() - start < 10s, "the cancelled read returned promptly");
}

void refused_connect_is_connection_refused() {
    netlite::Address<netlite::IPv4> closed;
    {
        auto listener = need(netlite::TcpListener<netlite::IPv4>::bind(loopback_any_port), "bind a listener");
        closed = need(listener.local_address(), "listener address");
    }  // closed: nothing listens on that port now
    auto stream = netlite::TcpStream<netlite::IPv4>::connect(closed, 10s);
    check(!stream && stream.error() == std::errc::connection_refused,
          "a connect to a closed port is std::errc::connection_refused",
          stream ? "it connected" : stream.error().message());
}

void udp_truncation_is_reported() {
    auto receiver = need(netlite::UdpSocket<netlite::IPv4>::bind(loopback_any_port), "bind UDP");
    auto sender = need(netlite::UdpSocket<netlite::IPv4>::bind(loopback_any_port), "bind UDP sender");
    const auto to = need(receiver.local_address(), "UDP address");
    const std::string datagram(100, 'x');
    need(sender.send_to(datagram, to), "send a datagram");
    std::array<char, 10> small{};
    auto got = need(receiver.recv_from(small, 5s), "receive into a small buffer");
    check(got.truncated && got.size == small.size(),
          "a datagram larger than the buffer is reported truncated");
    // The next datagram is whole: the tail of the first was discarded, not delivered later.
    need(sender.send_to(std::string_view("tiny"), to), "send a second datagram");
    auto second = need(receiver.recv_from(small, 5s), "receive the second datagram");
    check(!second.truncated && std::string_view(small.data(), second.size) == "tiny",
          "the next datagram arrives whole");
    // A UDP send to a port nobody listens on must not fail the socket's later receives (Windows reports
    // the ICMP port-unreachable as WSAECONNRESET unless SIO_UDP_CONNRESET is off).
    netlite::Address<netlite::IPv4> nobody;
    {
        auto gone = need(netlite::UdpSocket<netlite::IPv4>::bind(loopback_any_port), "bind UDP");
        nobody = need(gone.local_address(), "UDP address");
    }
    need(receiver.send_to(std::string_view("anyone?"), nobody), "send to a closed UDP port");
    need(sender.send_to(std::string_view("after"), to), "send a third datagram");
    auto third = receiver.recv_from(small, 5s);
    check(third && !third->truncated && std::string_view(small.data(), third->size) == "after",
          "an ICMP port-unreachable does not poison the next recv_from",
          third ? std::string() : third.error().message());
}

void shutdown_read_is_end_of_stream() {
    auto pair = connected_pair();
    need(pair.client.shutdown(netlite::Shutdown::read), "shutdown(read)");
    std::array<char, 16> buffer{};
    auto got = pair.client.read(buffer, 5s);
    check(got && *got == 0, "a read after shutdown(read) is end of stream",
          got ? std::to_string(*got) + " bytes" : got.error().message());
}

void second_listener_is_refused() {
    auto first = need(netlite::TcpListener<netlite::IPv4>::bind(loopback_any_port), "bind a listener");
    const auto address = need(first.local_address(), "listener address");
    auto second = netlite::TcpListener<netlite::IPv4>::bind(address);
    check(!second && second.error() == std::errc::address_in_use,
          "a second listener on a live port fails with address_in_use",
          second ? "the second bind succeeded" : second.error().message());
}

void happy_eyeballs_finds_the_live_address() {
    auto listener = need(netlite::TcpListener<netlite::IP>::bind("127.0.0.1", 0), "bind on 127.0.0.1");
    const auto port = need(listener.local_address(), "listener address").port();
    const std::array<netlite::Address<netlite::IP>, 2> addresses{
        need(netlite::Address<netlite::IP>::parse("[::1]:" + std::to_string(port)), "parse [::1]"),
        need(netlite::Address<netlite::IP>::parse("127.0.0.1:" + std::to_string(port)), "parse 127.0.0.1")};
    auto stream = netlite::TcpStream<netlite::IP>::connect_any(addresses, 10s, 50ms);
    check(stream.has_value(), "Happy Eyeballs connects past an address nobody listens on",
          stream ? std::string() : stream.error().message());
    auto peer = need(stream->peer_address(), "peer address");
    check(peer.to_string() == "127.0.0.1:" + std::to_string(port), "Happy Eyeballs chose 127.0.0.1",
          peer.to_string());
}

void poller_sees_a_peer_close() {
    auto pair = connected_pair();
    auto poller = need(netlite::Poller::open(), "open a poller");
    need(poller.add(pair.client, netlite::Interest::readable, netlite::Token(7)), "register the stream");
    pair.server.close();
    std::array<netlite::Event, 4> events{};
    auto ready = need(poller.wait(events, 5s), "wait for the peer's FIN");
    check(ready == 1 && events[0].token.value() == 7 && events[0].readable,
          "a peer's FIN makes the stream readable to the Poller");
    std::array<char, 16> buffer{};
    auto got = pair.client.read(buffer, 5s);
    check(got && *got == 0, "and the read then says end of stream");
}

}  // namespace

int main() {
    read_times_out();
    read_is_cancelled();
    refused_connect_is_connection_refused();
    udp_truncation_is_reported();
    shutdown_read_is_end_of_stream();
    second_listener_is_refused();
    happy_eyeballs_finds_the_live_address();
    poller_sees_a_peer_close();
    std::printf("portability smoke: %d checks passed\n", passed);
    return 0;
}
