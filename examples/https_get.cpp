// https_get - http_get over TLS: the same GET, to an HTTPS server, with its certificate verified.
//
// TlsStream::connect resolves the name, connects, and checks in the handshake that the certificate is
// valid, issued by a trusted CA and made out to the host asked for (the name is also sent as SNI). Trust is
// the system's CA store, or `--ca FILE` (a PEM file, e.g. a test CA). The response is read until the
// server's close_notify: a connection cut without one is reported, not taken for the end of the page.
#include "cli.hpp"

#include <netlite/tls.hpp>

#include <string>
#include <string_view>
#include <vector>

using namespace netlite;

constexpr const char* usage =
    "usage: https_get [--host H] [--port P] [--path PATH] [--ca FILE]\n"
    "Sends GET PATH to the HTTPS server H:P, verifying its certificate against the system's trust store\n"
    "(or the CA certificates in FILE), and prints the whole response (default www.baidu.com 443 /).\n";

// `--ca FILE` is this program's own flag: taken out of argv before the common flags are parsed.
std::string take_ca_flag(int& argc, char** argv) {
    cli::program_name() = "https_get";  // for the usage error below (cli::parse sets it later)
    std::string ca;
    int kept = 1;
    for (int i = 1; i < argc; ++i) {
        if (std::string_view(argv[i]) == "--ca") {
            if (i + 1 == argc) cli::detail::usage_error("--ca needs a value", usage);
            ca = argv[++i];
            continue;
        }
        argv[kept++] = argv[i];
    }
    argc = kept;
    return ca;
}

int main(int argc, char** argv) {
    TlsOptions tls_options;
    tls_options.trust.file = take_ca_flag(argc, argv);  // empty: the system's trust store
    const cli::Options options = cli::parse(argc, argv, cli::host | cli::port | cli::path,
                                            {.host = "www.baidu.com", .port = 443}, usage);

    auto context = TlsContext::client(tls_options);  // made once; a program would share it everywhere
    if (!context) return cli::fail(context.error().message());
    auto stream = TlsStream<>::connect(*context, options.host, options.port, std::chrono::seconds(30));
    if (!stream) return cli::fail(stream.error().message());

    std::string host = options.host.find(':') != std::string::npos ? "[" + options.host + "]" : options.host;
    if (options.port != 443) host += ":" + std::to_string(options.port);
    const std::string request =
        "GET " + options.path + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n";
    if (auto sent = stream->write_all(request, std::chrono::seconds(30)); !sent)
        return cli::fail(sent.error().message());

    auto response = stream->read_to_end(std::chrono::seconds(30));  // until the server's close_notify
    if (!response) return cli::fail(response.error().message());
    cli::print_verbatim(*response);
    return 0;
}
