// netlite/testing.hpp: TempPath (scoped socket paths), loopback<F>(), loopback_pair<F>(), available<F>()
// and available_families().
#include "catch.hpp"
#include "test_support.hpp"

#include <netlite/netlite.hpp>
#include <netlite/testing.hpp>

#if !defined(_WIN32)
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#endif
#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

using netlite::IPv4;
using netlite::IPv6;
using netlite::Unix;
using netlite::testing::TempPath;

namespace {

// A directory itself, not a symlink to one.
bool is_directory(const std::string& path) {
    std::error_code error;
    return std::filesystem::symlink_status(path, error).type() == std::filesystem::file_type::directory;
}

// Sets (or, given nothing, removes) an environment variable; true on success.
bool set_env(const char* name, const std::optional<std::string>& value) {
#if defined(_WIN32)
    return ::_putenv_s(name, value ? value->c_str() : "") == 0;  // "" removes it
#else
    return value ? ::setenv(name, value->c_str(), 1) == 0 : ::unsetenv(name) == 0;
#endif
}

#define SKIP_WITHOUT_UNIX()                   \
    if (!netlite::testing::available<Unix>()) \
        NETLITE_SKIP("AF_UNIX is unavailable here (Windows: netlite has no Unix sockets under wine)");

std::string parent_of(const std::string& path) {
    return path.substr(0, path.rfind('/'));
}

std::string base_name(const std::string& path) {
    return path.substr(path.rfind('/') + 1);
}

// Whether a stream socket of `domain` can bind its loopback address, asked of the OS directly.
bool can_bind_loopback(int domain) {
    const netlite_test::handle fd = netlite_test::raw_stream_socket(domain);
    if (fd == netlite::detail::sys::invalid_handle) return false;
    int result = -1;
    if (domain == AF_INET) {
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        result = ::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address);
    } else {
        sockaddr_in6 address{};
        address.sin6_family = AF_INET6;
        address.sin6_addr = in6addr_loopback;
        result = ::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address);
    }
    netlite_test::close_handle(fd);
    return result == 0;
}

}  // namespace

// ---------------------------------------------------------------------------------------------------------
// TempPath

TEST_CASE("TempPath makes a private directory and a socket path in it", "[testing][temppath]") {
    auto temp = TempPath::create();
    REQUIRE_OK(temp);
    const std::string path = temp->path();
    const std::string dir = parent_of(path);
    REQUIRE_FALSE(path.empty());
    CHECK(path.front() == '/');
    CHECK(base_name(path) == "socket");
    CHECK(is_directory(dir));
    CHECK_FALSE(netlite_test::path_exists(path));  // nothing is created until a socket binds it
    CHECK(base_name(dir).rfind("netlite-", 0) == 0);
    // Private: only the owner may enter it.
    if (netlite_test::is_windows) {
        WARN("Windows has no POSIX mode bits: the directory's privacy is not checked there");
    } else {
        using std::filesystem::perms;
        const perms mode = std::filesystem::status(dir).permissions();
        CHECK((mode & (perms::group_all | perms::others_all)) == perms::none);
    }

    auto address = temp->address();
    CHECK(address.path() == path);
    CHECK_FALSE(address.is_abstract());

    auto other = TempPath::create();
    REQUIRE_OK(other);
    CHECK(other->path() != path);
    CHECK(parent_of(other->path()) != dir);
}

TEST_CASE("TempPath takes a file name", "[testing][temppath]") {
    auto temp = TempPath::create("server.sock");
    REQUIRE_OK(temp);
    CHECK(base_name(temp->path()) == "server.sock");
    CHECK(is_directory(parent_of(temp->path())));

    auto too_long = TempPath::create(std::string(netlite::Address<Unix>::max_path, 'n'));
    REQUIRE_FALSE(too_long.has_value());
    CHECK(too_long.error() == netlite::errc::path_too_long);
}

