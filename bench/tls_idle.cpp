// tls_idle - the server's memory per idle TLS connection and its CPU per echoed message (issue 19). This
// process is the server; a forked child is the client, so the figures are the server's alone. The child
// first opens `warm` connections and ends them (the server's one-time allocations, OpenSSL's included,
// land before the baseline), then `connections` connections that complete the handshake and stay idle.
// The server reads its VmRSS (/proc/self/status) once the warm-up connections have ended and again once
// every idle connection has finished its handshake and parked its read, and prints the growth per
// connection. With `rounds` > 0 the idle connections then echo: the client writes a 64-byte message on
// every connection, then reads every reply, `rounds` times (up to `connections` messages in flight), and
// the server reports its CPU time (getrusage: user + system; it has one thread) per echoed message,
// counted from the client's start to the last reply written.
// Servers, chosen by the first argument, each on one thread:
//   netlite          the coroutine TLS server on one Loop: async_tls_accept, AsyncTlsStream::attach, then
//                    async_read and async_write_all through a 256-byte buffer in each connection's task
//                    (tls_echo_server_async's shape with a small buffer)
//   netlite-release  the same with TlsOptions::release_buffers (SSL_MODE_RELEASE_BUFFERS)
//   tcp              the same coroutine server without TLS: the floor (task frame, registration)
//   asio             an io_context on one thread: async_accept, asio::ssl::stream async_handshake, then
//                    async_read_some into a 256-byte buffer and asio::async_write (the stream in a
//                    shared_ptr, as Asio's examples keep it). Asio's engine sets SSL_MODE_RELEASE_BUFFERS
//                    on every SSL itself (engine.ipp) and keeps its own 17 KiB input and output buffers
//                    beside a BIO pair.
// TLS 1.3, ECDSA P-256, the contexts' defaults otherwise. Linux only (/proc, fork).
// Usage: tls_idle MODE [connections] [warm] [rounds]   (defaults 1000 20 0); prints one line.
#include <netlite/coro.hpp>
#include <netlite/coro/tls.hpp>
#include <netlite/limits.hpp>
#include <netlite/netlite.hpp>
#include <netlite/tls.hpp>

#include "tls_pki.hpp"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#if NETLITE_BENCH_HAVE_ASIO
#include <asio.hpp>
#include <asio/ssl.hpp>
#endif

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace {

using namespace std::chrono_literals;
using namespace bench;  // make_pki, Pem, and the netlite names both TLS benchmarks use

[[noreturn]] void die(const std::string& why) {
    std::fprintf(stderr, "tls_idle: %s\n", why.c_str());
    std::exit(1);
}

/// This process's resident set in KiB (VmRSS in /proc/self/status).
long rss_kib() {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line))
        if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
    die("no VmRSS in /proc/self/status");
}

enum class Mode { netlite, netlite_release, tcp, asio };

/// This process's CPU time so far (user + system), in microseconds.
long long cpu_us() {
    rusage usage{};
    ::getrusage(RUSAGE_SELF, &usage);
    auto us = [](const timeval& t) { return static_cast<long long>(t.tv_sec) * 1000000 + t.tv_usec; };
    return us(usage.ru_utime) + us(usage.ru_stime);
}

constexpr std::size_t message_size = 64;

/// What the server measured.
struct Figures {
    long before = 0, after = 0;            // VmRSS, KiB
    long long cpu_start = 0, cpu_end = 0;  // the echo phase's CPU time, microseconds
};

// --- the client (the forked child) ---------------------------------------------------------------------

