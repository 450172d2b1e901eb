// SPDX-License-Identifier: BSL-1.0
// netlite/tls_options.hpp - what a TlsContext is made from (<netlite/tls.hpp>): trust, certificate and key,
// versions, ALPN, client certificates, session resumption. No TLS library header is included here.
#pragma once

#include <netlite/detail/config.hpp>

#include <optional>
#include <string>
#include <vector>

namespace netlite {

/// The lowest TLS version a context accepts (TLS 1.2 unless lowered under a danger_ name).
enum class TlsVersion { tls1_2, tls1_3 };

/// Whether a server asks connecting clients for a certificate (mutual TLS).
enum class ClientAuth {
    none,      ///< no client certificate is requested
    optional,  ///< requested and verified when sent; a client without one is let in
    required,  ///< a client without a valid certificate fails the handshake
};

/// Where trust, a certificate chain or a key comes from: a file, a directory (CA only) or PEM text.
struct TlsSource {
    std::string file;  ///< a PEM file
    std::string dir;   ///< a hashed CA directory (c_rehash); only for trust
    std::string pem;   ///< PEM text in memory
    /// True when none is set.
    bool empty() const noexcept { return file.empty() && dir.empty() && pem.empty(); }
};

/// Everything a TlsContext is made from; TlsContext::client() and TlsContext::server() fill the role.
struct TlsOptions {
    /// Trust for the peer's certificate: empty = the system's trust store (client); for a server, the CAs
    /// client certificates are checked against.
    TlsSource trust;
    /// Our certificate chain (a server's, or a client's for mutual TLS), leaf first.
    TlsSource certificate;
    /// The private key of `certificate`.
    TlsSource private_key;
    /// The lowest version accepted. TLS 1.2 by default; nothing lower can be chosen.
    TlsVersion min_version = TlsVersion::tls1_2;
    /// The highest version offered (std::nullopt: the highest the library supports).
    std::optional<TlsVersion> max_version;
    /// ALPN protocols in preference order ("h2", "http/1.1"); empty = no ALPN.
    std::vector<std::string> alpn;
    /// Server: whether clients must present a certificate (checked against `trust`).
    ClientAuth client_auth = ClientAuth::none;
    /// Client: keep sessions per host and port and resume them (fewer round trips on reconnects).
    bool session_cache = false;
    /// Free each connection's record buffers while it is idle (OpenSSL's SSL_MODE_RELEASE_BUFFERS): less
    /// memory per idle connection, an allocation per record after a pause. No error cases.
    bool release_buffers = false;
    /// Client: accept any certificate and any name. Only for tests against a peer you cannot give a
    /// trusted certificate; anyone on the path can read and change the traffic.
    bool danger_accept_any_certificate = false;
};

}  // namespace netlite
