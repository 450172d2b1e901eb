// SPDX-License-Identifier: BSL-1.0
// netlite/testing.hpp - helpers for testing code that uses netlite: connected loopback pairs of any
// family on ephemeral ports, scoped temporary Unix socket paths, and the families this machine offers.
// Not part of the umbrella header netlite.hpp.
#pragma once

#include <netlite/address.hpp>
#include <netlite/detail/sys.hpp>
#include <netlite/result.hpp>
#include <netlite/tcp.hpp>
#include <netlite/udp.hpp>

#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace netlite::testing {

/// A fresh private directory with a socket path inside it; the destructor removes both.
class TempPath {
public:
    /// Makes the directory under $TMPDIR (or /tmp). Errors: mkdtemp's (EACCES, ENOSPC), path_too_long.
    static Result<TempPath> create(std::string_view name = "socket") {
        const char* base = std::getenv("TMPDIR");
        std::string dir = std::string(base && *base ? base : "/tmp") + "/netlite-XXXXXX";
        if (auto made = detail::sys::make_temp_dir(dir.data()); !made) return fail(made.error());
        TempPath temp;
        temp.dir_ = std::move(dir);
        temp.path_ = temp.dir_ + "/" + std::string(name);
        if (temp.path_.size() > Address<Unix>::max_path) return fail(errc::path_too_long, "temp path");
        return temp;
    }
    TempPath(const TempPath&) = delete;
    TempPath& operator=(const TempPath&) = delete;
    /// Takes `other`'s path; `other` then removes nothing.
    TempPath(TempPath&& other) noexcept : dir_(std::move(other.dir_)), path_(std::move(other.path_)) {
        other.dir_.clear();
        other.path_.clear();
    }
    /// Removes this path, then takes `other`'s.
    TempPath& operator=(TempPath&& other) noexcept {
        if (this != &other) {
            remove();
            dir_ = std::exchange(other.dir_, {});
            path_ = std::exchange(other.path_, {});
        }
        return *this;
    }
    ~TempPath() { remove(); }

    /// The socket path (nothing is created there until a socket binds it).
    const std::string& path() const noexcept { return path_; }
    /// The path as an Address<Unix> (it always fits: create() checked).
    Address<Unix> address() const noexcept { return *Address<Unix>::path(path_); }

private:
    TempPath() = default;
    void remove() noexcept {
        if (dir_.empty()) return;
        (void)detail::sys::remove_file(path_.c_str());  // may not exist: nothing bound it
        (void)detail::sys::remove_dir(dir_.c_str());
        dir_.clear();
    }
    std::string dir_;
    std::string path_;
};

/// The loopback address of family F with port 0 (127.0.0.1 for IPv4 and IP, ::1 for IPv6).
template <InternetFamily F>
Address<F> loopback() noexcept {
    if constexpr (std::is_same_v<F, IPv6>)
        return Address<IPv6>::loopback(0);
    else
        return Address<IPv4>::loopback(0);
}

/// Two connected streams of family F: [client, server]. IP families use a listener on loopback port 0;
/// Unix uses socketpair. Errors: whatever bind/connect/accept report (EAFNOSUPPORT without IPv6).
template <Family F>
Result<std::pair<TcpStream<F>, TcpStream<F>>> loopback_pair() {
    if constexpr (std::is_same_v<F, Unix>) {
        return TcpStream<Unix>::pair();
    } else {
        auto listener = TcpListener<F>::bind(loopback<F>(), ListenOptions{.backlog = 1});
        if (!listener) return fail(listener.error());
        auto where = listener->local_address();
        if (!where) return fail(where.error());
        auto client = TcpStream<F>::connect(*where);  // completes from the backlog; no second thread needed
        if (!client) return fail(client.error());
        auto server = listener->accept();
        if (!server) return fail(server.error());
        return std::pair<TcpStream<F>, TcpStream<F>>(std::move(*client), std::move(server->stream));
    }
}

/// Whether this machine can bind a stream socket of family F on loopback (IPv6 may be disabled).
template <Family F>
bool available() {
    if constexpr (std::is_same_v<F, Unix>) {
        return TcpStream<Unix>::pair().has_value();
    } else {
        return TcpListener<F>::bind(loopback<F>()).has_value();
    }
}

/// The names ("ipv4", "ipv6", "unix") of the families available here, for parameterised tests.
inline std::vector<std::string_view> available_families() {
    std::vector<std::string_view> names;
    if (available<IPv4>()) names.emplace_back("ipv4");
    if (available<IPv6>()) names.emplace_back("ipv6");
    if (available<Unix>()) names.emplace_back("unix");
    return names;
}

}  // namespace netlite::testing
