// MUST NOT COMPILE: an IPv4 TCP stream cannot connect to an IPv6 address.
// The matching-family version of this call is in control_ok.cpp.
#include <netlite/netlite.hpp>

int main() {
    auto stream = netlite::TcpStream<netlite::IPv4>::connect(netlite::Address<netlite::IPv6>::loopback(80));
    (void)stream;
    return 0;
}
