// Trivial program built against the packaged TLS component (netlite::tls, or pkg-config netlite-tls).
// No network: it makes a client context (which links OpenSSL's libssl) and checks that a server context
// without a certificate fails with netlite's own tls error. Prints one line; exit status 0 on success.
#include <netlite/tls.hpp>

#include <cstdio>

int main() {
    const netlite::TlsOptions options;  // the defaults: the system's trust store, TLS 1.2 at least
    auto client = netlite::TlsContext::client(options);
    if (!client || client->is_server()) {
        std::fprintf(stderr, "client context: %s\n",
                     client ? "made as a server" : client.error().message().c_str());
        return 1;
    }
    auto server = netlite::TlsContext::server(options);  // no certificate: must fail
    if (server || server.error() != netlite::tls_errc::missing_certificate) {
        std::fprintf(stderr,
                     "a server context without a certificate did not fail with missing_certificate\n");
        return 1;
    }
    std::printf("netlite::tls client context made, minimum version %s\n",
                options.min_version == netlite::TlsVersion::tls1_2 ? "TLS 1.2" : "TLS 1.3");
    return 0;
}
