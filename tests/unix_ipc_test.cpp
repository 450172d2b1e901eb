// Tests for Unix-domain IPC (issue 21, item 3; include/netlite/unix.hpp): descriptor passing
// (SCM_RIGHTS) with data, close-on-exec on what arrives, MSG_CTRUNC reported with nothing leaked, peer
// credentials, and SOCK_SEQPACKET sockets. Python's socket (send_fds, recv_fds, SOCK_SEQPACKET) is the
// peer where it is installed: a child process that gets one end of a socketpair as descriptor 3.
// POSIX only; temporary Unix paths only.
#include "catch.hpp"
#include "test_support.hpp"

#include <netlite/tcp.hpp>
#include <netlite/testing.hpp>
#include <netlite/udp.hpp>
#include <netlite/unix.hpp>

#include <array>
#include <cstdlib>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

using netlite::OwnedDescriptor;
using netlite::UdpSocket;
using netlite::UnixSeqPacket;
using netlite::UnixSeqPacketListener;
using netlite::UnixStream;

/// A pipe whose two ends close with it.
struct Pipe {
    OwnedDescriptor read_end;
    OwnedDescriptor write_end;
    static Pipe open() {
        int fds[2] = {-1, -1};
        REQUIRE(::pipe(fds) == 0);
        return Pipe{OwnedDescriptor(fds[0]), OwnedDescriptor(fds[1])};
    }
};

std::string read_some(int fd) {
    char buffer[256];
    const ssize_t got = ::read(fd, buffer, sizeof buffer);
    REQUIRE(got >= 0);
    return std::string(buffer, static_cast<std::size_t>(got));
}

bool close_on_exec(int fd) {
    const int flags = ::fcntl(fd, F_GETFD);
    return flags >= 0 && (flags & FD_CLOEXEC) != 0;
}

TEST_CASE("send_with_descriptors / recv_with_descriptors: a pipe travels with the data", "[unix][fds]") {
    auto pair = UnixStream::pair();
    REQUIRE_OK(pair);
    Pipe pipe = Pipe::open();
    const int before = open_fd_count();
    const int sent_fds[] = {pipe.read_end.get()};
    CHECK(netlite::send_with_descriptors(pair->first, std::string_view("here"), sent_fds) ==
          netlite::Result<std::size_t>(4));

    char buffer[16];
    auto got = netlite::recv_with_descriptors(pair->second, buffer);
    REQUIRE_OK(got);
    CHECK(std::string(buffer, got->size) == "here");
    REQUIRE(got->descriptors.size() == 1);
    CHECK_FALSE(got->descriptors_truncated);
    const int received = got->descriptors[0].get();
    CHECK(received != pipe.read_end.get());  // a new descriptor for the same pipe
    CHECK(close_on_exec(received));
    REQUIRE(::write(pipe.write_end.get(), "through", 7) == 7);
    CHECK(read_some(received) == "through");
    got->descriptors.clear();
    CHECK(open_fd_count() == before);
}

TEST_CASE("recv_with_descriptors: more descriptors than room is reported and leaks nothing", "[unix][fds]") {
    auto pair = UnixStream::pair();
    REQUIRE_OK(pair);
    std::vector<Pipe> pipes;
    std::vector<int> fds;
    for (int i = 0; i < 5; ++i) {
        pipes.push_back(Pipe::open());
        fds.push_back(pipes.back().read_end.get());
    }
    const int before = open_fd_count();
    REQUIRE_OK(netlite::send_with_descriptors(pair->first, std::string_view("five"), fds));
    char buffer[16];
    {
        auto got = netlite::recv_with_descriptors(pair->second, buffer, 2);
        REQUIRE_OK(got);
        CHECK(got->descriptors_truncated);
        CHECK(got->descriptors.size() <= 2);
    }
    CHECK(open_fd_count() == before);  // the ones kept are closed with the result; the kernel closed the rest

    SECTION("room for none: all are closed") {
        REQUIRE_OK(netlite::send_with_descriptors(pair->first, std::string_view("x"), fds));
        auto got = netlite::recv_with_descriptors(pair->second, buffer, 0);
        REQUIRE_OK(got);
        CHECK(got->descriptors.empty());
        CHECK(got->descriptors_truncated);
        CHECK(open_fd_count() == before);
    }
}

