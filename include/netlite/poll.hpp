/// @file
/// netlite/poll.hpp - Poller: waits until any of many sockets is ready, for one-thread event loops.
///
/// A Poller holds registrations: a socket (or raw descriptor), what it waits for (Interest), a Token the
/// caller chooses (an integer or a pointer, given back with every event so the caller finds its connection
/// without a lookup) and a Trigger (level by default, edge or one-shot). wait() fills a caller-provided
/// span with the events that are ready. Pair it with the non-blocking try_read/try_write/try_accept/
/// try_recv_from/try_send_to of TcpStream, TcpListener and UdpSocket, which say "would block" with an
/// empty std::optional instead of an error.
///
/// Backends, same interface: EpollPoller (Linux epoll) and PollPoller (poll(2), portable). `Poller` is
/// EpollPoller on Linux and PollPoller elsewhere, or everywhere when NETLITE_POLLER_USE_POLL is defined
/// (to 1, or empty) before this header is included.
///
/// Lifetime rules (the same with both backends):
///  * remove() a socket before closing it: that is always right and costs one system call.
///  * Closing (or destroying) a registered socket is safe: the poller forgets it and reports no event for
///    it after the close; a socket that later gets the same descriptor number can be add()ed as new. (epoll
///    drops the registration in the kernel; PollPoller drops an entry whose descriptor is closed, and tells
///    a reused number from the old socket by its inode.) remove() of such a descriptor then fails with
///    ENOENT or EBADF and changes nothing.
///  * Exception, epoll: a registration belongs to the socket, not to the number. If the socket has another
///    descriptor (try_clone, fork), closing one of them does not unregister it: remove() it first.
///  * Events of one wait() are a snapshot: when handling one event frees another connection of the same
///    batch, its token still arrives later in that batch. Defer the free to the end of the batch.
///  * add/modify/remove/wait belong to one thread (the loop's); wake() may be called from any thread and
///    from a signal handler.
#pragma once

#include <netlite/detail/sys.hpp>
#include <netlite/result.hpp>

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <netlite/detail/chrono.hpp>
#include <optional>
#include <span>
#include <utility>
#include <vector>

namespace netlite {

/// What a registration waits for. Errors and hang-ups are always reported, even for `none`.
enum class Interest : std::uint8_t { none = 0, readable = 1, writable = 2, both = 3 };

/// Both interests: `Interest::readable | Interest::writable` is `Interest::both`.
constexpr Interest operator|(Interest a, Interest b) noexcept {
    return static_cast<Interest>(static_cast<std::uint8_t>(a) | static_cast<std::uint8_t>(b));
}
/// The interests in both `a` and `b`.
constexpr Interest operator&(Interest a, Interest b) noexcept {
    return static_cast<Interest>(static_cast<std::uint8_t>(a) & static_cast<std::uint8_t>(b));
}
/// True when `set` includes every bit of `part` (`part` none: always true).
constexpr bool includes(Interest set, Interest part) noexcept {
    return (set & part) == part;
}

/// How readiness is reported.
enum class Trigger : std::uint8_t {
    level,    // every wait() while the socket is ready (the default: nothing can be missed)
    edge,     // once per change: read/write until std::nullopt before waiting again (EpollPoller only)
    oneshot,  // once, then the registration is disarmed until modify() arms it again
};

/// The caller's name for a registration: an integer or a pointer, handed back in every Event.
class Token {
public:
    constexpr Token() noexcept = default;
    /// The token 0.
    constexpr Token(std::nullptr_t) noexcept {}
    /// An integer token (stored as 64 bits).
    template <std::integral I>
    constexpr Token(I value) noexcept : value_(static_cast<std::uint64_t>(value)) {}
    /// A pointer token; pointer<T>() gives it back.
    template <class T>
    Token(T* pointer) noexcept : value_(reinterpret_cast<std::uintptr_t>(pointer)) {}

    /// The token as an integer.
    constexpr std::uint64_t value() const noexcept { return value_; }
    /// The pointer this token was made from (as T*).
    template <class T>
    T* pointer() const noexcept {
        return reinterpret_cast<T*>(static_cast<std::uintptr_t>(value_));
    }
    /// Tokens are equal when their values are.
    friend constexpr bool operator==(Token, Token) noexcept = default;

