// netlite/tls.hpp against real TLS peers on loopback: netlite × netlite, netlite client × openssl s_server
// and Python's ssl server, netlite server × openssl s_client, curl, Python and gnutls-cli; TLS 1.2 and 1.3,
// RSA and ECDSA, ALPN, mutual TLS, resumption; and the failures, each with its error and no descriptor
// leaked. The certificates are made at test time (tls_test_support.hpp), in a private temp directory.
#include "catch.hpp"
#include "test_support.hpp"
#include "tls_test_support.hpp"

#include <netlite/netlite.hpp>
#include <netlite/stop_token.hpp>
#include <netlite/tls.hpp>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using netlite::TcpListener;
using netlite::TcpStream;
using netlite::TlsContext;
using netlite::TlsOptions;
using netlite::TlsStream;
using namespace netlite_tls_test;

namespace {

std::uint16_t port_after_last_colon(const std::string& line) {
    return static_cast<std::uint16_t>(std::stoi(line.substr(line.rfind(':') + 1)));
}

/// A loopback listener on an ephemeral port.
struct Server {
    TcpListener<netlite::IPv4> listener = TcpListener<netlite::IPv4>::bind("127.0.0.1", 0).value();
    std::uint16_t port = listener.local_address().value().port();
};

/// The usual pair of contexts: the server with the test CA's localhost certificate, the client trusting it.
struct Contexts {
    TlsContext server;
    TlsContext client;
};
/// TlsContext::server(options) or TlsContext::client(options), REQUIREd to succeed.
TlsContext make_server_context(const TlsOptions& options) {
    auto context = TlsContext::server(options);
    REQUIRE_OK(context);
    return std::move(*context);
}
TlsContext make_client_context(const TlsOptions& options) {
    auto context = TlsContext::client(options);
    REQUIRE_OK(context);
    return std::move(*context);
}

Contexts default_contexts() {
    return {make_server_context(server_options()), make_client_context(client_options())};
}

/// A netlite TLS server that accepts one connection on another thread and runs `serve` on it.
template <class Serve>
std::jthread serve_one(Server& server, const TlsContext& context, Serve serve) {
    return std::jthread([&server, context, serve]() mutable {
        auto accepted = server.listener.accept(10s);
        if (!accepted) return;
        serve(TlsStream<netlite::IPv4>::accept(context, std::move(accepted->stream), 10s));
    });
}

std::string hex(const std::array<std::uint8_t, 32>& bytes) {
    std::string text;
    char part[4];
    for (std::uint8_t byte : bytes) {
        std::snprintf(part, sizeof part, "%02X", byte);
        text += part;
    }
    return text;
}

}  // namespace

// --- netlite × netlite ------------------------------------------------------------------------------------

TEST_CASE("tls: a netlite client and server talk TLS 1.3 and 1.2, RSA and ECDSA", "[tls]") {
    const bool rsa = GENERATE(false, true);
    const auto version = GENERATE(netlite::TlsVersion::tls1_2, netlite::TlsVersion::tls1_3);
    const Identity& id = rsa ? pki().server_rsa : pki().server_ec;
    TlsOptions server_opts = server_options(id);
    server_opts.max_version = version;
    server_opts.alpn = {"h2", "http/1.1"};
    const TlsContext server_context = make_server_context(server_opts);
    TlsOptions client_opts = client_options();
    client_opts.alpn = {"http/1.1"};
    const TlsContext client_context = make_client_context(client_opts);

    Server server;
    std::string server_got;
    std::jthread thread = serve_one(server, server_context, [&](auto tls) {
        if (!tls) return;
        auto all = tls->read_to_end(10s);  // until the client's close_notify
        if (!all) return;
        server_got = *all;
        (void)tls->write_all(netlite::ConstBuffer("pong"), 10s);
        (void)tls->shutdown(10s);
    });
    const int fds_before = open_fd_count();
    {
        auto tls = TlsStream<>::connect(client_context, "localhost", server.port, 10s);
        REQUIRE_OK(tls);
        CHECK(tls->version() == (version == netlite::TlsVersion::tls1_3 ? "TLSv1.3" : "TLSv1.2"));
        CHECK_FALSE(tls->cipher().empty());
        CHECK(tls->alpn_protocol() == "http/1.1");
        CHECK(tls->peer_subject() == "CN=localhost,O=netlite test");
        CHECK(tls->peer_names() == std::vector<std::string>{"localhost", "127.0.0.1", "::1"});
        CHECK(hex(tls->peer_fingerprint()).size() == 64);
        CHECK(tls->native_handle() != nullptr);
        REQUIRE_OK(tls->write_all(netlite::ConstBuffer("ping"), 10s));
        REQUIRE_OK(tls->shutdown(10s));
        auto reply = tls->read_to_end(10s);
        REQUIRE_OK(reply);
        CHECK(*reply == "pong");
    }
    thread.join();
    CHECK(server_got == "ping");
    CHECK(open_fd_count() == fds_before);
}

