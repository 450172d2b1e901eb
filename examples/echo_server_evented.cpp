// echo_server_evented - one thread, thousands of connections: the echo server on readiness-based I/O.
//
// Same contract as the other echo servers (`listening on ADDRESS`, `Connected with PEER` per client,
// every byte echoed until the client's end of stream), but with no thread per client: one netlite::Poller
// says which sockets are ready and the non-blocking try_accept_batch/try_read/try_write never wait.
// Each connection owns only the echo bytes its client has not taken yet; while they exceed 64 KiB the
// server stops reading from that client (back-pressure), so a client that sends without reading costs
// at most 64 KiB and never holds up anyone else. SIGINT/SIGTERM stop the loop through the poller's Waker.
#include "cli.hpp"

#include <netlite/limits.hpp>
#include <netlite/poll.hpp>
#include <netlite/tcp.hpp>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

using namespace netlite;

constexpr const char* usage =
    "usage: echo_server_evented [--host H] [--port P] [--unix PATH]\n"
    "Echoes every connection back to its client, all of them on one thread with a readiness poller\n"
    "(default: any IPv4, 8088).\n";

constexpr std::size_t max_pending = 64 * 1024;  // unsent echo bytes per connection before reading stops

namespace {

volatile std::sig_atomic_t stopping = 0;
Waker stop_waker;  // set before the handlers are installed

extern "C" void on_stop_signal(int) {
    stopping = 1;
    stop_waker.wake();  // one write(2): async-signal-safe
}

template <Family F>
struct Connection {
    TcpStream<F> stream;
    std::size_t slot = 0;  // index in the server's table
    std::string pending;   // echo bytes not sent yet, from `sent` on
    std::size_t sent = 0;
    bool reading = true;  // until the client's end of stream
    Interest interest = Interest::readable;

    std::size_t pending_size() const { return pending.size() - sent; }
};

template <Family F>
class Server {
public:
    Server(TcpListener<F> listener, Poller poller)
        : listener_(std::move(listener)), poller_(std::move(poller)) {}

    int run() {
        std::vector<Event> events(1024);
        while (!stopping) {
            auto ready = poller_.wait(events);
            if (!ready) return cli::fail(ready.error().message());
            for (std::size_t i = 0; i < *ready; ++i) {
                auto* connection = events[i].token.template pointer<Connection<F>>();
                if (connection == nullptr)
                    accept_all();
                else
                    serve(*connection, events[i]);
            }
        }
        return 0;
    }

private:
    void accept_all() {
        accepted_.clear();
        auto count = listener_.try_accept_batch(accepted_);
        if (!count) {
            cli::fail(count.error().message());
            if (is_out_of_resources(count.error())) {
                // Out of descriptors: stop accepting until a connection closes (level-triggered polling
                // would otherwise report the waiting connection again at once, forever).
                if (poller_.modify(listener_, Interest::none, nullptr)) accept_paused_ = true;
            }
            return;
        }
        for (auto& [stream, peer] : accepted_) {
            std::printf("Connected with %s\n", peer.to_string().c_str());
            auto connection = std::make_unique<Connection<F>>();
            connection->stream = std::move(stream);
            connection->slot = connections_.size();
            if (auto added = poller_.add(connection->stream, Interest::readable, connection.get()); !added) {
                cli::fail(added.error().message());
                continue;  // the stream closes here
            }
            connections_.push_back(std::move(connection));
        }
        std::fflush(stdout);
    }

