// SPDX-License-Identifier: BSL-1.0
// netlite/tls.hpp - TLS over TcpStream: TlsContext (trust, certificate, versions, ALPN; made once, shared by
// threads) and TlsStream<Family> (connect, client for STARTTLS, accept; read, write, shutdown within an
// Until). An opt-in component: link netlite::tls (CMake) or netlite-tls (pkg-config), which bring OpenSSL 3.
//
// Secure by default: the peer's certificate is verified and its name checked against the host connected
// to, TLS 1.2 is the lowest version, renegotiation and compression are off. A peer that closes TCP
// without TLS's close_notify is tls_errc::truncated, never a clean end of stream. OpenSSL reads and writes
// through netlite's own send/recv (never SIGPIPE, whatever the socket's blocking mode).
#pragma once

#include <netlite/detail/read_to_end.hpp>
#include <netlite/detail/tls_openssl.hpp>
#include <netlite/tcp.hpp>
#include <netlite/tls_options.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace netlite {

/// netlite's own TLS error codes (category "tls"; the category's other values are the TLS library's).
enum class tls_errc {
    truncated = -1,            ///< the peer closed the connection without close_notify
    missing_certificate = -2,  ///< a server context made without a certificate and key
    invalid_option = -3,       ///< an option that cannot be used (an ALPN name empty or over 255 bytes)
};

namespace detail {
class tls_category_impl final : public std::error_category {
public:
    const char* name() const noexcept override { return "tls"; }
    std::string message(int value) const override {
        switch (static_cast<tls_errc>(value)) {
            case tls_errc::truncated: return "connection closed without close_notify (truncated)";
            case tls_errc::missing_certificate: return "a server needs a certificate and its private key";
            case tls_errc::invalid_option: return "invalid option: an ALPN name is empty or over 255 bytes";
        }
        return tls_backend::library_message(value);
    }
};
}  // namespace detail

/// The category of TLS errors (name "tls"): tls_errc values, certificate verification failures
/// ("certificate verify failed: hostname mismatch") and the TLS library's own errors, with its text.
inline const std::error_category& tls_category() noexcept {
    return detail::category_instance<detail::tls_category_impl>();
}

/// Makes a std::error_code from a netlite::tls_errc.
inline std::error_code make_error_code(tls_errc e) noexcept {
    return {static_cast<int>(e), tls_category()};
}

template <Family F>
class TlsStream;

/// Trust, identity and policy for TLS connections: made once, shared by any number of streams and threads
/// (copies share one context and, for a client, one session cache).
class TlsContext {
public:
    /// A client context: verifies servers against options.trust (empty: the system's trust store).
    /// Errors: tls_category (a bad PEM, a key that does not match its certificate), system errors (a CA
    /// file that cannot be read), tls_errc::invalid_option.
    static Result<TlsContext> client(const TlsOptions& options = {}) { return make(false, options); }
    /// A server context: needs options.certificate and options.private_key; with options.client_auth,
    /// checks client certificates against options.trust. Errors: as client(), tls_errc::missing_certificate.
    static Result<TlsContext> server(const TlsOptions& options) { return make(true, options); }

    /// True for a server context.
    bool is_server() const noexcept { return state_ && state_->server; }

private:
    template <Family F>
    friend class TlsStream;

    static Result<TlsContext> make(bool server, const TlsOptions& options) {
        auto state = detail::tls_backend::make_context(server, options, tls_category(),
                                                       make_error_code(tls_errc::missing_certificate),
                                                       make_error_code(tls_errc::invalid_option));
        if (!state) return fail(state.error());
        TlsContext context;
        context.state_ = std::move(*state);
        return context;
    }

    std::shared_ptr<detail::tls_backend::ContextState> state_;
};

/// What a TLS attempt that would block waits for: a TLS read may need to write first and the other way.
enum class TlsWait {
    none,      ///< nothing: the last attempt did not block
    readable,  ///< wait until the socket is readable, then try again
    writable,  ///< wait until the socket is writable, then try again
};

/// A TLS connection over a TcpStream. Reads and writes as TcpStream does, with the same Until (a deadline
/// gives timed_out, a stop token operation_canceled) and TransferError for the bulk calls. One thread
/// reads and writes at a time (TLS keeps one state for both directions).
template <Family F = IP>
class TlsStream {
public:
    /// The TLS library's connection handle (OpenSSL: SSL*).
    using native_handle_type = detail::tls_backend::native_handle_type;

