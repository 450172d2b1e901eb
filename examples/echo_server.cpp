// echo_server - the tutorial's second server: the same echo, in a loop, one connection at a time.
//
// While one client is being served, the next ones wait in the listen queue: a slow client delays
// everyone behind it. echo_server_threaded fixes that.
#include "cli.hpp"

#include <netlite/tcp.hpp>

#include <cstdio>

using namespace netlite;

constexpr const char* usage =
    "usage: echo_server [--host H] [--port P] [--unix PATH]\n"
    "Echoes each connection back to its client, one after another, forever (default: any IPv4, 8088).\n";

// Sends back every byte until the client stops sending (read() returns 0) or goes away.
template <Family F>
void echo(TcpStream<F>& stream) {
    char buffer[64 * 1024];
    for (;;) {
        auto got = stream.read(buffer);
        if (!got || *got == 0) return;  // end of stream, or an error such as "connection reset"
        // A client that closed without reading makes this fail with EPIPE; netlite never raises SIGPIPE,
        // so the server just moves on to the next client instead of being killed.
        if (!stream.write_all(ConstBuffer(buffer, *got))) return;
    }
}

template <Family F>
int serve(Result<TcpListener<F>> listener) {
    if (!listener) return cli::fail(listener.error().message());
    if (!cli::announce_listening(*listener)) return 1;

    // incoming() is `while True: conn, addr = s.accept()`. It skips connections that died while
    // queued, and ends only on a real error of the listener (kept in error()).
    auto connections = listener->incoming();
    for (auto& [stream, peer] : connections) {
        std::printf("Connected with %s\n", peer.to_string().c_str());
        std::fflush(stdout);
        echo(stream);
    }  // each stream closes at the end of its iteration
    return cli::fail(connections.error().message());
}

int main(int argc, char** argv) {
    const cli::Options options =
        cli::parse(argc, argv, cli::host | cli::port | cli::unix_path, {.port = 8088}, usage);

    if (!options.unix_path.empty())
        return serve(UnixListener::bind(options.unix_path, ListenOptions{.remove_stale_socket = true}));
    return serve(TcpListener<>::bind(options.host, options.port));
}
