// http_get - the tutorial's first client: an HTTP GET request written by hand on a TCP socket.
//
// HTTP/1.1 needs a Host header, and lines end with "\r\n" (the tutorial's 'rnrn' lost its backslashes).
// "Connection: close" asks the server to close the connection after the response, so "read until the
// server closes" reads exactly the whole response - one recv(4096), as in the tutorial, may get only a part.
#include "cli.hpp"

#include <netlite/tcp.hpp>

#include <string>

using namespace netlite;

constexpr const char* usage =
    "usage: http_get [--host H] [--port P] [--path PATH]\n"
    "Sends GET PATH to the HTTP server H:P and prints the whole response (default www.baidu.com 80 /).\n";

int main(int argc, char** argv) {
    const cli::Options options = cli::parse(argc, argv, cli::host | cli::port | cli::path,
                                            {.host = "www.baidu.com", .port = 80}, usage);

    // Resolves the name (like gethostbyname) and connects to the first address that answers.
    auto stream = TcpStream<>::connect(options.host, options.port);
    if (!stream) return cli::fail(stream.error().message());

    // The Host header names the server as the URL did: an IPv6 literal goes in brackets, a port other
    // than 80 is added after a colon.
    std::string host = options.host.find(':') != std::string::npos ? "[" + options.host + "]" : options.host;
    if (options.port != 80) host += ":" + std::to_string(options.port);
    const std::string request = "GET " + options.path +
                                " HTTP/1.1\r\n"
                                "Host: " +
                                host +
                                "\r\n"
                                "Connection: close\r\n"
                                "\r\n";
    // write() may send only part of a buffer; write_all() loops until all of it is sent (Python's sendall).
    if (auto sent = stream->write_all(request); !sent) return cli::fail(sent.error().message());

    auto response = stream->read_to_end();  // until the server closes the connection
    if (!response) return cli::fail(response.error().message());
    cli::print_verbatim(*response);
    return 0;
}