    /// An empty stream.
    TlsStream() noexcept = default;

    /// Resolves `host`, connects to the first of its addresses that answers (Happy Eyeballs, as
    /// TcpStream::connect) and completes the handshake, all within `until`. `host` is the name sent as SNI
    /// and checked against the certificate; an IP literal is checked against its IP addresses and sends no
    /// SNI. Errors: TcpStream::connect's (with every address tried); the handshake's, as client().
    static Result<TlsStream, ConnectError<F>> connect(const TlsContext& context, std::string_view host,
                                                      std::uint16_t port,
                                                      const Until& until = {}) requires InternetFamily<F> {
        auto tcp = TcpStream<F>::connect(host, port, until);
        if (!tcp) return unexpected<ConnectError<F>>(std::move(tcp.error()));
        auto tls = client(context, std::move(*tcp), host, until);
        if (!tls) return unexpected<ConnectError<F>>(ConnectError<F>(tls.error()));
        return std::move(*tls);
    }
    /// Starts TLS as a client on a connected stream (STARTTLS), checking the certificate against `name`
    /// (as connect()), and completes the handshake within `until`. The stream is closed on failure.
    /// Errors: "tls handshake: certificate verify failed: REASON" (hostname mismatch, unable to get local
    /// issuer certificate, certificate has expired, ...), the peer's alerts ("tlsv1 alert protocol
    /// version"), tls_errc::truncated (the peer closed), the OS's (ECONNRESET), timed_out,
    /// operation_canceled.
    static Result<TlsStream> client(const TlsContext& context, TcpStream<F>&& tcp, std::string_view name,
                                    const Until& until = {}) {
        auto tls = start_client(context, std::move(tcp), name);
        if (!tls) return tls;
        if (auto done = tls->handshake(until); !done) return fail(done.error());
        return tls;
    }
    /// Completes a server handshake on an accepted connection within `until` (run it off the accept loop:
    /// a slow client would hold it). The stream is closed on failure. Errors: as client(), and "peer did
    /// not return a certificate" when the context requires one.
    static Result<TlsStream> accept(const TlsContext& context, TcpStream<F>&& tcp, const Until& until = {}) {
        auto tls = start_server(context, std::move(tcp));
        if (!tls) return tls;
        if (auto done = tls->handshake(until); !done) return fail(done.error());
        return tls;
    }

    /// A client stream whose handshake has not started: drive it with try_handshake() (readiness loops)
    /// or handshake(). Errors: the TLS library's (out of memory), invalid_argument (a bad `name`).
    static Result<TlsStream> start_client(const TlsContext& context, TcpStream<F>&& tcp,
                                          std::string_view name) {
        return start(context, std::move(tcp), name, false);
    }
    /// A server stream whose handshake has not started (see start_client()). Errors: as start_client().
    static Result<TlsStream> start_server(const TlsContext& context, TcpStream<F>&& tcp) {
        return start(context, std::move(tcp), {}, true);
    }

    /// Completes the handshake within `until`. Errors: as client() and accept().
    Result<void> handshake(const Until& until = {}) {
        auto done = drive(until, "tls handshake", [this] { return connection_->handshake(); });
        if (!done) return fail(done.error());
        return {};
    }

