// tls_echo_server_async - echo_server_async over TLS: a coroutine per connection on one thread, each
// connection's handshake, reads and writes parked on the loop (<netlite/coro/tls.hpp>).
//
// The handshake runs in the connection's own task with a deadline, so a client that connects and says
// nothing holds only itself, never the accept loop. A client is done when it sends close_notify (the
// server answers with its own) or when it goes away. `--cert`/`--key` are the server's certificate chain
// and key (PEM files); `--ca FILE` asks every client for a certificate issued by FILE's CAs (mutual TLS).
// SIGINT/SIGTERM: stop accepting, give open connections 5 s to finish, cancel the rest, exit 0.
#include "tls_cli.hpp"

#include <netlite/coro.hpp>
#include <netlite/coro/tls.hpp>
#include <netlite/limits.hpp>
#include <netlite/stop_source.hpp>
#include <netlite/tls.hpp>

#include <chrono>
#include <cstdio>
#include <string>
#include <string_view>

using namespace netlite;
using namespace std::chrono_literals;

constexpr const char* usage =
    "usage: tls_echo_server_async --cert FILE --key FILE [--ca FILE] [--host H] [--port P] [--unix PATH]\n"
    "Echoes every TLS connection back to its client, a coroutine per connection on one thread (default:\n"
    "any IPv4, 8443). --cert/--key: the server's certificate chain and private key (PEM); --ca: require\n"
    "client certificates issued by these CAs. SIGINT/SIGTERM: stop accepting, give open connections 5 s\n"
    "to finish, exit 0.\n";

namespace {

// One connection: the handshake (10 s at most), then every byte back until the client's close_notify,
// answered with ours. A client that vanishes without close_notify, resets, or fails verification just
// ends its task (the reason goes to stderr).
template <Family F>
Task<void> echo(TlsContext context, TcpStream<F> connection) {
    auto tls = co_await async_tls_accept(context, std::move(connection), 10s);
    if (!tls) {
        std::fprintf(stderr, "%s: %s\n", cli::program_name().c_str(), tls.error().message().c_str());
        co_return;
    }
    auto stream = AsyncTlsStream<F>::attach(co_await current_loop(), std::move(*tls));
    if (!stream) co_return;  // the loop could not watch it (ENOMEM, max_user_watches): the socket closes
    char buffer[16 * 1024];
    for (;;) {
        auto got = co_await async_read(*stream, MutableBuffer(buffer, sizeof buffer));
        if (!got) {
            if (got.error() != std::errc::operation_canceled)
                std::fprintf(stderr, "%s: %s\n", cli::program_name().c_str(), got.error().message().c_str());
            co_return;  // truncated, reset, or cancelled: no close_notify to answer
        }
        if (*got == 0) break;  // the client's close_notify
        if (!co_await async_write_all(*stream, ConstBuffer(buffer, *got))) co_return;
    }
    (void)co_await async_shutdown(*stream, 5s);  // our close_notify; then the connection closes
}

// Accepts until `stop` (SIGINT/SIGTERM) and spawns echo() for each client into `connections`.
template <Family F>
Task<Result<void>> accept_all(const TlsContext& context, TcpListener<F>& listener, Scope& connections,
                              StopToken stop) {
    for (;;) {
        auto accepted = co_await async_accept_next(listener, stop);  // skips clients gone, pauses at EMFILE
        if (!accepted) {
            if (accepted.error() == std::errc::operation_canceled) co_return Result<void>();
            co_return fail(accepted.error());
        }
        std::printf("Connected with %s\n", accepted->peer.to_string().c_str());
        std::fflush(stdout);
        connections.spawn(echo(context, std::move(accepted->stream)));
    }
}

Task<void> join(Scope& scope) {
    co_await scope.join();
}
Task<void> grace_period() {
    (void)co_await async_sleep(5s);
}

// The server: accept until stopped, then let the connections finish for up to 5 s.
template <Family F>
Task<Result<void>> serve(Loop& loop, const TlsContext& context, TcpListener<F>& listener, StopToken stop) {
    Scope connections(loop);
    auto accepted = co_await accept_all(context, listener, connections, stop);
    (void)listener.close();  // new clients are refused from now on
    (void)co_await when_any(join(connections), grace_period());
    co_return accepted;
}

// Announces the listener and runs the loop on this thread. Returns 0, or 1 after printing why.
template <Family F>
int run(const TlsContext& context, Result<TcpListener<F>> listener, StopToken stop) {
    if (!listener) return cli::fail(listener.error().message());
    if (auto ok = listener->set_nonblocking(true); !ok) return cli::fail(ok.error().message());
    auto loop = Loop::open();
    if (!loop) return cli::fail(loop.error().message());
    if (!cli::announce_listening(*listener)) return 1;
    auto served = loop->run(serve(*loop, context, *listener, stop));
    if (stop.stop_requested()) std::fprintf(stderr, "%s: shutting down\n", cli::program_name().c_str());
    return served ? 0 : cli::fail(served.error().message());
}

}  // namespace

int main(int argc, char** argv) {
    // The context is made once and shared by every connection.
    const auto [options, context] = cli::parse_tls_server(argc, argv, "tls_echo_server_async", usage);
    if (!context) return cli::fail(context.error().message());
    const StopToken stop = cli::stop_on_signals();  // before any other thread starts
    (void)raise_descriptor_limit();                 // one descriptor per client

    if (!options.unix_path.empty())
        return run<Unix>(*context,
                         UnixListener::bind(options.unix_path, ListenOptions{.remove_stale_socket = true}),
                         stop);
    return run<IP>(*context, TcpListener<>::bind(options.host, options.port), stop);
}