    /// Used by the poller itself for its wake-up descriptor: add() refuses it (invalid_argument).
    static constexpr std::uint64_t reserved = std::numeric_limits<std::uint64_t>::max();

private:
    std::uint64_t value_ = 0;
};

/// One ready registration. `readable` also covers end of stream and a queued connection; `hangup` and
/// `error` come whatever the interest (the next read or write on the socket says what happened).
struct Event {
    /// The token the registration was made with.
    Token token{};
    /// Ready to read (data, end of stream, or a queued connection).
    bool readable = false;
    /// Ready to write.
    bool writable = false;
    bool hangup = false;  ///< the peer closed both directions (or the connection is gone)
    bool error = false;   ///< a pending socket error (take_error(), or the next call, reports it)
    /// The peer shut down its sending side (end of stream is queued). epoll only, with readable interest;
    /// false where the backend cannot tell (poll(2)).
    bool read_closed = false;
};

/// Anything with a native_handle(): every netlite socket.
template <class S>
concept Pollable = requires(const S& socket) {
    { socket.native_handle() } -> std::convertible_to<int>;
};

/// Wakes a Poller's wait() from another thread or a signal handler. Valid while its Poller lives
/// (moving the Poller keeps it valid); an empty Waker does nothing.
class Waker {
public:
    Waker() noexcept = default;
    /// A Waker that writes to `signal_fd` (made by Poller::waker()).
    explicit Waker(int signal_fd) noexcept : signal_fd_(signal_fd) {}
    /// Async-signal-safe: one write(2). A wake() while nobody waits makes the next wait() return at once.
    void wake() const noexcept {
        if (signal_fd_ >= 0) detail::sys::WakeFd::signal(signal_fd_);
    }

private:
    int signal_fd_ = -1;  // the poller's wake-up descriptor, which moves with the poller
};

namespace detail {

/// Starts connecting `fd` to `address` without waiting (the socket is left non-blocking): true when it
/// connected at once, false when the connection goes on in the background (wait until the socket is
/// writable, then take_error() says how it ended). For readiness loops (netlite/coro.hpp).
/// Errors: as connect(2) (ECONNREFUSED, ENETUNREACH, EAGAIN for a Unix socket whose listener is full).
inline Result<bool> start_connect(int fd, const sockaddr* address, socklen_t size) noexcept {
    if (auto ok = sys::set_nonblocking(fd, true); !ok) return fail(ok.error());
    if (::connect(fd, address, size) == 0) return true;
    if (errno == EINPROGRESS || sys::interrupted()) return false;  // EINTR: it goes on in the background
    return fail(sys::last_error("connect"));
}

#if defined(NETLITE_HAS_EPOLL)
/// epoll: the kernel keeps the registrations; wait() costs O(ready), not O(registered).
// A template only so that its body is compiled where a poller is used, not in every file that includes this.
template <class Unused = void>
class EpollBackendT {
public:
    EpollBackendT() noexcept = default;
    EpollBackendT(const EpollBackendT&) = delete;
    EpollBackendT& operator=(const EpollBackendT&) = delete;
    EpollBackendT(EpollBackendT&& other) noexcept
        : fd_(std::exchange(other.fd_, -1)), buffer_(std::move(other.buffer_)) {}
    EpollBackendT& operator=(EpollBackendT&& other) noexcept {
        if (this != &other) {
            close();
            fd_ = std::exchange(other.fd_, -1);
            buffer_ = std::move(other.buffer_);
        }
        return *this;
    }
    ~EpollBackendT() { close(); }

    Result<void> open() noexcept {
        auto fd = sys::epoll_open();
        if (!fd) return fail(fd.error());
        fd_ = *fd;
        return {};
    }
    Result<void> add(int fd, Interest interest, Token token, Trigger trigger) noexcept {
        return sys::epoll_control(fd_, EPOLL_CTL_ADD, fd, mask(interest, trigger), token.value());
    }
    Result<void> modify(int fd, Interest interest, Token token, Trigger trigger) noexcept {
        return sys::epoll_control(fd_, EPOLL_CTL_MOD, fd, mask(interest, trigger), token.value());
    }
    Result<void> remove(int fd) noexcept { return sys::epoll_control(fd_, EPOLL_CTL_DEL, fd, 0, 0); }

