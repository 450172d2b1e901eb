// bench/evented/evented_bench.cpp - echo servers under many concurrent connections (issue 7).
//
// Four servers, each in its own process, each measured the same way: `echo_server_evented` (netlite,
// one thread, Poller), `echo_server_threaded` (netlite, a thread per connection), a raw-epoll echo server
// (the floor, written here: `evented_bench --serve raw`) and an Asio asynchronous echo server (one
// io_context thread: `evented_bench --serve asio`). The load generator (this process, one epoll thread)
// opens C connections (64, 1,000, 10,000) on loopback; each does 64-byte request/response round trips,
// back to back. After a warm-up it measures for a fixed time: round trips per second, p50/p99 latency,
// the server's CPU time per round trip (utime+stime of all its threads, /proc/PID/stat) and its peak
// RSS (VmHWM). Repetitions rotate the server order; the table shows median [min-max] and per-repetition
// ratios against raw epoll and against Asio.
//
// Issue 14 adds the coroutine servers, run in-process like raw and asio: `--serve coro` (netlite/coro.hpp)
// and `--serve asio_coro` (Asio's C++20 awaitables), and their `coro60`/`asio_coro60` twins with a 60 s
// deadline on every operation (Asio's with the `||` timer); a second table gives their ratios. coro and
// coro60 wrap each connection in an AsyncStream (registered once); `coro60_plain` awaits the TcpStream
// itself (a one-shot registration re-armed at every wait), for comparison.
//
//   evented_bench [--examples DIR] [--reps N] [--seconds S] [--connections 64,1000,10000]
//                 [--servers raw,evented,coro,...] [--verbose]
#include "../harness.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <netlite/coro.hpp>

#if NETLITE_BENCH_HAVE_ASIO
#include <asio.hpp>
#if NETLITE_BENCH_HAVE_ASIO_CORO
#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#endif
#endif

#ifndef NETLITE_EXAMPLES_DIR
#define NETLITE_EXAMPLES_DIR "build/examples"
#endif

namespace {

constexpr std::size_t message_size = 64;

[[noreturn]] void die(const char* what) {
    std::fprintf(stderr, "evented_bench: %s: %s\n", what, std::strerror(errno));
    std::exit(1);
}

void raise_fd_limit() {
    rlimit limit{};
    getrlimit(RLIMIT_NOFILE, &limit);
    const rlim_t wanted = 65536;
    if (limit.rlim_cur < wanted) {
        rlimit raised{wanted, std::max(limit.rlim_max, wanted)};
        if (setrlimit(RLIMIT_NOFILE, &raised) != 0) {  // not root: as far as the hard limit allows
            raised = {limit.rlim_max, limit.rlim_max};
            setrlimit(RLIMIT_NOFILE, &raised);
        }
    }
}

// --- the raw-epoll echo server (the floor) ----------------------------------------------------------------

int listen_loopback() {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    const int on = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) die("bind");
    if (::listen(fd, SOMAXCONN) != 0) die("listen");
    socklen_t size = sizeof address;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size);
    std::printf("listening on 127.0.0.1:%d\n", ntohs(address.sin_port));
    std::fflush(stdout);
    return fd;
}

