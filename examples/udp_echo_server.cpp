// udp_echo_server - the tutorial's UDP server: receive a datagram, send it back to whoever sent it.
//
// UDP has no connections: no listen, no accept. One socket receives datagrams from anybody, and
// recv_from tells who sent each one (Python's `data, addr = s.recvfrom(1024)`).
#include "cli.hpp"

#include <netlite/udp.hpp>

#include <cstdio>

using namespace netlite;

constexpr const char* usage =
    "usage: udp_echo_server [--host H] [--port P]\n"
    "Sends every datagram back to its sender, forever (default: every IPv4 address, port 10000).\n";

int main(int argc, char** argv) {
    const cli::Options options = cli::parse(argc, argv, cli::host | cli::port, {.port = 10000}, usage);

    auto socket = UdpSocket<>::bind(options.host, options.port);  // "" = every IPv4 address
    if (!socket) return cli::fail(socket.error().message());
    if (!cli::announce_listening(*socket)) return 1;

    // 64 KiB holds any UDP datagram, so none is cut short (the tutorial's 1024 would drop the rest).
    static char buffer[64 * 1024];
    for (;;) {
        auto datagram = socket->recv_from(buffer);
        if (!datagram) return cli::fail(datagram.error().message());
        std::printf("Received from %s\n", datagram->sender.to_string().c_str());  // 接收到...的连接
        std::fflush(stdout);
        // A datagram that cannot be sent back (the sender is gone) is not the server's problem: go on.
        (void)socket->send_to(ConstBuffer(buffer, datagram->size), datagram->sender);
    }
}
