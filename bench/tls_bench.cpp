// tls_bench - <netlite/tls.hpp> against a hand-written OpenSSL loop over the same kind of sockets
// (loopback TCP made by netlite, blocking, OpenSSL's own socket BIO via SSL_set_fd), in one process run:
//   handshakes/s   TLS 1.3, ECDSA P-256, full handshakes, one client thread and one server thread
//   resumed/s      the same with the client resuming its last session (TLS 1.3 ticket, PSK with ECDHE):
//                  each connection also carries one byte and the server's close_notify, which is how the
//                  client receives its next ticket; every resumed handshake is checked (SSL_session_reused)
//   bulk MiB/s     one connection, `bulk_mib` MiB in 16 KiB writes, TLS_AES_256_GCM_SHA384 and
//                  TLS_CHACHA20_POLY1305_SHA256
// With standalone Asio found at configure time (NETLITE_BENCH_HAVE_ASIO), a third contender:
// asio::ssl::stream<asio::ip::tcp::socket> with its synchronous calls (handshake, write, read_some) over
// its own loopback connections, set up the way Asio's documentation does (host_name_verification).
// Each measurement runs `rounds` times, the contenders alternating; the table gives the median and the
// range. Usage: tls_bench [handshakes] [bulk_mib] [rounds]   (defaults 300 256 5)
#include <netlite/netlite.hpp>
#include <netlite/tls.hpp>

#include "tls_pki.hpp"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <signal.h>

#if NETLITE_BENCH_HAVE_ASIO
#include <asio.hpp>
#include <asio/ssl.hpp>
#endif

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace bench;  // make_pki, Pem, and the netlite names both TLS benchmarks use

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

// --- raw OpenSSL: SSL_CTX with the same policy, blocking sockets, SSL_set_fd ---------------------------

SSL_CTX* raw_context(bool server, const Pem& pki, const char* suites) {
    SSL_CTX* ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
    SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
    SSL_CTX_set_ciphersuites(ctx, suites);
    if (server) {
        BIO* bio = BIO_new_mem_buf(pki.cert.data(), static_cast<int>(pki.cert.size()));
        X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
        BIO_free(bio);
        bio = BIO_new_mem_buf(pki.key.data(), static_cast<int>(pki.key.size()));
        EVP_PKEY* key = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
        BIO_free(bio);
        SSL_CTX_use_certificate(ctx, cert);
        SSL_CTX_use_PrivateKey(ctx, key);
        X509_free(cert);
        EVP_PKEY_free(key);
    } else {
        BIO* bio = BIO_new_mem_buf(pki.ca.data(), static_cast<int>(pki.ca.size()));
        X509* ca = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
        BIO_free(bio);
        X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx), ca);
        X509_free(ca);
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
    }
    return ctx;
}

// --- the measurements ----------------------------------------------------------------------------------

struct Pair {
    TcpStream<V4> client, server;
};
Pair connected(TcpListener<V4>& listener) {
    auto client = TcpStream<V4>::connect(listener.local_address().value());
    auto accepted = listener.accept();
    if (!client || !accepted) {
        std::fprintf(stderr, "tls_bench: loopback connect failed\n");
        std::exit(1);
    }
    (void)client->set_nodelay(true);
    (void)accepted->stream.set_nodelay(true);
    return {std::move(*client), std::move(accepted->stream)};
}

/// Handshakes per second over `count` fresh connections (each closed after its handshake).
/// A netlite client handshake offering only `suite` (set through native_handle(): TlsOptions keeps
/// OpenSSL's default list).
TlsStream<V4> netlite_client(const TlsContext& context, TcpStream<V4>&& tcp, const char* suite) {
    auto tls = TlsStream<V4>::start_client(context, std::move(tcp), "localhost").value();
    SSL_set_ciphersuites(tls.native_handle(), suite);
    tls.handshake().value();
    return tls;
}

double netlite_handshakes(int count, const TlsContext& client_ctx, const TlsContext& server_ctx,
                          TcpListener<V4>& listener, const char* suite) {
    const auto start = Clock::now();
    for (int i = 0; i < count; ++i) {
        Pair pair = connected(listener);
        std::thread server([&] { (void)TlsStream<V4>::accept(server_ctx, std::move(pair.server)).value(); });
        (void)netlite_client(client_ctx, std::move(pair.client), suite);
        server.join();
    }
    return count / seconds_since(start);
}

