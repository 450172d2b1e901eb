// bench/workloads.hpp - every runtime workload written three times: with netlite, with raw POSIX calls
// (the floor a wrapper can reach) and with Asio's synchronous API. The three versions of a workload do the
// same thing in the same order; only the socket API differs.
#pragma once

#include "harness.hpp"

#include <netlite/netlite.hpp>

#if NETLITE_BENCH_HAVE_ASIO
#include <asio.hpp>
#endif

#include <array>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>
#include <thread>
#include <utility>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

namespace bench {

[[noreturn]] inline void die(const char* what, int code = errno) {
    std::fprintf(stderr, "netlite_bench: %s: %s\n", what, std::strerror(code));
    std::exit(2);
}
template <class E>
[[noreturn, gnu::cold, gnu::noinline]] void check_failed(const char* what, const E& error) {
    std::fprintf(stderr, "netlite_bench: %s: %s\n", what, error.message().c_str());
    std::exit(2);
}
/// Exits on a failed result; inline, like the raw loops' `if (n < 0) die(...)`, so it costs a test.
template <class R>
[[gnu::always_inline]] inline decltype(auto) check(R&& result, const char* what) {
    if (!result) [[unlikely]]
        check_failed(what, result.error());
    return std::forward<R>(result);
}

/// Pins the calling thread to `cpu` (-1: leave it alone).
inline void pin(int cpu) {
    if (cpu < 0) return;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

constexpr std::size_t chunk_size = 64 * 1024;
constexpr int udp_rcvbuf = 4 * 1024 * 1024;

// ---------------------------------------------------------------------------------------------------------
// Connection setup (not timed).

namespace raw {
inline sockaddr_in loopback(std::uint16_t port = 0) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    return a;
}
inline int listener(sockaddr_in& where) {
    const int l = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const int one = 1;
    ::setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    where = loopback();
    if (::bind(l, reinterpret_cast<sockaddr*>(&where), sizeof where) != 0) die("bind");
    if (::listen(l, SOMAXCONN) != 0) die("listen");
    socklen_t size = sizeof where;
    ::getsockname(l, reinterpret_cast<sockaddr*>(&where), &size);
    return l;
}
/// [client, server], TCP_NODELAY on both when asked.
inline std::pair<int, int> pair(bool nodelay) {
    sockaddr_in where{};
    const int l = listener(where);
    const int c = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (::connect(c, reinterpret_cast<sockaddr*>(&where), sizeof where) != 0) die("connect");
    const int s = ::accept4(l, nullptr, nullptr, SOCK_CLOEXEC);
    if (s < 0) die("accept");
    ::close(l);
    const int one = 1;
    if (nodelay) {
        ::setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        ::setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    return {c, s};
}
inline void send_all(int fd, const void* data, std::size_t size) {
    const char* p = static_cast<const char*>(data);
    while (size > 0) {
        const ssize_t n = ::send(fd, p, size, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) continue;
            die("send");
        }
        p += n;
        size -= static_cast<std::size_t>(n);
    }
}
inline void recv_all(int fd, void* data, std::size_t size) {
    char* p = static_cast<char*>(data);
    while (size > 0) {
        const ssize_t n = ::recv(fd, p, size, 0);
        if (n <= 0) {
            if (n < 0 && errno == EINTR) continue;
            die("recv", n == 0 ? EPIPE : errno);
        }
        p += n;
        size -= static_cast<std::size_t>(n);
    }
}
}  // namespace raw

namespace nl {
using Stream = netlite::TcpStream<netlite::IPv4>;
inline std::pair<Stream, Stream> pair(bool nodelay) {
    auto listener = check(
        netlite::TcpListener<netlite::IPv4>::bind(netlite::Address<netlite::IPv4>::loopback(0)), "bind");
    auto where = check(listener->local_address(), "getsockname");
    auto client = check(Stream::connect(*where), "connect");
    auto accepted = check(listener->accept(), "accept");
    Stream server = std::move(accepted->stream);
    if (nodelay) {
        check(client->set_nodelay(true), "nodelay");
        check(server.set_nodelay(true), "nodelay");
    }
    return {std::move(*client), std::move(server)};
}
}  // namespace nl

#if NETLITE_BENCH_HAVE_ASIO
namespace as {
using asio::ip::tcp;
using asio::ip::udp;
struct Pair {
    asio::io_context ctx;
    tcp::socket client{ctx};
    tcp::socket server{ctx};
};
inline void connect_pair(Pair& p, bool nodelay) {
    tcp::acceptor acceptor(p.ctx, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
    p.client.connect(acceptor.local_endpoint());
    acceptor.accept(p.server);
    if (nodelay) {
        p.client.set_option(tcp::no_delay(true));
        p.server.set_option(tcp::no_delay(true));
    }
}
}  // namespace as
#endif

// ---------------------------------------------------------------------------------------------------------
// Bulk TCP: `total` bytes in 64 KiB writes and reads. value = GB/s, aux = CPU seconds per GB.

template <class Writer, class Reader>
Sample bulk_measure(std::size_t total, Writer&& writer, Reader&& reader) {
    const double cpu0 = process_cpu_seconds();
    const auto t0 = Clock::now();
    std::thread w(std::forward<Writer>(writer));
    reader();
    w.join();
    const double wall = seconds_since(t0);
    const double cpu = process_cpu_seconds() - cpu0;
    const double gb = static_cast<double>(total) / 1e9;
    return {gb / wall, cpu / gb};
}

inline Sample bulk_raw(std::size_t total) {
    auto [c, s] = raw::pair(false);
    std::vector<char> out(chunk_size, 'b'), in(chunk_size);
    Sample r = bulk_measure(
        total,
        [&, c = c] {
            for (std::size_t sent = 0; sent < total; sent += chunk_size)
                raw::send_all(c, out.data(), std::min(chunk_size, total - sent));
        },
        [&, s = s] {
            for (std::size_t got = 0; got < total;) {
                const ssize_t n = ::recv(s, in.data(), in.size(), 0);
                if (n <= 0) {
                    if (n < 0 && errno == EINTR) continue;
                    die("recv");
                }
                got += static_cast<std::size_t>(n);
            }
        });
    ::close(c);
    ::close(s);
    return r;
}

inline Sample bulk_netlite(std::size_t total) {
    auto [c, s] = nl::pair(false);
    std::vector<char> out(chunk_size, 'b'), in(chunk_size);
    return bulk_measure(
        total,
        [&] {
            for (std::size_t sent = 0; sent < total; sent += chunk_size)
                check(c.write_all(netlite::ConstBuffer(out.data(), std::min(chunk_size, total - sent))),
                      "write");
        },
        [&] {
            for (std::size_t got = 0; got < total;) {
                auto n = s.read(in);
                if (!n || *n == 0) die("read", n ? EPIPE : n.error().value());
                got += *n;
            }
        });
}

#if NETLITE_BENCH_HAVE_ASIO
inline Sample bulk_asio(std::size_t total) {
    as::Pair p;
    as::connect_pair(p, false);
    std::vector<char> out(chunk_size, 'b'), in(chunk_size);
    return bulk_measure(
        total,
        [&] {
            for (std::size_t sent = 0; sent < total; sent += chunk_size)
                asio::write(p.client, asio::buffer(out.data(), std::min(chunk_size, total - sent)));
        },
        [&] {
            for (std::size_t got = 0; got < total;) got += p.server.read_some(asio::buffer(in));
        });
}
#endif

// ---------------------------------------------------------------------------------------------------------
// Ping-pong: `trips` round trips of `size` bytes, TCP_NODELAY; client and server threads pinned as asked.
// value = round trips per second (timed in the client thread).

template <class Client, class Server>
Sample pingpong_measure(std::size_t trips, int client_cpu, int server_cpu, Client&& client, Server&& server) {
    double elapsed = 0;
    std::thread srv([&] {
        pin(server_cpu);
        server();
    });
    std::thread cli([&] {
        pin(client_cpu);
        const auto t0 = Clock::now();
        client();
        elapsed = seconds_since(t0);
    });
    cli.join();
    srv.join();
    return {static_cast<double>(trips) / elapsed, 0};
}

inline Sample pingpong_raw(std::size_t trips, std::size_t size, int ccpu, int scpu) {
    auto [c, s] = raw::pair(true);
    std::array<char, 64> a{}, b{};
    Sample r = pingpong_measure(
        trips, ccpu, scpu,
        [&, c = c] {
            for (std::size_t i = 0; i < trips; ++i) {
                raw::send_all(c, a.data(), size);
                raw::recv_all(c, a.data(), size);
            }
        },
        [&, s = s] {
            for (std::size_t i = 0; i < trips; ++i) {
                raw::recv_all(s, b.data(), size);
                raw::send_all(s, b.data(), size);
            }
        });
    ::close(c);
    ::close(s);
    return r;
}

inline Sample pingpong_netlite(std::size_t trips, std::size_t size, int ccpu, int scpu) {
    auto [c, s] = nl::pair(true);
    std::array<char, 64> a{}, b{};
    return pingpong_measure(
        trips, ccpu, scpu,
        [&] {
            const netlite::MutableBuffer buffer(a.data(), size);
            for (std::size_t i = 0; i < trips; ++i) {
                check(c.write_all(buffer), "write");
                check(c.read_exact(buffer), "read");
            }
        },
        [&] {
            const netlite::MutableBuffer buffer(b.data(), size);
            for (std::size_t i = 0; i < trips; ++i) {
                check(s.read_exact(buffer), "read");
                check(s.write_all(buffer), "write");
            }
        });
}

#if NETLITE_BENCH_HAVE_ASIO
inline Sample pingpong_asio(std::size_t trips, std::size_t size, int ccpu, int scpu) {
    as::Pair p;
    as::connect_pair(p, true);
    std::array<char, 64> a{}, b{};
    return pingpong_measure(
        trips, ccpu, scpu,
        [&] {
            for (std::size_t i = 0; i < trips; ++i) {
                asio::write(p.client, asio::buffer(a.data(), size));
                asio::read(p.client, asio::buffer(a.data(), size));
            }
        },
        [&] {
            for (std::size_t i = 0; i < trips; ++i) {
                asio::read(p.server, asio::buffer(b.data(), size));
                asio::write(p.server, asio::buffer(b.data(), size));
            }
        });
}
#endif

// ---------------------------------------------------------------------------------------------------------
// UDP: `count` datagrams of 64 B from one socket to another. The receiver counts 64-byte datagrams until a
// 1-byte "stop" datagram arrives; the controller sends stops (from its own raw socket, the same for every
// version) once the sender is done. value = delivered datagrams/s (first send to last delivery), aux = loss
// %.

constexpr std::size_t udp_payload = 64;
constexpr std::size_t udp_batch = 32;

struct UdpRun {
    std::atomic<bool> receiver_done{false};
    std::size_t received = 0;
    Clock::time_point first_send{}, last_receive{};
};

template <class Sender, class Receiver>
Sample udp_measure(std::size_t count, std::uint16_t port, Sender&& sender, Receiver&& receiver) {
    UdpRun run;
    std::thread rcv([&] { receiver(run); });
    std::thread snd([&] {
        run.first_send = Clock::now();
        sender();
    });
    snd.join();
    const int stopper = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    const sockaddr_in to = raw::loopback(port);
    const char stop = 's';
    const auto give_up = Clock::now() + std::chrono::seconds(10);
    while (!run.receiver_done.load() && Clock::now() < give_up) {
        ::sendto(stopper, &stop, 1, 0, reinterpret_cast<const sockaddr*>(&to), sizeof to);
        std::this_thread::sleep_for(std::chrono::milliseconds(2));  // a drain window, not synchronisation
    }
    ::close(stopper);
    rcv.join();
    const double wall = std::chrono::duration<double>(run.last_receive - run.first_send).count();
    const double delivered = static_cast<double>(run.received);
    return {wall > 0 ? delivered / wall : 0, 100.0 * (static_cast<double>(count) - delivered) / count};
}

inline int raw_udp_receiver(std::uint16_t& port) {
    const int r = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    ::setsockopt(r, SOL_SOCKET, SO_RCVBUF, &udp_rcvbuf, sizeof udp_rcvbuf);
    sockaddr_in where = raw::loopback();
    if (::bind(r, reinterpret_cast<sockaddr*>(&where), sizeof where) != 0) die("bind");
    socklen_t size = sizeof where;
    ::getsockname(r, reinterpret_cast<sockaddr*>(&where), &size);
    port = ntohs(where.sin_port);
    return r;
}

inline Sample udp_raw(std::size_t count) {
    std::uint16_t port = 0;
    const int r = raw_udp_receiver(port);
    const int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    const sockaddr_in to = raw::loopback(port);
    Sample result = udp_measure(
        count, port,
        [&] {
            std::array<char, udp_payload> d{};
            for (std::size_t i = 0; i < count; ++i)
                if (::sendto(s, d.data(), d.size(), MSG_NOSIGNAL, reinterpret_cast<const sockaddr*>(&to),
                             sizeof to) < 0)
                    die("sendto");
        },
        [&](UdpRun& run) {
            std::array<char, 2048> buffer;
            for (;;) {
                sockaddr_storage from;
                socklen_t size = sizeof from;
                const ssize_t n = ::recvfrom(r, buffer.data(), buffer.size(), MSG_TRUNC,
                                             reinterpret_cast<sockaddr*>(&from), &size);
                if (n < 0) die("recvfrom");
                if (n == 1) break;
                ++run.received;
                run.last_receive = Clock::now();
            }
            run.receiver_done = true;
        });
    ::close(r);
    ::close(s);
    return result;
}

inline Sample udp_raw_batch(std::size_t count) {
    std::uint16_t port = 0;
    const int r = raw_udp_receiver(port);
    const int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in to = raw::loopback(port);
    Sample result = udp_measure(
        count, port,
        [&] {
            std::array<char, udp_payload> d{};
            std::array<iovec, udp_batch> iov;
            std::array<mmsghdr, udp_batch> msgs{};
            for (std::size_t i = 0; i < udp_batch; ++i) {
                iov[i] = {d.data(), d.size()};
                msgs[i].msg_hdr.msg_iov = &iov[i];
                msgs[i].msg_hdr.msg_iovlen = 1;
                msgs[i].msg_hdr.msg_name = &to;
                msgs[i].msg_hdr.msg_namelen = sizeof to;
            }
            for (std::size_t sent = 0; sent < count;) {
                const int n = ::sendmmsg(
                    s, msgs.data(), static_cast<unsigned>(std::min(udp_batch, count - sent)), MSG_NOSIGNAL);
                if (n < 0) die("sendmmsg");
                sent += static_cast<std::size_t>(n);
            }
        },
        [&](UdpRun& run) {
            std::vector<std::array<char, 2048>> buffers(udp_batch);
            std::array<iovec, udp_batch> iov;
            std::array<sockaddr_storage, udp_batch> names;
            std::array<mmsghdr, udp_batch> msgs{};
            for (bool stop = false; !stop;) {
                for (std::size_t i = 0; i < udp_batch; ++i) {
                    iov[i] = {buffers[i].data(), buffers[i].size()};
                    msgs[i].msg_hdr = {};
                    msgs[i].msg_hdr.msg_iov = &iov[i];
                    msgs[i].msg_hdr.msg_iovlen = 1;
                    msgs[i].msg_hdr.msg_name = &names[i];
                    msgs[i].msg_hdr.msg_namelen = sizeof names[i];
                }
                const int n = ::recvmmsg(r, msgs.data(), udp_batch, MSG_WAITFORONE, nullptr);
                if (n < 0) die("recvmmsg");
                for (int i = 0; i < n; ++i) {
                    if (msgs[i].msg_len == 1) {
                        stop = true;
                        continue;
                    }
                    ++run.received;
                }
                run.last_receive = Clock::now();
            }
            run.receiver_done = true;
        });
    ::close(r);
    ::close(s);
    return result;
}

inline netlite::UdpSocket<netlite::IPv4> nl_udp_receiver(std::uint16_t& port) {
    auto r =
        check(netlite::UdpSocket<netlite::IPv4>::bind(netlite::Address<netlite::IPv4>::loopback(0)), "bind");
    check(r->set_recv_buffer_size(udp_rcvbuf), "SO_RCVBUF");
    port = check(r->local_address(), "getsockname")->port();
    return std::move(*r);
}

inline Sample udp_netlite(std::size_t count) {
    std::uint16_t port = 0;
    auto r = nl_udp_receiver(port);
    auto s = check(netlite::UdpSocket<netlite::IPv4>::open(), "socket");
    const auto to = netlite::Address<netlite::IPv4>::loopback(port);
    return udp_measure(
        count, port,
        [&] {
            std::array<char, udp_payload> d{};
            for (std::size_t i = 0; i < count; ++i) check(s->send_to(d, to), "send_to");
        },
        [&](UdpRun& run) {
            std::array<char, 2048> buffer;
            for (;;) {
                auto got = check(r.recv_from(buffer), "recv_from");
                if (got->size == 1) break;
                ++run.received;
                run.last_receive = Clock::now();
            }
            run.receiver_done = true;
        });
}

inline Sample udp_netlite_batch(std::size_t count) {
    using F = netlite::IPv4;
    std::uint16_t port = 0;
    auto r = nl_udp_receiver(port);
    auto s = check(netlite::UdpSocket<F>::open(), "socket");
    const auto to = netlite::Address<F>::loopback(port);
    return udp_measure(
        count, port,
        [&] {
            std::array<char, udp_payload> d{};
            std::array<netlite::DatagramOut<F>, udp_batch> out;
            out.fill({d, to});
            for (std::size_t sent = 0; sent < count;) {
                const std::size_t n = std::min(udp_batch, count - sent);
                sent += *check(s->send_batch(std::span<const netlite::DatagramOut<F>>(out.data(), n)),
                               "send_batch");
            }
        },
        [&](UdpRun& run) {
            std::vector<std::array<char, 2048>> buffers(udp_batch);
            std::array<netlite::DatagramIn<F>, udp_batch> slots;
            for (std::size_t i = 0; i < udp_batch; ++i) slots[i].buffer = buffers[i];
            for (bool stop = false; !stop;) {
                const std::size_t n = *check(r.recv_batch(slots), "recv_batch");
                for (std::size_t i = 0; i < n; ++i) {
                    if (slots[i].size == 1) {
                        stop = true;
                        continue;
                    }
                    ++run.received;
                }
                run.last_receive = Clock::now();
            }
            run.receiver_done = true;
        });
}

#if NETLITE_BENCH_HAVE_ASIO
inline Sample udp_asio(std::size_t count) {
    asio::io_context ctx;
    as::udp::socket r(ctx, as::udp::endpoint(asio::ip::address_v4::loopback(), 0));
    r.set_option(asio::socket_base::receive_buffer_size(udp_rcvbuf));
    const as::udp::endpoint to = r.local_endpoint();
    as::udp::socket s(ctx);
    s.open(as::udp::v4());
    return udp_measure(
        count, to.port(),
        [&] {
            std::array<char, udp_payload> d{};
            for (std::size_t i = 0; i < count; ++i) s.send_to(asio::buffer(d), to);
        },
        [&](UdpRun& run) {
            std::array<char, 2048> buffer;
            as::udp::endpoint from;
            for (;;) {
                if (r.receive_from(asio::buffer(buffer), from) == 1) break;
                ++run.received;
                run.last_receive = Clock::now();
            }
            run.receiver_done = true;
        });
}
#endif

// ---------------------------------------------------------------------------------------------------------
// Accept storm: `cycles` times connect, accept, close the accepted socket, close the client with SO_LINGER 0
// (a reset, so no TIME_WAIT piles up). One thread: the connect completes from the listen backlog.

inline Sample accept_raw(std::size_t cycles) {
    sockaddr_in where{};
    const int l = raw::listener(where);
    const linger reset{1, 0};
    const auto t0 = Clock::now();
    for (std::size_t i = 0; i < cycles; ++i) {
        const int c = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (c < 0) die("socket");
        if (::connect(c, reinterpret_cast<const sockaddr*>(&where), sizeof where) != 0) die("connect");
        sockaddr_storage peer;
        socklen_t size = sizeof peer;
        const int s = ::accept4(l, reinterpret_cast<sockaddr*>(&peer), &size, SOCK_CLOEXEC);
        if (s < 0) die("accept");
        ::close(s);
        ::setsockopt(c, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
        ::close(c);
    }
    const double wall = seconds_since(t0);
    ::close(l);
    return {static_cast<double>(cycles) / wall, 0};
}

inline Sample accept_netlite(std::size_t cycles) {
    using F = netlite::IPv4;
    auto l = check(netlite::TcpListener<F>::bind(netlite::Address<F>::loopback(0)), "bind");
    const auto where = *check(l->local_address(), "getsockname");
    const auto t0 = Clock::now();
    for (std::size_t i = 0; i < cycles; ++i) {
        auto c = check(netlite::TcpStream<F>::connect(where), "connect");
        { auto s = check(l->accept(), "accept"); }
        check(c->set_linger(std::chrono::seconds(0)), "SO_LINGER");
    }
    const double wall = seconds_since(t0);
    return {static_cast<double>(cycles) / wall, 0};
}

#if NETLITE_BENCH_HAVE_ASIO
inline Sample accept_asio(std::size_t cycles) {
    asio::io_context ctx;
    as::tcp::acceptor l(ctx, as::tcp::endpoint(asio::ip::address_v4::loopback(), 0));
    const auto where = l.local_endpoint();
    const auto t0 = Clock::now();
    for (std::size_t i = 0; i < cycles; ++i) {
        as::tcp::socket c(ctx);
        c.connect(where);
        {
            as::tcp::socket s(ctx);
            l.accept(s);
        }
        c.set_option(asio::socket_base::linger(true, 0));
    }
    const double wall = seconds_since(t0);
    return {static_cast<double>(cycles) / wall, 0};
}
#endif

// ---------------------------------------------------------------------------------------------------------
// Vectored I/O: `messages` messages of a 16-byte header and a 256-byte body over one TCP_NODELAY stream,
// written either with one gather write or with two writes; the reader drains in 64 KiB reads.
// value = messages/s.

constexpr std::size_t vec_header = 16, vec_body = 256;

template <class Writer>
Sample vectored_measure(std::size_t messages, int reader_fd, Writer&& writer) {
    const std::size_t total = messages * (vec_header + vec_body);
    const auto t0 = Clock::now();
    std::thread w(std::forward<Writer>(writer));
    std::vector<char> in(chunk_size);
    for (std::size_t got = 0; got < total;) {
        const ssize_t n = ::recv(reader_fd, in.data(), in.size(), 0);  // the reader is the same for all
        if (n <= 0) {
            if (n < 0 && errno == EINTR) continue;
            die("recv");
        }
        got += static_cast<std::size_t>(n);
    }
    w.join();
    return {static_cast<double>(messages) / seconds_since(t0), 0};
}

inline Sample vectored_raw(std::size_t messages, bool gather) {
    auto [c, s] = raw::pair(true);
    std::array<char, vec_header> header{};
    std::array<char, vec_body> body{};
    Sample r = vectored_measure(messages, s, [&, c = c] {
        for (std::size_t i = 0; i < messages; ++i) {
            if (gather) {
                iovec v[2] = {{header.data(), header.size()}, {body.data(), body.size()}};
                msghdr m{};
                m.msg_iov = v;
                m.msg_iovlen = 2;
                const ssize_t n = ::sendmsg(c, &m, MSG_NOSIGNAL);
                if (n < 0) die("sendmsg");
                const auto sent = static_cast<std::size_t>(n);
                if (sent < header.size() + body.size()) {  // rare: finish the message
                    if (sent < header.size()) raw::send_all(c, header.data() + sent, header.size() - sent);
                    const std::size_t body_sent = sent > header.size() ? sent - header.size() : 0;
                    raw::send_all(c, body.data() + body_sent, body.size() - body_sent);
                }
            } else {
                raw::send_all(c, header.data(), header.size());
                raw::send_all(c, body.data(), body.size());
            }
        }
    });
    ::close(c);
    ::close(s);
    return r;
}

inline Sample vectored_netlite(std::size_t messages, bool gather) {
    auto [c, s] = nl::pair(true);
    std::array<char, vec_header> header{};
    std::array<char, vec_body> body{};
    return vectored_measure(messages, s.native_handle(), [&] {
        for (std::size_t i = 0; i < messages; ++i) {
            if (gather) {
                const std::size_t sent = *check(c.write_vectored({header, body}), "write_vectored");
                if (sent < header.size() + body.size()) {
                    if (sent < header.size())
                        check(c.write_all(netlite::ConstBuffer(header).advanced(sent)), "write");
                    check(c.write_all(netlite::ConstBuffer(body).advanced(
                              sent > header.size() ? sent - header.size() : 0)),
                          "write");
                }
            } else {
                check(c.write_all(header), "write");
                check(c.write_all(body), "write");
            }
        }
    });
}

#if NETLITE_BENCH_HAVE_ASIO
inline Sample vectored_asio(std::size_t messages, bool gather) {
    as::Pair p;
    as::connect_pair(p, true);
    std::array<char, vec_header> header{};
    std::array<char, vec_body> body{};
    return vectored_measure(messages, p.server.native_handle(), [&] {
        for (std::size_t i = 0; i < messages; ++i) {
            if (gather) {
                const std::array<asio::const_buffer, 2> both{asio::buffer(header), asio::buffer(body)};
                asio::write(p.client, both);
            } else {
                asio::write(p.client, asio::buffer(header));
                asio::write(p.client, asio::buffer(body));
            }
        }
    });
}
#endif

}  // namespace bench
