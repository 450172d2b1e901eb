// tls_echo_server - echo_server_threaded over TLS: one thread per connection, each doing its own handshake.
//
// The main thread only accepts; the handshake runs in the connection's thread with a 10 s deadline, so a
// client that connects and says nothing (or trickles its hello) holds only its own thread. A client is
// done when it sends close_notify (the server answers with its own) or when it goes away; one that closes
// TCP without close_notify is reported as truncated. `--cert`/`--key` are the server's certificate chain
// and key (PEM files); `--ca FILE` asks every client for a certificate issued by FILE's CAs (mutual TLS).
// SIGINT (Ctrl-C) or SIGTERM: stop accepting, give open connections 5 s to finish, drop the rest, exit 0.
#include "tls_cli.hpp"

#include <netlite/limits.hpp>
#include <netlite/stop_source.hpp>
#include <netlite/tcp.hpp>
#include <netlite/tls.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>

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

// How many connection threads are still running, so that shutdown can wait for them.
class Running {
public:
    void started() {
        std::lock_guard lock(mutex_);
        ++count_;
    }
    void finished() {
        std::lock_guard lock(mutex_);
        --count_;
        none_left_.notify_all();
    }
    bool wait_until_none(std::chrono::seconds limit) {
        std::unique_lock lock(mutex_);
        return none_left_.wait_for(lock, limit, [this] { return count_ == 0; });
    }

private:
    std::mutex mutex_;
    std::condition_variable none_left_;
    int count_ = 0;
};

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

template <Family F>
int serve(const TlsContext& context, Result<TcpListener<F>> listener, const StopToken& stop) {
    if (!listener) return cli::fail(listener.error().message());
    auto where = listener->local_address();
    if (!where) return cli::fail(where.error().message());
    std::printf("listening on %s\n", where->to_string().c_str());
    std::fflush(stdout);

    Running running;
    StopSource drop_all;                          // requested when the grace period is over
    auto connections = listener->incoming(stop);  // ends when `stop` is requested
    for (auto& [stream, peer] : connections) {
        std::printf("Connected with %s\n", peer.to_string().c_str());
        std::fflush(stdout);
        try {
            // The stream is moved into the thread, which owns it from now on; `running` counts the thread.
            // Each thread holds a copy of the context: copies share one TLS context (and are cheap).
            running.started();
            std::thread([&running, ctx = context, s = std::move(stream),
                         drop = drop_all.get_token()]() mutable {
                echo(ctx, std::move(s), drop);
                running.finished();
            }).detach();
        } catch (const std::system_error& error) {  // out of threads: drop this client, keep serving
            running.finished();
            cli::fail(error.what());
        }
    }
    (void)listener->close();  // new clients are refused from now on
    const bool stopped = connections.error() == std::errc::operation_canceled;
    if (stopped) std::cerr << cli::program_name() << ": shutting down\n";
    if (!running.wait_until_none(grace_period)) drop_all.request_stop();
    running.wait_until_none(std::chrono::seconds(60));  // every call in echo() gives up on `drop`
    return stopped ? 0 : cli::fail(connections.error().message());
}

}  // namespace

int main(int argc, char** argv) {
    const cli::TlsFlags flags = cli::take_tls_flags(argc, argv, "tls_echo_server", usage);
    const cli::Options options =
        cli::parse(argc, argv, cli::host | cli::port | cli::unix_path, {.port = 8443}, usage);
    if (flags.cert.empty() || flags.key.empty())
        cli::detail::usage_error("--cert and --key are required", usage);
    const StopToken stop = cli::stop_on_signals();  // before any other thread starts
    (void)raise_descriptor_limit();  // one descriptor per client: Debian's soft limit of 1,024 is not many

    TlsOptions tls_options;
    tls_options.certificate.file = flags.cert;
    tls_options.private_key.file = flags.key;
    if (!flags.ca.empty()) {
        tls_options.trust.file = flags.ca;
        tls_options.client_auth = ClientAuth::required;
    }
    auto context = TlsContext::server(tls_options);  // made once, shared by every connection's thread
    if (!context) return cli::fail(context.error().message());

    if (!options.unix_path.empty())
        return serve(*context,
                     UnixListener::bind(options.unix_path, ListenOptions{.remove_stale_socket = true}), stop);
    return serve(*context, TcpListener<>::bind(options.host, options.port), stop);
}
