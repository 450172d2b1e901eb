// platform_test: the guarantees the POSIX paths give whichever way they are built — Linux's (accept4,
// MSG_NOSIGNAL, eventfd, epoll) and the portable ones macOS/BSD take, which NETLITE_PORTABLE_POSIX=1
// builds on Linux (accept + fcntl, a SIGPIPE-blocking send, pipe, poll(2)). Every socket netlite creates
// is close-on-exec; an accepted socket starts blocking even when its listener is not (BSD sockets
// inherit O_NONBLOCK); a write to a closed peer is an EPIPE error, never a SIGPIPE, and leaves the
// thread's signal mask as it was.
#include "test_support.hpp"

#include <netlite/poll.hpp>
#include <netlite/tcp.hpp>
#include <netlite/testing.hpp>
#include <netlite/udp.hpp>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <string>
#include <type_traits>

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

using namespace netlite;

namespace {

bool close_on_exec(int fd) {
    const int flags = ::fcntl(fd, F_GETFD);
    return flags >= 0 && (flags & FD_CLOEXEC) != 0;
}

std::atomic<int> sigpipes{0};
extern "C" void count_sigpipe(int) {
    sigpipes.fetch_add(1);
}

/// Installs a counting SIGPIPE handler (so a SIGPIPE shows as a count, not as a dead test run) and makes
/// sure SIGPIPE is not blocked in this thread, as in a program that never thought about it.
class SigpipeCounter {
public:
    SigpipeCounter() {
        struct sigaction action {};
        action.sa_handler = count_sigpipe;
        sigemptyset(&action.sa_mask);
        ::sigaction(SIGPIPE, &action, &old_action_);
        sigset_t pipe_only;
        sigemptyset(&pipe_only);
        sigaddset(&pipe_only, SIGPIPE);
        ::pthread_sigmask(SIG_UNBLOCK, &pipe_only, &old_mask_);
        sigpipes = 0;
    }
    ~SigpipeCounter() {
        ::pthread_sigmask(SIG_SETMASK, &old_mask_, nullptr);
        ::sigaction(SIGPIPE, &old_action_, nullptr);
    }

private:
    struct sigaction old_action_ {};
    sigset_t old_mask_{};
};

bool sigpipe_blocked() {
    sigset_t mask;
    ::pthread_sigmask(SIG_BLOCK, nullptr, &mask);
    return sigismember(&mask, SIGPIPE) == 1;
}

bool sigpipe_pending() {
    sigset_t pending;
    ::sigpending(&pending);
    return sigismember(&pending, SIGPIPE) == 1;
}

bool broken(const Error& error) {
    return error == std::errc::broken_pipe || error == std::errc::connection_reset;
}

/// Checks that a write to a closed peer failed, as a broken connection (not with some other error).
template <class R>
void check_broken(const R& sent) {
    REQUIRE_FALSE(sent);
    CHECK(broken(sent.error()));
}

}  // namespace

TEST_CASE("the build's Poller backend", "[platform]") {
#if defined(NETLITE_PORTABLE_POSIX)
    STATIC_REQUIRE(std::is_same_v<Poller, PollPoller>);  // macOS/BSD have no epoll; kqueue is future work
#endif
    auto poller = Poller::open();
    REQUIRE_OK(poller);
    std::array<Event, 4> events;
    poller->wake();  // the wake-up descriptor (eventfd, or a pipe in the portable build) works
    auto woken = poller->wait(events, std::chrono::seconds(5));
    REQUIRE_OK(woken);
    CHECK(*woken == 0);
}

