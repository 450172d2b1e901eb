// echo_server_threaded - the tutorial's threaded server: one thread per connection.
//
// The main thread only accepts; each client gets its own thread, so a slow or silent client no longer
// holds up the others. (Thousands of clients would mean thousands of threads: see echo_server_evented.)
#include "cli.hpp"

#include <netlite/tcp.hpp>

#include <cstdio>
#include <system_error>
#include <thread>

using namespace netlite;

constexpr const char* usage =
    "usage: echo_server_threaded [--host H] [--port P] [--unix PATH]\n"
    "Echoes every connection back to its client, each in its own thread (default: any IPv4, 8088).\n";

// The tutorial's runThread: sends back every byte until the client stops sending or goes away.
template <Family F>
void echo(TcpStream<F> stream) {
    char buffer[64 * 1024];
    for (;;) {
        auto got = stream.read(buffer);
        if (!got || *got == 0) return;  // end of stream, or the client reset the connection
        if (!stream.write_all(ConstBuffer(buffer, *got))) return;  // EPIPE, never a SIGPIPE
    }
}

template <Family F>
int serve(Result<TcpListener<F>> listener) {
    if (!listener) return cli::fail(listener.error().message());
    auto where = listener->local_address();
    if (!where) return cli::fail(where.error().message());
    std::printf("listening on %s\n", where->to_string().c_str());
    std::fflush(stdout);

    auto connections = listener->incoming();
    for (auto& [stream, peer] : connections) {
        std::printf("Connected with %s\n", peer.to_string().c_str());
        std::fflush(stdout);
        try {
            // The stream is moved into the thread, which owns it from now on. detach() is Python's
            // `t.daemon = True`: nobody waits for the thread; it ends when its client is done.
            std::thread(echo<F>, std::move(stream)).detach();
        } catch (const std::system_error& error) {  // out of threads: drop this client, keep serving
            cli::fail(error.what());
        }
    }
    return cli::fail(connections.error().message());
}

int main(int argc, char** argv) {
    const cli::Options options =
        cli::parse(argc, argv, cli::host | cli::port | cli::unix_path, {.port = 8088}, usage);

    if (!options.unix_path.empty())
        return serve(UnixListener::bind(options.unix_path, ListenOptions{.remove_stale_socket = true}));
    return serve(TcpListener<>::bind(options.host, options.port));
}
