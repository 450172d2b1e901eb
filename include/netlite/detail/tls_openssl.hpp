// SPDX-License-Identifier: BSL-1.0
// netlite/detail/tls_openssl.hpp - the TLS backend over OpenSSL 3: the one internal interface
// <netlite/tls.hpp> is written against. Another backend (Schannel) provides the same names:
//   tls_backend::native_handle_type, ContextState, make_context(), Connection (handshake, read, write,
//   shutdown, pending, the negotiated parameters), Step, category_message().
// Only this file includes OpenSSL's headers.
#pragma once

#include <netlite/detail/sys.hpp>
#include <netlite/result.hpp>
#include <netlite/tls_options.hpp>

#include <openssl/err.h>
#include <openssl/opensslv.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <array>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#if OPENSSL_VERSION_MAJOR < 3
#error "netlite/tls.hpp needs OpenSSL 3.0 or newer"
#endif

namespace netlite {

namespace detail::tls_backend {

using native_handle_type = SSL*;

/// The first error of this thread's OpenSSL error queue as an error value of the tls category (or the
/// system errno behind it), the rest of the queue discarded; std::nullopt when the queue is empty.
inline std::optional<std::error_code> take_queue_error(const std::error_category& tls) noexcept {
    const unsigned long code = ERR_get_error();  // the earliest: the cause, what follows is context
    ERR_clear_error();
    if (code == 0) return std::nullopt;
    if (ERR_SYSTEM_ERROR(code)) return std::error_code(ERR_GET_REASON(code), std::system_category());
    return std::error_code(static_cast<int>(code & INT_MAX), tls);
}

/// The values of the tls category: negative = netlite's own (tls_errc), 1 .. 2^23-1 = X509 verification
/// results, larger = OpenSSL's packed error codes (library << 23 | reason).
inline constexpr int first_packed_code = 1 << 23;
inline bool is_unexpected_eof(int value) noexcept {
    return value >= first_packed_code && ERR_GET_LIB(static_cast<unsigned long>(value)) == ERR_LIB_SSL &&
           ERR_GET_REASON(static_cast<unsigned long>(value)) == SSL_R_UNEXPECTED_EOF_WHILE_READING;
}
/// OpenSSL's text for a verification result or a packed code.
inline std::string library_message(int value) {
    if (value < first_packed_code) {
        return std::string("certificate verify failed: ") + X509_verify_cert_error_string(value);
    }
    if (const char* reason = ERR_reason_error_string(static_cast<unsigned long>(value))) return reason;
    std::array<char, 256> text{};
    ERR_error_string_n(static_cast<unsigned long>(value), text.data(), text.size());
    return text.data();
}

// --- context --------------------------------------------------------------------------------------------

struct SslCtxFree {
    void operator()(SSL_CTX* ctx) const noexcept { SSL_CTX_free(ctx); }
};
struct SessionFree {
    void operator()(SSL_SESSION* session) const noexcept { SSL_SESSION_free(session); }
};
struct BioFree {
    void operator()(BIO* bio) const noexcept { BIO_free(bio); }
};
struct X509Free {
    void operator()(X509* cert) const noexcept { X509_free(cert); }
};
struct KeyFree {
    void operator()(EVP_PKEY* key) const noexcept { EVP_PKEY_free(key); }
};

/// What every connection of one context shares: the SSL_CTX (thread-safe for making connections), the
/// server's ALPN list and the client's session cache (guarded: threads share a context).
struct ContextState {
    std::unique_ptr<SSL_CTX, SslCtxFree> ctx;
    std::vector<unsigned char> alpn_wire;  // length-prefixed protocol names
    bool server = false;
    bool session_cache = false;
    std::mutex sessions_lock;
    std::map<std::string, std::unique_ptr<SSL_SESSION, SessionFree>, std::less<>> sessions;

    // The cache holds copies that no connection uses, and hands out copies: no SSL_SESSION is shared by
    // connections of different threads, so none is read by one handshake while another changes or frees
    // it (TSan saw both through OpenSSL's unlocked session fields and reference counts).

