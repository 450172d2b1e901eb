// multicast_receiver - join a multicast group and print every datagram sent to it.
//
// A multicast datagram goes to a group address (224.0.0.0/4, ff00::/8), and every socket that joined the
// group and is bound to the port gets its own copy. Several receivers on one host can share the port, but
// only if each says so (SO_REUSEADDR, and SO_REUSEPORT where it exists) *before* it binds: asked after
// bind, the second receiver has already failed with "Address already in use". So the socket is set up
// first and bound after, which is what UdpSocket::bind(address, options) does (Python: socket(),
// setsockopt(), bind(), then setsockopt(IP_ADD_MEMBERSHIP)).
#include "cli.hpp"

#include <netlite/interfaces.hpp>
#include <netlite/udp.hpp>

#include <cstdio>
#include <string>

using namespace netlite;

constexpr const char* usage =
    "usage: multicast_receiver [--host GROUP] [--port P] [--interface NAME]\n"
    "Joins multicast GROUP (IPv4 or IPv6) on interface NAME and prints every datagram sent to GROUP:P,\n"
    "forever (default: 239.255.0.1, port 5007, the interface the kernel picks). Many receivers may run\n"
    "at once on one port.\n";

int main(int argc, char** argv) {
    const cli::Options options = cli::parse(argc, argv, cli::host | cli::port | cli::interface_name,
                                            {.host = "239.255.0.1", .port = 5007}, usage);

    auto group = Address<IP>::parse(options.host, options.port);
    if (!group) return cli::fail("not a group address: " + options.host);
    unsigned join_on = 0;  // 0: the kernel picks, by its route to the group
    if (!options.interface_name.empty()) {
        auto index = interface_index(options.interface_name);
        if (!index) return cli::fail("no interface " + options.interface_name);
        join_on = *index;
    }

    // Bind every address of the group's family, on the group's port: the group's datagrams arrive there.
    const Address<IP> any = group->is_v4() ? Address<IP>(Address<IPv4>::any(options.port))
                                           : Address<IP>(Address<IPv6>::any(options.port));
    auto socket = UdpSocket<>::bind(any, BindOptions{.reuse_address = true, .reuse_port = true});
    if (!socket && socket.error() == std::errc::no_protocol_option)  // Windows: SO_REUSEADDR alone shares it
        socket = UdpSocket<>::bind(any, BindOptions{.reuse_address = true});
    if (!socket) return cli::fail(socket.error().message());
    if (auto joined = socket->join_multicast(*group, join_on); !joined)
        return cli::fail("joining " + group->ip() + ": " + joined.error().message());
    if (!cli::announce_listening(*socket)) return 1;

    static char buffer[64 * 1024];  // holds any UDP datagram
    for (;;) {
        auto datagram = socket->recv_from(buffer);
        if (!datagram) return cli::fail(datagram.error().message());
        std::printf("Received from %s: %.*s\n", datagram->sender.to_string().c_str(),
                    static_cast<int>(datagram->size), buffer);
        std::fflush(stdout);
    }
}
