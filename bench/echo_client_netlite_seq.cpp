// Echo client, netlite version with raw's connect algorithm (binary-size comparison): resolve HOST, try
// each address in turn, send MESSAGE, half-close, print the reply. echo_client_netlite.cpp uses
// TcpStream<>::connect(host, port), which races the addresses (Happy Eyeballs) as the raw client does
// not; this one separates what that feature costs from what the abstraction costs.
#include "echo_exchange.hpp"

#include <netlite/tcp.hpp>

#include <cstdio>
#include <cstdlib>

int main(int argc, char** argv) {
    if (argc != 4) {
        std::fputs("usage: echo_client_netlite_seq HOST PORT MESSAGE\n", stderr);
        return 2;
    }
    auto addresses = netlite::resolve(argv[1], static_cast<std::uint16_t>(std::atoi(argv[2])));
    if (!addresses) {
        std::fprintf(stderr, "%s\n", addresses.error().message().c_str());
        return 1;
    }
    netlite::Result<netlite::TcpStream<>> stream = netlite::fail(netlite::errc::no_addresses, "connect");
    for (const auto& address : *addresses)
        if ((stream = netlite::TcpStream<>::connect(address))) break;
    return bench::echo_exchange(stream, argv[3]);
}
