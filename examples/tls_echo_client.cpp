// tls_echo_client - echo_client over TLS: send a message, print what comes back.
//
// As echo_client: it sends the whole message, says "I am done sending" (TLS's close_notify instead of a
// TCP shutdown), and reads until the server's close_notify. One difference: a TLS connection keeps one
// state for both directions, so one thread must do both. Instead of a sender thread, one readiness loop
// sends what the socket takes and reads what has arrived, waiting (poll) only when neither can go on: a
// long message cannot deadlock with the server's echo. The server's certificate is verified against the
// system's trust store or `--ca FILE`, and its name against --host; `--cert`/`--key` present a client
// certificate (mutual TLS).
#include "tls_cli.hpp"

#include <netlite/poll.hpp>
#include <netlite/tls.hpp>

#include <array>
#include <chrono>
#include <string>
#include <string_view>

using namespace netlite;
using namespace std::chrono_literals;

constexpr const char* usage =
    "usage: tls_echo_client [--host H] [--port P] [--unix PATH] [--message M] [--ca FILE] [--cert FILE --key "
    "FILE]\n"
    "Sends M to the TLS echo server and prints the reply (default localhost 8443, the tutorial's request).\n"
    "--message - reads the message from standard input. --ca: trust these CAs instead of the system's;\n"
    "--cert/--key: present this client certificate and key (PEM). With --unix, the certificate's name is\n"
    "checked against --host (default localhost).\n";

namespace {

Interest interest_of(TlsWait wait) {
    return wait == TlsWait::readable   ? Interest::readable
           : wait == TlsWait::writable ? Interest::writable
                                       : Interest::none;
}

// Sends `message`, then close_notify, while reading the echo until the server's close_notify; everything
// before `deadline`. Returns 0, or 1 after printing why (what came back so far is printed first).
template <Family F>
int talk(TlsStream<F>& tls, std::string_view message, std::chrono::steady_clock::time_point deadline) {
    auto poller = Poller::open();
    if (!poller) return cli::fail(poller.error().message());
    const auto fd = tls.tcp().native_handle();
    if (auto added = poller->add(fd, Interest::none, Token(1)); !added)
        return cli::fail(added.error().message());

    std::string reply;
    std::array<char, 16 * 1024> buffer;
    std::size_t sent = 0;
    bool closed = false;  // our close_notify went out
    auto report = [&](const Error& error) {
        cli::print_verbatim(reply);
        return cli::fail(error.message());
    };
    for (;;) {
        bool progress = false;
        Interest wanted = Interest::none;
        // Send: the message, then close_notify ("no more data", as echo_client's shutdown).
        if (sent < message.size()) {
            auto wrote = tls.try_write(ConstBuffer(message.data() + sent, message.size() - sent));
            if (!wrote) return report(wrote.error());
            if (*wrote) {
                sent += **wrote;
                progress = true;
            } else {
                wanted = wanted | interest_of(tls.wait_for());
            }
        } else if (!closed) {
            auto done = tls.try_shutdown();
            if (!done) return report(done.error());
            if (*done) {
                closed = true;
                progress = true;
            } else {
                wanted = wanted | interest_of(tls.wait_for());
            }
        }
        // Receive: what has arrived (and what TLS has already decrypted), until the server's close_notify.
        auto got = tls.try_read(MutableBuffer(buffer.data(), buffer.size()));
        if (!got) return report(got.error());
        if (*got) {
            if (**got == 0) break;  // the server's close_notify: the whole echo is in
            reply.append(buffer.data(), **got);
            progress = true;
        } else {
            wanted = wanted | interest_of(tls.wait_for());
        }
        if (progress || tls.pending() > 0) continue;
        // Neither direction can go on: wait for the socket, until `deadline`.
        const auto left =
            std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left <= 0ms) return report(Error(std::errc::timed_out, "tls echo"));
        if (auto changed = poller->modify(fd, wanted, Token(1)); !changed) return report(changed.error());
        std::array<Event, 1> events;
        if (auto ready = poller->wait(events, left); !ready) return report(ready.error());
    }
    cli::print_verbatim(reply);  // exactly the bytes that came back
    if (sent < message.size())   // the server ended the stream before it took the whole message
        return cli::fail("tls echo: the server closed after " + std::to_string(sent) + " of " +
                         std::to_string(message.size()) + " bytes were sent");
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    const cli::TlsFlags flags = cli::take_tls_flags(argc, argv, "tls_echo_client", usage);
    const cli::Options options =
        cli::parse(argc, argv, cli::host | cli::port | cli::unix_path | cli::message,
                   {.host = "localhost", .port = 8443, .message = "GET / HTTP/1.1\r\n\r\n"}, usage);
    if (flags.cert.empty() != flags.key.empty())
        cli::detail::usage_error("--cert and --key go together", usage);

    TlsOptions tls_options;
    tls_options.trust.file = flags.ca;  // empty: the system's trust store
    tls_options.certificate.file = flags.cert;
    tls_options.private_key.file = flags.key;
    auto context = TlsContext::client(tls_options);
    if (!context) return cli::fail(context.error().message());

    const auto deadline = std::chrono::steady_clock::now() + 30s;  // connecting, handshake, the whole echo
    const Until until(deadline);
    if (!options.unix_path.empty()) {
        auto unix_stream = UnixStream::connect(options.unix_path);
        if (!unix_stream) return cli::fail(unix_stream.error().message());
        auto tls = TlsStream<Unix>::client(*context, std::move(*unix_stream), options.host, until);
        if (!tls) return cli::fail(tls.error().message());
        return talk(*tls, options.message, deadline);
    }
    // connect() resolves the name, tries its addresses (Happy Eyeballs), and checks the certificate
    // against the name in the handshake: all within `until`.
    auto tls = TlsStream<>::connect(*context, options.host, options.port, until);
    if (!tls) return cli::fail(tls.error().message());
    return talk(*tls, options.message, deadline);
}
