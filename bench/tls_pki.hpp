// tls_pki.hpp - the TLS benchmarks' throwaway ECDSA P-256 CA and "localhost" server certificate (SANs
// localhost and 127.0.0.1), made in memory with OpenSSL's API: tls_bench and tls_idle share it.
#pragma once

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <string>

namespace bench {

struct Pem {
    std::string ca, cert, key;
};

inline std::string pem(X509* cert, EVP_PKEY* key) {
    BIO* bio = BIO_new(BIO_s_mem());
    if (cert) PEM_write_bio_X509(bio, cert);
    if (key) PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
    char* data = nullptr;
    const long size = BIO_get_mem_data(bio, &data);
    std::string text(data, static_cast<std::size_t>(size));
    BIO_free(bio);
    return text;
}

inline X509* certificate(EVP_PKEY* key, const char* cn, X509* issuer, EVP_PKEY* signer, bool ca) {
    X509* cert = X509_new();
    X509_set_version(cert, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert), ca ? 1 : 2);
    X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
    X509_gmtime_adj(X509_getm_notAfter(cert), 86400);
    X509_set_pubkey(cert, key);
    X509_NAME_add_entry_by_txt(X509_get_subject_name(cert), "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>(cn), -1, -1, 0);
    X509_set_issuer_name(cert, X509_get_subject_name(issuer ? issuer : cert));
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer ? issuer : cert, cert, nullptr, nullptr, 0);
    auto add = [&](int nid, const char* value) {
        X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
        X509_add_ext(cert, ext, -1);
        X509_EXTENSION_free(ext);
    };
    add(NID_basic_constraints, ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
    if (!ca) add(NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1");
    X509_sign(cert, signer, EVP_sha256());
    return cert;
}

/// A throwaway ECDSA P-256 CA and server certificate, made in memory.
inline Pem make_pki() {
    EVP_PKEY* ca_key = EVP_EC_gen("P-256");
    X509* ca = certificate(ca_key, "bench CA", nullptr, ca_key, true);
    EVP_PKEY* key = EVP_EC_gen("P-256");
    X509* cert = certificate(key, "localhost", ca, ca_key, false);
    Pem out{pem(ca, nullptr), pem(cert, nullptr), pem(nullptr, key)};
    X509_free(cert);
    X509_free(ca);
    EVP_PKEY_free(key);
    EVP_PKEY_free(ca_key);
    return out;
}

}  // namespace bench