int serve_raw() {
    const int listener = listen_loopback();
    const int ep = ::epoll_create1(EPOLL_CLOEXEC);
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.fd = listener;
    ::epoll_ctl(ep, EPOLL_CTL_ADD, listener, &event);
    std::vector<std::string> pending;  // by descriptor: echo bytes not sent yet
    static char buffer[64 * 1024];
    std::array<epoll_event, 1024> events;
    for (;;) {
        const int ready = ::epoll_wait(ep, events.data(), static_cast<int>(events.size()), -1);
        if (ready < 0 && errno == EINTR) continue;
        if (ready < 0) die("epoll_wait");
        for (int i = 0; i < ready; ++i) {
            const int fd = events[i].data.fd;
            if (fd == listener) {
                for (;;) {
                    const int conn = ::accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
                    if (conn < 0) break;
                    if (static_cast<std::size_t>(conn) >= pending.size()) pending.resize(conn + 1024);
                    epoll_event add{};
                    add.events = EPOLLIN;
                    add.data.fd = conn;
                    ::epoll_ctl(ep, EPOLL_CTL_ADD, conn, &add);
                }
                continue;
            }
            std::string& out = pending[fd];
            bool broken = false;
            if (!out.empty()) {
                const ssize_t sent = ::send(fd, out.data(), out.size(), MSG_NOSIGNAL);
                if (sent > 0) out.erase(0, static_cast<std::size_t>(sent));
                if (sent < 0 && errno != EAGAIN) broken = true;
            }
            if (!broken && out.size() < 64 * 1024 && (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))) {
                const ssize_t got = ::recv(fd, buffer, sizeof buffer, 0);
                if (got == 0 || (got < 0 && errno != EAGAIN)) {
                    broken = true;
                } else if (got > 0) {
                    if (out.empty()) {
                        const ssize_t sent = ::send(fd, buffer, static_cast<std::size_t>(got), MSG_NOSIGNAL);
                        if (sent < 0 && errno != EAGAIN) broken = true;
                        const std::size_t done = sent > 0 ? static_cast<std::size_t>(sent) : 0;
                        if (done < static_cast<std::size_t>(got)) out.assign(buffer + done, got - done);
                    } else {
                        out.append(buffer, static_cast<std::size_t>(got));
                    }
                }
            }
            if (broken) {
                out.clear();
                ::close(fd);
                continue;
            }
            epoll_event change{};
            change.data.fd = fd;
            change.events = (out.size() < 64 * 1024 ? std::uint32_t{EPOLLIN} : 0u) |
                            (out.empty() ? 0u : std::uint32_t{EPOLLOUT});
            if (!out.empty() || (events[i].events & EPOLLOUT)) ::epoll_ctl(ep, EPOLL_CTL_MOD, fd, &change);
        }
    }
}

// --- the Asio asynchronous echo server (one io_context thread) ------------------------------------------

#if NETLITE_BENCH_HAVE_ASIO
class AsioSession : public std::enable_shared_from_this<AsioSession> {
public:
    explicit AsioSession(asio::ip::tcp::socket socket) : socket_(std::move(socket)) {}
    void start() { read(); }

private:
    void read() {
        auto self = shared_from_this();
        socket_.async_read_some(asio::buffer(data_), [this, self](std::error_code error, std::size_t size) {
            if (!error) write(size);
        });
    }
    void write(std::size_t size) {
        auto self = shared_from_this();
        asio::async_write(socket_, asio::buffer(data_, size),
                          [this, self](std::error_code error, std::size_t) {
                              if (!error) read();
                          });
    }
    asio::ip::tcp::socket socket_;
    std::array<char, 1024> data_;  // Asio's own echo example's buffer
};

void asio_accept(asio::ip::tcp::acceptor& acceptor) {
    acceptor.async_accept([&acceptor](std::error_code error, asio::ip::tcp::socket socket) {
        if (!error) std::make_shared<AsioSession>(std::move(socket))->start();
        asio_accept(acceptor);
    });
}

int serve_asio() {
    asio::io_context context(1);
    asio::ip::tcp::acceptor acceptor(context, asio::ip::tcp::endpoint(asio::ip::address_v4::loopback(), 0));
    std::printf("listening on 127.0.0.1:%d\n", acceptor.local_endpoint().port());
    std::fflush(stdout);
    asio_accept(acceptor);
    context.run();
    return 0;
}
#endif

// --- the netlite coroutine echo server (issue 14): one Loop, a coroutine per connection --------------------
// `timeout` > 0 puts a deadline of that many seconds on every read and write (and the accept).

// Stream: TcpStream (one-shot registration, an epoll_ctl per wait) or AsyncStream (registered once).
template <class Stream>
netlite::Task<void> coro_echo_on(Stream& stream, int timeout) {
    char data[1024];  // the frame holds the buffer: the same size as Asio's example's
    for (;;) {
        const netlite::Until until =
            timeout > 0 ? netlite::Until(std::chrono::seconds(timeout)) : netlite::Until();
        auto got = co_await netlite::async_read(stream, netlite::MutableBuffer(data, sizeof data), until);
        if (!got || *got == 0) co_return;
        if (!co_await netlite::async_write_all(stream, netlite::ConstBuffer(data, *got), until)) co_return;
    }
}

