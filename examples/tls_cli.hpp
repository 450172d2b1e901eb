// tls_cli.hpp - the TLS examples' own flags (--cert, --key, --ca), taken out of argv before cli::parse
// reads the common ones (cli.hpp, ../shared/examples-cli.md).
#pragma once

#include "cli.hpp"

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

}  // namespace cli