/// Fails the benchmark loudly: a "resumed" figure whose handshakes were not all resumed would be a lie.
void require_resumed(const char* who, int resumed, int count) {
    if (resumed == count) return;
    std::fprintf(stderr, "tls_bench: %s resumed %d of %d handshakes\n", who, resumed, count);
    std::exit(1);
}

/// Resumed handshakes per second: the server sends one byte and close_notify, the client reads to the
/// end (TLS 1.3 tickets arrive after the handshake) and counts session_resumed(). One untimed connection
/// first fills the client context's session cache (TlsOptions::session_cache).
double netlite_resumed(int count, const TlsContext& client_ctx, const TlsContext& server_ctx,
                       TcpListener<V4>& listener, const char* suite) {
    int resumed = 0;
    Clock::time_point start;
    for (int i = -1; i < count; ++i) {
        if (i == 0) start = Clock::now();
        Pair pair = connected(listener);
        std::thread server([&] {
            auto tls = TlsStream<V4>::accept(server_ctx, std::move(pair.server)).value();
            tls.write_all(netlite::ConstBuffer("x", 1)).value();
            tls.shutdown().value();
        });
        auto client = netlite_client(client_ctx, std::move(pair.client), suite);
        if (client.read_to_end().value() != "x") std::abort();
        if (i >= 0 && client.session_resumed()) ++resumed;
        server.join();
    }
    const double rate = count / seconds_since(start);
    require_resumed("netlite", resumed, count);
    return rate;
}

double raw_handshakes(int count, SSL_CTX* client_ctx, SSL_CTX* server_ctx, TcpListener<V4>& listener) {
    const auto start = Clock::now();
    for (int i = 0; i < count; ++i) {
        Pair pair = connected(listener);
        std::thread server([&] {
            SSL* ssl = SSL_new(server_ctx);
            SSL_set_fd(ssl, pair.server.native_handle());
            if (SSL_accept(ssl) != 1) std::abort();
            SSL_free(ssl);
        });
        SSL* ssl = SSL_new(client_ctx);
        SSL_set_fd(ssl, pair.client.native_handle());
        SSL_set_tlsext_host_name(ssl, "localhost");
        SSL_set1_host(ssl, "localhost");
        if (SSL_connect(ssl) != 1) std::abort();
        server.join();
        SSL_free(ssl);
    }
    return count / seconds_since(start);
}

