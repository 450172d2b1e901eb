// resolve - the tutorial's `socket.gethostbyname(host)`: turns host names into IP addresses.
//
// Names are looked up by the system resolver (/etc/hosts, then DNS), exactly as getaddrinfo() does.
// Unlike gethostbyname, which returns one IPv4 address, this prints every address, IPv4 and IPv6.
#include "cli.hpp"

#include <netlite/address.hpp>

#include <cstdio>

using namespace netlite;

constexpr const char* usage =
    "usage: resolve HOST...\n"
    "Prints each address of each HOST, one per line.\n";

int main(int argc, char** argv) {
    const cli::Options options = cli::parse(argc, argv, cli::arguments, {}, usage);

    int status = 0;
    for (const std::string& host : options.arguments) {
        // resolve<IP> asks for both IPv4 and IPv6 addresses (resolve<IPv4> would ask for IPv4 only).
        auto addresses = resolve<IP>(host);
        if (!addresses) {  // e.g. "resolve: Name or service not known"; carry on with the other hosts
            status = cli::fail(host + ": " + addresses.error().message());
            continue;
        }
        for (const Address<IP>& address : *addresses) std::printf("%s\n", address.ip().c_str());
    }
    return status;
}