TEST_CASE("every socket netlite creates is close-on-exec", "[platform]") {
    auto udp = UdpSocket<IPv4>::bind(testing::loopback<IPv4>());
    REQUIRE_OK(udp);
    CHECK(close_on_exec(udp->native_handle()));

    auto pair = UnixStream::pair();
    REQUIRE_OK(pair);
    CHECK(close_on_exec(pair->first.native_handle()));
    CHECK(close_on_exec(pair->second.native_handle()));

    auto listener = TcpListener<IPv4>::bind(testing::loopback<IPv4>());
    REQUIRE_OK(listener);
    CHECK(close_on_exec(listener->native_handle()));
    auto where = listener->local_address();
    REQUIRE_OK(where);
    auto client = TcpStream<IPv4>::connect(*where);
    REQUIRE_OK(client);
    CHECK(close_on_exec(client->native_handle()));
    auto accepted = listener->accept();
    REQUIRE_OK(accepted);
    CHECK(close_on_exec(accepted->stream.native_handle()));  // accept4(SOCK_CLOEXEC), or accept + fcntl

    auto clone = accepted->stream.try_clone();
    REQUIRE_OK(clone);
    CHECK(close_on_exec(clone->native_handle()));
}

TEST_CASE("an accepted stream is blocking even from a non-blocking listener", "[platform]") {
    auto listener = TcpListener<IPv4>::bind(testing::loopback<IPv4>());
    REQUIRE_OK(listener);
    REQUIRE_OK(listener->set_nonblocking(true));
    auto where = listener->local_address();
    REQUIRE_OK(where);
    auto client = TcpStream<IPv4>::connect(*where);
    REQUIRE_OK(client);
    auto accepted = listener->accept(std::chrono::seconds(5));
    REQUIRE_OK(accepted);
    CHECK(accepted->stream.nonblocking() == Result<bool>(false));  // BSD would inherit O_NONBLOCK
    CHECK(listener->nonblocking() == Result<bool>(true));
}

TEST_CASE("writing to a closed peer is an error, never SIGPIPE", "[platform]") {
    const SigpipeCounter counter;
    auto pair = UnixStream::pair();
    REQUIRE_OK(pair);
    REQUIRE_OK(pair->second.close());
    TcpStream<Unix>& stream = pair->first;
    const std::string data(1000, 'x');

    SECTION("write") {
        check_broken(stream.write(data));
    }
    SECTION("write_all") {
        check_broken(stream.write_all(data));
    }
    SECTION("write with a deadline") {
        check_broken(stream.write(data, std::chrono::seconds(5)));
    }
    SECTION("try_write") {
        check_broken(stream.try_write(data));
    }
    SECTION("write_vectored") {
        check_broken(stream.write_vectored({ConstBuffer(data), ConstBuffer(data)}));
    }
    SECTION("send_file") {
        std::FILE* file = std::tmpfile();
        REQUIRE(file != nullptr);
        REQUIRE(std::fwrite(data.data(), 1, data.size(), file) == data.size());
        REQUIRE(std::fflush(file) == 0);
        auto sent = stream.send_file(::fileno(file), 0, data.size());
        std::fclose(file);
        check_broken(sent);
    }
    CHECK(sigpipes.load() == 0);
    CHECK_FALSE(sigpipe_pending());
    CHECK_FALSE(sigpipe_blocked());  // the mask the thread had is back
}

TEST_CASE("a SIGPIPE the thread blocked itself is left alone", "[platform]") {
    // A program that blocks SIGPIPE and collects it with sigwait must still see the ones it is owed: netlite
    // consumes only a SIGPIPE it caused while SIGPIPE was unblocked. (Linux: MSG_NOSIGNAL raises none.)
    sigset_t pipe_only, old_mask;
    sigemptyset(&pipe_only);
    sigaddset(&pipe_only, SIGPIPE);
    REQUIRE(::pthread_sigmask(SIG_BLOCK, &pipe_only, &old_mask) == 0);
    auto pair = UnixStream::pair();
    REQUIRE_OK(pair);
    REQUIRE_OK(pair->second.close());
    auto sent = pair->first.write("x");
    CHECK_FALSE(sent);
    CHECK(sigpipe_blocked());  // still blocked, as the program left it
#if defined(NETLITE_PORTABLE_POSIX)
    // No MSG_NOSIGNAL here: the kernel raised one, and it stays pending for the program.
    CHECK(sigpipe_pending());
    const timespec zero{};
    CHECK(::sigtimedwait(&pipe_only, nullptr, &zero) == SIGPIPE);
#else
    CHECK_FALSE(sigpipe_pending());  // MSG_NOSIGNAL: none was raised
#endif
    ::pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
}
