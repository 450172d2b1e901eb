// echo_exchange.hpp - what both netlite echo clients (echo_client_netlite, echo_client_netlite_seq) do
// once they have tried to connect: send MESSAGE, half-close, print everything the server sends back. They
// differ only in how they connect, which is what the binary-size rows compare.
#pragma once

#include <netlite/tcp.hpp>

#include <cstdio>
#include <string>

namespace bench {

/// The exit code: 0 when the whole exchange succeeded, 1 after printing the first error (the connect's,
/// when `stream`, a Result of a TcpStream<>, holds one).
template <class Connected>
int echo_exchange(Connected& stream, const char* message) {
    if (!stream) {
        std::fprintf(stderr, "%s\n", stream.error().message().c_str());
        return 1;
    }
    if (auto sent = stream->write_all(std::string(message)); !sent) {
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

}  // namespace bench