TEST_CASE("tls: the server's certificate fingerprint is its SHA-256", "[tls]") {
    auto [server_context, client_context] = default_contexts();
    Server server;
    std::jthread thread = serve_one(server, server_context, [](auto tls) {
        if (tls) (void)tls->shutdown(10s);
    });
    auto tls = TlsStream<>::connect(client_context, "127.0.0.1", server.port, 10s);  // IP SAN, no SNI
    REQUIRE_OK(tls);
    thread.join();
    Peer x509({"openssl", "x509", "-noout", "-fingerprint", "-sha256", "-in", pki().server_ec.cert_file});
    auto line = x509.line_with("Fingerprint=");
    REQUIRE(line);
    std::string expected = line->substr(line->find('=') + 1);
    std::erase(expected, ':');
    CHECK(hex(tls->peer_fingerprint()) == expected);
}

TEST_CASE("tls: mutual TLS: the server sees the client's certificate; without one it refuses", "[tls]") {
    TlsOptions server_opts = server_options();
    server_opts.client_auth = netlite::ClientAuth::required;
    server_opts.trust.pem = pki().ca_pem;  // trust from PEM text
    const TlsContext server_context = make_server_context(server_opts);

    SECTION("with a client certificate (PEM text)") {
        TlsOptions client_opts = client_options();
        client_opts.certificate.pem = pki().client.cert_pem;
        client_opts.private_key.pem = pki().client.key_pem;
        const TlsContext client_context = make_client_context(client_opts);
        Server server;
        std::string seen;
        std::jthread thread = serve_one(server, server_context, [&](auto tls) {
            if (!tls) return;
            seen = tls->peer_subject();
            (void)tls->shutdown(10s);
        });
        auto tls = TlsStream<>::connect(client_context, "localhost", server.port, 10s);
        REQUIRE_OK(tls);
        CHECK(tls->read_to_end(10s).value_or("x").empty());
        thread.join();
        CHECK(seen == "CN=netlite test client,O=netlite test");
    }
    SECTION("without one") {
        const TlsContext client_context = make_client_context(client_options());
        Server server;
        std::string server_error;
        std::jthread thread = serve_one(server, server_context, [&](auto tls) {
            server_error = tls ? std::string("ok") : tls.error().message();
        });
        const int fds_before = open_fd_count();
        {
            auto tls = TlsStream<>::connect(client_context, "localhost", server.port, 10s);
            // TLS 1.3: the client's handshake ends before the server checks; its refusal comes with the
            // first read.
            if (tls) CHECK_FALSE(tls->read_to_end(10s).has_value());
        }
        thread.join();
        CHECK(server_error == "tls handshake: peer did not return a certificate");
        CHECK(open_fd_count() == fds_before);
    }
}

TEST_CASE("tls: a client session cache resumes sessions", "[tls]") {
    const TlsContext server_context = make_server_context(server_options());
    TlsOptions client_opts = client_options();
    client_opts.session_cache = true;
    const TlsContext client_context = make_client_context(client_opts);
    Server server;
    std::jthread thread([&] {
        for (int i = 0; i < 2; ++i) {
            auto accepted = server.listener.accept(10s);
            if (!accepted) return;
            auto tls = TlsStream<netlite::IPv4>::accept(server_context, std::move(accepted->stream), 10s);
            if (!tls) return;
            (void)tls->write_all(netlite::ConstBuffer("hi"), 10s);
            (void)tls->shutdown(10s);
        }
    });
    std::vector<bool> resumed;
    for (int i = 0; i < 2; ++i) {
        auto tls = TlsStream<>::connect(client_context, "localhost", server.port, 10s);
        REQUIRE_OK(tls);
        REQUIRE(tls->read_to_end(10s).value_or("") == "hi");  // TLS 1.3 tickets come after the handshake
        resumed.push_back(tls->session_resumed());
    }
    thread.join();
    CHECK(resumed == std::vector<bool>{false, true});
}

