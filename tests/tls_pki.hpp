// Certificates for the TLS tests, made at test time through OpenSSL's API: make_cert() issues one (a CA's,
// or a leaf signed by a CA), pem_of() gives its PEM text, and make_localhost_pem() makes a whole EC CA and
// localhost server certificate (also what the TLS benchmarks use, bench/tls_pki.hpp). Without Catch2, so that
// programs which are not Catch tests (tests/reliability/fault_scenario_tls.cpp) make their certificates the
// same way; a failure throws std::runtime_error (a Catch test reports it as a failure).
#pragma once

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <memory>
#include <stdexcept>
#include <string>

namespace netlite_tls_test {

inline void pki_require(bool ok, const char* what) {
    if (!ok) throw std::runtime_error(std::string("making a test certificate failed: ") + what);
}

struct KeyFree {
    void operator()(EVP_PKEY* key) const noexcept { EVP_PKEY_free(key); }
};
struct CertFree {
    void operator()(X509* cert) const noexcept { X509_free(cert); }
};
using Key = std::unique_ptr<EVP_PKEY, KeyFree>;
using Cert = std::unique_ptr<X509, CertFree>;

inline void add_extension(X509* cert, X509V3_CTX* ctx, int nid, const char* value) {
    X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, ctx, nid, value);
    pki_require(extension != nullptr, "X509V3_EXT_conf_nid");
    X509_add_ext(cert, extension, -1);
    X509_EXTENSION_free(extension);
}

struct Validity {
    long not_before = -3600;  // seconds from now
    long not_after = 86400;
};

/// A certificate for `key`, signed by `issuer` (self-signed when null), valid as `validity` says.
inline Cert make_cert(EVP_PKEY* key, const char* common_name, X509* issuer, EVP_PKEY* issuer_key, bool ca,
                      const char* sans, Validity validity = {}) {
    static long serial = 1;
    Cert cert(X509_new());
    X509_set_version(cert.get(), 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial++);
    X509_gmtime_adj(X509_getm_notBefore(cert.get()), validity.not_before);
    X509_gmtime_adj(X509_getm_notAfter(cert.get()), validity.not_after);
    X509_set_pubkey(cert.get(), key);
    X509_NAME* name = X509_get_subject_name(cert.get());
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("netlite test"), -1, -1, 0);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(common_name),
                               -1, -1, 0);
    X509_set_issuer_name(cert.get(), issuer ? X509_get_subject_name(issuer) : name);
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer ? issuer : cert.get(), cert.get(), nullptr, nullptr, 0);
    add_extension(cert.get(), &ctx, NID_basic_constraints, ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
    add_extension(cert.get(), &ctx, NID_subject_key_identifier, "hash");
    add_extension(cert.get(), &ctx, NID_authority_key_identifier, "keyid:always");
    if (ca) add_extension(cert.get(), &ctx, NID_key_usage, "critical,keyCertSign,cRLSign");
    if (sans) add_extension(cert.get(), &ctx, NID_subject_alt_name, sans);
    pki_require(X509_sign(cert.get(), issuer_key ? issuer_key : key, EVP_sha256()) > 0, "X509_sign");
    return cert;
}

inline std::string pem_of(X509* cert) {
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(bio, cert);
    char* data = nullptr;
    const long size = BIO_get_mem_data(bio, &data);
    std::string text(data, static_cast<std::size_t>(size));
    BIO_free(bio);
    return text;
}
inline std::string pem_of(EVP_PKEY* key) {
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
    char* data = nullptr;
    const long size = BIO_get_mem_data(bio, &data);
    std::string text(data, static_cast<std::size_t>(size));
    BIO_free(bio);
    return text;
}

/// PEM text of a CA, a server certificate it signed (for localhost and 127.0.0.1) and that server's key.
struct LocalhostPem {
    std::string ca, cert, key;
};

/// A throwaway ECDSA P-256 CA named `ca_name` and its localhost server certificate, made in memory: EC
/// keys, so that programs which make them on every run (fault injection, benchmarks) stay quick.
inline LocalhostPem make_localhost_pem(const char* ca_name) {
    Key ca_key(EVP_EC_gen("P-256"));
    pki_require(ca_key != nullptr, "EVP_EC_gen");
    Cert ca = make_cert(ca_key.get(), ca_name, nullptr, nullptr, true, nullptr);
    Key key(EVP_EC_gen("P-256"));
    pki_require(key != nullptr, "EVP_EC_gen");
    Cert cert =
        make_cert(key.get(), "localhost", ca.get(), ca_key.get(), false, "DNS:localhost,IP:127.0.0.1");
    return {pem_of(ca.get()), pem_of(cert.get()), pem_of(key.get())};
}

}  // namespace netlite_tls_test
