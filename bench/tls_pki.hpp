// tls_pki.hpp - what the TLS benchmarks (tls_bench, tls_idle) share: the netlite names they use, and a
// throwaway ECDSA P-256 CA and "localhost" server certificate (SANs localhost and 127.0.0.1), made in memory
// by the TLS tests' certificate maker (tests/tls_pki.hpp), with the contexts' options for them.
#pragma once

#include "../tests/tls_pki.hpp"

#include <netlite/tls.hpp>

#include <string>

namespace bench {

using netlite::TcpListener;
using netlite::TcpStream;
using netlite::TlsContext;
using netlite::TlsOptions;
using netlite::TlsStream;
using V4 = netlite::IPv4;

/// The CA, the server certificate and its key, as PEM text.
struct Pem : netlite_tls_test::LocalhostPem {
    /// A server's options with the certificate and its key.
    TlsOptions server_options() const {
        TlsOptions options;
        options.certificate.pem = cert;
        options.private_key.pem = key;
        return options;
    }
    /// A client's options trusting the CA.
    TlsOptions client_options() const {
        TlsOptions options;
        options.trust.pem = ca;
        return options;
    }
};

/// A throwaway ECDSA P-256 CA and server certificate, made in memory. Throws std::runtime_error when
/// OpenSSL cannot make them.
inline Pem make_pki() {
    return Pem{netlite_tls_test::make_localhost_pem("bench CA")};
}

}  // namespace bench
