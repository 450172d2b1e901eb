// Echo client, netlite version (binary-size comparison): connect to HOST PORT, send MESSAGE, half-close,
// print everything the server sends back. Same logic as echo_client_raw.cpp and echo_client_asio.cpp.
#include <netlite/tcp.hpp>

#include <cstdio>
#include <cstdlib>
#include <string>

int main(int argc, char** argv) {
    if (argc != 4) {
        std::fputs("usage: echo_client_netlite HOST PORT MESSAGE\n", stderr);
        return 2;
    }
    auto stream = netlite::TcpStream<>::connect(argv[1], static_cast<std::uint16_t>(std::atoi(argv[2])));
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
