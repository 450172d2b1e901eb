// tls_echo_server - echo_server_threaded over TLS: one thread per connection, each doing its own handshake.
//
// The main thread only accepts; the handshake runs in the connection's thread with a 10 s deadline, so a
// client that connects and says nothing (or trickles its hello) holds only its own thread. A client is
// done when it sends close_notify (the server answers with its own) or when it goes away; one that closes
// TCP without close_notify is reported as truncated. `--cert`/`--key` are the server's certificate chain
// and key (PEM files); `--ca FILE` asks every client for a certificate issued by FILE's CAs (mutual TLS).
// SIGINT (Ctrl-C) or SIGTERM: stop accepting, give open connections 5 s to finish, drop the rest, exit 0.
#include "thread_per_connection.hpp"
#include "tls_cli.hpp"

#include <netlite/limits.hpp>
#include <netlite/tcp.hpp>
#include <netlite/tls.hpp>

#include <chrono>
#include <cstdio>
#include <string>
#include <string_view>

using namespace netlite;
using namespace std::chrono_literals;

constexpr const char* usage =
    "usage: tls_echo_server --cert FILE --key FILE [--ca FILE] [--host H] [--port P] [--unix PATH]\n"
    "Echoes every TLS connection back to its client, each in its own thread (default: any IPv4, 8443).\n"
    "--cert/--key: the server's certificate chain and private key (PEM); --ca: require client certificates\n"
    "issued by these CAs. SIGINT/SIGTERM: stop accepting, give open connections 5 s to finish, exit 0.\n";

constexpr auto grace_period = std::chrono::seconds(5);
constexpr auto handshake_time = std::chrono::seconds(10);

namespace {

void report(const Error& error) {
    std::fprintf(stderr, "%s: %s\n", cli::program_name().c_str(), error.message().c_str());
}

// One connection, in its own thread: the handshake (10 s at most), then every byte back until the client's
// close_notify, answered with ours. A client that vanishes without close_notify, resets, or fails
// verification just ends its thread (the reason goes to stderr); `drop` (the server is shutting down and
// the grace period is over) ends it too.
template <Family F>
void echo(const TlsContext& context, TcpStream<F> connection, const StopToken& drop) {
    auto tls = TlsStream<F>::accept(context, std::move(connection),
                                    Until(std::chrono::steady_clock::now() + handshake_time, drop));
    if (!tls) {
        if (tls.error() != std::errc::operation_canceled) report(tls.error());
        return;
    }
    char buffer[16 * 1024];
    for (;;) {
        auto got = tls->read(MutableBuffer(buffer, sizeof buffer), drop);
        if (!got) {
            if (got.error() != std::errc::operation_canceled) report(got.error());
            return;  // truncated, reset, or dropped: no close_notify to answer
        }
        if (*got == 0) break;  // the client's close_notify
        if (auto sent = tls->write_all(ConstBuffer(buffer, *got), drop); !sent) {
            if (sent.error() != std::errc::operation_canceled) report(sent.error());
            return;  // EPIPE (never a SIGPIPE), reset, dropped
        }
    }
    // Our close_notify (the client may be gone already: nothing more to do then).
    (void)tls->shutdown(Until(std::chrono::steady_clock::now() + grace_period, drop));
}

}  // namespace

int main(int argc, char** argv) {
    // The context is made once and shared by every connection's thread.
    const auto [options, context] = cli::parse_tls_server(argc, argv, "tls_echo_server", usage);
    if (!context) return cli::fail(context.error().message());
    const StopToken stop = cli::stop_on_signals();  // before any other thread starts
    (void)raise_descriptor_limit();  // one descriptor per client: Debian's soft limit of 1,024 is not many

    // Each thread holds a copy of the context: copies share one TLS context (and are cheap).
    const auto echo_tls = [ctx = *context](auto stream, const StopToken& drop) {
        echo(ctx, std::move(stream), drop);
    };
    if (!options.unix_path.empty())
        return cli::serve_thread_per_connection(
            UnixListener::bind(options.unix_path, ListenOptions{.remove_stale_socket = true}), stop,
            grace_period, echo_tls);
    return cli::serve_thread_per_connection(TcpListener<>::bind(options.host, options.port), stop,
                                            grace_period, echo_tls);
}
