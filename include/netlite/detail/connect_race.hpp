// SPDX-License-Identifier: BSL-1.0
// netlite/detail/connect_race.hpp - the one Happy Eyeballs schedule (RFC 8305): which address next, when,
// and how many attempts may be pending. The blocking race (TcpStream::connect_any, tcp.hpp) and the
// coroutine race (async_connect_any, coro/connect.hpp) both follow it; each only carries out its steps.
#pragma once

#include <netlite/address.hpp>

#include <cstddef>
#include <netlite/detail/chrono.hpp>
#include <span>
#include <vector>

namespace netlite::detail {

/// RFC 8305 section 4: alternate address families, starting with the family of the first address.
template <Family F>
std::vector<Address<F>> interleave_families(std::span<const Address<F>> addresses) {
    std::vector<Address<F>> first, second, order;
    for (const Address<F>& address : addresses)
        (address.domain() == addresses.front().domain() ? first : second).push_back(address);
    for (std::size_t i = 0; i < first.size() || i < second.size(); ++i) {
        if (i < first.size()) order.push_back(first[i]);
        if (i < second.size()) order.push_back(second[i]);
    }
    return order;
}

/// The schedule of a connection race (RFC 8305 section 5): the addresses in interleaved order; the next
/// one starts when nothing is pending, or `delay` after the previous start, or at once when an attempt
/// fails; at most max_pending attempts at a time. Times are saturating (detail/chrono.hpp): a delay of
/// milliseconds::max() means "only when nothing is pending", zero or less "all at once" (up to the cap).
/// The racer tells it what happened with started (through start()), failed() and nothing else: a winner
/// ends the race.
template <Family F>
class AttemptSchedule {
public:
    using Clock = std::chrono::steady_clock;
    /// The most attempts pending at once: each is a socket, and RFC 8305 expects a handful.
    static constexpr std::size_t max_pending = 32;

    AttemptSchedule(std::span<const Address<F>> addresses, std::chrono::milliseconds delay)
        : order_(interleave_families(addresses)), delay_(delay) {}

    /// True when there was no address at all.
    bool empty() const noexcept { return order_.empty(); }
    /// True while some address has not been started.
    bool more() const noexcept { return next_ < order_.size(); }
    /// Attempts started and not yet failed.
    std::size_t pending() const noexcept { return pending_; }

    /// The address to start at `now`, counted as pending from here on; null when none is due (none left,
    /// max_pending reached, or the delay since the previous start has not passed while one is pending).
    const Address<F>* start(Clock::time_point now) noexcept {
        if (!more() || pending_ >= max_pending || (pending_ > 0 && now < due_)) return nullptr;
        ++pending_;
        due_ = saturating_add(now, delay_);
        return &order_[next_++];
    }
    /// A pending attempt failed at `now` (or was given up): the next address is due at once.
    void failed(Clock::time_point now) noexcept {
        if (pending_ > 0) --pending_;
        due_ = now;
    }
    /// When start() gives the next address if nothing fails first: time_point::max() when none is left or
    /// max_pending are pending (then only a failure starts one).
    Clock::time_point next_due() const noexcept {
        if (!more() || pending_ >= max_pending) return Clock::time_point::max();
        return pending_ == 0 ? Clock::time_point::min() : due_;
    }

private:
    std::vector<Address<F>> order_;
    std::chrono::milliseconds delay_;
    std::size_t next_ = 0;
    std::size_t pending_ = 0;
    Clock::time_point due_ = Clock::time_point::min();
};

}  // namespace netlite::detail