TEST_CASE("tls: evented: try_handshake, try_write and try_read say what to wait for", "[tls]") {
    auto [server_context, client_context] = default_contexts();
    auto pair = netlite::testing::loopback_pair<netlite::IPv4>();
    REQUIRE_OK(pair);
    auto client = TlsStream<netlite::IPv4>::start_client(client_context, std::move(pair->first), "localhost");
    auto server = TlsStream<netlite::IPv4>::start_server(server_context, std::move(pair->second));
    REQUIRE_OK(client);
    REQUIRE_OK(server);
    auto first = server->try_handshake();  // nothing has arrived yet
    REQUIRE_OK(first);
    CHECK_FALSE(*first);
    CHECK(server->wait_for() == netlite::TlsWait::readable);
    bool client_done = false, server_done = false;
    for (int round = 0; round < 20 && !(client_done && server_done); ++round) {  // one thread, both ends
        if (!client_done) client_done = client->try_handshake().value();
        if (!server_done) server_done = server->try_handshake().value();
        // What a readiness loop does: wait for what each unfinished side asked for (bounded).
        std::vector<pollfd> waits;
        for (auto* side : {&*client, &*server})
            if (side->wait_for() != netlite::TlsWait::none)
                waits.push_back(pollfd{
                    side->tcp().native_handle(),
                    side->wait_for() == netlite::TlsWait::readable ? short(POLLIN) : short(POLLOUT), 0});
        if (!(client_done && server_done)) REQUIRE(::poll(waits.data(), waits.size(), 10000) > 0);
    }
    REQUIRE(client_done);
    REQUIRE(server_done);
    char none[1];
    auto nothing = client->try_read(netlite::MutableBuffer(none, sizeof none));
    REQUIRE_OK(nothing);
    CHECK_FALSE(*nothing);
    REQUIRE(client->try_write(netlite::ConstBuffer("hello")).value() == std::optional<std::size_t>(5));
    char buffer[2];
    std::optional<std::size_t> got;
    for (int round = 0; round < 10 && !got; ++round) {
        got = server->try_read(netlite::MutableBuffer(buffer, sizeof buffer)).value();
        pollfd entry{server->tcp().native_handle(), POLLIN, 0};
        if (!got) REQUIRE(::poll(&entry, 1, 10000) == 1);  // wait as the evented loop would
    }
    REQUIRE(got == std::optional<std::size_t>(2));
    CHECK(server->pending() == 3);  // the rest of the record is decrypted and buffered
}

TEST_CASE("tls: Until at its extremes, empty buffers, and a Unix-domain stream underneath", "[tls]") {
    auto [server_context, client_context] = default_contexts();
    auto pair = TcpStream<netlite::Unix>::pair();
    REQUIRE_OK(pair);
    std::jthread server_thread([&, stream = std::move(pair->second)]() mutable {
        auto tls = TlsStream<netlite::Unix>::accept(server_context, std::move(stream), 10s);
        if (!tls) return;
        char byte = 0;
        if (tls->read(netlite::MutableBuffer(&byte, 1), 10s).value_or(0) == 1)  // then answer
            (void)tls->write_all(netlite::ConstBuffer("ok"), std::chrono::hours::max());
        (void)tls->read_to_end(10s);
    });
    auto tls = TlsStream<netlite::Unix>::client(client_context, std::move(pair->first), "localhost",
                                                std::chrono::nanoseconds::max());
    REQUIRE_OK(tls);
    char buffer[2];
    for (const netlite::Until& at_once :
         {netlite::Until(std::chrono::nanoseconds::min()), netlite::Until(std::chrono::nanoseconds(0)),
          netlite::Until(std::chrono::steady_clock::time_point::min())}) {
        auto nothing = tls->read(netlite::MutableBuffer(buffer, sizeof buffer), at_once);
        REQUIRE_FALSE(nothing);
        CHECK(nothing.error() == std::errc::timed_out);
    }
    CHECK(tls->read(netlite::MutableBuffer(buffer, 0), 10s).value() == 0);  // nothing asked for
    CHECK(tls->write(netlite::ConstBuffer(buffer, 0), 10s).value() == 0);
    REQUIRE_OK(tls->write_all(netlite::ConstBuffer("?"), std::chrono::seconds::max()));
    REQUIRE_OK(tls->read_exact(netlite::MutableBuffer(buffer, sizeof buffer), std::chrono::hours::max()));
    CHECK(std::string(buffer, 2) == "ok");
    REQUIRE_OK(tls->shutdown(10s));
}

TEST_CASE("tls: read_exact reports how much arrived before close_notify", "[tls]") {
    auto [server_context, client_context] = default_contexts();
    Server server;
    std::jthread thread = serve_one(server, server_context, [](auto tls) {
        if (!tls) return;
        (void)tls->write_all(netlite::ConstBuffer("abc"), 10s);
        (void)tls->shutdown(10s);
        (void)tls->read_to_end(10s);
    });
    auto tls = TlsStream<>::connect(client_context, "localhost", server.port, 10s);
    REQUIRE_OK(tls);
    char buffer[8];
    auto done = tls->read_exact(netlite::MutableBuffer(buffer, sizeof buffer), 10s);
    REQUIRE_FALSE(done);
    CHECK(done.error() == netlite::errc::unexpected_eof);
    CHECK(done.error().bytes_transferred() == 3);
    REQUIRE_OK(tls->shutdown(10s));
}