    /// A copy of the newest session for `key`, owned by the caller; nullptr when there is none.
    SSL_SESSION* session_for(std::string_view key) {
        const std::lock_guard lock(sessions_lock);
        auto found = sessions.find(key);
        if (found == sessions.end()) return nullptr;
        return SSL_SESSION_dup(found->second.get());
    }
    /// Keeps a copy of `session` (a connection's own) as the newest for `key`.
    void keep_session(const std::string& key, const SSL_SESSION* session) {
        std::unique_ptr<SSL_SESSION, SessionFree> copy(SSL_SESSION_dup(session));
        if (!copy) return;  // out of memory: the next connection makes a full handshake
        const std::lock_guard lock(sessions_lock);
        sessions[key] = std::move(copy);
    }
};

inline std::unique_ptr<BIO, BioFree> memory_bio(const std::string& pem) noexcept {
    return std::unique_ptr<BIO, BioFree>(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

/// Adds every certificate of `pem` to `ctx`'s trust store; false when it holds none or one is bad.
inline bool trust_pem(SSL_CTX* ctx, const std::string& pem) noexcept {
    auto bio = memory_bio(pem);
    X509_STORE* store = SSL_CTX_get_cert_store(ctx);
    int added = 0;
    while (bio) {
        std::unique_ptr<X509, X509Free> cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
        if (!cert) break;
        if (X509_STORE_add_cert(store, cert.get()) != 1) return false;
        ++added;
    }
    if (added == 0) return false;
    ERR_clear_error();  // the read past the last certificate queued "no start line"
    return true;
}

inline bool load_trust(SSL_CTX* ctx, const TlsSource& trust) noexcept {
    if (trust.empty()) return SSL_CTX_set_default_verify_paths(ctx) == 1;
    if (!trust.pem.empty() && !trust_pem(ctx, trust.pem)) return false;
    if (trust.file.empty() && trust.dir.empty()) return true;
    return SSL_CTX_load_verify_locations(ctx, trust.file.empty() ? nullptr : trust.file.c_str(),
                                         trust.dir.empty() ? nullptr : trust.dir.c_str()) == 1;
}

/// Makes OpenSSL compute what it caches lazily in each certificate of the trust store (key identifiers,
/// extension flags) now, while one thread owns the context: otherwise the first handshakes of several
/// threads fill that cache at once, one writing a key identifier as another compares it (TSan, in
/// tls_test's threads case). Certificates a hashed directory loads later are not covered.
inline void settle_trust_store(SSL_CTX* ctx) noexcept {
    STACK_OF(X509_OBJECT)* objects = X509_STORE_get0_objects(SSL_CTX_get_cert_store(ctx));
    for (int i = 0; i < sk_X509_OBJECT_num(objects); ++i)
        if (X509* cert = X509_OBJECT_get0_X509(sk_X509_OBJECT_value(objects, i)))
            (void)X509_check_purpose(cert, -1, 0);
}

/// The leaf certificate then the chain from PEM text.
inline bool use_chain_pem(SSL_CTX* ctx, const std::string& pem) noexcept {
    auto bio = memory_bio(pem);
    if (!bio) return false;
    std::unique_ptr<X509, X509Free> leaf(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (!leaf || SSL_CTX_use_certificate(ctx, leaf.get()) != 1) return false;
    for (;;) {
        X509* next = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr);
        if (!next) break;
        if (SSL_CTX_add0_chain_cert(ctx, next) != 1) {  // takes `next` only on success
            X509_free(next);
            return false;
        }
    }
    ERR_clear_error();  // the read past the last certificate queued "no start line"
    return true;
}

inline bool load_identity(SSL_CTX* ctx, const TlsOptions& options) noexcept {
    const TlsSource& cert = options.certificate;
    const TlsSource& key = options.private_key;
    if (!cert.file.empty() && SSL_CTX_use_certificate_chain_file(ctx, cert.file.c_str()) != 1) return false;
    if (!cert.pem.empty() && !use_chain_pem(ctx, cert.pem)) return false;
    if (!key.file.empty() && SSL_CTX_use_PrivateKey_file(ctx, key.file.c_str(), SSL_FILETYPE_PEM) != 1)
        return false;
    if (!key.pem.empty()) {
        auto bio = memory_bio(key.pem);
        std::unique_ptr<EVP_PKEY, KeyFree> pkey(
            bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr);
        if (!pkey || SSL_CTX_use_PrivateKey(ctx, pkey.get()) != 1) return false;
    }
    return SSL_CTX_check_private_key(ctx) == 1;
}

inline int version_number(TlsVersion version) noexcept {
    return version == TlsVersion::tls1_3 ? TLS1_3_VERSION : TLS1_2_VERSION;
}

/// ALPN's wire format: each name prefixed by its length. Empty when a name is empty or longer than 255.
inline std::vector<unsigned char> alpn_wire(const std::vector<std::string>& protocols) {
    std::vector<unsigned char> wire;
    for (const std::string& name : protocols) {
        if (name.empty() || name.size() > 255) return {};
        wire.push_back(static_cast<unsigned char>(name.size()));
        wire.insert(wire.end(), name.begin(), name.end());
    }
    return wire;
}

/// Server: the first of the client's protocols in the server's order; none in common = no ALPN.
inline int select_alpn(SSL*, const unsigned char** out, unsigned char* out_size, const unsigned char* offered,
                       unsigned int offered_size, void* arg) noexcept {
    const auto* state = static_cast<const ContextState*>(arg);
    unsigned char* chosen = nullptr;
    if (SSL_select_next_proto(&chosen, out_size, state->alpn_wire.data(),
                              static_cast<unsigned>(state->alpn_wire.size()), offered,
                              offered_size) != OPENSSL_NPN_NEGOTIATED)
        return SSL_TLSEXT_ERR_NOACK;
    *out = chosen;
    return SSL_TLSEXT_ERR_OK;
}

/// The SSL ex_data slot that holds a client connection's session-cache key (host:port).
inline int session_key_index() noexcept {
    static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
    return index;
}

/// Client: OpenSSL hands over each new session (TLS 1.3: after the handshake, with a ticket).
inline int keep_new_session(SSL* ssl, SSL_SESSION* session) noexcept {
    auto* state = static_cast<ContextState*>(SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl)));
    const auto* key = static_cast<const std::string*>(SSL_get_ex_data(ssl, session_key_index()));
    if (!state || !key) return 0;
    state->keep_session(*key, session);
    return 0;  // the cache keeps a copy: OpenSSL keeps (and frees) its own
}

inline void configure_client(ContextState& state, const TlsOptions& options) noexcept {
    SSL_CTX* ctx = state.ctx.get();
    SSL_CTX_set_verify(ctx, options.danger_accept_any_certificate ? SSL_VERIFY_NONE : SSL_VERIFY_PEER,
                       nullptr);
    if (options.session_cache) {
        SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
        SSL_CTX_sess_set_new_cb(ctx, keep_new_session);
    }
}

inline void configure_server(ContextState& state, const TlsOptions& options) noexcept {
    SSL_CTX* ctx = state.ctx.get();
    int verify = SSL_VERIFY_NONE;
    if (options.client_auth == ClientAuth::optional) verify = SSL_VERIFY_PEER;
    if (options.client_auth == ClientAuth::required)
        verify = SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
    SSL_CTX_set_verify(ctx, verify, nullptr);
    static constexpr unsigned char session_context[] = "netlite";
    SSL_CTX_set_session_id_context(ctx, session_context, sizeof session_context - 1);
    if (!state.alpn_wire.empty()) SSL_CTX_set_alpn_select_cb(ctx, select_alpn, &state);
}

/// A new context; `fail_with(code)` turns a failure into the caller's error type. Errors: OpenSSL's (bad
/// PEM, key does not match the certificate), the system's (a file that cannot be read).
inline Result<std::shared_ptr<ContextState>> make_context(bool server, const TlsOptions& options,
                                                          const std::error_category& tls,
                                                          std::error_code missing_certificate,
                                                          std::error_code bad_option) {
    const char* operation = "tls context";
    ERR_clear_error();
    auto failure = [&]() { return fail(Error(take_queue_error(tls).value_or(bad_option), operation)); };
    auto state = std::make_shared<ContextState>();
    state->server = server;
    state->session_cache = !server && options.session_cache;
    state->ctx.reset(SSL_CTX_new(server ? TLS_server_method() : TLS_client_method()));
    if (!state->ctx) return failure();
    SSL_CTX* ctx = state->ctx.get();
    SSL_CTX_set_app_data(ctx, state.get());
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    if (options.release_buffers) SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);  // adds to the modes above
    if (SSL_CTX_set_min_proto_version(ctx, version_number(options.min_version)) != 1) return failure();
    if (options.max_version && SSL_CTX_set_max_proto_version(ctx, version_number(*options.max_version)) != 1)
        return failure();
    if (!options.alpn.empty()) {
        state->alpn_wire = alpn_wire(options.alpn);
        if (state->alpn_wire.empty()) return fail(Error(bad_option, operation));
        if (!server && SSL_CTX_set_alpn_protos(ctx, state->alpn_wire.data(),
                                               static_cast<unsigned>(state->alpn_wire.size())) != 0)
            return failure();
    }
    const bool has_identity = !options.certificate.empty() || !options.private_key.empty();
    if (server && !has_identity) return fail(Error(missing_certificate, operation));
    if (has_identity && !load_identity(ctx, options)) return failure();
    const bool needs_trust = !server || options.client_auth != ClientAuth::none || !options.trust.empty();
    if (needs_trust && !load_trust(ctx, options.trust)) return failure();
    if (needs_trust) settle_trust_store(ctx);
    if (server) {
        configure_server(*state, options);
    } else {
        configure_client(*state, options);
    }
    return state;
}

// --- the transport: OpenSSL reads and writes through netlite's own send/recv ----------------------------

/// What the BIO works on: the socket, and the last OS error (OpenSSL only sees "failed").
struct Transport {
    sys::native_handle fd{};
    Error error;
};

inline int bio_write(BIO* bio, const char* data, int size) noexcept {
    auto* transport = static_cast<Transport*>(BIO_get_data(bio));
    BIO_clear_retry_flags(bio);
    // The don't-wait flag: the socket's blocking mode does not matter, and sys::send never raises SIGPIPE.
    auto sent = sys::send(transport->fd, data, static_cast<std::size_t>(size), sys::dont_wait);
    if (sent) return static_cast<int>(*sent);
    if (sys::would_block(sent.error())) {
        BIO_set_retry_write(bio);
    } else {
        transport->error = sent.error();
    }
    return -1;
}

inline int bio_read(BIO* bio, char* data, int size) noexcept {
    auto* transport = static_cast<Transport*>(BIO_get_data(bio));
    BIO_clear_retry_flags(bio);
    auto got = sys::recv(transport->fd, data, static_cast<std::size_t>(size), sys::dont_wait);
    if (got) return static_cast<int>(*got);  // 0: the peer closed TCP; OpenSSL tells whether cleanly
    if (sys::would_block(got.error())) {
        BIO_set_retry_read(bio);
    } else {
        transport->error = got.error();
    }
    return -1;
}

inline long bio_ctrl(BIO*, int command, long, void*) noexcept {
    return command == BIO_CTRL_FLUSH ? 1 : 0;  // nothing is buffered here: flushing always succeeds
}

inline int bio_create(BIO* bio) noexcept {
    BIO_set_init(bio, 1);
    return 1;
}

/// The BIO method, made once per process (OpenSSL keeps no reference to freed methods: it lives on).
inline const BIO_METHOD* transport_method() noexcept {
    static BIO_METHOD* const method = [] {
        BIO_METHOD* made = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "netlite socket");
        if (made) {
            BIO_meth_set_write(made, bio_write);
            BIO_meth_set_read(made, bio_read);
            BIO_meth_set_ctrl(made, bio_ctrl);
            BIO_meth_set_create(made, bio_create);
        }
        return made;
    }();
    return method;
}