/// The raw loop resuming with SSL_get1_session / SSL_set_session (the newest session, taken after the
/// client has read to the server's close_notify, so it carries the ticket that came after the handshake).
double raw_resumed(int count, SSL_CTX* client_ctx, SSL_CTX* server_ctx, TcpListener<V4>& listener) {
    SSL_SESSION* session = nullptr;
    int resumed = 0;
    Clock::time_point start;
    for (int i = -1; i < count; ++i) {
        if (i == 0) start = Clock::now();
        Pair pair = connected(listener);
        std::thread server([&] {
            SSL* ssl = SSL_new(server_ctx);
            SSL_set_fd(ssl, pair.server.native_handle());
            if (SSL_accept(ssl) != 1 || SSL_write(ssl, "x", 1) != 1 || SSL_shutdown(ssl) < 0) std::abort();
            SSL_free(ssl);
        });
        SSL* ssl = SSL_new(client_ctx);
        SSL_set_fd(ssl, pair.client.native_handle());
        SSL_set_tlsext_host_name(ssl, "localhost");
        SSL_set1_host(ssl, "localhost");
        if (session) SSL_set_session(ssl, session);
        if (SSL_connect(ssl) != 1) std::abort();
        char byte[16];
        if (SSL_read(ssl, byte, sizeof byte) != 1 || SSL_read(ssl, byte, sizeof byte) != 0) std::abort();
        if (i >= 0 && SSL_session_reused(ssl) == 1) ++resumed;
        // Freed without close_notify sent, OpenSSL would mark the session not resumable; the peer's
        // close_notify arrived, so this connection ended cleanly (netlite's Connection does the same).
        SSL_set_shutdown(ssl, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
        SSL_SESSION_free(session);
        session = SSL_get1_session(ssl);
        server.join();
        SSL_free(ssl);
    }
    const double rate = count / seconds_since(start);
    SSL_SESSION_free(session);
    require_resumed("raw OpenSSL", resumed, count);
    return rate;
}

#if NETLITE_BENCH_HAVE_ASIO
// --- Asio: asio::ssl::context configured through Asio's API, synchronous ssl::stream calls -------------

using AsioTcp = asio::ip::tcp;
using AsioTls = asio::ssl::stream<AsioTcp::socket>;

/// An Asio context with the same policy as raw_context (TLS 1.3 only, one suite, no renegotiation).
asio::ssl::context asio_context(bool server, const Pem& pki, const char* suites) {
    asio::ssl::context ctx(server ? asio::ssl::context::tls_server : asio::ssl::context::tls_client);
    ctx.set_options(asio::ssl::context::no_sslv2 | asio::ssl::context::no_sslv3 |
                    asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1 |
                    asio::ssl::context::no_tlsv1_2 | asio::ssl::context::no_compression);
    SSL_CTX_set_options(ctx.native_handle(), SSL_OP_NO_RENEGOTIATION);
    SSL_CTX_set_ciphersuites(ctx.native_handle(), suites);
    if (server) {
        ctx.use_certificate_chain(asio::buffer(pki.cert));
        ctx.use_private_key(asio::buffer(pki.key), asio::ssl::context::pem);
    } else {
        ctx.add_certificate_authority(asio::buffer(pki.ca));
        ctx.set_verify_mode(asio::ssl::verify_peer);
    }
    return ctx;
}

struct AsioPair {
    AsioTcp::socket client, server;
};
AsioPair asio_connected(asio::io_context& io, AsioTcp::acceptor& acceptor) {
    AsioTcp::socket client(io), server(io);
    client.connect(acceptor.local_endpoint());
    acceptor.accept(server);
    client.set_option(AsioTcp::no_delay(true));
    server.set_option(AsioTcp::no_delay(true));
    return {std::move(client), std::move(server)};
}

/// A client handshake as Asio's documentation writes it: SNI, host_name_verification, handshake().
void asio_client_handshake(AsioTls& tls) {
    SSL_set_tlsext_host_name(tls.native_handle(), "localhost");
    tls.set_verify_callback(asio::ssl::host_name_verification("localhost"));
    tls.handshake(asio::ssl::stream_base::client);
}

double asio_handshakes(int count, asio::ssl::context& client_ctx, asio::ssl::context& server_ctx,
                       asio::io_context& io, AsioTcp::acceptor& acceptor) {
    const auto start = Clock::now();
    for (int i = 0; i < count; ++i) {
        AsioPair pair = asio_connected(io, acceptor);
        AsioTls server_tls(std::move(pair.server), server_ctx);
        std::thread server([&] { server_tls.handshake(asio::ssl::stream_base::server); });
        AsioTls client_tls(std::move(pair.client), client_ctx);
        asio_client_handshake(client_tls);
        server.join();
    }
    return count / seconds_since(start);
}
#endif

#if NETLITE_BENCH_HAVE_ASIO
/// Asio resuming through native_handle() (Asio has no session API): SSL_set_session before handshake(),
/// SSL_get1_session after reading to the server's close_notify (asio::error::eof).
double asio_resumed(int count, asio::ssl::context& client_ctx, asio::ssl::context& server_ctx,
                    asio::io_context& io, AsioTcp::acceptor& acceptor) {
    SSL_SESSION* session = nullptr;
    int resumed = 0;
    Clock::time_point start;
    for (int i = -1; i < count; ++i) {
        if (i == 0) start = Clock::now();
        AsioPair pair = asio_connected(io, acceptor);
        AsioTls server_tls(std::move(pair.server), server_ctx);
        std::thread server([&] {
            server_tls.handshake(asio::ssl::stream_base::server);
            asio::write(server_tls, asio::buffer("x", 1));
            asio::error_code ignored;  // Asio's shutdown waits for the client's close_notify: none comes
            server_tls.shutdown(ignored);
        });
        {
            AsioTls client_tls(std::move(pair.client), client_ctx);
            if (session) SSL_set_session(client_tls.native_handle(), session);
            asio_client_handshake(client_tls);
            char byte[16];
            asio::error_code end;
            if (client_tls.read_some(asio::buffer(byte)) != 1 ||
                client_tls.read_some(asio::buffer(byte), end) != 0 || end != asio::error::eof)
                std::abort();
            if (i >= 0 && SSL_session_reused(client_tls.native_handle()) == 1) ++resumed;
            SSL_set_shutdown(client_tls.native_handle(), SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
            SSL_SESSION_free(session);
            session = SSL_get1_session(client_tls.native_handle());
        }  // the client's socket closes here, which ends the server's shutdown()
        server.join();
    }
    const double rate = count / seconds_since(start);
    SSL_SESSION_free(session);
    require_resumed("Asio", resumed, count);
    return rate;
}
#endif

constexpr std::size_t chunk = 16 * 1024;

/// MiB/s moving `mib` MiB one way in 16 KiB writes, the reader on another thread.
double netlite_bulk(std::size_t mib, const TlsContext& client_ctx, const TlsContext& server_ctx,
                    TcpListener<V4>& listener, const char* suite) {
    Pair pair = connected(listener);
    std::optional<TlsStream<V4>> server_tls;
    std::thread server(
        [&] { server_tls.emplace(TlsStream<V4>::accept(server_ctx, std::move(pair.server)).value()); });
    auto client = netlite_client(client_ctx, std::move(pair.client), suite);
    if (client.cipher() != suite) std::abort();
    server.join();
    const std::size_t total = mib * 1024 * 1024;
    std::vector<char> out(chunk, 'x');
    const auto start = Clock::now();
    std::thread reader([&] {
        std::vector<char> in(chunk);
        for (std::size_t got = 0; got < total;)
            got += server_tls->read(netlite::MutableBuffer(in.data(), chunk)).value();
    });
    for (std::size_t sent = 0; sent < total; sent += chunk)
        client.write_all(netlite::ConstBuffer(out.data(), chunk)).value();
    reader.join();
    return static_cast<double>(mib) / seconds_since(start);
}

double raw_bulk(std::size_t mib, SSL_CTX* client_ctx, SSL_CTX* server_ctx, TcpListener<V4>& listener) {
    Pair pair = connected(listener);
    SSL* server_ssl = SSL_new(server_ctx);
    SSL_set_fd(server_ssl, pair.server.native_handle());
    std::thread server([&] {
        if (SSL_accept(server_ssl) != 1) std::abort();
    });
    SSL* client_ssl = SSL_new(client_ctx);
    SSL_set_fd(client_ssl, pair.client.native_handle());
    SSL_set1_host(client_ssl, "localhost");
    if (SSL_connect(client_ssl) != 1) std::abort();
    server.join();
    const std::size_t total = mib * 1024 * 1024;
    std::vector<char> out(chunk, 'x');
    const auto start = Clock::now();
    std::thread reader([&] {
        std::vector<char> in(chunk);
        for (std::size_t got = 0; got < total;) {
            const int n = SSL_read(server_ssl, in.data(), static_cast<int>(chunk));
            if (n <= 0) std::abort();
            got += static_cast<std::size_t>(n);
        }
    });
    for (std::size_t sent = 0; sent < total; sent += chunk)
        if (SSL_write(client_ssl, out.data(), static_cast<int>(chunk)) != static_cast<int>(chunk))
            std::abort();
    reader.join();
    const double rate = static_cast<double>(mib) / seconds_since(start);
    SSL_free(client_ssl);
    SSL_free(server_ssl);
    return rate;
}

#if NETLITE_BENCH_HAVE_ASIO
double asio_bulk(std::size_t mib, asio::ssl::context& client_ctx, asio::ssl::context& server_ctx,
                 asio::io_context& io, AsioTcp::acceptor& acceptor) {
    AsioPair pair = asio_connected(io, acceptor);
    AsioTls server_tls(std::move(pair.server), server_ctx);
    std::thread server([&] { server_tls.handshake(asio::ssl::stream_base::server); });
    AsioTls client_tls(std::move(pair.client), client_ctx);
    asio_client_handshake(client_tls);
    server.join();
    const std::size_t total = mib * 1024 * 1024;
    std::vector<char> out(chunk, 'x');
    const auto start = Clock::now();
    std::thread reader([&] {
        std::vector<char> in(chunk);
        for (std::size_t got = 0; got < total;) got += server_tls.read_some(asio::buffer(in));
    });
    for (std::size_t sent = 0; sent < total; sent += chunk) asio::write(client_tls, asio::buffer(out));
    reader.join();
    return static_cast<double>(mib) / seconds_since(start);
}
#endif

struct Spread {
    double median, low, high;
};
Spread spread(std::vector<double> values) {
    std::sort(values.begin(), values.end());
    return {values[values.size() / 2], values.front(), values.back()};
}

/// One table row: netlite, raw OpenSSL and (if measured) Asio, then netlite's ratio to each median.
void row(const char* what, const char* unit, const std::vector<double>& netlite,
         const std::vector<double>& raw, const std::vector<double>& asio) {
    const Spread a = spread(netlite), b = spread(raw);
    std::printf("%-36s %8.1f (%.1f-%.1f) %8.1f (%.1f-%.1f)", what, a.median, a.low, a.high, b.median, b.low,
                b.high);
    if (asio.empty()) {
        std::printf(" %s   %.3fx\n", unit, a.median / b.median);
        return;
    }
    const Spread c = spread(asio);
    std::printf(" %8.1f (%.1f-%.1f) %s   %.3fx %.3fx\n", c.median, c.low, c.high, unit, a.median / b.median,
                a.median / c.median);
}

}  // namespace

int main(int argc, char** argv) {
    ::signal(SIGPIPE, SIG_IGN);  // for the raw loop: OpenSSL's socket BIO writes with plain send()
    const int handshakes = argc > 1 ? std::atoi(argv[1]) : 300;
    const std::size_t bulk_mib = argc > 2 ? static_cast<std::size_t>(std::atoi(argv[2])) : 256;
    const int rounds = argc > 3 ? std::atoi(argv[3]) : 5;
    const Pem pki = make_pki();
    auto listener = TcpListener<V4>::bind("127.0.0.1", 0).value();

#if NETLITE_BENCH_HAVE_ASIO
    asio::io_context io;
    AsioTcp::acceptor acceptor(io, AsioTcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    std::printf("%-36s netlite, raw OpenSSL, Asio: median (range); ratios netlite/raw netlite/Asio\n", "");
#else
    std::printf("%-36s netlite, raw OpenSSL: median (range); ratio netlite/raw (no Asio found)\n", "");
#endif
    for (const char* suite : {"TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"}) {
        TlsOptions client_options = pki.client_options();
        client_options.min_version = netlite::TlsVersion::tls1_3;
        TlsOptions server_options = pki.server_options();
        server_options.min_version = netlite::TlsVersion::tls1_3;
        auto client_ctx = TlsContext::client(client_options).value();
        client_options.session_cache = true;
        auto caching_client_ctx = TlsContext::client(client_options).value();
        auto server_ctx = TlsContext::server(server_options).value();
        SSL_CTX* raw_client = raw_context(false, pki, suite);
        SSL_CTX* raw_server = raw_context(true, pki, suite);
        std::vector<double> hs_netlite, hs_raw, hs_asio, re_netlite, re_raw, re_asio, bulk_netlite, bulk_raw,
            bulk_asio;
#if NETLITE_BENCH_HAVE_ASIO
        auto asio_client = asio_context(false, pki, suite);
        auto asio_server = asio_context(true, pki, suite);
#endif
        for (int round = 0; round < rounds; ++round) {
            hs_netlite.push_back(netlite_handshakes(handshakes, client_ctx, server_ctx, listener, suite));
            hs_raw.push_back(raw_handshakes(handshakes, raw_client, raw_server, listener));
#if NETLITE_BENCH_HAVE_ASIO
            hs_asio.push_back(asio_handshakes(handshakes, asio_client, asio_server, io, acceptor));
#endif
            re_netlite.push_back(
                netlite_resumed(handshakes, caching_client_ctx, server_ctx, listener, suite));
            re_raw.push_back(raw_resumed(handshakes, raw_client, raw_server, listener));
#if NETLITE_BENCH_HAVE_ASIO
            re_asio.push_back(asio_resumed(handshakes, asio_client, asio_server, io, acceptor));
#endif
            bulk_netlite.push_back(netlite_bulk(bulk_mib, client_ctx, server_ctx, listener, suite));
            bulk_raw.push_back(raw_bulk(bulk_mib, raw_client, raw_server, listener));
#if NETLITE_BENCH_HAVE_ASIO
            bulk_asio.push_back(asio_bulk(bulk_mib, asio_client, asio_server, io, acceptor));
#endif
        }
        std::printf("-- %s\n", suite);
        row("full handshakes, TLS 1.3 ECDSA P-256", "/s", hs_netlite, hs_raw, hs_asio);
        row("resumed handshakes, TLS 1.3 ticket", "/s", re_netlite, re_raw, re_asio);
        row("bulk, 16 KiB writes", "MiB/s", bulk_netlite, bulk_raw, bulk_asio);
        SSL_CTX_free(raw_client);
        SSL_CTX_free(raw_server);
    }
    return 0;
}
