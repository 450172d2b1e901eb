// Echo client, raw POSIX version (binary-size comparison): connect to HOST PORT, send MESSAGE, half-close,
// print everything the server sends back. Same logic as echo_client_netlite.cpp.
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char** argv) {
    if (argc != 4) {
        std::fputs("usage: echo_client_raw HOST PORT MESSAGE\n", stderr);
        return 2;
    }
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* list = nullptr;
    if (const int rc = ::getaddrinfo(argv[1], argv[2], &hints, &list); rc != 0) {
        std::fprintf(stderr, "resolve: %s\n", ::gai_strerror(rc));
        return 1;
    }
    int fd = -1;
    int error = 0;
    for (addrinfo* a = list; a != nullptr && fd < 0; a = a->ai_next) {
        fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0) {
            error = errno;
            continue;
        }
        if (::connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
            error = errno;
            ::close(fd);
            fd = -1;
        }
    }
    ::freeaddrinfo(list);
    if (fd < 0) {
        std::fprintf(stderr, "connect: %s\n", std::strerror(error));
        return 1;
    }
    const std::string message(argv[3]);
    for (std::size_t done = 0; done < message.size();) {
        const ssize_t n = ::send(fd, message.data() + done, message.size() - done, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) continue;
            std::fprintf(stderr, "send: %s\n", std::strerror(errno));
            return 1;
        }
        done += static_cast<std::size_t>(n);
    }
    ::shutdown(fd, SHUT_WR);
    std::string reply;
    char buffer[16384];
    for (;;) {
        const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            std::fwrite(reply.data(), 1, reply.size(), stdout);
            std::fprintf(stderr, "recv: %s\n", std::strerror(errno));
            return 1;
        }
        if (n == 0) break;
        reply.append(buffer, static_cast<std::size_t>(n));
    }
    std::fwrite(reply.data(), 1, reply.size(), stdout);
    ::close(fd);
    return 0;
}
