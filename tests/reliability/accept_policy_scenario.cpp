// accept_policy_scenario - one accept path (incoming(), try_accept_batch() or the coroutine
// async_accept_next()) meeting one accept error, for
// accept_policy.py to run under `strace -e inject=accept4,accept:error=E:when=1`: the first accept fails
// with E without running, so the client's connection is still queued for the next one.
//
// usage: accept_policy_scenario incoming|batch|async
// Prints one line: "accepted" when the path went on to accept the queued connection, or
// "error <errno-name-free message>" and the code the path ended with; exits 0 either way (1 on misuse).
// The driver compares the line with netlite's published policy (is_transient_accept_error,
// is_out_of_resources), so that every accept path is held to the same one.
#include <netlite/coro.hpp>
#include <netlite/netlite.hpp>

#include <chrono>
#include <cstdio>
#include <string_view>
#include <vector>

using namespace netlite;
using namespace std::chrono_literals;

namespace {

int report(const Error& error) {
    std::printf("error %d %s\n", error.value(), error.message().c_str());
    return 0;
}

int run_incoming(TcpListener<IPv4>& listener) {
    auto incoming = listener.incoming();
    for (auto&& accepted : incoming) {
        (void)accepted;
        std::printf("accepted\n");
        return 0;
    }
    return report(incoming.error());
}

// A server's evented loop: the listener is readable, it drains the backlog; an error ends that wake-up and
// the loop calls again on the next one.
int run_batch(TcpListener<IPv4>& listener) {
    std::vector<Accepted<IPv4>> out;
    auto count = listener.try_accept_batch(out);
    if (!count) return report(count.error());
    std::printf(*count == 1 ? "accepted\n" : "accepted %zu\n", *count);
    return 0;
}

// A coroutine server's accept loop: async_accept_next, which follows incoming()'s policy on the loop.
int run_async(TcpListener<IPv4>& listener) {
    auto loop = Loop::open();
    if (!loop) return report(loop.error()) + 1;
    if (auto ok = listener.set_nonblocking(true); !ok) return report(ok.error()) + 1;
    auto accepted = loop->run(async_accept_next(listener, Until(10s)));
    if (!accepted) return report(accepted.error());
    std::printf("accepted\n");
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    const std::string_view path = argc == 2 ? argv[1] : "";
    if (path != "incoming" && path != "batch" && path != "async") {
        std::fprintf(stderr, "usage: accept_policy_scenario incoming|batch|async\n");
        return 1;
    }
    auto listener = TcpListener<IPv4>::bind(Address<IPv4>::loopback(0));
    if (!listener) return report(listener.error()) + 1;
    auto where = listener->local_address();
    if (!where) return report(where.error()) + 1;
    auto client = TcpStream<IPv4>::connect(*where, Until(5s));
    if (!client) return report(client.error()) + 1;
    // The connection is queued once the handshake is done; wait for it so try_accept_batch sees it.
    auto poller = Poller::open();
    if (!poller) return report(poller.error()) + 1;
    if (auto added = poller->add(*listener, Interest::readable, 1); !added) return report(added.error()) + 1;
    Event events[1];
    auto ready = poller->wait(events, 5000ms);
    if (!ready || *ready != 1) {
        std::fprintf(stderr, "the connection was not queued within 5 s\n");
        return 1;
    }
    if (path == "async") return run_async(*listener);
    return path == "incoming" ? run_incoming(*listener) : run_batch(*listener);
}