    /// Fills `out`; the wake registration comes back as an Event like the others.
    Result<std::size_t> wait(std::span<Event> out, sys::Clock::time_point deadline) {
        if (buffer_.size() < out.size()) buffer_.resize(out.size());
        const int capacity = out.size() > static_cast<std::size_t>(std::numeric_limits<int>::max())
                                 ? std::numeric_limits<int>::max()
                                 : static_cast<int>(out.size());
        auto ready = sys::epoll_wait_for(fd_, buffer_.data(), capacity, deadline);
        if (!ready) return fail(ready.error());
        for (int i = 0; i < *ready; ++i) {
            const std::uint32_t events = buffer_[static_cast<std::size_t>(i)].events;
            Event& event = out[static_cast<std::size_t>(i)];
            event.token = Token(buffer_[static_cast<std::size_t>(i)].data.u64);
            event.readable = (events & EPOLLIN) != 0;
            event.writable = (events & EPOLLOUT) != 0;
            event.hangup = (events & EPOLLHUP) != 0;
            event.error = (events & EPOLLERR) != 0;
            event.read_closed = (events & EPOLLRDHUP) != 0;
        }
        return static_cast<std::size_t>(*ready);
    }

    static constexpr bool supports_edge = true;

private:
    static std::uint32_t mask(Interest interest, Trigger trigger) noexcept {
        std::uint32_t events = 0;
        // EPOLLRDHUP comes with EPOLLIN at a peer's shutdown anyway: no extra wake-up, one more fact.
        if (includes(interest, Interest::readable)) events |= EPOLLIN | EPOLLRDHUP;
        if (includes(interest, Interest::writable)) events |= EPOLLOUT;
        if (trigger == Trigger::edge) events |= EPOLLET;
        if (trigger == Trigger::oneshot) events |= EPOLLONESHOT;
        return events;
    }
    void close() noexcept {
        if (fd_ >= 0) (void)sys::close_fd(std::exchange(fd_, -1));
    }

    int fd_ = -1;
    std::vector<epoll_event> buffer_;
};
using EpollBackend = EpollBackendT<>;
#endif

/// poll(2): the registrations live in a pollfd array that every wait() hands to the kernel, so a wait
/// costs O(registered). Level-triggered and one-shot; edge-triggered is refused (operation_not_supported).
template <class Unused = void>  // see EpollBackendT
class PollBackendT {
public:
    Result<void> open() noexcept { return {}; }

    Result<void> add(int fd, Interest interest, Token token, Trigger trigger) {
        if (trigger == Trigger::edge) return fail(std::errc::operation_not_supported, "poll");
        const auto id = sys::identity(fd);
        if (fd < 0 || !id.valid) return fail(std::errc::bad_file_descriptor, "poll");
        if (const std::size_t at = slot_of(fd); at != none) {
            if (slots_[at].id == id) return fail(std::errc::file_exists, "poll");
            erase(at);  // the old socket was closed and its number reused: forget it, as epoll does
        }
        if (static_cast<std::size_t>(fd) >= index_.size())
            index_.resize(static_cast<std::size_t>(fd) + 1, none);
        index_[static_cast<std::size_t>(fd)] = entries_.size();
        entries_.push_back(pollfd{fd, events_of(interest), 0});
        slots_.push_back(Slot{fd, id, token, trigger});
        return {};
    }
    Result<void> modify(int fd, Interest interest, Token token, Trigger trigger) {
        if (trigger == Trigger::edge) return fail(std::errc::operation_not_supported, "poll");
        const std::size_t at = live_slot(fd);
        if (at == none) return fail(std::errc::no_such_file_or_directory, "poll");
        slots_[at].token = token;
        slots_[at].trigger = trigger;
        entries_[at] = pollfd{fd, events_of(interest), 0};  // (re)armed
        return {};
    }
    Result<void> remove(int fd) {
        const std::size_t at = live_slot(fd);
        if (at == none) return fail(std::errc::no_such_file_or_directory, "poll");
        erase(at);
        return {};
    }

