// Built with -fno-exceptions: the library promises to compile (and work) without exception support.
#include <netlite/netlite.hpp>
#include <netlite/testing.hpp>

#include <cstdio>

int main() {
    auto pair = netlite::testing::loopback_pair<netlite::IPv4>();
    if (!pair) return std::puts(pair.error().message().c_str()), 1;
    auto& [client, server] = *pair;
    if (!client.write_all("ping") || !client.shutdown(netlite::Shutdown::write)) return 1;
    auto echoed = server.read_to_end();
    if (!echoed || *echoed != "ping") return 1;

    auto receiver = netlite::UdpSocket<netlite::IPv4>::bind(netlite::Address<netlite::IPv4>::loopback(0));
    auto sender = netlite::UdpSocket<netlite::IPv4>::open();
    if (!receiver || !sender) return 1;
    auto to = receiver->local_address();
    if (!to || !sender->send_to("datagram", *to)) return 1;
    char buffer[16];
    auto got = receiver->recv_from(buffer);
    if (!got || got->size != 8 || got->truncated) return 1;

    auto bad = netlite::Address<netlite::IP>::parse("256.0.0.1:1");
    return bad ? 1 : 0;
}
