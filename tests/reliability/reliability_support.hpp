// Shared helpers for the reliability suite (label "reliability"): descriptor counting, per-thread CPU
// time, a signal hammer (a handler installed WITHOUT SA_RESTART, pthread_kill in a bounded loop), a
// position-dependent byte pattern to check streams for loss, duplication and reordering, and the
// "full accept queue" trick that makes a loopback connect wait.
#pragma once

#include "../socket_test_support.hpp"
#include "../test_support.hpp"

#include <netlite/netlite.hpp>
#include <netlite/testing.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

namespace reliability {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

#if defined(NETLITE_RELIABILITY_SOAK) && NETLITE_RELIABILITY_SOAK
inline constexpr bool soak = true;
#else
inline constexpr bool soak = false;
#endif

/// How many descriptors this process has open (entries of /proc/self/fd, less the one opendir uses).
inline std::size_t open_descriptors() {
    DIR* dir = ::opendir("/proc/self/fd");
    if (dir == nullptr) return 0;
    std::size_t count = 0;
    while (const dirent* entry = ::readdir(dir))
        if (entry->d_name[0] != '.') ++count;
    ::closedir(dir);
    return count - 1;
}

/// CPU time (user + system) the calling thread has used.
inline std::chrono::microseconds thread_cpu_time() {
    timespec now{};
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
    return std::chrono::seconds(now.tv_sec) + std::chrono::microseconds(now.tv_nsec / 1000);
}

/// The byte at `position` of the test stream `seed`: depends on the position, so a lost, repeated or
/// reordered piece is noticed at its first byte.
inline std::byte pattern_byte(std::uint64_t seed, std::uint64_t position) {
    std::uint64_t x = (position + 1) * 0x9E3779B97F4A7C15ULL ^ seed;
    x ^= x >> 29;
    x *= 0xBF58476D1CE4E5B9ULL;
    x ^= x >> 32;
    return static_cast<std::byte>(x & 0xff);
}
inline std::vector<std::byte> pattern(std::uint64_t seed, std::size_t size, std::uint64_t offset = 0) {
    std::vector<std::byte> bytes(size);
    for (std::size_t i = 0; i < size; ++i) bytes[i] = pattern_byte(seed, offset + i);
    return bytes;
}

/// FNV-1a, 64 bits, for reporting and for datagram self-checks.
inline std::uint64_t fnv1a(const std::byte* data, std::size_t size,
                           std::uint64_t hash = 0xcbf29ce484222325ULL) {
    for (std::size_t i = 0; i < size; ++i)
        hash = (hash ^ static_cast<std::uint64_t>(data[i])) * 0x100000001b3ULL;
    return hash;
}

// --- signals -------------------------------------------------------------------------------------------

inline std::atomic<unsigned long> signals_handled{0};

extern "C" inline void reliability_count_signal(int) {
    const int saved = errno;
    signals_handled.fetch_add(1, std::memory_order_relaxed);
    errno = saved;
}

/// Installs a counting handler for `signal` WITHOUT SA_RESTART (so blocking calls fail with EINTR) for
/// the lifetime of the object; the previous disposition is restored afterwards.
class ScopedHandler {
public:
    explicit ScopedHandler(int signal) : signal_(signal) {
        struct sigaction action {};
        action.sa_handler = reliability_count_signal;
        sigemptyset(&action.sa_mask);
        action.sa_flags = 0;  // no SA_RESTART: the kernel returns EINTR to whoever was blocked
        installed_ = ::sigaction(signal_, &action, &old_) == 0;
    }
    ScopedHandler(const ScopedHandler&) = delete;
    ScopedHandler& operator=(const ScopedHandler&) = delete;
    ~ScopedHandler() {
        if (installed_) ::sigaction(signal_, &old_, nullptr);
    }
    bool installed() const { return installed_; }

private:
    int signal_;
    struct sigaction old_ {};
    bool installed_ = false;
};

/// Sends SIGUSR1 to one thread every ~100 us until stopped (at most `limit` signals), so whatever that
/// thread is blocked in is interrupted again and again.
class SignalHammer {
public:
    explicit SignalHammer(pthread_t target, unsigned long limit = 200000) : handler_(SIGUSR1) {
        thread_ = std::thread([this, target, limit] {
            while (!stop_.load() && sent_ < limit) {
                if (::pthread_kill(target, SIGUSR1) != 0) break;
                ++sent_;
                std::this_thread::sleep_for(100us);  // pacing, not synchronisation
            }
        });
    }
    SignalHammer(const SignalHammer&) = delete;
    SignalHammer& operator=(const SignalHammer&) = delete;
    ~SignalHammer() { stop(); }
    /// Stops hammering; returns how many signals were sent.
    unsigned long stop() {
        stop_.store(true);
        if (thread_.joinable()) thread_.join();
        return sent_;
    }
    bool installed() const { return handler_.installed(); }

private:
    ScopedHandler handler_;
    std::atomic<bool> stop_{false};
    unsigned long sent_ = 0;
    std::thread thread_;
};

/// Waits (bounded) until at least `count` more signals than `start` have been handled.
inline bool wait_for_signals(unsigned long start, unsigned long count, Clock::duration bound = 10s) {
    const auto deadline = Clock::now() + bound;
    while (signals_handled.load() < start + count) {
        if (Clock::now() > deadline) return false;
        std::this_thread::sleep_for(1ms);
    }
    return true;
}

/// The kernel thread id of the calling thread.
inline pid_t thread_id() {
    return static_cast<pid_t>(::syscall(SYS_gettid));
}

/// True once thread `tid` of this process sleeps in the kernel ('S' in /proc/self/task/TID/stat), bounded.
inline bool wait_until_sleeping(pid_t tid, Clock::duration bound = 10s) {
    const std::string path = "/proc/self/task/" + std::to_string(tid) + "/stat";
    const auto deadline = Clock::now() + bound;
    while (Clock::now() < deadline) {
        if (FILE* file = std::fopen(path.c_str(), "r")) {
            char text[512] = {};
            const std::size_t got = std::fread(text, 1, sizeof text - 1, file);
            std::fclose(file);
            const char* close_paren = std::strrchr(text, ')');
            if (got > 0 && close_paren != nullptr && close_paren[1] == ' ' && close_paren[2] == 'S')
                return true;
        }
        std::this_thread::sleep_for(1ms);
    }
    return false;
}

// --- a listener whose accept queue is full: connects to it wait -----------------------------------------

/// A listener with backlog 0 whose queue is filled, so the next TCP SYN is dropped (the connect waits
/// for a retransmission) and the next Unix connect blocks until accept makes room.
template <netlite::Family F>
struct FullListener {
    netlite::TcpListener<F> listener;
    netlite::Address<F> address;
    std::vector<netlite::TcpStream<F>> queued;  // the connections that fill the queue
    bool full = false;