    Result<std::size_t> wait(std::span<Event> out, sys::Clock::time_point deadline) {
        auto ready = sys::poll_for(entries_.data(), entries_.size(), deadline);
        if (!ready) return fail(ready.error());
        std::size_t count = 0;
        const std::size_t size = entries_.size();
        const std::size_t start = size ? next_ % size : 0;  // rotate, so a full `out` starves nobody
        closed_.clear();
        for (std::size_t k = 0; k < size && count < out.size(); ++k) {
            const std::size_t i = (start + k) % size;
            const short revents = entries_[i].revents;
            if (revents == 0) continue;
            entries_[i].revents = 0;
            if (revents & POLLNVAL) {  // closed while registered: forget it, report nothing
                closed_.push_back(slots_[i].fd);
                continue;
            }
            Event& event = out[count++];
            event.token = slots_[i].token;
            event.readable = (revents & POLLIN) != 0;
            event.writable = (revents & POLLOUT) != 0;
            event.hangup = (revents & POLLHUP) != 0;
            event.error = (revents & POLLERR) != 0;
            if (slots_[i].trigger == Trigger::oneshot) entries_[i].fd = -1;  // poll(2) skips negative fds
        }
        next_ = start + count;
        for (int fd : closed_)
            if (const std::size_t at = slot_of(fd); at != none) erase(at);
        return count;
    }

    static constexpr bool supports_edge = false;

private:
    static constexpr std::size_t none = static_cast<std::size_t>(-1);
    struct Slot {
        int fd = -1;
        sys::FileId id;
        Token token;
        Trigger trigger = Trigger::level;
    };

    static short events_of(Interest interest) noexcept {
        short events = 0;
        if (includes(interest, Interest::readable)) events |= POLLIN;
        if (includes(interest, Interest::writable)) events |= POLLOUT;
        return events;
    }
    std::size_t slot_of(int fd) const noexcept {
        if (fd < 0 || static_cast<std::size_t>(fd) >= index_.size()) return none;
        return index_[static_cast<std::size_t>(fd)];
    }
    /// The slot of `fd` if it still names the socket that was added; a stale slot is dropped.
    std::size_t live_slot(int fd) {
        const std::size_t at = slot_of(fd);
        if (at == none) return none;
        const auto id = sys::identity(fd);
        if (!id.valid || id != slots_[at].id) {
            erase(at);
            return none;
        }
        return at;
    }
    void erase(std::size_t at) noexcept {
        const std::size_t last = entries_.size() - 1;
        index_[static_cast<std::size_t>(slots_[at].fd)] = none;
        if (at != last) {
            entries_[at] = entries_[last];
            slots_[at] = slots_[last];
            index_[static_cast<std::size_t>(slots_[at].fd)] = at;
        }
        entries_.pop_back();
        slots_.pop_back();
    }

    std::vector<pollfd> entries_;
    std::vector<Slot> slots_;         // parallel to entries_
    std::vector<std::size_t> index_;  // descriptor number -> position, `none` when not registered
    std::vector<int> closed_;
    std::size_t next_ = 0;
};
using PollBackend = PollBackendT<>;

}  // namespace detail

/// A set of registrations and a wait for readiness (the lifetime rules are in poll.hpp's description).
/// Move-only; the destructor closes its descriptors (the registered sockets stay open).
template <class Backend>
class BasicPoller {
public:
    /// A new, empty poller with its wake-up descriptor. Errors: EMFILE, ENFILE, ENOMEM.
    static Result<BasicPoller> open() {
        BasicPoller poller;
        if (auto ok = poller.backend_.open(); !ok) return fail(ok.error());
        if (!poller.wake_.ok()) return fail(poller.wake_.error());
        if (auto ok = poller.backend_.add(poller.wake_.fd(), Interest::readable, Token(Token::reserved),
                                          Trigger::level);
            !ok)
            return fail(ok.error());
        return poller;
    }

    /// Whether Trigger::edge is available (EpollPoller: yes; PollPoller: no).
    static constexpr bool supports_edge = Backend::supports_edge;