TEST_CASE("send_with_descriptors refuses what cannot work", "[unix][fds]") {
    auto pair = UnixStream::pair();
    REQUIRE_OK(pair);
    Pipe pipe = Pipe::open();
    const int one[] = {pipe.read_end.get()};
    CHECK_FAILS_WITH(netlite::send_with_descriptors(pair->first, std::string_view(""), one),
                     std::errc::invalid_argument);  // a stream needs a byte to carry them
    std::vector<int> too_many(netlite::detail::sys::max_descriptors_per_message + 1, pipe.read_end.get());
    CHECK_FAILS_WITH(netlite::send_with_descriptors(pair->first, std::string_view("x"), too_many),
                     std::errc::invalid_argument);
    const int closed[] = {-1};
    CHECK_FAILS_WITH(netlite::send_with_descriptors(pair->first, std::string_view("x"), closed),
                     std::errc::bad_file_descriptor);
    std::vector<int> most(netlite::detail::sys::max_descriptors_per_message, pipe.read_end.get());
    const int before = open_fd_count();
    REQUIRE_OK(netlite::send_with_descriptors(pair->first, std::string_view("x"), most));
    char buffer[4];
    {
        auto got = netlite::recv_with_descriptors(pair->second, buffer, most.size() + 100);
        REQUIRE_OK(got);
        CHECK(got->descriptors.size() == most.size());
        CHECK_FALSE(got->descriptors_truncated);
    }
    CHECK(open_fd_count() == before);
    UnixStream empty;
    CHECK_FAILS_WITH(netlite::recv_with_descriptors(empty, buffer), std::errc::bad_file_descriptor);
}

TEST_CASE("descriptors over a Unix datagram pair, and a cut datagram", "[unix][fds]") {
    auto pair = UdpSocket<netlite::Unix>::pair();
    REQUIRE_OK(pair);
    Pipe pipe = Pipe::open();
    const int one[] = {pipe.write_end.get()};
    REQUIRE_OK(netlite::send_with_descriptors(pair->first, std::string_view("datagram!"), one));
    char small[4];
    auto got = netlite::recv_with_descriptors(pair->second, small);
    REQUIRE_OK(got);
    CHECK(got->truncated);
    CHECK(got->size == 4);
    REQUIRE(got->descriptors.size() == 1);
    REQUIRE(::write(got->descriptors[0].get(), "w", 1) == 1);
    CHECK(read_some(pipe.read_end.get()) == "w");
}

TEST_CASE("peer_credentials: this process on both ends of a pair", "[unix][credentials]") {
    auto pair = UnixStream::pair();
    REQUIRE_OK(pair);
    auto credentials = netlite::peer_credentials(pair->first);
    REQUIRE_OK(credentials);
    CHECK(credentials->uid == ::geteuid());
    CHECK(credentials->gid == ::getegid());
#if defined(__linux__) && !defined(NETLITE_PORTABLE_POSIX)
    REQUIRE(credentials->pid.has_value());
    CHECK(*credentials->pid == ::getpid());
#endif
    if (credentials->pid) CHECK(*credentials->pid == ::getpid());
    UnixStream empty;
    CHECK_FAILS_WITH(netlite::peer_credentials(empty), std::errc::bad_file_descriptor);
}

