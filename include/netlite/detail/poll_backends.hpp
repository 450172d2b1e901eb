// SPDX-License-Identifier: BSL-1.0
// netlite/detail/poll_backends.hpp - the Poller's backends: epoll where the platform has it, poll(2)
// everywhere, and the choice of the default one. Included by netlite/poll.hpp.
#pragma once

#include <netlite/detail/poll_types.hpp>
#include <netlite/detail/sys.hpp>
#include <netlite/result.hpp>

#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <utility>
#include <vector>

namespace netlite {

template <class Backend>
class BasicPoller;

namespace detail {

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
    Result<void> add(sys::native_handle fd, Interest interest, Token token, Trigger trigger) noexcept {
        return sys::epoll_control(fd_, EPOLL_CTL_ADD, fd, mask(interest, trigger), token.value());
    }
    Result<void> modify(sys::native_handle fd, Interest interest, Token token, Trigger trigger) noexcept {
        return sys::epoll_control(fd_, EPOLL_CTL_MOD, fd, mask(interest, trigger), token.value());
    }
    Result<void> remove(sys::native_handle fd) noexcept {
        return sys::epoll_control(fd_, EPOLL_CTL_DEL, fd, 0, 0);
    }

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

    sys::native_handle fd_ = -1;
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

    Result<void> add(sys::native_handle fd, Interest interest, Token token, Trigger trigger) {
        if (trigger == Trigger::edge) return fail(std::errc::operation_not_supported, "poll");
        const auto id = sys::identity(fd);
        if (static_cast<std::intptr_t>(fd) < 0 || !id.valid)
            return fail(std::errc::bad_file_descriptor, "poll");
        if (const std::size_t at = slot_of(fd); at != none) {
            if (slots_[at].id == id) return fail(std::errc::file_exists, "poll");
            erase(at);  // the old socket was closed and its number reused: forget it, as epoll does
        }
        if (static_cast<std::size_t>(fd) >= index_.size())
            index_.resize(static_cast<std::size_t>(fd) + 1, none);
        index_[static_cast<std::size_t>(fd)] = entries_.size();
        entries_.push_back(sys::poll_entry{fd, events_of(interest), 0});
        slots_.push_back(Slot{fd, id, token, trigger});
        return {};
    }
    Result<void> modify(sys::native_handle fd, Interest interest, Token token, Trigger trigger) {
        if (trigger == Trigger::edge) return fail(std::errc::operation_not_supported, "poll");
        const std::size_t at = live_slot(fd);
        if (at == none) return fail(std::errc::no_such_file_or_directory, "poll");
        slots_[at].token = token;
        slots_[at].trigger = trigger;
        entries_[at] = sys::poll_entry{fd, events_of(interest), 0};  // (re)armed
        return {};
    }
    Result<void> remove(sys::native_handle fd) {
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
            if (slots_[i].trigger == Trigger::oneshot)
                entries_[i].fd = sys::invalid_handle;  // poll(2) skips it
        }
        next_ = start + count;
        for (sys::native_handle fd : closed_)
            if (const std::size_t at = slot_of(fd); at != none) erase(at);
        return count;
    }

    static constexpr bool supports_edge = false;

private:
    static constexpr std::size_t none = static_cast<std::size_t>(-1);
    struct Slot {
        sys::native_handle fd = sys::invalid_handle;
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
    std::size_t slot_of(sys::native_handle fd) const noexcept {
        if (static_cast<std::intptr_t>(fd) < 0 || static_cast<std::size_t>(fd) >= index_.size()) return none;
        return index_[static_cast<std::size_t>(fd)];
    }
    /// The slot of `fd` if it still names the socket that was added; a stale slot is dropped.
    std::size_t live_slot(sys::native_handle fd) {
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

    std::vector<sys::poll_entry> entries_;
    std::vector<Slot> slots_;         // parallel to entries_
    std::vector<std::size_t> index_;  // descriptor number -> position, `none` when not registered
    std::vector<sys::native_handle> closed_;
    std::size_t next_ = 0;
};
using PollBackend = PollBackendT<>;

}  // namespace detail

/// Portable poll(2) backend: O(registered) per wait, no edge triggering.
using PollPoller = BasicPoller<detail::PollBackend>;
#if defined(NETLITE_HAS_EPOLL)
/// Linux epoll backend: O(ready) per wait.
using EpollPoller = BasicPoller<detail::EpollBackend>;
#endif

namespace detail {
#if defined(NETLITE_HAS_EPOLL) && !defined(NETLITE_POLLER_USE_POLL)
using DefaultPollBackend = EpollBackend;
#else
using DefaultPollBackend = PollBackend;
#endif
}  // namespace detail

}  // namespace netlite
