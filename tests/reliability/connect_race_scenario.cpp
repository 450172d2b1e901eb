// connect_race_scenario - the blocking Happy Eyeballs race (TcpStream::connect_any) to one loopback
// listener, for connect_race.py to run under `strace -e inject=fcntl:error=E:when=N`, N being the fcntl
// that switches the winner back to blocking mode.
//
// usage: connect_race_scenario
// Prints one line: "connected" when the race handed back a blocking stream, or
// "error <code> attempts <count> <code of each attempt...>" when it failed; exits 0 either way, 4 when a
// descriptor was left open, 1 on a failure of its own set-up (and 2 for a non-blocking winner).
#include "fault_support.hpp"

#include <netlite/netlite.hpp>

#include <chrono>
#include <cstddef>
#include <cstdio>

using namespace netlite;
using namespace std::chrono_literals;

namespace {

int race(const Address<IPv4>& address) {
    const Address<IPv4> addresses[] = {address};
    auto stream = TcpStream<IPv4>::connect_any(addresses, Until(5s));
    if (stream) {
        auto nonblocking = stream->nonblocking();
        if (!nonblocking || *nonblocking) {
            std::printf("the winner is not blocking\n");
            return 2;
        }
        std::printf("connected\n");
        return 0;
    }
    std::printf("error %d attempts %zu", stream.error().value(), stream.error().attempts().size());
    for (const ConnectAttempt<IPv4>& attempt : stream.error().attempts())
        std::printf(" %d", attempt.error.value());
    std::printf("\n");
    return 0;
}

}  // namespace

int main() {
    auto listener = TcpListener<IPv4>::bind(Address<IPv4>::loopback(0));
    if (!listener) return 1;
    auto where = listener->local_address();
    if (!where) return 1;
    const int before = fault::open_descriptors();
    const int outcome = race(*where);
    if (fault::open_descriptors() != before) {
        std::printf("a descriptor was left open\n");
        return 4;
    }
    return outcome;
}
