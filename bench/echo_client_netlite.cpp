// Echo client, netlite version (binary-size comparison): connect to HOST PORT, send MESSAGE, half-close,
// print everything the server sends back. Same logic as echo_client_raw.cpp and echo_client_asio.cpp.
#include "echo_exchange.hpp"

#include <netlite/tcp.hpp>

#include <cstdio>
#include <cstdlib>

int main(int argc, char** argv) {
    if (argc != 4) {
        std::fputs("usage: echo_client_netlite HOST PORT MESSAGE\n", stderr);
        return 2;
    }
    auto stream = netlite::TcpStream<>::connect(argv[1], static_cast<std::uint16_t>(std::atoi(argv[2])));
    return bench::echo_exchange(stream, argv[3]);
}