// --- one connection ------------------------------------------------------------------------------------

/// How one attempt ended: done (with a byte count), would block (and on which direction), or failed.
struct Step {
    enum Kind { done, want_read, want_write, failed } kind = done;
    std::size_t bytes = 0;
    std::error_code error{};  // when failed
};

struct SslFree {
    void operator()(SSL* ssl) const noexcept { SSL_free(ssl); }
};

/// One TLS connection over a socket. Not copyable or movable (OpenSSL points at its Transport): the
/// stream holds it by unique_ptr.
class Connection {
public:
    Connection() = default;
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;
    ~Connection() {
        // OpenSSL forgets the session of a connection freed before it sent close_notify (a failed one).
        // One that the peer ended with close_notify ended cleanly too: keep its session resumable.
        if (ssl_ && (SSL_get_shutdown(ssl_.get()) & SSL_RECEIVED_SHUTDOWN) != 0)
            SSL_set_shutdown(ssl_.get(), SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
    }

    /// Sets up a client (server_name: checked against the certificate; SNI unless an IP literal) or
    /// server connection on `fd`. Errors: OpenSSL's (out of memory).
    Result<void> open(std::shared_ptr<ContextState> context, sys::native_handle fd, std::string_view name,
                      bool name_is_ip, std::uint16_t port, const std::error_category& tls,
                      std::error_code truncated) {
        ERR_clear_error();
        category_ = &tls;
        truncated_ = truncated;
        context_ = std::move(context);
        transport_.fd = fd;
        ssl_.reset(SSL_new(context_->ctx.get()));
        BIO* bio = ssl_ ? BIO_new(transport_method()) : nullptr;
        if (!bio)
            return fail(Error(
                take_queue_error(tls).value_or(std::make_error_code(std::errc::not_enough_memory)), "tls"));
        BIO_set_data(bio, &transport_);
        SSL_set_bio(ssl_.get(), bio, bio);
        if (context_->server) {
            SSL_set_accept_state(ssl_.get());
            return {};
        }
        SSL_set_connect_state(ssl_.get());
        if (!set_peer_name(name, name_is_ip))
            return fail(Error(
                take_queue_error(tls).value_or(std::make_error_code(std::errc::invalid_argument)), "tls"));
        if (context_->session_cache) resume_session(name, port);
        return {};
    }

    Step handshake() noexcept {
        ERR_clear_error();
        const int ok = SSL_do_handshake(ssl_.get());
        return ok == 1 ? Step{} : finish(ok, 0);
    }
    Step read(void* data, std::size_t size) noexcept {
        ERR_clear_error();
        std::size_t got = 0;
        const int ok = SSL_read_ex(ssl_.get(), data, size, &got);
        if (ok == 1) return Step{Step::done, got, {}};
        if (SSL_get_error(ssl_.get(), ok) == SSL_ERROR_ZERO_RETURN) return Step{Step::done, 0, {}};
        return finish(ok, 0);
    }
    Step write(const void* data, std::size_t size) noexcept {
        ERR_clear_error();
        std::size_t sent = 0;
        const int ok = SSL_write_ex(ssl_.get(), data, size, &sent);
        return ok == 1 ? Step{Step::done, sent, {}} : finish(ok, 0);
    }
    /// Sends close_notify (once; again after would-block). The peer's close_notify is read by read().
    Step shutdown() noexcept {
        if ((SSL_get_shutdown(ssl_.get()) & SSL_SENT_SHUTDOWN) != 0 && !SSL_want_write(ssl_.get()))
            return Step{};
        ERR_clear_error();
        const int ok = SSL_shutdown(ssl_.get());
        return ok >= 0 ? Step{} : finish(ok, 0);
    }

    /// Decrypted bytes buffered (a read returns them without waiting).
    std::size_t pending() const noexcept { return static_cast<std::size_t>(SSL_pending(ssl_.get())); }
    SSL* native_handle() const noexcept { return ssl_.get(); }
    bool resumed() const noexcept { return SSL_session_reused(ssl_.get()) == 1; }
    std::string version() const { return SSL_get_version(ssl_.get()); }
    std::string cipher() const { return SSL_get_cipher_name(ssl_.get()); }
    std::string alpn() const {
        const unsigned char* name = nullptr;
        unsigned size = 0;
        SSL_get0_alpn_selected(ssl_.get(), &name, &size);
        return name ? std::string(reinterpret_cast<const char*>(name), size) : std::string();
    }
    /// The peer certificate's subject, RFC 2253 ("CN=localhost,O=netlite test"); "" without one.
    std::string peer_subject() const {
        X509* cert = SSL_get0_peer_certificate(ssl_.get());
        std::unique_ptr<BIO, BioFree> out(BIO_new(BIO_s_mem()));
        if (!cert || !out) return {};
        X509_NAME_print_ex(out.get(), X509_get_subject_name(cert), 0, XN_FLAG_RFC2253);
        char* text = nullptr;
        const long size = BIO_get_mem_data(out.get(), &text);
        return std::string(text, static_cast<std::size_t>(size));
    }
    /// The peer certificate's DNS names and IP addresses (as text), in its order.
    std::vector<std::string> peer_names() const {
        std::vector<std::string> names;
        X509* cert = SSL_get0_peer_certificate(ssl_.get());
        if (!cert) return names;
        auto* sans =
            static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
        for (int i = 0; sans && i < sk_GENERAL_NAME_num(sans); ++i) {
            const GENERAL_NAME* name = sk_GENERAL_NAME_value(sans, i);
            if (name->type == GEN_DNS) names.push_back(text_of(name->d.dNSName));
            if (name->type == GEN_IPADD) names.push_back(ip_text(name->d.iPAddress));
        }
        GENERAL_NAMES_free(sans);
        return names;
    }
    /// SHA-256 of the peer certificate's DER; all zero without one.
    std::array<std::uint8_t, 32> peer_fingerprint() const noexcept {
        std::array<std::uint8_t, 32> digest{};
        unsigned size = 0;
        if (X509* cert = SSL_get0_peer_certificate(ssl_.get()))
            X509_digest(cert, EVP_sha256(), digest.data(), &size);
        return digest;
    }

private:
    bool set_peer_name(std::string_view name, bool name_is_ip) {
        const std::string text(name);
        if (name_is_ip) return X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_.get()), text.c_str()) == 1;
        return SSL_set_tlsext_host_name(ssl_.get(), text.c_str()) == 1 &&
               SSL_set1_host(ssl_.get(), text.c_str()) == 1;
    }
    void resume_session(std::string_view name, std::uint16_t port) {
        session_key_ = std::string(name) + ':' + std::to_string(port);
        SSL_set_ex_data(ssl_.get(), session_key_index(), &session_key_);
        if (SSL_SESSION* session = context_->session_for(session_key_)) {
            SSL_set_session(ssl_.get(), session);
            SSL_SESSION_free(session);  // SSL_set_session took its own reference to this copy
        }
    }

    /// What a failed call means: would block (and which way), the OS error the BIO saw, a verification
    /// failure with its X509 reason, or OpenSSL's queued error.
    Step finish(int result, std::size_t bytes) noexcept {
        const int reason = SSL_get_error(ssl_.get(), result);
        if (reason == SSL_ERROR_WANT_READ) return Step{Step::want_read, bytes, {}};
        if (reason == SSL_ERROR_WANT_WRITE) return Step{Step::want_write, bytes, {}};
        Step step{Step::failed, bytes, {}};
        const long verify = SSL_get_verify_result(ssl_.get());
        const bool verifying = (SSL_get_verify_mode(ssl_.get()) & SSL_VERIFY_PEER) != 0;
        if (verifying && verify != X509_V_OK && !SSL_is_init_finished(ssl_.get())) {
            ERR_clear_error();
            step.error = std::error_code(static_cast<int>(verify), *category_);
        } else if (transport_.error.code()) {
            ERR_clear_error();
            step.error = transport_.error.code();
        } else if (auto queued = take_queue_error(*category_)) {
            // OpenSSL 3 reports a TCP close without close_notify as "unexpected eof while reading".
            step.error =
                queued->category() == *category_ && is_unexpected_eof(queued->value()) ? truncated_ : *queued;
        } else {
            step.error = truncated_;  // SSL_ERROR_SYSCALL with nothing queued: the peer closed mid-record
        }
        transport_.error = Error();
        return step;
    }

    static std::string text_of(const ASN1_STRING* text) {
        return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(text)),
                           static_cast<std::size_t>(ASN1_STRING_length(text)));
    }
    static std::string ip_text(const ASN1_OCTET_STRING* address) {
        const unsigned char* bytes = ASN1_STRING_get0_data(address);
        const int size = ASN1_STRING_length(address);
        char text[64] = {};
        if (size == 4 || size == 16) ::inet_ntop(size == 4 ? AF_INET : AF_INET6, bytes, text, sizeof text);
        return text;
    }

    std::shared_ptr<ContextState> context_;
    std::unique_ptr<SSL, SslFree> ssl_;
    Transport transport_;
    std::string session_key_;
    const std::error_category* category_ = nullptr;
    std::error_code truncated_{};  // the tls category's "no close_notify"
};

}  // namespace detail::tls_backend
}  // namespace netlite
