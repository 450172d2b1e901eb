// echo_clients_async - the tutorial's four client threads as four coroutines on one thread.
//
// Each client connects, sends the message, shuts down its sending side and reads the echo until the
// server closes, exactly as in echo_clients_threaded; here they all take turns on one Loop, which
// resumes whichever client's socket is ready. Replies are printed in the order they complete.
#include "cli.hpp"

#include <netlite/coro.hpp>

#include <chrono>
#include <string>

using namespace netlite;
using namespace std::chrono_literals;

constexpr const char* usage =
    "usage: echo_clients_async [--host H] [--port P] [--clients N] [--message M]\n"
    "Runs N echo clients at once as coroutines on one thread and prints each reply\n"
    "(default localhost 8088, N=4).\n";

namespace {

// One client: the tutorial's run(). Returns the echo, or the reason it failed. (The host name is
// resolved before the loop starts waiting: resolution blocks.)
Task<Result<std::string>> talk(const cli::Options& options) {
    auto stream = co_await async_connect(options.host, options.port, 30s);
    if (!stream) co_return fail(static_cast<const Error&>(stream.error()));
    auto sent =
        co_await async_write_all(*stream, ConstBuffer(options.message.data(), options.message.size()), 30s);
    if (!sent) co_return fail(static_cast<const Error&>(sent.error()));
    if (auto done = stream->shutdown(Shutdown::write); !done) co_return fail(done.error());
    std::string reply;
    auto got = co_await async_read_to_end(*stream, reply, 30s);
    if (!got) co_return fail(static_cast<const Error&>(got.error()));
    co_return reply;
}

// Runs one client and prints its reply (one print per reply: the loop runs one coroutine at a time).
Task<void> run(const cli::Options& options, int& failures) {
    auto reply = co_await talk(options);
    if (!reply) {
        ++failures;
        cli::fail(reply.error().message());
    } else {  // like Python's `print s.recv(4096)`: the reply, then a newline if it lacks one
        cli::print_verbatim(reply->ends_with('\n') ? *reply : *reply + "\n");
    }
}

Task<void> run_all(Loop& loop, const cli::Options& options, int& failures) {
    Scope clients(loop);
    for (int i = 0; i < options.clients; ++i) clients.spawn(run(options, failures));
    co_await clients.join();  // wait for every client before exiting
}

}  // namespace

int main(int argc, char** argv) {
    const cli::Options options = cli::parse(
        argc, argv, cli::host | cli::port | cli::clients | cli::message,
        {.host = "localhost", .port = 8088, .message = "GET / HTTP/1.1\r\n\r\n", .clients = 4}, usage);
    auto loop = Loop::open();
    if (!loop) return cli::fail(loop.error().message());
    int failures = 0;
    loop->run(run_all(*loop, options, failures));
    return failures == 0 ? 0 : 1;
}
