// Echo client, netlite version with raw's connect algorithm (binary-size comparison): resolve HOST, try
// each address in turn, send MESSAGE, half-close, print the reply. echo_client_netlite.cpp uses
// TcpStream<>::connect(host, port), which races the addresses (Happy Eyeballs) as the raw client does
// not; this one separates what that feature costs from what the abstraction costs.
#include <netlite/tcp.hpp>

#include <cstdio>
#include <cstdlib>
#include <string>

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
    if (!stream) {
        std::fprintf(stderr, "%s\n", stream.error().message().c_str());
        return 1;
    }
    if (auto sent = stream->write_all(std::string(argv[3])); !sent) {
        std::fprintf(stderr, "%s\n", sent.error().message().c_str());
        return 1;
    }
    (void)stream->shutdown(netlite::Shutdown::write);
    std::string reply;
    auto got = stream->read_to_end(reply);
    std::fwrite(reply.data(), 1, reply.size(), stdout);
    if (!got) {
        std::fprintf(stderr, "%s\n", got.error().message().c_str());
        return 1;
    }
    return 0;
}
