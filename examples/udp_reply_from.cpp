// udp_reply_from - a UDP echo server that answers from the address it was asked on.
//
// A server bound to every address (0.0.0.0) does not know which of the machine's addresses a datagram was
// sent to, and a plain send_to lets the kernel choose the reply's source by its routing table. On a
// machine with several addresses that can be the wrong one: the client sent to 192.0.2.10, the answer
// comes from 192.0.2.11, and a client that checks who answered (a connected UDP socket, a NAT, a
// firewall) throws it away. So the server asks the kernel to tell each datagram's destination
// (IP_PKTINFO: set_receive_destination), receives with recv_with_destination, and replies with send_from,
// naming that destination as the source. Loopback shows it too: every 127.x.y.z is this machine's, and a
// datagram sent to 127.0.0.2 is answered from 127.0.0.2, where send_to would answer from 127.0.0.1.
#include "cli.hpp"

#include <netlite/udp.hpp>

#include <cstdio>
#include <string>

using namespace netlite;

constexpr const char* usage =
    "usage: udp_reply_from [--host H] [--port P]\n"
    "Sends every datagram back to its sender from the address it was sent to, forever (default: every\n"
    "IPv4 address, port 10001; --host :: for every IPv6 address). POSIX systems only: Windows reports\n"
    "\"not supported\".\n";

int main(int argc, char** argv) {
    const cli::Options options = cli::parse(argc, argv, cli::host | cli::port, {.port = 10001}, usage);

    auto socket = UdpSocket<>::bind(options.host, options.port);  // "" = every IPv4 address
    if (!socket) return cli::fail(socket.error().message());
    // From now on each datagram carries the address it was sent to and the interface it came in by.
    if (auto on = socket->set_receive_destination(true); !on)
        return cli::fail("set_receive_destination: " + on.error().message());
    if (!cli::announce_listening(*socket)) return 1;

    static char buffer[64 * 1024];  // holds any UDP datagram
    for (;;) {
        auto datagram = socket->recv_with_destination(buffer);
        if (!datagram) return cli::fail(datagram.error().message());
        if (!datagram->destination) {  // the kernel did not say (it always does once asked, on Linux)
            std::printf("Received from %s, destination unknown\n", datagram->sender.to_string().c_str());
            std::fflush(stdout);
            (void)socket->send_to(ConstBuffer(buffer, datagram->size), datagram->sender);
            continue;
        }
        std::printf("Received from %s at %s (interface %u)\n", datagram->sender.to_string().c_str(),
                    datagram->destination->ip().c_str(), datagram->interface_index);
        std::fflush(stdout);
        // Back to the sender, from the address it wrote to (send_from takes the address, not its port:
        // the reply leaves from this socket's port, the one the sender wrote to as well). The interface
        // is left to the kernel's route back. A destination that cannot be a source (a broadcast
        // address) is refused: then answer as udp_echo_server does, from the kernel's choice.
        const ConstBuffer reply(buffer, datagram->size);
        if (!socket->send_from(reply, datagram->sender, *datagram->destination))
            (void)socket->send_to(reply, datagram->sender);
    }
}
