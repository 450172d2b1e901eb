// echo_server_async - the threaded server's straight-line code, on one thread: a coroutine per connection.
//
// echo() below reads like the tutorial's runThread, but each `co_await` parks the connection on the loop
// instead of blocking a thread, so one thread serves thousands of clients (like echo_server_evented, with
// no state machine). `--threads N` runs N loops, one per thread, each with its own SO_REUSEPORT listener
// on the same port: the kernel spreads the connections over them (a Unix socket is shared instead).
// SIGINT/SIGTERM: stop accepting, give open connections 5 s to finish, cancel the rest, exit 0. The first
// loop awaits the signal like any other event (netlite/coro/signal.hpp; Windows: Ctrl+C, closing the
// console) and stops every loop through one StopSource: no signal thread, no signal mask.
#include "cli.hpp"

#include <netlite/coro.hpp>
#include <netlite/coro/signal.hpp>
#include <netlite/limits.hpp>
#include <netlite/stop_source.hpp>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <memory>
#include <thread>
#include <vector>

using namespace netlite;
using namespace std::chrono_literals;

constexpr const char* usage =
    "usage: echo_server_async [--host H] [--port P] [--unix PATH] [--threads N]\n"
    "Echoes every connection back to its client, a coroutine per connection on one thread per loop\n"
    "(default: any IPv4, 8088, 1 thread). SIGINT/SIGTERM: stop accepting, give open connections 5 s to\n"
    "finish, exit 0.\n";

