// udp_echo_client - the tutorial's UDP client: send one datagram, print the reply.
//
// UDP gives no guarantee that a datagram arrives, nor any "connection refused" when nobody listens.
// Python's s.recvfrom(1024) would then wait forever; a deadline turns that into an error.
#include "cli.hpp"

#include <netlite/udp.hpp>

#include <chrono>
#include <string>

using namespace netlite;

constexpr const char* usage =
    "usage: udp_echo_client [--host H] [--port P] [--message M]\n"
    "Sends M in one datagram and prints the reply; gives up after 2 s (default localhost 10000).\n";

int main(int argc, char** argv) {
    const cli::Options options =
        cli::parse(argc, argv, cli::host | cli::port | cli::message,
                   {.host = "localhost", .port = 10000, .message = "Hello World"}, usage);

    auto addresses = resolve<IP>(options.host, options.port);
    if (!addresses) return cli::fail(addresses.error().message());
    // A name may have IPv4 and IPv6 addresses. The server's default ('') listens on IPv4 only, as in the
    // tutorial, so prefer an IPv4 address; there is no refusal to tell us we picked the wrong one.
    Address<IP> server = addresses->front();
    for (const Address<IP>& address : *addresses)
        if (address.is_v4()) {
            server = address;
            break;
        }

    auto socket = UdpSocket<>::open_for(server);  // unbound: the OS picks our port on the first send
    if (!socket) return cli::fail(socket.error().message());
    // The reply must come within 2 s: a deadline, passed to each call as an Until and measured by netlite
    // (the kernel's SO_RCVTIMEO, set_read_timeout, starts again after each signal).
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    if (auto sent = socket->send_to(options.message, server, deadline); !sent)
        return cli::fail(sent.error().message());

    static char buffer[64 * 1024];
    auto reply = socket->recv_from(buffer, deadline);
    if (!reply && reply.error() == std::errc::timed_out)
        return cli::fail("no reply from " + server.to_string() + " within 2 s");
    if (!reply) return cli::fail(reply.error().message());
    cli::print_verbatim(std::string(buffer, reply->size) + "\n");  // `print r`
    return 0;
}
