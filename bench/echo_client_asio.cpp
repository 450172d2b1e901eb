// Echo client, Asio version (binary-size comparison): connect to HOST PORT, send MESSAGE, half-close,
// print everything the server sends back. Same logic as echo_client_netlite.cpp.
#include <asio.hpp>

#include <cstdio>
#include <string>

int main(int argc, char** argv) {
    if (argc != 4) {
        std::fputs("usage: echo_client_asio HOST PORT MESSAGE\n", stderr);
        return 2;
    }
    asio::io_context ctx;
    asio::ip::tcp::resolver resolver(ctx);
    asio::error_code error;
    auto endpoints = resolver.resolve(argv[1], argv[2], error);
    if (error) {
        std::fprintf(stderr, "resolve: %s\n", error.message().c_str());
        return 1;
    }
    asio::ip::tcp::socket socket(ctx);
    asio::connect(socket, endpoints, error);
    if (error) {
        std::fprintf(stderr, "connect: %s\n", error.message().c_str());
        return 1;
    }
    const std::string message(argv[3]);
    asio::write(socket, asio::buffer(message), error);
    if (error) {
        std::fprintf(stderr, "send: %s\n", error.message().c_str());
        return 1;
    }
    socket.shutdown(asio::ip::tcp::socket::shutdown_send, error);
    std::string reply;
    asio::read(socket, asio::dynamic_buffer(reply), error);
    std::fwrite(reply.data(), 1, reply.size(), stdout);
    if (error && error != asio::error::eof) {
        std::fprintf(stderr, "recv: %s\n", error.message().c_str());
        return 1;
    }
    return 0;
}