TEST_CASE("tls: release_buffers sets SSL_MODE_RELEASE_BUFFERS and the connection still talks TLS", "[tls]") {
    TlsOptions server_opts = server_options();
    server_opts.release_buffers = true;
    TlsOptions client_opts = client_options();
    client_opts.release_buffers = true;
    const TlsContext server_context = make_server_context(server_opts);
    const TlsContext client_context = make_client_context(client_opts);
    Server server;
    bool server_mode = false;
    std::jthread thread = serve_one(server, server_context, [&](auto tls) {
        if (!tls) return;
        server_mode = (SSL_get_mode(tls->native_handle()) & SSL_MODE_RELEASE_BUFFERS) != 0;
        char buffer[64];
        for (;;) {  // echo until close_notify: every record after an idle pause needs its buffers again
            auto got = tls->read(netlite::MutableBuffer(buffer, sizeof buffer), 10s);
            if (!got || *got == 0) break;
            if (!tls->write_all(netlite::ConstBuffer(buffer, *got), 10s)) return;
        }
        (void)tls->shutdown(10s);
    });
    auto tls = TlsStream<>::connect(client_context, "localhost", server.port, 10s);
    REQUIRE_OK(tls);
    CHECK((SSL_get_mode(tls->native_handle()) & SSL_MODE_RELEASE_BUFFERS) != 0);
    for (const char* message : {"one", "two", "three"}) {
        REQUIRE_OK(tls->write_all(netlite::ConstBuffer(message), 10s));
        std::string echoed(std::string_view(message).size(), '\0');
        REQUIRE_OK(tls->read_exact(netlite::MutableBuffer(echoed.data(), echoed.size()), 10s));
        CHECK(echoed == message);
    }
    REQUIRE_OK(tls->shutdown(10s));
    CHECK(tls->read_to_end(10s).value_or("x").empty());
    thread.join();
    CHECK(server_mode);
    // The default leaves the mode off (what the option changes).
    auto [plain_server, plain_client] = default_contexts();
    auto pair = netlite::testing::loopback_pair<netlite::IPv4>();
    REQUIRE_OK(pair);
    auto plain = TlsStream<netlite::IPv4>::start_client(plain_client, std::move(pair->first), "localhost");
    REQUIRE_OK(plain);
    CHECK((SSL_get_mode(plain->native_handle()) & SSL_MODE_RELEASE_BUFFERS) == 0);
}

// --- against other implementations
// --------------------------------------------------------------------------

TEST_CASE("tls: netlite client × openssl s_server (TLS 1.2, 1.3, RSA, ECDSA, resumption)", "[tls][interop]") {
    if (!have("openssl")) NETLITE_SKIP("openssl is not installed");
    const bool tls13 = GENERATE(false, true);
    const bool rsa = GENERATE(false, true);
    const Identity& id = rsa ? pki().server_rsa : pki().server_ec;
    Peer s_server({"openssl", "s_server", "-accept", "127.0.0.1:0", "-cert", id.cert_file, "-key",
                   id.key_file, tls13 ? "-tls1_3" : "-tls1_2", "-www"});
    auto ready = s_server.line_with("ACCEPT");
    REQUIRE(ready);
    const std::uint16_t port = port_after_last_colon(*ready);
    TlsOptions client_opts = client_options();
    client_opts.session_cache = true;
    const TlsContext context = make_client_context(client_opts);
    std::vector<bool> resumed;
    for (int i = 0; i < 2; ++i) {
        auto tls = TlsStream<>::connect(context, "localhost", port, 10s);
        REQUIRE_OK(tls);
        CHECK(tls->version() == (tls13 ? "TLSv1.3" : "TLSv1.2"));
        REQUIRE_OK(tls->write_all(netlite::ConstBuffer("GET / HTTP/1.0\r\n\r\n"), 10s));
        auto page = tls->read_to_end(10s);
        REQUIRE_OK(page);
        CHECK(page->starts_with("HTTP/1.0 200 ok"));
        resumed.push_back(tls->session_resumed());
    }
    CHECK(resumed == std::vector<bool>{false, true});
}

TEST_CASE("tls: netlite client × Python's ssl server, with ALPN", "[tls][interop]") {
    if (!have("python3")) NETLITE_SKIP("python3 is not installed");
    const std::string script =
        "import socket, ssl, sys\n"
        "ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)\n"
        "ctx.load_cert_chain(sys.argv[1], sys.argv[2])\n"
        "ctx.set_alpn_protocols(['h2', 'netlite-test'])\n"
        "listener = socket.create_server(('127.0.0.1', 0))\n"
        "print('PORT', listener.getsockname()[1], flush=True)\n"
        "conn, _ = listener.accept()\n"
        "tls = ctx.wrap_socket(conn, server_side=True)\n"
        "data = tls.recv(100)\n"
        "tls.sendall(b'python:' + data + b':' + tls.selected_alpn_protocol().encode())\n"
        "tls.unwrap().close()\n";
    Peer python({"python3", "-c", script, pki().server_rsa.cert_file, pki().server_rsa.key_file});
    auto ready = python.line_with("PORT ");
    REQUIRE(ready);
    TlsOptions client_opts = client_options();
    client_opts.alpn = {"netlite-test"};
    const TlsContext context = make_client_context(client_opts);
    auto tls = TlsStream<>::connect(context, "localhost",
                                    port_after_last_colon(std::string(":") + ready->substr(5)), 10s);
    REQUIRE_OK(tls);
    CHECK(tls->alpn_protocol() == "netlite-test");
    REQUIRE_OK(tls->write_all(netlite::ConstBuffer("hi"), 10s));
    auto reply = tls->read_to_end(10s);
    REQUIRE_OK(reply);
    CHECK(*reply == "python:hi:netlite-test");
}