TEST_CASE("TempPath's destructor removes the directory and a socket bound in it", "[testing][temppath]") {
    SKIP_WITHOUT_UNIX()
    std::string path;
    std::string dir;
    SECTION("with the listener closed first") {
        {
            auto temp = TempPath::create();
            REQUIRE_OK(temp);
            path = temp->path();
            dir = parent_of(path);
            {
                auto listener = netlite::UnixListener::bind(temp->path());
                REQUIRE_OK(listener);
                CHECK(netlite_test::is_socket_file(path));
            }
            CHECK(netlite_test::is_socket_file(path));  // a closed listener leaves its file behind
        }
        CHECK_FALSE(netlite_test::path_exists(path));
        CHECK_FALSE(netlite_test::path_exists(dir));
    }
    SECTION("with the listener still open") {
        auto listener = netlite::Result<netlite::UnixListener>();
        {
            auto temp = TempPath::create();
            REQUIRE_OK(temp);
            path = temp->path();
            dir = parent_of(path);
            listener = netlite::UnixListener::bind(temp->path());
            REQUIRE_OK(listener);
        }
        CHECK_FALSE(netlite_test::path_exists(path));
        CHECK_FALSE(netlite_test::path_exists(dir));
        CHECK(listener->is_open());
    }
    SECTION("when nothing was bound") {
        {
            auto temp = TempPath::create();
            REQUIRE_OK(temp);
            path = temp->path();
            dir = parent_of(path);
        }
        CHECK_FALSE(netlite_test::path_exists(dir));
    }
}

TEST_CASE("TempPath moves", "[testing][temppath]") {
    SKIP_WITHOUT_UNIX()
    auto made = TempPath::create();
    REQUIRE_OK(made);
    const std::string path = made->path();
    const std::string dir = parent_of(path);
    std::optional<TempPath> source(std::move(*made));

    SECTION("construction: the source is empty and its destruction removes nothing") {
        {
            TempPath target(std::move(*source));
            CHECK(source->path().empty());
            CHECK(target.path() == path);
            { TempPath drained(std::move(*source)); }  // moving an empty one is harmless
            source.reset();                            // destroys the moved-from one
            CHECK(is_directory(dir));
            auto listener = netlite::UnixListener::bind(target.path());
            REQUIRE_OK(listener);
            CHECK(netlite_test::is_socket_file(path));
        }
        CHECK_FALSE(netlite_test::path_exists(path));
        CHECK_FALSE(netlite_test::path_exists(dir));
    }
    SECTION("assignment: the target's old directory is removed at once") {
        auto other = TempPath::create();
        REQUIRE_OK(other);
        std::optional<TempPath> target(std::move(*other));
        const std::string target_dir = parent_of(target->path());
        REQUIRE(is_directory(target_dir));
        *target = std::move(*source);
        CHECK_FALSE(netlite_test::path_exists(target_dir));
        CHECK(target->path() == path);
        CHECK(source->path().empty());
        source.reset();
        CHECK(is_directory(dir));
        target.reset();
        CHECK_FALSE(netlite_test::path_exists(dir));
    }
}

TEST_CASE("TempPath honours TMPDIR", "[testing][temppath]") {
    auto base = TempPath::create();  // a private place to point TMPDIR at
    REQUIRE_OK(base);
    const std::string base_dir = parent_of(base->path());
    const char* previous = std::getenv("TMPDIR");
    const std::optional<std::string> saved = previous ? std::optional<std::string>(previous) : std::nullopt;
    REQUIRE(set_env("TMPDIR", base_dir));
    auto inner = TempPath::create();
    REQUIRE(set_env("TMPDIR", saved));
    REQUIRE_OK(inner);
    CHECK(parent_of(parent_of(inner->path())) == base_dir);
    const std::string inner_dir = parent_of(inner->path());
    CHECK(is_directory(inner_dir));
    std::optional<TempPath>(std::move(*inner)).reset();
    CHECK_FALSE(netlite_test::path_exists(inner_dir));
    CHECK(is_directory(base_dir));  // only the inner directory went
}

