// echo_server_async - the threaded server's straight-line code, on one thread: a coroutine per connection.
//
// echo() below reads like the tutorial's runThread, but each `co_await` parks the connection on the loop
// instead of blocking a thread, so one thread serves thousands of clients (like echo_server_evented, with
// no state machine). `--threads N` runs N loops, one per thread, and one listener: the first loop accepts
// and hands each connection to the next loop in turn (itself included) with Loop::post, which runs the
// hand-off on that loop's thread, where it spawns echo() into the loop's own Scope. One listener works
// everywhere (Windows has no SO_REUSEPORT) and spreads connections evenly whatever the kernel's hashing.
// SIGINT/SIGTERM: stop accepting, give open connections 5 s to finish, cancel the rest, exit 0; stderr
// then says how many connections each loop took. The first loop awaits the signal like any other event
// (netlite/coro/signal.hpp; Windows: Ctrl+C, closing the console) and stops every loop through one
// StopSource: no signal thread, no signal mask.
#include "cli.hpp"

#include <netlite/coro.hpp>
#include <netlite/coro/signal.hpp>
#include <netlite/limits.hpp>
#include <netlite/stop_source.hpp>

#include <chrono>
#include <csignal>
#include <cstddef>
#include <cstdio>
#include <deque>
#include <iostream>
#include <string>
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

// One loop of N and the connections it serves. `connections` is its Scope while it takes connections,
// null before and after; only that loop's thread touches it (a hand-off runs there, through post()).
struct Worker {
    Result<Loop> loop = Loop::open();
    Scope* connections = nullptr;
    int served = 0;  // connections it took: printed at shutdown, read once its thread has ended
};

// Gives `connection` to `worker`'s loop: on that loop's thread, echo() joins its Scope. A connection that
// comes after the loop stopped serving is closed (the loop is going away).
template <Family F>
void hand_off(Worker& worker, TcpStream<F> connection) {
    worker.loop->post([&worker, stream = std::move(connection)]() mutable noexcept {
        if (worker.connections == nullptr) return;
        ++worker.served;
        worker.connections->spawn(echo(std::move(stream)));
    });
}

// Accepts until `stop` (SIGINT/SIGTERM) and hands the connections round the loops, the first one included.
template <Family F>
Task<Result<void>> accept_all(TcpListener<F>& listener, std::deque<Worker>& workers, StopToken stop) {
    for (std::size_t next = 0;; next = (next + 1) % workers.size()) {
        auto accepted = co_await async_accept_next(listener, stop);  // skips clients gone, pauses at EMFILE
        if (!accepted) {
            if (accepted.error() == std::errc::operation_canceled) co_return Result<void>();
            co_return fail(accepted.error());
        }
        std::printf("Connected with %s\n", accepted->peer.to_string().c_str());
        std::fflush(stdout);
        hand_off(workers[next], std::move(accepted->stream));
    }
}

Task<void> join(Scope& scope) {
    co_await scope.join();
}
Task<void> grace_period() {
    (void)co_await async_sleep(5s);
}

// One loop's connections: serves what it is handed until `stop`, then lets them finish for up to 5 s.
// Connections handed over meanwhile still join (and get what is left of the grace period).
Task<void> serve(Worker& worker, StopToken stop) {
    Scope connections(*worker.loop);
    worker.connections = &connections;  // before the loop runs what was posted to it
    (void)co_await async_sleep(Until(stop));
    // Whichever ends first: every connection, or the grace period; the other is cancelled and awaited.
    (void)co_await when_any(join(connections), grace_period());
    worker.connections = nullptr;
}

// Waits for SIGINT or SIGTERM, then stops every loop; ends without stopping them when a stop comes first.
Task<void> stop_on_signal(SignalSet& signals, StopSource& source, bool& signalled) {
    if (auto signal = co_await signals.wait(source.get_token())) {
        signalled = true;
        source.request_stop();
    }
}

// The first loop: the signal watch, the accept loop and its own share of the connections. However
// accepting ends, every loop stops.
template <Family F>
Task<Result<void>> serve_first(std::deque<Worker>& workers, TcpListener<F>& listener, SignalSet& signals,
                               StopSource& source, bool& signalled) {
    Scope watch(*workers.front().loop);
    watch.spawn(stop_on_signal(signals, source, signalled));
    watch.spawn(serve(workers.front(), source.get_token()));
    auto accepted = co_await accept_all(listener, workers, source.get_token());
    (void)listener.close();  // new clients are refused from now on
    source.request_stop();   // an accept error ends the loops too
    co_await watch.join();
    co_return accepted;
}

// Serves `listener` on every loop of `workers`: the first on this thread (watching `signals`), the others
// on a thread each. Returns 0, or 1 after printing why.
template <Family F>
int serve_threads(std::deque<Worker>& workers, SignalSet& signals, Result<TcpListener<F>> listener) {
    if (!listener) return cli::fail(listener.error().message());
    if (auto ok = listener->set_nonblocking(true); !ok) return cli::fail(ok.error().message());
    if (!cli::announce_listening(*listener)) return 1;

    StopSource source;
    bool signalled = false;
    std::vector<std::thread> threads;
    for (std::size_t i = 1; i < workers.size(); ++i)
        threads.emplace_back([&, i] { workers[i].loop->run(serve(workers[i], source.get_token())); });
    auto served = workers.front().loop->run(serve_first(workers, *listener, signals, source, signalled));
    for (std::thread& thread : threads) thread.join();
    if (signalled) {
        std::string counts;
        for (const Worker& worker : workers) counts += " " + std::to_string(worker.served);
        std::cerr << cli::program_name() << ": shutting down (connections per loop:" << counts << ")\n";
    }
    return served ? 0 : cli::fail(served.error().message());
}

}  // namespace

int main(int argc, char** argv) {
    const cli::Options options =
        cli::parse(argc, argv, cli::host | cli::port | cli::unix_path | cli::threads, {.port = 8088}, usage);
    // The loops and the first one's signal watch, before the server says it listens: from then on
    // SIGINT/SIGTERM stop it cleanly instead of ending the process.
    std::deque<Worker> workers(static_cast<std::size_t>(options.threads));
    for (const Worker& worker : workers)
        if (!worker.loop) return cli::fail(worker.loop.error().message());
    auto signals = SignalSet::open(*workers.front().loop, {SIGINT, SIGTERM});
    if (!signals) return cli::fail(signals.error().message());
    (void)raise_descriptor_limit();  // one descriptor per client: Debian's soft limit of 1,024 is not many

    if (!options.unix_path.empty())
        return serve_threads<Unix>(
            workers, *signals,
            UnixListener::bind(options.unix_path, ListenOptions{.remove_stale_socket = true}));
    return serve_threads<IP>(workers, *signals, TcpListener<>::bind(options.host, options.port));
}
