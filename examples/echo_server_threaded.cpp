// echo_server_threaded - the tutorial's threaded server: one thread per connection.
//
// The main thread only accepts; each client gets its own thread, so a slow or silent client no longer
// holds up the others. (Thousands of clients would mean thousands of threads: see echo_server_evented.)
// SIGINT (Ctrl-C) or SIGTERM shuts it down cleanly: it stops accepting, lets the open connections finish
// for up to 5 seconds, then drops the rest and exits 0.
#include "cli.hpp"

#include <netlite/limits.hpp>
#include <netlite/stop_source.hpp>
#include <netlite/tcp.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <system_error>
#include <thread>

using namespace netlite;

constexpr const char* usage =
    "usage: echo_server_threaded [--host H] [--port P] [--unix PATH]\n"
    "Echoes every connection back to its client, each in its own thread (default: any IPv4, 8088).\n"
    "SIGINT/SIGTERM: stop accepting, give open connections 5 s to finish, exit 0.\n";

constexpr auto grace_period = std::chrono::seconds(5);

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

// The tutorial's runThread: sends back every byte until the client stops sending or goes away, or until
// `drop` is requested (the server is shutting down and the grace period is over).
template <Family F>
void echo(TcpStream<F>& stream, const StopToken& drop) {
    char buffer[64 * 1024];
    for (;;) {
        auto got = stream.read(buffer, drop);
        if (!got || *got == 0) return;  // end of stream, the client reset the connection, or dropped
        if (!stream.write_all(ConstBuffer(buffer, *got), drop)) return;  // EPIPE (never a SIGPIPE), dropped
    }
}

template <Family F>
int serve(Result<TcpListener<F>> listener, const StopToken& stop) {
    if (!listener) return cli::fail(listener.error().message());
    auto where = listener->local_address();
    if (!where) return cli::fail(where.error().message());
    std::printf("listening on %s\n", where->to_string().c_str());
    std::fflush(stdout);

    Running running;
    // Requested when the grace period is over. A netlite::StopSource, not a std::stop_source: every read
    // blocked on its tokens polls the source's one wake-up descriptor, so an idle connection costs one
    // descriptor (its socket), not two.
    StopSource drop_all;
    auto connections = listener->incoming(stop);  // ends when `stop` is requested
    for (auto& [stream, peer] : connections) {
        std::printf("Connected with %s\n", peer.to_string().c_str());
        std::fflush(stdout);
        try {
            // The stream is moved into the thread, which owns it from now on; `running` counts the thread.
            running.started();
            std::thread([&running, s = std::move(stream), drop = drop_all.get_token()]() mutable {
                echo(s, drop);
                (void)s.close();
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

int main(int argc, char** argv) {
    const cli::Options options =
        cli::parse(argc, argv, cli::host | cli::port | cli::unix_path, {.port = 8088}, usage);
    const StopToken stop = cli::stop_on_signals();  // before any other thread starts
    (void)raise_descriptor_limit();  // one descriptor per client: Debian's soft limit of 1,024 is not many

    if (!options.unix_path.empty())
        return serve(UnixListener::bind(options.unix_path, ListenOptions{.remove_stale_socket = true}), stop);
    return serve(TcpListener<>::bind(options.host, options.port), stop);
}