TEST_CASE("tls: netlite client × gnutls-serv (TLS 1.2 and 1.3)", "[tls][interop]") {
    if (!have("gnutls-serv")) NETLITE_SKIP("gnutls-serv is not installed (Debian: gnutls-bin)");
    const bool tls13 = GENERATE(false, true);
    const TlsContext context = make_client_context(client_options());
    // gnutls-serv cannot report an ephemeral port: take one the OS just gave out, and retry if another
    // program took it before gnutls-serv bound it.
    for (int attempt = 0; attempt < 3; ++attempt) {
        const std::string port = std::to_string(Server().port);
        Peer server({"gnutls-serv", "--echo", "--port", port, "--x509certfile", pki().server_ec.cert_file,
                     "--x509keyfile", pki().server_ec.key_file, "--priority",
                     tls13 ? "NORMAL:-VERS-ALL:+VERS-TLS1.3" : "NORMAL:-VERS-ALL:+VERS-TLS1.2"});
        auto ready = server.line_with("listening on IPv4");
        if (!ready || ready->find("done") == std::string::npos) continue;
        auto tls =
            TlsStream<>::connect(context, "127.0.0.1", static_cast<std::uint16_t>(std::stoi(port)), 10s);
        REQUIRE_OK(tls);
        CHECK(tls->version() == (tls13 ? "TLSv1.3" : "TLSv1.2"));
        REQUIRE_OK(tls->write_all(netlite::ConstBuffer("echo me\n"), 10s));
        char buffer[8];
        REQUIRE_OK(tls->read_exact(netlite::MutableBuffer(buffer, sizeof buffer), 10s));
        CHECK(std::string(buffer, sizeof buffer) == "echo me\n");
        REQUIRE_OK(tls->shutdown(10s));
        return;
    }
    FAIL("gnutls-serv did not start on a free port in 3 attempts");
}

namespace {
/// A netlite echo-once server: reads one line, answers "netlite:" + it, sends close_notify. Returns
/// what it saw (ALPN and any error) through `seen`.
std::jthread line_server(Server& server, const TlsContext& context, std::string& seen) {
    return serve_one(server, context, [&seen](auto tls) {
        if (!tls) {
            seen = tls.error().message();
            return;
        }
        std::string line;
        char c = 0;
        while (line.size() < 1000 && tls->read(netlite::MutableBuffer(&c, 1), 10s).value_or(0) == 1 &&
               c != '\n')
            line += c;
        seen = "alpn=" + tls->alpn_protocol() + " line=" + line;
        (void)tls->write_all(netlite::ConstBuffer("netlite:" + line + "\n"), 10s);
        (void)tls->shutdown(10s);
    });
}
}  // namespace

