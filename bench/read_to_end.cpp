// SPDX-License-Identifier: BSL-1.0
// read_to_end [MIB...]: TcpStream::read_to_end of a long stream that arrives in pieces (a thread writes
// MIB MiB in 64 KiB writes into a Unix stream pair; default 32 64 128 256). Prints milliseconds per run;
// time that grows linearly with MIB is the point (the growth rule of detail/read_to_end.hpp: before it,
// 2x the bytes cost about 3x the time, 24 s for 256 MiB).
#include <netlite/netlite.hpp>
#include <netlite/unix.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

namespace {

double read_to_end_ms(std::size_t mib) {
    auto pair = netlite::UnixStream::pair();
    if (!pair) return -1;
    auto& [reader, writer] = *pair;
    std::thread sender([&writer, mib] {
        const std::vector<char> chunk(std::size_t{64} * 1024, 'x');
        for (std::size_t i = 0; i < mib * 16; ++i)
            if (!writer.write_all(netlite::ConstBuffer(chunk.data(), chunk.size()))) break;
        (void)writer.shutdown(netlite::Shutdown::write);
    });
    const auto began = std::chrono::steady_clock::now();
    std::string out;
    auto got = reader.read_to_end(out);
    const auto took = std::chrono::steady_clock::now() - began;
    sender.join();
    if (!got || out.size() != mib * 1024 * 1024) return -1;
    return std::chrono::duration<double, std::milli>(took).count();
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::size_t> sizes;
    for (int i = 1; i < argc; ++i) sizes.push_back(std::strtoul(argv[i], nullptr, 10));
    if (sizes.empty()) sizes = {32, 64, 128, 256};
    for (std::size_t mib : sizes) {
        const double ms = read_to_end_ms(mib);
        if (ms < 0) {
            std::fprintf(stderr, "read_to_end: %zu MiB: the transfer failed\n", mib);
            return 1;
        }
        std::printf("read_to_end %4zu MiB: %8.1f ms\n", mib, ms);
    }
}