bool coro_plain = false;  // --serve coro60_plain: the TcpStream overloads (no AsyncStream)

netlite::Task<void> coro_echo(netlite::TcpStream<netlite::IPv4> connection, int timeout) {
    if (coro_plain) {
        co_await coro_echo_on(connection, timeout);
        co_return;
    }
    auto stream =
        netlite::AsyncStream<netlite::IPv4>::attach(co_await netlite::current_loop(), std::move(connection));
    if (stream) co_await coro_echo_on(*stream, timeout);
}

netlite::Task<void> coro_accept(netlite::Loop& loop, netlite::TcpListener<netlite::IPv4>& listener,
                                int timeout) {
    netlite::Scope connections(loop);
    for (;;) {
        const netlite::Until until =
            timeout > 0 ? netlite::Until(std::chrono::seconds(timeout)) : netlite::Until();
        auto accepted = co_await netlite::async_accept(listener, until);
        if (accepted) connections.spawn(coro_echo(std::move(accepted->stream), timeout));
    }
}

int serve_coro(int timeout) {
    auto loop = netlite::Loop::open();
    auto listener = netlite::TcpListener<netlite::IPv4>::bind(netlite::Address<netlite::IPv4>::loopback(0));
    if (!loop || !listener || !listener->set_nonblocking(true)) die("coro setup");
    std::printf("listening on 127.0.0.1:%d\n", listener->local_address()->port());
    std::fflush(stdout);
    loop->run(coro_accept(*loop, *listener, timeout));
    return 0;
}

// --- Asio's C++20 awaitable echo server (its own example's shape), with or without a timer per operation --

#if NETLITE_BENCH_HAVE_ASIO_CORO
// Errors as values, not exceptions (Asio 1.22: experimental::as_tuple).
constexpr auto as_tuple_awaitable = asio::experimental::as_tuple(asio::use_awaitable);

asio::awaitable<void> asio_coro_echo(asio::ip::tcp::socket socket, int timeout) {
    using namespace asio::experimental::awaitable_operators;
    char data[1024];
    asio::steady_timer timer(socket.get_executor());
    for (;;) {
        std::size_t got = 0;
        if (timeout > 0) {  // the `||` race: the operation against a timer, the loser cancelled
            timer.expires_after(std::chrono::seconds(timeout));
            auto outcome = co_await (socket.async_read_some(asio::buffer(data), as_tuple_awaitable) ||
                                     timer.async_wait(as_tuple_awaitable));
            if (outcome.index() != 0) co_return;
            auto [error, size] = std::get<0>(outcome);
            if (error) co_return;
            got = size;
            timer.expires_after(std::chrono::seconds(timeout));
            auto sent = co_await (asio::async_write(socket, asio::buffer(data, got), as_tuple_awaitable) ||
                                  timer.async_wait(as_tuple_awaitable));
            if (sent.index() != 0 || std::get<0>(std::get<0>(sent))) co_return;
        } else {
            auto [error, size] = co_await socket.async_read_some(asio::buffer(data), as_tuple_awaitable);
            if (error) co_return;
            auto [write_error, written] =
                co_await asio::async_write(socket, asio::buffer(data, size), as_tuple_awaitable);
            (void)written;
            if (write_error) co_return;
        }
    }
}

asio::awaitable<void> asio_coro_accept(asio::ip::tcp::acceptor& acceptor, int timeout) {
    for (;;) {
        auto [error, socket] = co_await acceptor.async_accept(as_tuple_awaitable);
        if (!error)
            asio::co_spawn(acceptor.get_executor(), asio_coro_echo(std::move(socket), timeout),
                           asio::detached);
    }
}

int serve_asio_coro(int timeout) {
    asio::io_context context(1);
    asio::ip::tcp::acceptor acceptor(context, asio::ip::tcp::endpoint(asio::ip::address_v4::loopback(), 0));
    std::printf("listening on 127.0.0.1:%d\n", acceptor.local_endpoint().port());
    std::fflush(stdout);
    asio::co_spawn(context, asio_coro_accept(acceptor, timeout), asio::detached);
    context.run();
    return 0;
}
#endif

