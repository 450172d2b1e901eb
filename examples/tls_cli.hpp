// tls_cli.hpp - the TLS examples' own flags (--cert, --key, --ca), taken out of argv before cli::parse
// reads the common ones (cli.hpp, ../shared/examples-cli.md), and the TLS echo servers' command line.
#pragma once

#include "cli.hpp"

#include <netlite/tls.hpp>

#include <string>
#include <string_view>

namespace cli {

/// A certificate chain and key to present, and the CAs to trust (PEM file names; empty: not given).
struct TlsFlags {
    std::string cert, key, ca;
};

/// Removes --cert/--key/--ca and their values from argv (the rest keep their order) and returns them; a
/// flag without its value is a usage error of `program`.
inline TlsFlags take_tls_flags(int& argc, char** argv, const char* program, const char* usage) {
    program_name() = program;  // for the usage error below (cli::parse sets it later)
    TlsFlags flags;
    int kept = 1;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        std::string* target = arg == "--cert"  ? &flags.cert
                              : arg == "--key" ? &flags.key
                              : arg == "--ca"  ? &flags.ca
                                               : nullptr;
        if (target == nullptr) {
            argv[kept++] = argv[i];
            continue;
        }
        if (i + 1 == argc) detail::usage_error("missing value for " + std::string(arg), usage);
        *target = argv[++i];
    }
    argc = kept;
    return flags;
}

/// What a TLS echo server's command line gives: the common options and the server's TLS context.
struct TlsServerCommandLine {
    Options options;
    netlite::Result<netlite::TlsContext> context;
};

/// The command line of tls_echo_server and tls_echo_server_async: --cert FILE --key FILE (both required)
/// [--ca FILE], then --host/--port/--unix (default port 8443). The context presents the certificate chain
/// and key and, with --ca, requires every client to present a certificate issued by those CAs (mutual TLS).
/// Exits as cli::parse does (0 on --help, 2 on a mistake); the context holds the error when the files do not
/// make one (unreadable, or a key that does not match).
inline TlsServerCommandLine parse_tls_server(int argc, char** argv, const char* program, const char* usage) {
    const TlsFlags flags = take_tls_flags(argc, argv, program, usage);
    Options options = parse(argc, argv, host | port | unix_path, {.port = 8443}, usage);
    if (flags.cert.empty() || flags.key.empty()) detail::usage_error("--cert and --key are required", usage);
    netlite::TlsOptions tls_options;
    tls_options.certificate.file = flags.cert;
    tls_options.private_key.file = flags.key;
    if (!flags.ca.empty()) {
        tls_options.trust.file = flags.ca;
        tls_options.client_auth = netlite::ClientAuth::required;
    }
    return {std::move(options), netlite::TlsContext::server(tls_options)};
}

}  // namespace cli