    /// One ready connection: send what is pending, read (and echo at once) what arrived, then adjust
    /// what it waits for.
    void serve(Connection<F>& c, const Event& event) {
        if (c.pending_size() > 0 && (event.writable || event.error || event.hangup)) {
            if (!flush(c)) return close(c);
        }
        if (c.reading && c.pending_size() < max_pending && (event.readable || event.error || event.hangup)) {
            const std::size_t room = c.pending_size() == 0
                                         ? sizeof scratch_
                                         : std::min(sizeof scratch_, max_pending - c.pending_size());
            auto got = c.stream.try_read(MutableBuffer(scratch_, room));
            if (!got) return close(c);  // reset by the client
            if (*got) {
                if (**got == 0) {
                    c.reading = false;  // end of stream: finish sending, then close
                } else if (c.pending_size() == 0) {
                    // The common case: echo straight from the read buffer, keep only what did not fit.
                    auto sent = c.stream.try_write(ConstBuffer(scratch_, **got));
                    if (!sent) return close(c);
                    const std::size_t done = *sent ? **sent : 0;
                    if (done < **got) {
                        c.pending.assign(scratch_ + done, **got - done);
                        c.sent = 0;
                    }
                } else {
                    c.pending.append(scratch_, **got);
                    if (!flush(c)) return close(c);
                }
            }
        }
        if (!c.reading && c.pending_size() == 0) return close(c);
        Interest wanted = Interest::none;
        if (c.reading && c.pending_size() < max_pending) wanted = wanted | Interest::readable;
        if (c.pending_size() > 0) wanted = wanted | Interest::writable;
        if (wanted != c.interest) {
            if (!poller_.modify(c.stream, wanted, &c)) return close(c);
            c.interest = wanted;
        }
    }

    /// Sends pending bytes until done or the socket would block; false when the connection is broken.
    bool flush(Connection<F>& c) {
        while (c.pending_size() > 0) {
            auto sent = c.stream.try_write(ConstBuffer(c.pending.data() + c.sent, c.pending_size()));
            if (!sent) return false;  // EPIPE/ECONNRESET: the client is gone
            if (!*sent) break;        // the client is not reading: wait until it is writable
            c.sent += **sent;
        }
        if (c.pending_size() == 0) {
            c.pending.clear();
            if (c.pending.capacity() > 4096) c.pending.shrink_to_fit();  // idle connections stay small
            c.sent = 0;
        } else if (c.sent > c.pending.size() / 2) {
            c.pending.erase(0, c.sent);
            c.sent = 0;
        }
        return true;
    }

    void close(Connection<F>& c) {
        (void)poller_.remove(c.stream);
        const std::size_t slot = c.slot;
        if (slot + 1 != connections_.size()) {
            connections_[slot] = std::move(connections_.back());
            connections_[slot]->slot = slot;
        }
        connections_.pop_back();  // destroys the connection and closes its stream
        if (accept_paused_ && poller_.modify(listener_, Interest::readable, nullptr)) accept_paused_ = false;
    }

    TcpListener<F> listener_;
    Poller poller_;
    std::vector<std::unique_ptr<Connection<F>>> connections_;
    std::vector<Accepted<F>> accepted_;
    bool accept_paused_ = false;
    char scratch_[64 * 1024];  // every read lands here first; only unsent bytes are copied out
};

template <Family F>
int serve(Result<TcpListener<F>> listener) {
    if (!listener) return cli::fail(listener.error().message());
    if (auto ok = listener->set_nonblocking(true); !ok) return cli::fail(ok.error().message());
    auto poller = Poller::open();
    if (!poller) return cli::fail(poller.error().message());
    if (auto ok = poller->add(*listener, Interest::readable, nullptr); !ok)
        return cli::fail(ok.error().message());

    stop_waker = poller->waker();
    std::signal(SIGINT, on_stop_signal);  // std::signal, not sigaction: Windows has only this one
    std::signal(SIGTERM, on_stop_signal);

    if (!cli::announce_listening(*listener)) return 1;
    auto server = std::make_unique<Server<F>>(std::move(*listener), std::move(*poller));
    return server->run();
}

}  // namespace

int main(int argc, char** argv) {
    const cli::Options options =
        cli::parse(argc, argv, cli::host | cli::port | cli::unix_path, {.port = 8088}, usage);
    (void)raise_descriptor_limit();  // one descriptor per client: Debian's soft limit of 1,024 is not many

    if (!options.unix_path.empty())
        return serve(UnixListener::bind(options.unix_path, ListenOptions{.remove_stale_socket = true}));
    return serve(TcpListener<>::bind(options.host, options.port));
}