    /// Accepts everything queued (without waiting), so waiting connects can complete; returns them.
    std::vector<netlite::Accepted<F>> drain() {
        std::vector<netlite::Accepted<F>> accepted;
        for (int i = 0; i < 64; ++i) {
            auto next = listener.try_accept();
            if (!next || !*next) break;
            accepted.push_back(std::move(**next));
        }
        return accepted;
    }
};

template <netlite::Family F>
FullListener<F> make_full_listener(const netlite::Address<F>& where) {
    FullListener<F> full;
    auto listener = netlite::TcpListener<F>::bind(where, netlite::ListenOptions{.backlog = 0});
    if (!listener) return full;
    full.listener = std::move(*listener);
    auto address = full.listener.local_address();
    if (!address) return full;
    full.address = *address;
    for (int i = 0; i < 16; ++i) {
        auto client = netlite::TcpStream<F>::connect(full.address, 100ms);
        if (!client) {
            full.full = client.error() == std::errc::timed_out;
            return full;
        }
        full.queued.push_back(std::move(*client));
    }
    return full;
}

}  // namespace reliability

namespace reliability {

/// A listening socket of family F on loopback port 0, or in a fresh temp dir for Unix.
template <netlite::Family F>
struct Server {
    std::optional<netlite::testing::TempPath> temp;  // Unix only: removed after the listener closes
    netlite::TcpListener<F> listener;
    netlite::Address<F> address;
};

template <netlite::Family F>
netlite::Address<F> local_address_for(std::optional<netlite::testing::TempPath>& temp) {
    if constexpr (std::is_same_v<F, netlite::Unix>) {
        temp.emplace(*netlite::testing::TempPath::create());
        return temp->address();
    } else {
        return netlite::testing::loopback<F>();
    }
}

template <netlite::Family F>
Server<F> bind_server(const netlite::ListenOptions& options = {}) {
    Server<F> server;
    auto where = local_address_for<F>(server.temp);
    auto listener = netlite::TcpListener<F>::bind(where, options);
    REQUIRE_OK(listener);
    server.listener = std::move(*listener);
    server.address = netlite_test::require_local_address(server.listener);
    return server;
}

}  // namespace reliability
