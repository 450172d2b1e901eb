// echo_server_threaded - the tutorial's threaded server: one thread per connection.
//
// The main thread only accepts; each client gets its own thread, so a slow or silent client no longer
// holds up the others. (Thousands of clients would mean thousands of threads: see echo_server_evented.)
// SIGINT (Ctrl-C) or SIGTERM shuts it down cleanly: it stops accepting, lets the open connections finish
// for up to 5 seconds, then drops the rest and exits 0.
#include "cli.hpp"
#include "thread_per_connection.hpp"

#include <netlite/limits.hpp>
#include <netlite/tcp.hpp>

#include <chrono>

using namespace netlite;

constexpr const char* usage =
    "usage: echo_server_threaded [--host H] [--port P] [--unix PATH]\n"
    "Echoes every connection back to its client, each in its own thread (default: any IPv4, 8088).\n"
    "SIGINT/SIGTERM: stop accepting, give open connections 5 s to finish, exit 0.\n";

constexpr auto grace_period = std::chrono::seconds(5);

// The tutorial's runThread, in the thread cli::serve_thread_per_connection (thread_per_connection.hpp)
// starts for each client: sends back every byte until the client stops sending or goes away, or until
// `drop` is requested (the server is shutting down and the grace period is over).
template <Family F>
void echo(TcpStream<F> stream, const StopToken& drop) {
    char buffer[64 * 1024];
    for (;;) {
        auto got = stream.read(buffer, drop);
        if (!got || *got == 0) return;  // end of stream, the client reset the connection, or dropped
        if (!stream.write_all(ConstBuffer(buffer, *got), drop)) return;  // EPIPE (never a SIGPIPE), dropped
    }
}

int main(int argc, char** argv) {
    const cli::Options options =
        cli::parse(argc, argv, cli::host | cli::port | cli::unix_path, {.port = 8088}, usage);
    const StopToken stop = cli::stop_on_signals();  // before any other thread starts
    (void)raise_descriptor_limit();  // one descriptor per client: Debian's soft limit of 1,024 is not many

    if (!options.unix_path.empty())
        return cli::serve_thread_per_connection(
            UnixListener::bind(options.unix_path, ListenOptions{.remove_stale_socket = true}), stop,
            grace_period, echo<Unix>);
    return cli::serve_thread_per_connection(TcpListener<>::bind(options.host, options.port), stop,
                                            grace_period, echo<IP>);
}