/// Opens `warm` connections and ends them, waits for the server's 'g', opens `count` idle connections,
/// waits for 'q', closes them all. Exit status 0, or 1 after saying why.
[[noreturn]] void client(Mode mode, const Pem& pki, netlite::Address<V4> server, int count, int warm,
                         int rounds, int from_server) {
    auto context = TlsContext::client(pki.client_options());
    if (!context) die(context.error().message());
    std::vector<TcpStream<V4>> plain;
    std::vector<TlsStream<V4>> secure;
    auto open = [&](bool keep) {
        auto tcp = TcpStream<V4>::connect(server, 10s);
        if (!tcp) die("connect: " + tcp.error().message());
        if (mode == Mode::tcp) {
            if (keep) plain.push_back(std::move(*tcp));
            return;
        }
        auto tls = TlsStream<V4>::client(*context, std::move(*tcp), "localhost", 10s);
        if (!tls) die(tls.error().message());
        if (keep) {
            secure.push_back(std::move(*tls));
            return;
        }
        (void)tls->shutdown(10s);
    };
    for (int i = 0; i < warm; ++i) open(false);
    char signal = 0;
    if (::read(from_server, &signal, 1) != 1 || signal != 'g') ::_exit(1);  // the server gave up
    for (int i = 0; i < count; ++i) open(true);
    if (::read(from_server, &signal, 1) == 1 && signal == 'e') {
        char out[message_size], in[message_size];
        for (int round = 0; round < rounds; ++round) {
            std::memset(out, 'a' + round % 26, sizeof out);
            auto ok = [](const auto& done) {
                if (!done) die("echo: " + done.error().message());
            };
            for (auto& c : plain) ok(c.write_all(netlite::ConstBuffer(out, sizeof out)));
            for (auto& c : secure) ok(c.write_all(netlite::ConstBuffer(out, sizeof out), 10s));
            auto check = [&](const auto& done) {
                ok(done);
                if (std::memcmp(in, out, sizeof in) != 0) die("echo: wrong bytes");
            };
            for (auto& c : plain) check(c.read_exact(netlite::MutableBuffer(in, sizeof in)));
            for (auto& c : secure) check(c.read_exact(netlite::MutableBuffer(in, sizeof in), 10s));
        }
        (void)::read(from_server, &signal, 1);  // 'q', or the server's end
    }
    plain.clear();
    secure.clear();
    ::_exit(0);
}

// --- the netlite servers -------------------------------------------------------------------------------

struct Progress {
    int ready = 0;              // connections whose handshake is done and whose read is parked
    int finished = 0;           // connection tasks that ended
    std::size_t echoed = 0;     // bytes written back
    std::size_t echo_goal = 0;  // all of the client's messages
    int to_client = -1;
    Figures* figures = nullptr;

    /// Counts `bytes` written back; the last of them ends the echo phase (no polling in the measurement).
    void echo(std::size_t bytes) {
        echoed += bytes;
        if (echoed != echo_goal) return;
        figures->cpu_end = cpu_us();
        if (::write(to_client, "q", 1) != 1) die("pipe");
    }
};

/// One connection: the handshake, then an echo loop (its read parked while idle) until the client goes.
netlite::Task<void> tls_connection(TlsContext context, TcpStream<V4> tcp, Progress& progress) {
    auto tls = co_await netlite::async_tls_accept(context, std::move(tcp), 10s);
    if (tls) {
        auto stream = netlite::AsyncTlsStream<V4>::attach(co_await netlite::current_loop(), std::move(*tls));
        if (stream) {
            char buffer[256];
            ++progress.ready;
            for (;;) {
                auto got =
                    co_await netlite::async_read(*stream, netlite::MutableBuffer(buffer, sizeof buffer));
                if (!got || *got == 0) break;
                if (!co_await netlite::async_write_all(*stream, netlite::ConstBuffer(buffer, *got))) break;
                progress.echo(*got);
            }
        }
    }
    ++progress.finished;
}

netlite::Task<void> tcp_connection(TcpStream<V4> tcp, Progress& progress) {
    auto stream = netlite::AsyncStream<V4>::attach(co_await netlite::current_loop(), std::move(tcp));
    if (stream) {
        char buffer[256];
        ++progress.ready;
        for (;;) {
            auto got = co_await netlite::async_read(*stream, netlite::MutableBuffer(buffer, sizeof buffer));
            if (!got || *got == 0) break;
            if (!co_await netlite::async_write_all(*stream, netlite::ConstBuffer(buffer, *got))) break;
            progress.echo(*got);
        }
    }
    ++progress.finished;
}