// ---------------------------------------------------------------------------------------------------------
// loopback and loopback_pair

TEST_CASE("loopback<F>() is the loopback address with port 0", "[testing][loopback]") {
    CHECK(netlite::testing::loopback<IPv4>().to_string() == "127.0.0.1:0");
    CHECK(netlite::testing::loopback<IPv6>().to_string() == "[::1]:0");
    const auto ip = netlite::testing::loopback<netlite::IP>();
    CHECK(ip.is_v4());
    CHECK(ip.is_loopback());
    CHECK(ip.port() == 0);
}

TEMPLATE_TEST_CASE("loopback_pair gives two connected streams", "[testing][loopback]", IPv4, IPv6, Unix,
                   netlite::IP) {
    if (!netlite::testing::available<TestType>())
        NETLITE_SKIP("family unavailable here (no IPv6, or no AF_UNIX as on Windows)");
    const int before = open_fd_count();
    {
        auto pair = netlite::testing::loopback_pair<TestType>();
        REQUIRE_OK(pair);
        auto& [client, server] = *pair;
        REQUIRE(client.is_open());
        REQUIRE(server.is_open());
        CHECK(client.native_handle() != server.native_handle());
        // Exactly the two streams are open: the listener it used is gone.
        CHECK(open_fd_count() == before + 2);

        if constexpr (!std::is_same_v<TestType, Unix>) {
            const auto ends = netlite_test::require_connection_addresses(client, server);
            CHECK(ends.client_peer == ends.server_local);
            CHECK(ends.server_peer == ends.client_local);
            CHECK(ends.client_peer.is_loopback());
        }

        REQUIRE(client.write_all("to server").has_value());
        std::array<char, 9> buffer{};
        REQUIRE(server.read_exact(buffer).has_value());
        CHECK(std::string(buffer.data(), buffer.size()) == "to server");
        REQUIRE(server.write_all("to client").has_value());
        REQUIRE(client.read_exact(buffer).has_value());
        CHECK(std::string(buffer.data(), buffer.size()) == "to client");

        // Each call makes a new, independent pair.
        auto second = netlite::testing::loopback_pair<TestType>();
        REQUIRE_OK(second);
        CHECK(second->first.native_handle() != client.native_handle());
    }
    CHECK(open_fd_count() == before);
}

// ---------------------------------------------------------------------------------------------------------
// available

TEST_CASE("available<F>() matches what the OS allows", "[testing][available]") {
    const int before = open_fd_count();
    CHECK(netlite::testing::available<IPv4>() == can_bind_loopback(AF_INET));
    CHECK(netlite::testing::available<IPv6>() == can_bind_loopback(AF_INET6));
    CHECK(netlite::testing::available<netlite::IP>() == can_bind_loopback(AF_INET));
    if (netlite_test::is_windows)
        CHECK_FALSE(
            netlite::testing::available<Unix>());  // Winsock has no socketpair: netlite has no Unix pairs
    else
        CHECK(netlite::testing::available<Unix>());
    CHECK(open_fd_count() == before);  // the probes close what they open
}

TEST_CASE("available_families() lists the families this machine offers", "[testing][available]") {
    const auto families = netlite::testing::available_families();
    auto has = [&](std::string_view name) {
        return std::find(families.begin(), families.end(), name) != families.end();
    };
    CHECK(has("ipv4"));
    CHECK(has("unix") == !netlite_test::is_windows);
    CHECK(has("ipv6") == netlite::testing::available<IPv6>());
    CHECK(families.size() == 1u + (netlite::testing::available<IPv6>() ? 1u : 0u) + (has("unix") ? 1u : 0u));
    for (const auto& name : families) {
        INFO(name);
        CHECK((name == "ipv4" || name == "ipv6" || name == "unix"));
        CHECK(std::count(families.begin(), families.end(), name) == 1);
    }
}
