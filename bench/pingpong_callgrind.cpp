// pingpong_callgrind MODE TRIPS: a fixed 1-byte TCP ping-pong (TCP_NODELAY, two threads) for
// `valgrind --tool=callgrind --collect-atstart=no --toggle-collect=measured_*`, so only the two loops are
// counted. MODE is netlite, raw or asio. The instruction count is deterministic: the regression figure.
#include "workloads.hpp"

#include <string_view>

namespace {

[[gnu::noinline]] void measured_raw_client(int fd, std::size_t trips) {
    char b = 'x';
    for (std::size_t i = 0; i < trips; ++i) {
        bench::raw::send_all(fd, &b, 1);
        bench::raw::recv_all(fd, &b, 1);
    }
}
[[gnu::noinline]] void measured_raw_server(int fd, std::size_t trips) {
    char b = 0;
    for (std::size_t i = 0; i < trips; ++i) {
        bench::raw::recv_all(fd, &b, 1);
        bench::raw::send_all(fd, &b, 1);
    }
}
[[gnu::noinline]] void measured_netlite_client(bench::nl::Stream& s, std::size_t trips) {
    char b = 'x';
    const netlite::MutableBuffer buffer(&b, 1);
    for (std::size_t i = 0; i < trips; ++i) {
        bench::check(s.write_all(buffer), "write");
        bench::check(s.read_exact(buffer), "read");
    }
}
[[gnu::noinline]] void measured_netlite_server(bench::nl::Stream& s, std::size_t trips) {
    char b = 0;
    const netlite::MutableBuffer buffer(&b, 1);
    for (std::size_t i = 0; i < trips; ++i) {
        bench::check(s.read_exact(buffer), "read");
        bench::check(s.write_all(buffer), "write");
    }
}
#if NETLITE_BENCH_HAVE_ASIO
[[gnu::noinline]] void measured_asio_client(asio::ip::tcp::socket& s, std::size_t trips) {
    char b = 'x';
    for (std::size_t i = 0; i < trips; ++i) {
        asio::write(s, asio::buffer(&b, 1));
        asio::read(s, asio::buffer(&b, 1));
    }
}
[[gnu::noinline]] void measured_asio_server(asio::ip::tcp::socket& s, std::size_t trips) {
    char b = 0;
    for (std::size_t i = 0; i < trips; ++i) {
        asio::read(s, asio::buffer(&b, 1));
        asio::write(s, asio::buffer(&b, 1));
    }
}
#endif

}  // namespace

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fputs("usage: pingpong_callgrind netlite|raw|asio TRIPS\n", stderr);
        return 2;
    }
    const std::string_view mode = argv[1];
    const std::size_t trips = std::strtoull(argv[2], nullptr, 10);
    if (mode == "raw") {
        auto [c, s] = bench::raw::pair(true);
        std::thread server([&, s = s] { measured_raw_server(s, trips); });
        measured_raw_client(c, trips);
        server.join();
    } else if (mode == "netlite") {
        auto [c, s] = bench::nl::pair(true);
        std::thread server([&] { measured_netlite_server(s, trips); });
        measured_netlite_client(c, trips);
        server.join();
#if NETLITE_BENCH_HAVE_ASIO
    } else if (mode == "asio") {
        bench::as::Pair p;
        bench::as::connect_pair(p, true);
        std::thread server([&] { measured_asio_server(p.server, trips); });
        measured_asio_client(p.client, trips);
        server.join();
#endif
    } else {
        return 2;
    }
    return 0;
}