    /// Reads decrypted bytes (at most buffer.size()), waiting until some arrive or `until` ends. Returns 0
    /// at the end of the stream: the peer sent close_notify. Errors: tls_errc::truncated (the peer closed
    /// TCP without close_notify), the peer's alerts, ECONNRESET, timed_out, operation_canceled.
    Result<std::size_t> read(MutableBuffer buffer, const Until& until = {}) {
        if (buffer.size() == 0)
            return std::size_t{0};  // as TcpStream::read: nothing asked, nothing waited for
        return drive(until, "tls read", [&] { return connection_->read(buffer.data(), buffer.size()); });
    }
    /// Encrypts and sends some of `buffer` (at least one record's worth, or all of a small buffer); returns
    /// how much was taken. Errors: EPIPE/ECONNRESET (never SIGPIPE), timed_out, operation_canceled.
    Result<std::size_t> write(ConstBuffer buffer, const Until& until = {}) {
        if (buffer.size() == 0) return std::size_t{0};
        return drive(until, "tls write", [&] { return connection_->write(buffer.data(), buffer.size()); });
    }
    /// Sends all of `buffer` within one `until`. Errors: as write(), with bytes_transferred().
    Result<void, TransferError> write_all(ConstBuffer buffer, const Until& until = {}) {
        std::size_t done = 0;
        while (done < buffer.size()) {
            auto sent = write(buffer.advanced(done), until);
            if (!sent) return unexpected<TransferError>(TransferError(sent.error(), done));
            done += *sent;
        }
        return {};
    }
    /// Fills all of `buffer` within one `until`. Errors: errc::unexpected_eof (close_notify came first),
    /// read()'s; bytes_transferred() tells how many bytes arrived (they are in the buffer).
    Result<void, TransferError> read_exact(MutableBuffer buffer, const Until& until = {}) {
        std::size_t done = 0;
        while (done < buffer.size()) {
            auto got = read(buffer.advanced(done), until);
            if (!got) return unexpected<TransferError>(TransferError(got.error(), done));
            if (*got == 0)
                return unexpected<TransferError>(
                    TransferError(Error(errc::unexpected_eof, "tls read"), done));
            done += *got;
        }
        return {};
    }
    /// Appends everything until the peer's close_notify to `out` (a std::string or vector of bytes) within
    /// `until`; returns how many bytes were appended. A TCP close without close_notify is not an end:
    /// tls_errc::truncated. Errors: read()'s; what arrived before the error stays in `out`.
    template <class Container>
    Result<std::size_t, TransferError> read_to_end(Container& out, const Until& until = {}) {
        return detail::read_all_into(out, [&](MutableBuffer free) { return read(free, until); });
    }
    /// Everything until the peer's close_notify, as a string. Errors: as read_to_end(out).
    Result<std::string> read_to_end(const Until& until = {}) { return detail::read_all_string(*this, until); }

    /// Sends close_notify: this side writes no more. Reading goes on until the peer's close_notify (read()
    /// returns 0); the TCP connection closes with the stream. Errors: EPIPE/ECONNRESET, timed_out,
    /// operation_canceled.
    Result<void> shutdown(const Until& until = {}) {
        auto done = drive(until, "tls shutdown", [this] { return connection_->shutdown(); });
        if (!done) return fail(done.error());
        return {};
    }

    // --- non-blocking attempts, for readiness loops (netlite/poll.hpp) ---------------------------------
    // Each tries once without waiting. "Would block" is an empty optional (or false), never an error; then
    // wait_for() says which readiness to wait for. A write that would block must be tried again with the
    // same bytes (at least as many).

    /// Advances the handshake: true once complete, false when it would block (see wait_for()).
    /// Errors: as handshake(), never timed_out.
    Result<bool> try_handshake() {
        auto step = attempt("tls handshake", [this] { return connection_->handshake(); });
        if (!step) return fail(step.error());
        return step->has_value();
    }
    /// Sends close_notify without waiting: true once sent, false when it would block (see wait_for()).
    /// Errors: as shutdown(), never timed_out.
    Result<bool> try_shutdown() {
        auto step = attempt("tls shutdown", [this] { return connection_->shutdown(); });
        if (!step) return fail(step.error());
        return step->has_value();
    }
    /// Reads decrypted bytes without waiting (0: close_notify); std::nullopt when none are ready.
    /// Errors: as read(), never timed_out.
    Result<std::optional<std::size_t>> try_read(MutableBuffer buffer) {
        if (buffer.size() == 0) return std::optional<std::size_t>(0);
        return attempt("tls read", [&] { return connection_->read(buffer.data(), buffer.size()); });
    }
    /// Sends some of `buffer` without waiting; std::nullopt when nothing could be taken.
    /// Errors: as write(), never timed_out.
    Result<std::optional<std::size_t>> try_write(ConstBuffer buffer) {
        if (buffer.size() == 0) return std::optional<std::size_t>(0);
        return attempt("tls write", [&] { return connection_->write(buffer.data(), buffer.size()); });
    }
    /// What the last attempt that would block waits for; TlsWait::none after one that did not block.
    TlsWait wait_for() const noexcept { return wait_; }
    /// Decrypted bytes already buffered: read them (try_read) before waiting for readiness.
    std::size_t pending() const noexcept { return connection_ ? connection_->pending() : 0; }