TEST_CASE("tls: netlite server × openssl s_client, gnutls-cli, Python and curl", "[tls][interop]") {
    TlsOptions server_opts = server_options(pki().server_rsa);
    server_opts.alpn = {"http/1.1", "netlite-test"};
    const TlsContext context = make_server_context(server_opts);
    Server server;
    const std::string port = std::to_string(server.port);
    std::string seen;

    SECTION("openssl s_client, TLS 1.2 and 1.3") {
        if (!have("openssl")) NETLITE_SKIP("openssl is not installed");
        const bool tls13 = GENERATE(false, true);
        std::jthread thread = line_server(server, context, seen);
        Peer client({"openssl", "s_client", "-connect", "127.0.0.1:" + port, "-servername", "localhost",
                     "-verify_hostname", "localhost", "-CAfile", pki().ca_file, "-verify_return_error",
                     "-alpn", "netlite-test", tls13 ? "-tls1_3" : "-tls1_2", "-quiet", "-no_ign_eof"});
        client.send("hello\n");
        CHECK(client.line_with("netlite:hello"));
        thread.join();
        CHECK(seen == "alpn=netlite-test line=hello");
    }
    SECTION("gnutls-cli") {
        if (!have("gnutls-cli")) NETLITE_SKIP("gnutls-cli is not installed (Debian: gnutls-bin)");
        std::jthread thread = line_server(server, context, seen);
        Peer client(
            {"gnutls-cli", "--x509cafile", pki().ca_file, "--alpn", "netlite-test", "-p", port, "localhost"});
        client.send("gnutls\n");
        CHECK(client.line_with("netlite:gnutls"));
        client.close_stdin();
        thread.join();
        CHECK(seen == "alpn=netlite-test line=gnutls");
    }
    SECTION("Python's ssl client") {
        if (!have("python3")) NETLITE_SKIP("python3 is not installed");
        std::jthread thread = line_server(server, context, seen);
        Peer client({"python3", "-c",
                     "import socket, ssl, sys\n"
                     "ctx = ssl.create_default_context(cafile=sys.argv[1])\n"
                     "s = ctx.wrap_socket(socket.create_connection(('localhost', int(sys.argv[2]))), "
                     "server_hostname='localhost')\n"
                     "s.sendall(b'python\\n')\n"
                     "print(s.recv(100).decode().strip(), s.version(), flush=True)\n",
                     pki().ca_file, port});
        CHECK(client.line_with("netlite:python TLSv1.3"));
        thread.join();
        CHECK(seen == "alpn= line=python");
    }
    SECTION("curl (HTTPS)") {
        if (!have("curl")) NETLITE_SKIP("curl is not installed");
        std::jthread thread = serve_one(server, context, [&seen](auto tls) {
            if (!tls) return;
            std::string request;
            char c = 0;
            while (!request.ends_with("\r\n\r\n") &&
                   tls->read(netlite::MutableBuffer(&c, 1), 10s).value_or(0) == 1)
                request += c;
            seen = "alpn=" + tls->alpn_protocol() + " " + request.substr(0, request.find('\r'));
            (void)tls->write_all(
                netlite::ConstBuffer(std::string_view(
                    "HTTP/1.1 200 OK\r\nContent-Length: 6\r\nConnection: close\r\n\r\nhello\n")),
                10s);
            (void)tls->shutdown(10s);
        });
        Peer curl({"curl", "-sS", "--cacert", pki().ca_file, "https://localhost:" + port + "/tls"});
        CHECK(curl.line_with("hello"));
        thread.join();
        CHECK(seen == "alpn=http/1.1 GET /tls HTTP/1.1");
    }
}

// --- failures
// ---------------------------------------------------------------------------------------------------

namespace {
/// The error a netlite client gets connecting to a netlite server using `id`, with `client_opts`.
std::string client_error(const Identity& id, const TlsOptions& client_opts, const char* host = "localhost") {
    const TlsContext server_context = make_server_context(server_options(id));
    const TlsContext client_context = make_client_context(client_opts);
    Server server;
    std::jthread thread = serve_one(server, server_context, [](auto) {});
    const int fds_before = open_fd_count();
    std::string message;
    {
        auto tls = TlsStream<>::connect(client_context, host, server.port, 10s);
        message = tls ? "connected" : tls.error().message();
        if (!tls) CHECK(tls.error().category().name() == std::string("tls"));
    }
    thread.join();
    CHECK(open_fd_count() == fds_before);
    return message;
}
}  // namespace

TEST_CASE("tls: verification failures say why", "[tls][negative]") {
    CHECK(client_error(pki().wrong_name, client_options()) ==
          "tls handshake: certificate verify failed: hostname mismatch");
    CHECK(client_error(pki().wrong_name, client_options(), "127.0.0.1") ==
          "tls handshake: certificate verify failed: IP address mismatch");
    TlsOptions other_ca;
    other_ca.trust.file = pki().other_ca_file;
    CHECK(client_error(pki().server_ec, other_ca) ==
          "tls handshake: certificate verify failed: unable to get local issuer certificate");
    CHECK(client_error(pki().expired, client_options()) ==
          "tls handshake: certificate verify failed: certificate has expired");
    CHECK(client_error(pki().not_yet_valid, client_options()) ==
          "tls handshake: certificate verify failed: certificate is not yet valid");
}

TEST_CASE("tls: danger_accept_any_certificate is the one way past verification", "[tls][negative]") {
    TlsOptions anything;
    anything.trust.file = pki().other_ca_file;
    anything.danger_accept_any_certificate = true;
    CHECK(client_error(pki().wrong_name, anything) == "connected");
    CHECK(client_error(pki().expired, anything) == "connected");
}

TEST_CASE("tls: the system trust store does not trust the throwaway CA", "[tls][negative]") {
    CHECK(client_error(pki().server_ec, TlsOptions{}) ==
          "tls handshake: certificate verify failed: unable to get local issuer certificate");
}

TEST_CASE("tls: a TLS 1.1-only server is refused", "[tls][negative][interop]") {
    if (!have("openssl")) NETLITE_SKIP("openssl is not installed");
    Peer s_server({"openssl", "s_server", "-accept", "127.0.0.1:0", "-cert", pki().server_rsa.cert_file,
                   "-key", pki().server_rsa.key_file, "-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0", "-www"});
    auto ready = s_server.line_with("ACCEPT");
    REQUIRE(ready);
    const TlsContext context = make_client_context(client_options());
    const int fds_before = open_fd_count();
    {
        auto tls = TlsStream<>::connect(context, "localhost", port_after_last_colon(*ready), 10s);
        REQUIRE_FALSE(tls);
        CHECK(tls.error().message().starts_with("tls handshake: "));
        CHECK(tls.error().message().find("version") != std::string::npos);
    }
    CHECK(open_fd_count() == fds_before);
}