namespace {

// One connection: every byte back until the client stops sending, resets, or the server cancels it.
// The buffer lives in the coroutine's frame (16 KiB per connection). AsyncStream registers the socket with
// the loop once, for the connection's life, instead of once per wait.
template <Family F>
Task<void> echo(TcpStream<F> connection) {
    auto stream = AsyncStream<F>::attach(co_await current_loop(), std::move(connection));
    if (!stream) co_return;  // the loop could not watch it (ENOMEM, max_user_watches): the socket closes
    char buffer[16 * 1024];
    for (;;) {
        auto got = co_await async_read(*stream, MutableBuffer(buffer, sizeof buffer));
        if (!got || *got == 0) co_return;  // end of stream, reset, or cancelled
        if (!co_await async_write_all(*stream, ConstBuffer(buffer, *got))) co_return;
    }
}

// Accepts until `stop` (SIGINT/SIGTERM) and spawns echo() for each client into `connections`.
template <Family F>
Task<Result<void>> accept_all(TcpListener<F>& listener, Scope& connections, StopToken stop) {
    for (;;) {
        auto accepted = co_await async_accept_next(listener, stop);  // skips clients gone, pauses at EMFILE
        if (!accepted) {
            if (accepted.error() == std::errc::operation_canceled) co_return Result<void>();
            co_return fail(accepted.error());
        }
        std::printf("Connected with %s\n", accepted->peer.to_string().c_str());
        std::fflush(stdout);
        connections.spawn(echo(std::move(accepted->stream)));
    }
}

Task<void> join(Scope& scope) {
    co_await scope.join();
}
Task<void> grace_period() {
    (void)co_await async_sleep(5s);
}

// One loop's server: accept until stopped, then let the connections finish for up to 5 s.
template <Family F>
Task<Result<void>> serve(Loop& loop, TcpListener<F>& listener, StopToken stop) {
    Scope connections(loop);
    auto accepted = co_await accept_all(listener, connections, stop);
    (void)listener.close();  // new clients are refused from now on
    // Whichever ends first: every connection, or the grace period; the other is cancelled and awaited.
    (void)co_await when_any(join(connections), grace_period());
    co_return accepted;
}

// Waits for SIGINT or SIGTERM, then stops every loop; ends without stopping them when a stop comes first.
Task<void> stop_on_signal(SignalSet& signals, StopSource& source, bool& signalled) {
    if (auto signal = co_await signals.wait(source.get_token())) {
        signalled = true;
        source.request_stop();
    }
}

// The first loop's server: serve() with the signal watch beside it. However it ends, the other loops stop.
template <Family F>
Task<Result<void>> serve_first(Loop& loop, TcpListener<F>& listener, SignalSet& signals, StopSource& source,
                               bool& signalled) {
    Scope watch(loop);
    watch.spawn(stop_on_signal(signals, source, signalled));
    auto served = co_await serve(loop, listener, source.get_token());
    source.request_stop();  // an accept error ends this loop: end the others too
    co_await watch.join();
    co_return served;
}

// Runs `server` on `loop`, on the calling thread. Returns 0, or 1 after printing why.
template <Family F, class Server>
int run_loop(Loop& loop, TcpListener<F>& listener, Server server) {
    if (auto ok = listener.set_nonblocking(true); !ok) return cli::fail(ok.error().message());
    auto served = loop.run(server(loop, listener));
    return served ? 0 : cli::fail(served.error().message());
}

template <Family F>
int announce(const TcpListener<F>& listener) {
    auto where = listener.local_address();
    if (!where) return cli::fail(where.error().message());
    std::printf("listening on %s\n", where->to_string().c_str());
    std::fflush(stdout);
    return 0;
}

// N loops on N threads; the first, `loop`, on this one, watching `signals`. `bind_next` makes each thread's
// listener (the first decides the port).
template <Family F, class Bind>
int serve_threads(int threads, Loop& loop, SignalSet& signals, Bind bind_next) {
    StopSource source;
    const StopToken stop = source.get_token();
    bool signalled = false;
    std::vector<std::unique_ptr<TcpListener<F>>> listeners;
    for (int i = 0; i < threads; ++i) {
        auto listener = bind_next(listeners.empty() ? nullptr : listeners.front().get());
        if (!listener) return cli::fail(listener.error().message());
        listeners.push_back(std::make_unique<TcpListener<F>>(std::move(*listener)));
    }
    if (int failed = announce(*listeners.front())) return failed;
    std::vector<int> status(static_cast<std::size_t>(threads), 0);
    std::vector<std::thread> workers;
    for (int i = 1; i < threads; ++i)
        workers.emplace_back([&, i] {
            auto own = Loop::open();
            status[static_cast<std::size_t>(i)] =
                own ? run_loop(*own, *listeners[i],
                               [&](Loop& l, TcpListener<F>& listener) { return serve(l, listener, stop); })
                    : cli::fail(own.error().message());
            if (status[static_cast<std::size_t>(i)] != 0) source.request_stop();
        });
    status[0] = run_loop(loop, *listeners[0], [&](Loop& l, TcpListener<F>& listener) {
        return serve_first(l, listener, signals, source, signalled);
    });
    for (std::thread& worker : workers) worker.join();
    if (signalled) std::cerr << cli::program_name() << ": shutting down\n";
    for (int s : status)
        if (s != 0) return s;
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    const cli::Options options =
        cli::parse(argc, argv, cli::host | cli::port | cli::unix_path | cli::threads, {.port = 8088}, usage);
    // The first loop and its signal watch, before the server says it listens: from then on SIGINT/SIGTERM
    // stop it cleanly instead of ending the process.
    auto loop = Loop::open();
    if (!loop) return cli::fail(loop.error().message());
    auto signals = SignalSet::open(*loop, {SIGINT, SIGTERM});
    if (!signals) return cli::fail(signals.error().message());
    (void)raise_descriptor_limit();  // one descriptor per client: Debian's soft limit of 1,024 is not many

    if (!options.unix_path.empty()) {
        // No SO_REUSEPORT for Unix sockets: every loop polls a clone of one listener.
        return serve_threads<Unix>(options.threads, *loop, *signals, [&](const UnixListener* first) {
            if (first != nullptr) return first->try_clone();
            return UnixListener::bind(options.unix_path, ListenOptions{.remove_stale_socket = true});
        });
    }
    return serve_threads<IP>(
        options.threads, *loop, *signals, [&](const TcpListener<>* first) -> Result<TcpListener<>> {
            const ListenOptions shared{.reuse_port = options.threads > 1};
            if (first == nullptr) return TcpListener<>::bind(options.host, options.port, shared);
            auto where = first->local_address();  // the port the first one got (--port 0: ephemeral)
            if (!where) return fail(where.error());
            return TcpListener<>::bind(*where, shared);
        });
}