TEST_CASE("UnixSeqPacket: message boundaries over a connection", "[unix][seqpacket]") {
    auto path = netlite::testing::TempPath::create();
    REQUIRE_OK(path);
    auto listener = UnixSeqPacketListener::bind(path->path());
    if (!listener && listener.error() == std::errc::protocol_not_supported)
        NETLITE_SKIP("this system has no Unix SOCK_SEQPACKET");
    REQUIRE_OK(listener);
    auto client = UnixSeqPacket::connect(path->path());
    REQUIRE_OK(client);
    auto server = listener->accept();
    REQUIRE_OK(server);

    CHECK(client->send(std::string_view("one")) == netlite::Result<std::size_t>(3));
    CHECK(client->send(std::string_view("")) == netlite::Result<std::size_t>(0));
    CHECK(client->send(std::string_view("three33")) == netlite::Result<std::size_t>(7));
    char buffer[16];
    auto first = server->recv(buffer);
    REQUIRE_OK(first);
    CHECK(std::string(buffer, first->size) == "one");  // not "onethree33": the boundary is kept
    auto empty = server->recv(buffer);
    REQUIRE_OK(empty);
    CHECK(empty->size == 0);
    char small[5];
    auto cut = server->recv(small);
    REQUIRE_OK(cut);
    CHECK(cut->truncated);
    CHECK(std::string(small, cut->size) == "three");
    auto credentials = netlite::peer_credentials(*server);
    REQUIRE_OK(credentials);
    CHECK(credentials->uid == ::geteuid());

    client->close().value();
    auto end = server->recv(buffer);
    REQUIRE_OK(end);
    CHECK(end->size == 0);
    CHECK_FALSE(end->truncated);
    CHECK_FAILS_WITH(server->send(std::string_view("gone")), std::errc::broken_pipe);  // and no SIGPIPE
}

// --- Python's socket as the peer -------------------------------------------------------------------------