    /// Registers `fd`. Errors: EEXIST (already registered), EBADF, invalid_argument (the reserved token),
    /// operation_not_supported (edge with PollPoller), EPERM (epoll: a descriptor that cannot be polled).
    Result<void> add(int fd, Interest interest, Token token, Trigger trigger = Trigger::level) {
        if (token.value() == Token::reserved) return fail(std::errc::invalid_argument, "poll");
        return backend_.add(fd, interest, token, trigger);
    }
    /// add() for a netlite socket (its native_handle()). Errors: as add(int, ...).
    template <Pollable S>
    Result<void> add(const S& socket, Interest interest, Token token, Trigger trigger = Trigger::level) {
        return add(static_cast<int>(socket.native_handle()), interest, token, trigger);
    }
    /// Changes a registration (and re-arms a one-shot one). Errors: ENOENT (not registered), EBADF, as add.
    Result<void> modify(int fd, Interest interest, Token token, Trigger trigger = Trigger::level) {
        if (token.value() == Token::reserved) return fail(std::errc::invalid_argument, "poll");
        return backend_.modify(fd, interest, token, trigger);
    }
    /// modify() for a netlite socket. Errors: as modify(int, ...).
    template <Pollable S>
    Result<void> modify(const S& socket, Interest interest, Token token, Trigger trigger = Trigger::level) {
        return modify(static_cast<int>(socket.native_handle()), interest, token, trigger);
    }
    /// Unregisters `fd`; no event for it comes after this. Errors: ENOENT (not registered), EBADF (closed).
    Result<void> remove(int fd) {
        if (fd >= 0 && fd == wake_.fd()) return fail(std::errc::invalid_argument, "poll");
        return backend_.remove(fd);
    }
    /// remove() for a netlite socket. Errors: as remove(int).
    template <Pollable S>
    Result<void> remove(const S& socket) {
        return remove(static_cast<int>(socket.native_handle()));
    }

    /// Waits until a registration is ready, `timeout` passes (std::nullopt: no limit; zero: just look) or
    /// wake() is called, and fills `events` with the ready ones (at most events.size(); the rest come
    /// next time). Returns how many: 0 after a timeout or a wake-up. Signals do not end the wait.
    /// Errors: invalid_argument (empty `events`), EINTR never, ENOMEM.
    Result<std::size_t> wait(std::span<Event> events,
                             std::optional<std::chrono::milliseconds> timeout = std::nullopt) {
        if (events.empty()) return fail(std::errc::invalid_argument, "poll");
        const auto deadline =
            timeout ? detail::sys::Clock::now() + *timeout : detail::sys::Clock::time_point::max();
        auto ready = backend_.wait(events, deadline);
        if (!ready) return ready;
        std::size_t kept = 0;  // drop the wake-up registration's event, keep the order of the others
        for (std::size_t i = 0; i < *ready; ++i) {
            if (events[i].token.value() == Token::reserved) {
                detail::sys::drain(wake_.fd());
                continue;
            }
            if (kept != i) events[kept] = events[i];
            ++kept;
        }
        return kept;
    }

    /// Makes a wait() in progress (or the next one) return. Thread-safe and async-signal-safe.
    void wake() const noexcept {
        if (wake_.ok()) wake_.signal();
    }
    /// A handle for another thread or a signal handler to call wake() with; valid while this poller lives.
    Waker waker() const noexcept { return Waker(wake_.signal_fd()); }

private:
    BasicPoller() = default;

    Backend backend_;
    detail::sys::WakeFd wake_;  // a Waker keeps its descriptor, so it survives moving the poller
};

/// Portable poll(2) backend: O(registered) per wait, no edge triggering.
using PollPoller = BasicPoller<detail::PollBackend>;
#if defined(NETLITE_HAS_EPOLL)
/// Linux epoll backend: O(ready) per wait.
using EpollPoller = BasicPoller<detail::EpollBackend>;
#endif

#if defined(NETLITE_HAS_EPOLL) && !defined(NETLITE_POLLER_USE_POLL)
/// The default poller: EpollPoller on Linux, PollPoller elsewhere or with NETLITE_POLLER_USE_POLL.
using Poller = EpollPoller;
#else
/// The default poller: EpollPoller on Linux, PollPoller elsewhere or with NETLITE_POLLER_USE_POLL.
using Poller = PollPoller;
#endif

}  // namespace netlite
