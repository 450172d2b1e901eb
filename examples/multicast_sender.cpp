// multicast_sender - send one datagram to a multicast group.
//
// Sending to a group needs no join: any UDP socket can send_to a group address. Three options decide
// where it goes: the interface it leaves by (else the kernel's route to the group), the TTL (1, the
// default, keeps it on the local network) and whether it loops back to receivers on this same host.
#include "cli.hpp"

#include <netlite/interfaces.hpp>
#include <netlite/udp.hpp>

#include <cstdio>

using namespace netlite;

constexpr const char* usage =
    "usage: multicast_sender [--host GROUP] [--port P] [--message M] [--interface NAME]\n"
    "Sends M in one datagram to multicast GROUP:P by interface NAME, with a TTL of 1, looped back to this\n"
    "host's receivers too (default: 239.255.0.1, port 5007, \"Hello group\", the kernel's interface).\n";

int main(int argc, char** argv) {
    const cli::Options options =
        cli::parse(argc, argv, cli::host | cli::port | cli::message | cli::interface_name,
                   {.host = "239.255.0.1", .port = 5007, .message = "Hello group"}, usage);

    auto group = Address<IP>::parse(options.host, options.port);
    if (!group) return cli::fail("not a group address: " + options.host);

    auto socket = UdpSocket<>::open_for(*group);  // unbound: the OS picks our port on the send
    if (!socket) return cli::fail(socket.error().message());
    if (!options.interface_name.empty()) {
        auto index = interface_index(options.interface_name);
        if (!index) return cli::fail("no interface " + options.interface_name);
        if (auto ok = socket->set_multicast_interface(*index); !ok) return cli::fail(ok.error().message());
    }
    if (auto ok = socket->set_multicast_ttl(1); !ok) return cli::fail(ok.error().message());
    if (auto ok = socket->set_multicast_loop(true); !ok) return cli::fail(ok.error().message());

    auto sent = socket->send_to(options.message, *group);
    if (!sent) return cli::fail(sent.error().message());
    std::printf("sent %zu bytes to %s\n", *sent, group->to_string().c_str());
    return 0;
}