    // --- what was negotiated ----------------------------------------------------------------------------

    /// "TLSv1.3" or "TLSv1.2".
    std::string version() const { return connection_->version(); }
    /// The cipher suite, e.g. "TLS_AES_256_GCM_SHA384".
    std::string cipher() const { return connection_->cipher(); }
    /// The ALPN protocol agreed on; "" when none was.
    std::string alpn_protocol() const { return connection_->alpn(); }
    /// True when the handshake resumed an earlier session (TlsOptions::session_cache).
    bool session_resumed() const noexcept { return connection_->resumed(); }
    /// The peer certificate's subject ("CN=localhost,O=netlite"); "" when the peer sent none.
    std::string peer_subject() const { return connection_->peer_subject(); }
    /// The peer certificate's subject alternative names: DNS names and IP addresses as text.
    std::vector<std::string> peer_names() const { return connection_->peer_names(); }
    /// SHA-256 of the peer certificate (DER); all zero when the peer sent none.
    std::array<std::uint8_t, 32> peer_fingerprint() const noexcept { return connection_->peer_fingerprint(); }
    /// The TLS library's handle (OpenSSL: SSL*), for what netlite does not wrap; nullptr when empty.
    native_handle_type native_handle() const noexcept {
        return connection_ ? connection_->native_handle() : nullptr;
    }
    /// The TCP stream underneath (its addresses and options; reading or writing it breaks TLS).
    const TcpStream<F>& tcp() const noexcept { return tcp_; }
    /// True when the stream holds a connection.
    explicit operator bool() const noexcept { return connection_ != nullptr; }

private:
    using Step = detail::tls_backend::Step;

    static Result<TlsStream> start(const TlsContext& context, TcpStream<F>&& tcp, std::string_view name,
                                   bool server) {
        if (!context.state_ || context.is_server() != server) return fail(std::errc::invalid_argument, "tls");
        TlsStream stream;
        stream.tcp_ = std::move(tcp);
        stream.connection_ = std::make_unique<detail::tls_backend::Connection>();
        const bool is_ip = Address<IP>::parse(name, 0).has_value();
        auto opened = stream.connection_->open(context.state_, stream.tcp_.native_handle(), name, is_ip,
                                               peer_port(stream.tcp_), tls_category(), tls_errc::truncated);
        if (!opened) return fail(opened.error());
        return stream;
    }
    static std::uint16_t peer_port(const TcpStream<F>& tcp) noexcept {
        if constexpr (InternetFamily<F>) {
            if (auto peer = tcp.peer_address()) return peer->port();
        }
        return 0;
    }

    /// One attempt: its bytes, or std::nullopt when it would block (wait_ says for what).
    template <class Attempt>
    Result<std::optional<std::size_t>> attempt(const char* operation, Attempt&& once) {
        if (!connection_) return fail(std::errc::bad_file_descriptor, operation);
        const Step step = once();
        wait_ = step.kind == Step::want_read    ? TlsWait::readable
                : step.kind == Step::want_write ? TlsWait::writable
                                                : TlsWait::none;
        if (step.kind == Step::failed) return fail(Error(step.error, operation));
        if (wait_ != TlsWait::none) return std::optional<std::size_t>();
        return std::optional<std::size_t>(step.bytes);
    }
    /// Attempts until one does not block, waiting for what TLS asks for within `until`.
    template <class Attempt>
    Result<std::size_t> drive(const Until& until, const char* operation, Attempt&& once) {
        if (until.stop_requested()) return fail(std::errc::operation_canceled, operation);
        for (;;) {
            auto step = attempt(operation, once);
            if (!step) return fail(step.error());
            if (*step) return **step;
            const short events = wait_ == TlsWait::readable ? detail::sys::poll_in : detail::sys::poll_out;
            if (auto ready = detail::sys::wait(tcp_.native_handle(), events, until, operation); !ready)
                return fail(ready.error());
        }
    }

    TcpStream<F> tcp_;  // declared first: the TLS state, which uses it, goes first
    std::unique_ptr<detail::tls_backend::Connection> connection_;
    TlsWait wait_ = TlsWait::none;
};

}  // namespace netlite

// Lets a std::error_code be made from the enum (std's hook; after the API, which calls make_error_code).
/// @cond
template <>
struct std::is_error_code_enum<netlite::tls_errc> : std::true_type {};
/// @endcond
