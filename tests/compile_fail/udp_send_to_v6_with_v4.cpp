// MUST NOT COMPILE: an IPv6 UDP socket cannot send to an IPv4 address.
// The matching-family version of this call is in control_ok.cpp.
#include <netlite/netlite.hpp>

int main() {
    auto socket = netlite::UdpSocket<netlite::IPv6>::bind(netlite::Address<netlite::IPv6>::any(0));
    if (socket) {
        auto sent = socket->send_to("ping", netlite::Address<netlite::IPv4>::loopback(9));
        (void)sent;
    }
    return 0;
}
