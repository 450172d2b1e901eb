// create_sockets - the tutorial's first step, `s = socket.socket(family, type)`, for every family and type.
//
// A socket is named by two things: its address family (IPv4, IPv6, or Unix = a path on this machine) and
// its type (stream = TCP-like byte stream, datagram = UDP-like messages). In netlite both are part of the
// socket's C++ type, Socket<Family, Type>, so a mix-up (an IPv6 address on an IPv4 socket) does not compile.
#include "cli.hpp"

#include <netlite/socket.hpp>

#include <cstdio>

using namespace netlite;

constexpr const char* usage =
    "usage: create_sockets\n"
    "Opens a socket of every family (ipv4, ipv6, unix) and type (stream, datagram); prints one line each.\n";

// Opens one Socket<F, T> and reports how it went. The socket closes itself when `socket` goes out of scope.
template <Family F, SocketType T>
void try_open(const char* family, const char* type) {
    auto socket = Socket<F, T>::open();
    if (socket)
        std::printf("%s %s: ok\n", family, type);
    else  // e.g. a machine whose kernel has IPv6 switched off
        std::printf("%s %s: unavailable: %s\n", family, type, socket.error().message().c_str());
}

int main(int argc, char** argv) {
    cli::parse(argc, argv, 0, {}, usage);  // no options, but --help and mistakes work as everywhere

    try_open<IPv4, Stream>("ipv4", "stream");      // AF_INET,  SOCK_STREAM: TCP
    try_open<IPv4, Datagram>("ipv4", "datagram");  // AF_INET,  SOCK_DGRAM:  UDP
    try_open<IPv6, Stream>("ipv6", "stream");      // AF_INET6, SOCK_STREAM
    try_open<IPv6, Datagram>("ipv6", "datagram");  // AF_INET6, SOCK_DGRAM
    try_open<Unix, Stream>("unix", "stream");      // AF_UNIX,  SOCK_STREAM: processes on this machine
    try_open<Unix, Datagram>("unix", "datagram");  // AF_UNIX,  SOCK_DGRAM
    return 0;
}