netlite::Task<void> accept_all(Mode mode, const TlsContext& context, TcpListener<V4>& listener,
                               netlite::Scope& connections, Progress& progress) {
    for (;;) {
        auto accepted = co_await netlite::async_accept(listener);
        if (!accepted) co_return;  // cancelled at the end
        if (mode == Mode::tcp)
            connections.spawn(tcp_connection(std::move(accepted->stream), progress));
        else
            connections.spawn(tls_connection(context, std::move(accepted->stream), progress));
    }
}

/// Waits (polling every 10 ms, at most 120 s) until `done()`; false on timeout.
template <class Done>
netlite::Task<bool> wait_until(Done done) {
    for (int i = 0; i < 12000 && !done(); ++i) (void)co_await netlite::async_sleep(10ms);
    co_return done();
}

netlite::Task<Figures> netlite_server(netlite::Loop& loop, Mode mode, const TlsContext& context,
                                      TcpListener<V4>& listener, int count, int warm, int rounds,
                                      int to_client) {
    netlite::Scope acceptor(loop), connections(loop);
    Figures figures;
    Progress progress;
    progress.echo_goal = static_cast<std::size_t>(count) * static_cast<std::size_t>(rounds) * message_size;
    progress.to_client = to_client;
    progress.figures = &figures;
    acceptor.spawn(accept_all(mode, context, listener, connections, progress));
    if (!co_await wait_until([&] { return progress.finished == warm; })) die("the warm-up did not end");
    figures.before = rss_kib();
    if (::write(to_client, "g", 1) != 1) die("pipe");
    if (!co_await wait_until([&] { return progress.ready == warm + count; })) die("handshakes missing");
    figures.after = rss_kib();  // every task is parked in its read: this loop is the only thread
    figures.cpu_start = cpu_us();
    if (::write(to_client, rounds > 0 ? "e" : "q", 1) != 1) die("pipe");  // the last echo writes 'q'
    if (!co_await wait_until([&] { return progress.finished == warm + count; })) die("connections stayed");
    acceptor.cancel();
    co_await acceptor.join();
    co_return figures;
}

#if NETLITE_BENCH_HAVE_ASIO
// --- the Asio server -----------------------------------------------------------------------------------

using AsioTcp = asio::ip::tcp;

struct AsioServer {
    asio::io_context io;
    AsioTcp::acceptor acceptor{io};
    asio::ssl::context context{asio::ssl::context::tls_server};
    int count = 0, warm = 0, rounds = 0, to_client = -1;
    Progress progress;
    Figures figures;
    bool measured = false;

    struct Connection {
        explicit Connection(AsioTcp::socket socket, asio::ssl::context& context)
            : tls(std::move(socket), context) {}
        asio::ssl::stream<AsioTcp::socket> tls;
        char buffer[256];
    };

    void accept_next() {
        acceptor.async_accept([this](asio::error_code error, AsioTcp::socket socket) {
            if (error) return;  // closed at the end
            auto connection = std::make_shared<Connection>(std::move(socket), context);
            connection->tls.async_handshake(asio::ssl::stream_base::server,
                                            [this, connection](asio::error_code failed) {
                                                if (failed) return finished();
                                                ++progress.ready;
                                                read(connection);
                                                // measured after this read is parked too
                                                asio::post(io, [this] { check(); });
                                            });
            accept_next();
        });
    }
    void read(const std::shared_ptr<Connection>& connection) {
        connection->tls.async_read_some(
            asio::buffer(connection->buffer), [this, connection](asio::error_code error, std::size_t got) {
                if (error) return finished();
                asio::async_write(connection->tls, asio::buffer(connection->buffer, got),
                                  [this, connection](asio::error_code failed, std::size_t sent) {
                                      if (failed) return finished();
                                      progress.echo(sent);
                                      read(connection);
                                  });
            });
    }
    void finished() {
        ++progress.finished;
        check();
    }
    void check() {
        if (progress.finished == warm && figures.before == 0) {
            figures.before = rss_kib();
            if (::write(to_client, "g", 1) != 1) die("pipe");
        }
        if (progress.ready == warm + count && !measured) {
            measured = true;
            figures.after = rss_kib();
            figures.cpu_start = cpu_us();
            if (::write(to_client, rounds > 0 ? "e" : "q", 1) != 1) die("pipe");
        }
        if (progress.finished == warm + count) acceptor.close();
    }
};