TEST_CASE("tls: a renegotiation the server asks for is refused", "[tls][negative][interop]") {
    if (!have("openssl")) NETLITE_SKIP("openssl is not installed");
    Peer s_server({"openssl", "s_server", "-accept", "127.0.0.1:0", "-cert", pki().server_ec.cert_file,
                   "-key", pki().server_ec.key_file, "-tls1_2"});
    auto ready = s_server.line_with("ACCEPT");
    REQUIRE(ready);
    const TlsContext context = make_client_context(client_options());
    auto tls = TlsStream<>::connect(context, "localhost", port_after_last_colon(*ready), 10s);
    REQUIRE_OK(tls);
    REQUIRE(s_server.line_with("CIPHER is"));  // s_server reads its commands once the handshake is done
    s_server.send("r\n");                      // s_server's command: renegotiate (a HelloRequest)
    std::string rest;
    auto done = tls->read_to_end(rest, 10s);
    REQUIRE_FALSE(done);  // the server ends the connection with an alert when its request is refused
    CHECK(done.error().category().name() == std::string("tls"));
    CHECK(done.error().message() == "tls read: sslv3 alert handshake failure");
    CHECK(s_server.rest_of_output().find("no renegotiation") != std::string::npos);  // what netlite said
}

TEST_CASE("tls: a server that answers in plain text is not TLS", "[tls][negative]") {
    const TlsContext context = make_client_context(client_options());
    Server server;
    std::jthread thread([&] {
        auto accepted = server.listener.accept(10s);
        if (!accepted) return;
        (void)accepted->stream.write_all(netlite::ConstBuffer("HTTP/1.1 400 Bad Request\r\n\r\n"), 10s);
        (void)accepted->stream.read_to_end(10s);
    });
    auto tls = TlsStream<>::connect(context, "localhost", server.port, 10s);
    REQUIRE_FALSE(tls);
    CHECK(tls.error().message() == "tls handshake: wrong version number");
    thread.join();
}

TEST_CASE("tls: a TCP close without close_notify mid-body is truncated, with the bytes read",
          "[tls][negative]") {
    auto [server_context, client_context] = default_contexts();
    Server server;
    std::jthread thread = serve_one(server, server_context, [](auto tls) {
        if (tls) (void)tls->write_all(netlite::ConstBuffer("partial body"), 10s);
        // the stream closes here: TCP FIN, no close_notify
    });
    auto tls = TlsStream<>::connect(client_context, "localhost", server.port, 10s);
    REQUIRE_OK(tls);
    std::string body;
    auto done = tls->read_to_end(body, 10s);
    thread.join();
    REQUIRE_FALSE(done);
    CHECK(done.error() == netlite::tls_errc::truncated);
    CHECK(done.error().bytes_transferred() == 12);
    CHECK(body == "partial body");
    CHECK(done.error().message() == "tls read: connection closed without close_notify (truncated)");
}

TEST_CASE("tls: writing to a peer that is gone is EPIPE or ECONNRESET, never SIGPIPE", "[tls][negative]") {
    auto [server_context, client_context] = default_contexts();
    Server server;
    std::jthread thread = serve_one(server, server_context, [](auto) {});  // handshakes, then closes
    auto tls = TlsStream<>::connect(client_context, "localhost", server.port, 10s);
    REQUIRE_OK(tls);
    thread.join();
    const std::string block(64 * 1024, 'x');
    std::optional<netlite::Error> failure;
    for (int i = 0; i < 1000 && !failure; ++i)  // the first writes may still be taken by the kernel
        if (auto sent = tls->write_all(netlite::ConstBuffer(block), 10s); !sent) failure = sent.error();
    REQUIRE(failure);
    CHECK((*failure == std::errc::broken_pipe || *failure == std::errc::connection_reset));
    CHECK(failure->message().starts_with("tls write: "));
}

TEST_CASE("tls: a silent peer during the handshake meets the deadline", "[tls][negative]") {
    const TlsContext context = make_client_context(client_options());
    Server server;  // the connection completes from the backlog; nobody ever answers
    const int fds_before = open_fd_count();
    const auto start = std::chrono::steady_clock::now();
    {
        auto tls = TlsStream<>::connect(context, "localhost", server.port, 200ms);
        REQUIRE_FALSE(tls);
        CHECK(tls.error() == std::errc::timed_out);
        CHECK(tls.error().message() == "tls handshake: Connection timed out");
    }
    CHECK(std::chrono::steady_clock::now() - start < 5s);
    CHECK(open_fd_count() == fds_before);
}

