// echo_server_once - the tutorial's first server: listen, accept one connection, echo, exit.
//
// Python's s.bind((HOST, PORT)) + s.listen(5) is one call here, TcpListener::bind, which also sets
// SO_REUSEADDR so that a restarted server can take its port again at once.
#include "cli.hpp"

#include <netlite/tcp.hpp>

#include <cstdio>

using namespace netlite;

constexpr const char* usage =
    "usage: echo_server_once [--host H] [--port P] [--unix PATH]\n"
    "Echoes one connection back to its client, then exits (default: every IPv4 address, port 8088).\n";

template <Family F>
int serve_once(Result<TcpListener<F>> listener) {
    if (!listener) return cli::fail(listener.error().message());
    // --port 0 lets the OS pick a free port: the `listening on` line shows, from local_address(), which one.
    if (!cli::announce_listening(*listener)) return 1;

    auto client = listener->accept();  // waits for a client to connect
    if (!client) return cli::fail(client.error().message());
    std::printf("Connected with %s\n", client->peer.to_string().c_str());
    std::fflush(stdout);

    // The tutorial does one recv(1024): that echoes at most 1024 bytes, and maybe fewer, because TCP
    // is a byte stream, not a sequence of messages. So read until the client has finished sending
    // (read() returns 0 at end of stream) and send back every piece as it arrives.
    char buffer[64 * 1024];
    for (;;) {
        auto got = client->stream.read(buffer);
        if (!got) return cli::fail(got.error().message());
        if (*got == 0) break;  // end of stream: the client shut down its sending side
        if (auto sent = client->stream.write_all(ConstBuffer(buffer, *got)); !sent)
            return cli::fail(sent.error().message());
    }
    return 0;  // the stream and the listener close themselves here (conn.close(), s.close())
}

int main(int argc, char** argv) {
    const cli::Options options =
        cli::parse(argc, argv, cli::host | cli::port | cli::unix_path, {.port = 8088}, usage);

    if (!options.unix_path.empty())  // remove_stale_socket: reuse a path left behind by a crashed server
        return serve_once(UnixListener::bind(options.unix_path, ListenOptions{.remove_stale_socket = true}));
    // Host "" means every IPv4 address, as Python's ''. "::1" or "::" listen on IPv6.
    return serve_once(TcpListener<>::bind(options.host, options.port));
}