Figures asio_server(const Pem& pki, TcpListener<V4>& listener, int count, int warm, int rounds,
                    int to_client) {
    AsioServer server;
    server.context.set_options(asio::ssl::context::no_sslv2 | asio::ssl::context::no_sslv3 |
                               asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1 |
                               asio::ssl::context::no_compression);
    server.context.use_certificate_chain(asio::buffer(pki.cert));
    server.context.use_private_key(asio::buffer(pki.key), asio::ssl::context::pem);
    server.count = count;
    server.warm = warm;
    server.rounds = rounds;
    server.to_client = to_client;
    server.progress.echo_goal =
        static_cast<std::size_t>(count) * static_cast<std::size_t>(rounds) * message_size;
    server.progress.to_client = to_client;
    server.progress.figures = &server.figures;
    // Asio takes over netlite's listening socket (the port the child already knows).
    server.acceptor.assign(AsioTcp::v4(), listener.release());
    server.accept_next();
    server.io.run();
    return server.figures;
}
#endif

}  // namespace

int main(int argc, char** argv) {
    ::signal(SIGPIPE, SIG_IGN);
    const std::string_view name = argc > 1 ? argv[1] : "";
    Mode mode;
    if (name == "netlite")
        mode = Mode::netlite;
    else if (name == "netlite-release")
        mode = Mode::netlite_release;
    else if (name == "tcp")
        mode = Mode::tcp;
    else if (name == "asio" && NETLITE_BENCH_HAVE_ASIO)
        mode = Mode::asio;
    else
        die("usage: tls_idle netlite|netlite-release|tcp|asio [connections] [warm]");
    const int count = argc > 2 ? std::atoi(argv[2]) : 1000;
    const int warm = argc > 3 ? std::atoi(argv[3]) : 20;
    const int rounds = argc > 4 ? std::atoi(argv[4]) : 0;
    auto limit = netlite::raise_descriptor_limit();  // inherited by the child
    if (!limit || limit->soft < static_cast<std::uint64_t>(count) + 64)
        die("descriptor limit below " + std::to_string(count + 64));

    const Pem pki = make_pki();
    auto listener = TcpListener<V4>::bind("127.0.0.1", 0);
    if (!listener) die(listener.error().message());
    const auto where = listener->local_address().value();
    int pipe_fds[2];
    if (::pipe(pipe_fds) != 0) die("pipe");
    std::fflush(stdout);
    const pid_t child = ::fork();  // before any thread and before the server's context
    if (child < 0) die("fork");
    if (child == 0) {
        ::close(pipe_fds[1]);
        (void)listener->close();
        client(mode, pki, where, count, warm, rounds, pipe_fds[0]);
    }
    ::close(pipe_fds[0]);

    Figures figures;
    if (mode == Mode::asio) {
#if NETLITE_BENCH_HAVE_ASIO
        figures = asio_server(pki, *listener, count, warm, rounds, pipe_fds[1]);
#endif
    } else {
        TlsOptions options = pki.server_options();
        options.release_buffers = mode == Mode::netlite_release;
        auto context = TlsContext::server(options);
        if (!context) die(context.error().message());
        if (!listener->set_nonblocking(true)) die("set_nonblocking");
        auto loop = netlite::Loop::open();
        if (!loop) die(loop.error().message());
        figures =
            loop->run(netlite_server(*loop, mode, *context, *listener, count, warm, rounds, pipe_fds[1]));
    }
    ::close(pipe_fds[1]);
    int status = 0;
    if (::waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        die("the client failed");
    const double per = static_cast<double>(figures.after - figures.before) * 1024.0 / count;
    std::printf("%-16s %d idle connections: server VmRSS %ld -> %ld KiB, %.0f bytes per connection",
                name.data(), count, figures.before, figures.after, per);
    if (rounds > 0) {
        const double messages = static_cast<double>(count) * rounds;
        std::printf("; %.0f x %zu-byte echoes: server CPU %.2f us per message", messages, message_size,
                    static_cast<double>(figures.cpu_end - figures.cpu_start) / messages);
    }
    std::printf("\n");
    return 0;
}