/// Runs `python3 -c script` with `peer` as its descriptor 3; returns its exit status (-1: not run).
int run_python(const std::string& script, int peer) {
    const pid_t child = ::fork();
    if (child == 0) {
        if (::dup2(peer, 3) < 0) ::_exit(126);
        ::execlp("python3", "python3", "-c", script.c_str(), static_cast<char*>(nullptr));
        ::_exit(127);
    }
    if (child < 0) return -1;
    int status = 0;
    if (::waitpid(child, &status, 0) != child) return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/// Skips unless python3 with socket.send_fds (3.9+) can be run.
/// Whether python3 with socket.send_fds (3.9+) runs here; asked once.
bool python_has_send_fds() {
    static const bool has =
        run_python("import socket, sys; sys.exit(0 if hasattr(socket, 'send_fds') else 3)", 2) == 0;
    return has;
}

/// Runs `script` in python3 with `peer` open there as the socket `s` (`os` and `socket` imported), and
/// REQUIREs that it exits with 0: a failed script must not leave the test waiting for its reply.
void run_python_peer(const std::string& script, int peer) {
    REQUIRE(run_python("import os, socket\ns = socket.socket(fileno=3)\n" + script, peer) == 0);
}

#define SKIP_WITHOUT_PYTHON()                                                                             \
    do {                                                                                                  \
        if (!python_has_send_fds()) NETLITE_SKIP("python3 with socket.send_fds (3.9+) is not installed"); \
    } while (false)

TEST_CASE("Python's recv_fds gets the pipe netlite sends", "[unix][fds][python]") {
    SKIP_WITHOUT_PYTHON();
    auto pair = UnixStream::pair();
    REQUIRE_OK(pair);
    Pipe pipe = Pipe::open();
    REQUIRE(::write(pipe.write_end.get(), "in the pipe", 11) == 11);
    const int fds[] = {pipe.read_end.get()};
    REQUIRE_OK(netlite::send_with_descriptors(pair->first, std::string_view("take this"), fds));
    // Python reads the message and the pipe, and sends both back.
    run_python_peer(
        "data, fds, flags, addr = socket.recv_fds(s, 100, 4)\n"
        "assert len(fds) == 1, fds\n"
        "s.sendall(data + b'|' + os.read(fds[0], 100))\n",
        pair->second.native_handle());
    // read_exact: a stream may hand over the reply in pieces.
    std::array<char, 21> reply{};
    REQUIRE_OK(pair->first.read_exact(reply));
    CHECK(std::string(reply.data(), reply.size()) == "take this|in the pipe");
}

TEST_CASE("netlite's recv_with_descriptors gets what Python's send_fds sends", "[unix][fds][python]") {
    SKIP_WITHOUT_PYTHON();
    auto pair = UnixStream::pair();
    REQUIRE_OK(pair);
    const int before = open_fd_count();
    run_python_peer(
        "pipes = [os.pipe() for _ in range(4)]\n"
        "for i, (r, w) in enumerate(pipes): os.write(w, b'pipe %d' % i)\n"
        "socket.send_fds(s, [b'four pipes'], [r for r, w in pipes])\n"
        "socket.send_fds(s, [b'again'], [r for r, w in pipes])\n",
        pair->second.native_handle());
    char buffer[64];
    {
        auto got = netlite::recv_with_descriptors(pair->first, buffer, 8);
        REQUIRE_OK(got);
        CHECK(std::string(buffer, got->size) == "four pipes");
        REQUIRE(got->descriptors.size() == 4);
        for (std::size_t i = 0; i < 4; ++i) {
            CHECK(close_on_exec(got->descriptors[i].get()));
            CHECK(read_some(got->descriptors[i].get()) == "pipe " + std::to_string(i));
        }
    }
    {
        auto got = netlite::recv_with_descriptors(pair->first, buffer, 1);  // room for one of four
        REQUIRE_OK(got);
        CHECK(std::string(buffer, got->size) == "again");
        CHECK(got->descriptors_truncated);
    }
    CHECK(open_fd_count() == before);
}

TEST_CASE("peer_credentials name the Python process on the other end", "[unix][credentials][python]") {
    SKIP_WITHOUT_PYTHON();
    auto path = netlite::testing::TempPath::create();
    REQUIRE_OK(path);
    auto listener = netlite::UnixListener::bind(path->path());
    REQUIRE_OK(listener);
    // Python connects (so the credentials are its own, taken at connect), reports its pid, waits for EOF.
    auto pair = UnixStream::pair();  // the channel that hands Python the path
    REQUIRE_OK(pair);
    REQUIRE_OK(pair->first.write_all(path->path()));
    REQUIRE_OK(pair->first.shutdown(netlite::Shutdown::write));
    const pid_t child = ::fork();
    if (child == 0) {
        ::dup2(pair->second.native_handle(), 3);
        ::execlp("python3", "python3", "-c",
                 "import os, socket\n"
                 "path = socket.socket(fileno=3).recv(200).decode()\n"
                 "c = socket.socket(socket.AF_UNIX)\n"
                 "c.connect(path)\n"
                 "c.sendall(b'%d' % os.getpid())\n"
                 "c.shutdown(socket.SHUT_WR)\n"
                 "c.recv(1)\n",
                 static_cast<char*>(nullptr));
        ::_exit(127);
    }
    REQUIRE(child > 0);
    auto accepted = listener->accept(std::chrono::seconds(10));
    REQUIRE_OK(accepted);
    auto said = accepted->stream.read_to_end(std::chrono::seconds(10));
    REQUIRE_OK(said);
    auto credentials = netlite::peer_credentials(accepted->stream);
    accepted->stream.close().value();  // Python exits on this EOF
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    CHECK(WIFEXITED(status));
    REQUIRE_OK(credentials);
    CHECK(*said == std::to_string(child));
    CHECK(credentials->uid == ::geteuid());
    if (credentials->pid) CHECK(*credentials->pid == child);
}

TEST_CASE("Python's SOCK_SEQPACKET peer keeps netlite's message boundaries", "[unix][seqpacket][python]") {
    SKIP_WITHOUT_PYTHON();
    auto pair = UnixSeqPacket::pair();
    if (!pair && pair.error() == std::errc::protocol_not_supported)
        NETLITE_SKIP("this system has no Unix SOCK_SEQPACKET");
    REQUIRE_OK(pair);
    REQUIRE_OK(pair->first.send(std::string_view("alpha")));
    REQUIRE_OK(pair->first.send(std::string_view("be")));
    run_python_peer(
        "assert s.type == socket.SOCK_SEQPACKET, s.type\n"  // socket(fileno=) takes the descriptor's type
        "a, b = s.recv(100), s.recv(100)\n"
        "s.send(b'[' + a + b']')\n"
        "s.send(b'[' + b + b']')\n",
        pair->second.native_handle());
    char buffer[64];
    auto first = pair->first.recv(buffer);
    REQUIRE_OK(first);
    CHECK(std::string(buffer, first->size) == "[alpha]");
    auto second = pair->first.recv(buffer);
    REQUIRE_OK(second);
    CHECK(std::string(buffer, second->size) == "[be]");
}

}  // namespace