// --- server processes --------------------------------------------------------------------------------------

struct ServerProcess {
    pid_t pid = -1;
    int port = 0;
    std::string log;
};

ServerProcess start_server(const std::vector<std::string>& argv) {
    ServerProcess server;
    char log[] = "/tmp/evented-bench-XXXXXX";
    const int log_fd = ::mkstemp(log);
    if (log_fd < 0) die("mkstemp");
    server.log = log;
    server.pid = ::fork();
    if (server.pid < 0) die("fork");
    if (server.pid == 0) {
        ::dup2(log_fd, 1);
        const int null = ::open("/dev/null", O_RDONLY);
        ::dup2(null, 0);
        std::vector<char*> args;
        for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
        args.push_back(nullptr);
        ::execv(args[0], args.data());
        std::_Exit(127);
    }
    ::close(log_fd);
    const auto deadline = bench::Clock::now() + std::chrono::seconds(10);
    while (bench::Clock::now() < deadline) {
        std::ifstream in(server.log);
        std::string line;
        if (std::getline(in, line) && line.rfind("listening on ", 0) == 0 && in.good()) {
            server.port = std::atoi(line.substr(line.rfind(':') + 1).c_str());
            return server;
        }
        int status;
        if (::waitpid(server.pid, &status, WNOHANG) == server.pid) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));  // polling a file the server writes
    }
    std::fprintf(stderr, "evented_bench: %s did not start\n", argv[0].c_str());
    std::exit(1);
}

void stop_server(ServerProcess& server) {
    ::kill(server.pid, SIGKILL);
    int status;
    ::waitpid(server.pid, &status, 0);
    ::unlink(server.log.c_str());
}

/// utime + stime of all the process's threads, in seconds (/proc/PID/stat, clock ticks).
double server_cpu_seconds(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::istringstream fields(text.substr(text.rfind(')') + 2));
    std::string field;
    unsigned long long utime = 0, stime = 0;
    for (int i = 3; i <= 15 && fields >> field; ++i) {
        if (i == 14) utime = std::stoull(field);
        if (i == 15) stime = std::stoull(field);
    }
    return static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

/// VmHWM (peak resident set) in MiB.
double server_peak_rss_mib(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind("VmHWM:", 0) == 0) return std::atof(line.c_str() + 6) / 1024.0;
    return NAN;
}

// --- the load generator ------------------------------------------------------------------------------------

struct RunResult {
    double round_trips_per_second = NAN, p50_us = NAN, p99_us = NAN, cpu_us_per_round_trip = NAN,
           rss_mib = NAN;
};

struct Client {
    int fd = -1;
    std::size_t got = 0;
    bench::Clock::time_point sent_at;
};

