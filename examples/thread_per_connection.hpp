// thread_per_connection.hpp - the threaded servers' accept loop (echo_server_threaded, tls_echo_server):
// announce the address, start a thread per connection, and on SIGINT/SIGTERM stop accepting, give the open
// connections a grace period, then drop the rest.
#pragma once

#include "cli.hpp"

#include <netlite/stop_source.hpp>
#include <netlite/tcp.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <system_error>
#include <thread>
#include <utility>

namespace cli {

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

// Accepts from `listener` until `stop`, running serve_one(stream, drop) in a thread of its own for each
// client (a copy of serve_one each); `drop` is requested when the grace period after `stop` is over. Returns
// main()'s exit status.
template <netlite::Family F, class ServeOne>
int serve_thread_per_connection(netlite::Result<netlite::TcpListener<F>> listener,
                                const netlite::StopToken& stop, std::chrono::seconds grace_period,
                                ServeOne serve_one) {
    if (!listener) return fail(listener.error().message());
    if (!announce_listening(*listener)) return 1;

    Running running;
    // A netlite::StopSource, not a std::stop_source: every call blocked on its tokens polls the source's one
    // wake-up descriptor, so an idle connection costs one descriptor (its socket), not two.
    netlite::StopSource drop_all;
    auto connections = listener->incoming(stop);  // ends when `stop` is requested
    for (auto& [stream, peer] : connections) {
        std::printf("Connected with %s\n", peer.to_string().c_str());
        std::fflush(stdout);
        try {
            // The stream is moved into the thread, which owns it from now on. detach() is Python's
            // `t.daemon = True`: nobody waits for the thread; it ends when its client is done.
            // `running` counts the threads, so that shutting down can wait for them.
            running.started();
            std::thread([&running, serve = serve_one, s = std::move(stream),
                         drop = drop_all.get_token()]() mutable {
                serve(std::move(s), drop);  // every call in it gives up when `drop` is requested
                running.finished();
            }).detach();
        } catch (const std::system_error& error) {  // out of threads: drop this client, keep serving
            running.finished();
            fail(error.what());
        }
    }
    (void)listener->close();  // new clients are refused from now on
    const bool stopped = connections.error() == std::errc::operation_canceled;
    if (stopped) std::cerr << program_name() << ": shutting down\n";
    if (!running.wait_until_none(grace_period)) drop_all.request_stop();
    running.wait_until_none(std::chrono::seconds(60));  // every call in serve_one gives up on `drop`
    return stopped ? 0 : fail(connections.error().message());
}

}  // namespace cli
