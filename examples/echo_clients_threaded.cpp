// echo_clients_threaded - the tutorial's load test: N client threads talk to the echo server at once.
//
// Each thread connects, sends the message, shuts down its sending side and reads the echo until the
// server closes. Against echo_server (one client at a time) they are served one after another; against
// echo_server_threaded, all together.
#include "cli.hpp"

#include <netlite/tcp.hpp>

#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using namespace netlite;

constexpr const char* usage =
    "usage: echo_clients_threaded [--host H] [--port P] [--clients N] [--message M]\n"
    "Runs N echo clients at once and prints each reply (default localhost 8088, N=4).\n";

int main(int argc, char** argv) {
    const cli::Options options = cli::parse(
        argc, argv, cli::host | cli::port | cli::clients | cli::message,
        {.host = "localhost", .port = 8088, .message = "GET / HTTP/1.1\r\n\r\n", .clients = 4}, usage);

    // One client: the tutorial's run(). Returns the echo, or the reason it failed.
    auto talk = [&]() -> Result<std::string> {
        auto stream = TcpStream<>::connect(options.host, options.port);
        if (!stream) return fail(stream.error());
        // A short message fits in the socket buffers, so sending all of it before reading cannot get
        // stuck. (For long messages echo_client sends from a second thread.)
        if (auto sent = stream->write_all(options.message); !sent) return fail(sent.error());
        if (auto done = stream->shutdown(Shutdown::write); !done) return fail(done.error());
        return stream->read_to_end();
    };

    std::mutex output;  // one reply at a time on stdout, so replies from different threads do not mix
    std::atomic<int> failures{0};
    auto run = [&] {
        auto reply = talk();
        const std::lock_guard lock(output);
        if (!reply) {
            ++failures;
            cli::fail(reply.error().message());
        } else {  // like Python's `print s.recv(4096)`: the reply, then a newline if it lacks one
            cli::print_verbatim(reply->ends_with('\n') ? *reply : *reply + "\n");
        }
    };

    std::vector<std::thread> threads;  // `for i in xrange(4): threading.Thread(target=run).start()`
    for (int i = 0; i < options.clients; ++i) threads.emplace_back(run);
    for (std::thread& thread : threads) thread.join();  // wait for every client before exiting
    return failures == 0 ? 0 : 1;
}
