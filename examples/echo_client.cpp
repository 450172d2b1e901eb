// echo_client - the tutorial's client for its echo server: send a message, print what comes back.
//
// The tutorial sends once and does one recv(4096). A stream has no message boundaries, so instead the
// client says "I am done sending" (shutdown of its sending side, which the server sees as end of stream)
// and then reads until the server closes: that is the whole echo, however it was split up on the way.
#include "cli.hpp"

#include <netlite/tcp.hpp>

#include <thread>

using namespace netlite;

constexpr const char* usage =
    "usage: echo_client [--host H] [--port P] [--unix PATH] [--message M]\n"
    "Sends M to the echo server and prints the reply (default localhost 8088, the tutorial's request).\n"
    "--message - reads the message from standard input.\n";

// `Connected` is what connect returned: a Result holding a TcpStream or UnixStream, or the error.
template <class Connected>
int talk(Connected stream, const std::string& message) {
    if (!stream) return cli::fail(stream.error().message());  // e.g. "connect: Connection refused"

    // Why a second thread? The server echoes while we are still sending. With a long message, if nobody
    // read the echo, both directions' buffers would fill up and client and server would wait for each
    // other forever. So one thread sends (then shuts down its side) while this one reads.
    Result<void, TransferError> sent;
    std::thread sender([&] {
        sent = stream->write_all(message);
        (void)stream->shutdown(Shutdown::write);  // end of stream for the server: "no more data"
    });
    std::string reply;
    auto received = stream->read_to_end(reply);  // until the server closes its side
    sender.join();

    cli::print_verbatim(reply);  // exactly the bytes that came back
    if (!sent) return cli::fail(sent.error().message());
    if (!received) return cli::fail(received.error().message());
    return 0;
}

int main(int argc, char** argv) {
    const cli::Options options =
        cli::parse(argc, argv, cli::host | cli::port | cli::unix_path | cli::message,
                   {.host = "localhost", .port = 8088, .message = "GET / HTTP/1.1\r\n\r\n"}, usage);

    if (!options.unix_path.empty()) return talk(UnixStream::connect(options.unix_path), options.message);
    // connect(host, port) resolves the name and tries each address in turn ("localhost" may be ::1 and
    // 127.0.0.1), like Python's socket.create_connection.
    return talk(TcpStream<>::connect(options.host, options.port), options.message);
}