RunResult drive(const ServerProcess& server, int connections, double warmup_s, double measure_s) {
    RunResult result;
    const int ep = ::epoll_create1(EPOLL_CLOEXEC);
    std::vector<Client> clients(static_cast<std::size_t>(connections));
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(static_cast<std::uint16_t>(server.port));
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    // Connect everyone (non-blocking), 127.0.0.1 .. 127.0.0.4 as source addresses to spread the ports.
    for (int i = 0; i < connections; ++i) {
        Client& c = clients[static_cast<std::size_t>(i)];
        c.fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (c.fd < 0) die("socket");
        sockaddr_in from{};
        from.sin_family = AF_INET;
        from.sin_addr.s_addr = htonl(INADDR_LOOPBACK + static_cast<std::uint32_t>(i % 4));
        if (::bind(c.fd, reinterpret_cast<sockaddr*>(&from), sizeof from) != 0) die("bind source");
        if (::connect(c.fd, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0 && errno != EINPROGRESS)
            die("connect");
        epoll_event event{};
        event.events = EPOLLOUT;
        event.data.u64 = static_cast<std::uint64_t>(i);
        ::epoll_ctl(ep, EPOLL_CTL_ADD, c.fd, &event);
    }
    std::vector<epoll_event> events(1024);
    int connected = 0;
    const auto connect_deadline = bench::Clock::now() + std::chrono::seconds(30);
    while (connected < connections && bench::Clock::now() < connect_deadline) {
        const int ready = ::epoll_wait(ep, events.data(), static_cast<int>(events.size()), 100);
        for (int k = 0; k < ready; ++k) {
            Client& c = clients[events[k].data.u64];
            int error = 0;
            socklen_t size = sizeof error;
            ::getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &error, &size);
            if (error != 0) {
                std::fprintf(stderr, "evented_bench: connect: %s\n", std::strerror(error));
                for (Client& each : clients) ::close(each.fd);
                ::close(ep);
                return result;
            }
            epoll_event event{};
            event.events = EPOLLIN;
            event.data.u64 = events[k].data.u64;
            ::epoll_ctl(ep, EPOLL_CTL_MOD, c.fd, &event);
            ++connected;
        }
    }
    if (connected < connections) {
        std::fprintf(stderr, "evented_bench: only %d of %d connected\n", connected, connections);
        for (Client& each : clients) ::close(each.fd);
        ::close(ep);
        return result;
    }

    char request[message_size];
    std::memset(request, 'q', sizeof request);
    char reply[message_size];
    for (Client& c : clients) {
        c.sent_at = bench::Clock::now();
        if (::send(c.fd, request, sizeof request, MSG_NOSIGNAL) != static_cast<ssize_t>(sizeof request))
            die("send");
    }
    std::vector<float> latencies;
    latencies.reserve(1 << 20);
    const auto start = bench::Clock::now();
    const auto measure_from =
        start + std::chrono::duration_cast<bench::Clock::duration>(std::chrono::duration<double>(warmup_s));
    const auto measure_to = measure_from + std::chrono::duration_cast<bench::Clock::duration>(
                                               std::chrono::duration<double>(measure_s));
    bool measuring = false;
    double cpu_before = 0;
    std::uint64_t completed = 0;
    bool failed = false;
    for (;;) {
        auto now = bench::Clock::now();
        if (!measuring && now >= measure_from) {
            measuring = true;
            cpu_before = server_cpu_seconds(server.pid);
            completed = 0;
        }
        if (now >= measure_to) break;
        const int ready = ::epoll_wait(ep, events.data(), static_cast<int>(events.size()), 100);
        if (ready < 0 && errno != EINTR) die("epoll_wait");
        for (int k = 0; k < ready; ++k) {
            Client& c = clients[events[k].data.u64];
            const ssize_t got = ::recv(c.fd, reply, message_size - c.got, 0);
            if (got <= 0) {
                if (got < 0 && errno == EAGAIN) continue;
                failed = true;
                break;
            }
            c.got += static_cast<std::size_t>(got);
            if (c.got < message_size) continue;
            now = bench::Clock::now();
            if (measuring) {
                latencies.push_back(std::chrono::duration<float, std::micro>(now - c.sent_at).count());
                ++completed;
            }
            c.got = 0;
            c.sent_at = now;
            if (::send(c.fd, request, sizeof request, MSG_NOSIGNAL) != static_cast<ssize_t>(sizeof request)) {
                failed = true;
                break;
            }
        }
        if (failed) break;
    }
    const double cpu_after = server_cpu_seconds(server.pid);
    const double elapsed = std::chrono::duration<double>(bench::Clock::now() - measure_from).count();
    if (!failed && completed > 0) {
        result.round_trips_per_second = static_cast<double>(completed) / elapsed;
        result.cpu_us_per_round_trip = (cpu_after - cpu_before) * 1e6 / static_cast<double>(completed);
        auto at = [&](double q) {
            const std::size_t n = static_cast<std::size_t>(q * static_cast<double>(latencies.size() - 1));
            std::nth_element(latencies.begin(), latencies.begin() + static_cast<std::ptrdiff_t>(n),
                             latencies.end());
            return static_cast<double>(latencies[n]);
        };
        result.p50_us = at(0.50);
        result.p99_us = at(0.99);
    } else {
        std::fprintf(stderr, "evented_bench: the run failed (a connection broke)\n");
    }
    result.rss_mib = server_peak_rss_mib(server.pid);
    for (Client& c : clients) ::close(c.fd);
    ::close(ep);
    return result;
}

}  // namespace