TEST_CASE("tls: a stop token cancels the handshake and a read", "[tls][negative]") {
    auto [server_context, client_context] = default_contexts();
    Server server;
    std::stop_source stop;

    SECTION("during the handshake") {
        // The "server" requests the stop once the ClientHello has arrived: the client is then waiting.
        std::jthread thread([&] {
            auto accepted = server.listener.accept(10s);
            char byte = 0;
            if (accepted) (void)accepted->stream.read(netlite::MutableBuffer(&byte, 1), 10s);
            stop.request_stop();
            if (accepted) (void)accepted->stream.read_to_end(10s);
        });
        auto tls = TlsStream<>::connect(client_context, "localhost", server.port, stop.get_token());
        thread.join();
        REQUIRE_FALSE(tls);
        CHECK(tls.error() == std::errc::operation_canceled);
    }
    SECTION("during a read") {
        std::jthread thread = serve_one(server, server_context, [&](auto tls) {
            stop.request_stop();  // after the handshake; the server never writes
            if (tls) (void)tls->read_to_end(10s);
        });
        auto tls = TlsStream<>::connect(client_context, "localhost", server.port, 10s);
        REQUIRE_OK(tls);
        char byte = 0;
        auto got = tls->read(netlite::MutableBuffer(&byte, 1), stop.get_token());
        REQUIRE_FALSE(got);
        CHECK(got.error() == std::errc::operation_canceled);
        CHECK(got.error().message() == "tls read: Operation canceled");
        (void)tls->shutdown(10s);
        thread.join();
    }
}

TEST_CASE("tls: contexts report bad options", "[tls][negative]") {
    TlsOptions no_certificate;
    auto server = TlsContext::server(no_certificate);
    REQUIRE_FALSE(server);
    CHECK(server.error() == netlite::tls_errc::missing_certificate);
    TlsOptions missing_ca;
    missing_ca.trust.file = pki().path("no-such-ca.pem");
    auto client = TlsContext::client(missing_ca);
    REQUIRE_FALSE(client);
    CHECK(client.error() == std::errc::no_such_file_or_directory);
    TlsOptions mismatched = server_options();
    mismatched.private_key.file = pki().server_rsa.key_file;
    auto wrong_key = TlsContext::server(mismatched);
    REQUIRE_FALSE(wrong_key);
    CHECK(wrong_key.error().message().starts_with("tls context: "));
    TlsOptions bad_alpn = client_options();
    bad_alpn.alpn = {""};
    CHECK(TlsContext::client(bad_alpn).error() == netlite::tls_errc::invalid_option);
}

// Each round makes fresh contexts: their first concurrent handshakes are where OpenSSL filled its lazy
// per-certificate cache from several threads at once (the trust store's CA; TSan saw one thread write a key
// identifier as another compared it, about 1 run in 10 before make_context settled the store), and where
// the session cache once handed one SSL_SESSION to connections of different threads.
TEST_CASE("tls: threads share one context", "[tls][threads]") {
    for (int round = 0; round < 5; ++round) {
        INFO("round " << round);
        const TlsContext server_context = make_server_context(server_options());
        TlsOptions client_opts = client_options();
        client_opts.session_cache = true;
        const TlsContext client_context = make_client_context(client_opts);
        Server server;
        constexpr int connections = 8;
        std::jthread acceptor([&] {
            std::vector<std::thread> handlers;
            for (int i = 0; i < connections; ++i) {
                auto accepted = server.listener.accept(10s);
                if (!accepted) break;
                handlers.emplace_back([&, stream = std::move(accepted->stream)]() mutable {
                    auto tls = TlsStream<netlite::IPv4>::accept(server_context, std::move(stream), 10s);
                    if (!tls) return;
                    char buffer[16];
                    auto got = tls->read(netlite::MutableBuffer(buffer, sizeof buffer), 10s);
                    if (got) (void)tls->write_all(netlite::ConstBuffer(buffer, *got), 10s);
                    (void)tls->shutdown(10s);
                });
            }
            for (std::thread& handler : handlers) handler.join();
        });
        std::vector<std::thread> clients;
        std::vector<std::string> replies(connections);
        for (int i = 0; i < connections; ++i)
            clients.emplace_back([&, i] {
                auto tls = TlsStream<>::connect(client_context, "localhost", server.port, 10s);
                if (!tls) return;
                const std::string message = "client " + std::to_string(i);
                (void)tls->write_all(netlite::ConstBuffer(message), 10s);
                replies[static_cast<std::size_t>(i)] = tls->read_to_end(10s).value_or("error");
            });
        for (std::thread& client : clients) client.join();
        acceptor.join();
        for (int i = 0; i < connections; ++i)
            CHECK(replies[static_cast<std::size_t>(i)] == "client " + std::to_string(i));
    }
}