int main(int argc, char** argv) {
    std::string examples = NETLITE_EXAMPLES_DIR;
    int reps = 3;
    double seconds = 1.0;
    bool verbose = false;
    std::vector<int> counts{64, 1000, 10000};
    std::vector<std::string> only;  // --servers: run only these (the table shows "-" for the others)
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--serve" && i + 1 < argc) {
            const std::string which = argv[++i];
            raise_fd_limit();
            if (which == "raw") return serve_raw();
            if (which == "coro") return serve_coro(0);
            if (which == "coro60") return serve_coro(60);
            if (which == "coro60_plain") return coro_plain = true, serve_coro(60);
#if NETLITE_BENCH_HAVE_ASIO_CORO
            if (which == "asio_coro") return serve_asio_coro(0);
            if (which == "asio_coro60") return serve_asio_coro(60);
#endif
#if NETLITE_BENCH_HAVE_ASIO
            if (which == "asio") return serve_asio();
#endif
            std::fprintf(stderr, "evented_bench: unknown server %s\n", which.c_str());
            return 2;
        }
        if (arg == "--examples" && i + 1 < argc) {
            examples = argv[++i];
        } else if (arg == "--reps" && i + 1 < argc) {
            reps = std::max(1, std::atoi(argv[++i]));
        } else if (arg == "--seconds" && i + 1 < argc) {
            seconds = std::atof(argv[++i]);
        } else if (arg == "--connections" && i + 1 < argc) {
            counts.clear();
            std::stringstream list(argv[++i]);
            for (std::string item; std::getline(list, item, ',');) counts.push_back(std::atoi(item.c_str()));
        } else if (arg == "--servers" && i + 1 < argc) {
            only.clear();
            std::stringstream list(argv[++i]);
            for (std::string item; std::getline(list, item, ',');) only.push_back(item);
        } else if (arg == "--verbose") {
            verbose = true;
        } else {
            std::fprintf(stderr,
                         "usage: evented_bench [--examples DIR] [--reps N] [--seconds S] "
                         "[--connections 64,1000,10000] [--servers LIST] [--verbose]\n");
            return 2;
        }
    }
    raise_fd_limit();  // inherited by the servers
    std::signal(SIGPIPE, SIG_IGN);
    char self[4096];
    const ssize_t self_size = ::readlink("/proc/self/exe", self, sizeof self - 1);
    if (self_size <= 0) die("readlink /proc/self/exe");
    self[self_size] = '\0';

    struct Server {
        std::string key;
        std::vector<std::string> argv;
    };
    std::vector<Server> servers {
        {"evented", {examples + "/echo_server_evented", "--host", "127.0.0.1", "--port", "0"}},
            {"raw", {self, "--serve", "raw"}},
#if NETLITE_BENCH_HAVE_ASIO
            {"asio", {self, "--serve", "asio"}},
#endif
            {"threaded", {examples + "/echo_server_threaded", "--host", "127.0.0.1", "--port", "0"}},
            {"coro", {self, "--serve", "coro"}}, {"coro60", {self, "--serve", "coro60"}},
            {"coro60_plain", {self, "--serve", "coro60_plain"}},
#if NETLITE_BENCH_HAVE_ASIO_CORO
            {"asio_coro", {self, "--serve", "asio_coro"}}, {"asio_coro60", {self, "--serve", "asio_coro60"}},
#endif
    };
    if (!only.empty())
        std::erase_if(servers, [&](const Server& s) {
            return std::find(only.begin(), only.end(), s.key) == only.end();
        });

    // results[count][server] = one RunResult per repetition
    std::map<int, std::map<std::string, std::vector<RunResult>>> results;
    const auto began = bench::Clock::now();
    for (int count : counts) {
        for (int rep = 0; rep < reps; ++rep) {
            for (std::size_t k = 0; k < servers.size(); ++k) {
                const Server& s = servers[(k + static_cast<std::size_t>(rep)) % servers.size()];
                ServerProcess process = start_server(s.argv);
                RunResult r = drive(process, count, 0.3, seconds);
                stop_server(process);
                results[count][s.key].push_back(r);
                if (verbose)
                    std::fprintf(stderr,
                                 "  %5d conns rep %d %-9s %9.0f rt/s p50 %7.1f us p99 %8.1f us cpu %6.2f "
                                 "us/rt rss %6.1f MiB\n",
                                 count, rep + 1, s.key.c_str(), r.round_trips_per_second, r.p50_us, r.p99_us,
                                 r.cpu_us_per_round_trip, r.rss_mib);
            }
        }
    }

    // The table: median [min-max] over the repetitions; ratios are per repetition, then summarised.
    using Field = double RunResult::*;
    struct Metric {
        const char* name;
        const char* unit;
        Field field;
        const char* target;
    };
    const Metric metrics[] = {
        {"round trips/s", "rt/s", &RunResult::round_trips_per_second, ">= 0.98x raw"},
        {"p50 latency", "us", &RunResult::p50_us, ""},
        {"p99 latency", "us", &RunResult::p99_us, "<= Asio"},
        {"server CPU per round trip", "us", &RunResult::cpu_us_per_round_trip, "<= 1.05x raw, <= 0.9x Asio"},
        {"server peak RSS", "MiB", &RunResult::rss_mib, "<= Asio"},
    };
    auto column = [&](int count, const std::string& key, Field field) {
        std::vector<double> out;
        for (const RunResult& r : results[count][key]) out.push_back(r.*field);
        return out;
    };
    // A table's rows, one per connection count and metric: the figure of each server in `figures`, the
    // ratio of each pair in `ratios` (per repetition, then summarised) and, `with_target`, the metric's
    // target.
    using Ratio = std::pair<const char*, const char*>;
    auto print_rows = [&](std::vector<const char*> figures, std::vector<Ratio> ratios, bool with_target) {
        for (int count : counts) {
            for (const Metric& m : metrics) {
                std::string row = "| " + std::to_string(count) + " | " + m.name + " | " + m.unit + " |";
                for (const char* key : figures)
                    row += " " + bench::format_figure(bench::stats(column(count, key, m.field)), reps) + " |";
                for (const auto& [a, b] : ratios) {
                    const auto ratio = bench::pairwise(column(count, a, m.field), column(count, b, m.field));
                    row += " " + bench::format_ratio(bench::stats(ratio), reps) + " |";
                }
                if (with_target) row += std::string(" ") + m.target + " |";
                std::printf("%s\n", row.c_str());
            }
        }
    };
    std::printf(
        "\nevented echo servers: %d repetitions of %.1f s (+0.3 s warm-up), 64-byte round trips, "
        "loopback, %u CPUs\n",
        reps, seconds, std::thread::hardware_concurrency());
    std::printf(
        "| conns | metric | unit | evented (netlite) | raw epoll | Asio | threaded (netlite) | evented/raw | "
        "evented/Asio | threaded/raw | target |\n");
    std::printf("|---|---|---|---|---|---|---|---|---|---|---|\n");
    print_rows({"evented", "raw", "asio", "threaded"},
               {{"evented", "raw"}, {"evented", "asio"}, {"threaded", "raw"}}, true);
    std::printf(
        "\ncoroutine echo servers (coro60/asio_coro60: a 60 s deadline on every operation; Asio's with its "
        "`||` timer):\n");
    std::printf(
        "| conns | metric | unit | coro | coro60 | Asio awaitable | Asio awaitable+timer | coro60/raw | "
        "coro60/evented | coro60/Asio awaitable | coro/Asio awaitable |\n");
    std::printf("|---|---|---|---|---|---|---|---|---|---|---|\n");
    print_rows({"coro", "coro60", "asio_coro", "asio_coro60"},
               {{"coro60", "raw"}, {"coro60", "evented"}, {"coro60", "asio_coro"}, {"coro", "asio_coro"}},
               false);
    std::printf(
        "\n(%.0f s in all. Server CPU is utime+stime of all server threads from /proc/PID/stat, in "
        "%ld Hz ticks; the load generator shares the CPUs.)\n",
        bench::seconds_since(began), ::sysconf(_SC_CLK_TCK));
    return 0;
}
