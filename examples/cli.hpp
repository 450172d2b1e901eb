// examples/cli.hpp - the small command-line parser every example shares.
//
// Flags: --host H, --port P, --unix PATH, --message M, --clients N, --threads N, --path PATH,
// --interface NAME, --help.
// Each program says which flags it takes and what their defaults are. Mistakes on the command line
// (an unknown flag, a missing value, a bad number) print the usage to stderr and exit with status 2;
// --help prints it to stdout and exits 0. Network failures are reported with cli::fail (status 1).
// Servers that shut down cleanly on SIGINT/SIGTERM get their netlite::StopToken from cli::stop_on_signals().
// Servers print their `listening on ADDRESS` line with cli::announce_listening().
#pragma once

#include <netlite/stop_source.hpp>

#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <iterator>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <vector>

#if defined(_WIN32)
#include <fcntl.h>
#include <io.h>
// winsock2.h before windows.h, whose older winsock.h would clash with netlite's winsock2.h
#include <winsock2.h>
//
#include <windows.h>
#else
#include <signal.h>
#endif

namespace cli {

/// Which flags a program accepts (combine with |).
enum Accepts : unsigned {
    host = 1u << 0,
    port = 1u << 1,
    unix_path = 1u << 2,
    message = 1u << 3,
    clients = 1u << 4,
    path = 1u << 5,
    arguments = 1u << 6,  // plain arguments after the flags (e.g. `resolve HOST...`); at least one
    threads = 1u << 7,
    interface_name = 1u << 8,  // --interface NAME: a network interface ("lo", "eth0")
};

/// The parsed command line; a program fills in its defaults before calling parse().
struct Options {
    std::string host = {};  // "" for a server: every IPv4 address, like Python's ''
    std::uint16_t port = 0;
    std::string unix_path = {};  // empty: use TCP
    std::string message = {};    // "-" means: read the message from standard input (too big for argv)
    int clients = 1;
    int threads = 1;
    std::string path = "/";
    std::vector<std::string> arguments = {};
    std::string interface_name = {};  // empty: the kernel picks
};

inline std::string& program_name() {
    static std::string name = "example";
    return name;
}

/// Prints "PROGRAM: reason" to stderr and returns exit status 1, so main can `return cli::fail(...)`.
inline int fail(std::string_view reason) {
    std::cerr << program_name() << ": " << reason << '\n';
    return 1;
}

namespace detail {
[[noreturn]] inline void usage_error(std::string_view problem, const char* usage) {
    std::cerr << program_name() << ": " << problem << '\n' << usage;
    std::exit(2);
}

/// A whole decimal number in [low, high], or nothing.
inline bool parse_number(std::string_view text, long low, long high, long& out) {
    long value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc() || end != text.data() + text.size() || value < low || value > high) return false;
    out = value;
    return true;
}
}  // namespace detail

/// Parses argv against `accepts`, starting from `defaults`. Exits on --help (0) and on mistakes (2).
inline Options parse(int argc, char** argv, unsigned accepts, Options defaults, const char* usage) {
#if defined(_WIN32)
    ::_setmode(::_fileno(stdout), _O_BINARY);  // "\n" stays "\n": output reads the same as on POSIX
    ::_setmode(::_fileno(stdin), _O_BINARY);   // `--message -` reads bytes: no CRLF folding, no ^Z end
#endif
    if (argc > 0) {
        const std::string_view self = argv[0];
        program_name() = std::string(self.substr(self.find_last_of('/') + 1));
    }
    Options options = std::move(defaults);
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg == "--help" || arg == "-h") {
            std::cout << usage;
            std::exit(0);
        }
        if (!arg.starts_with("-") || arg == "-") {  // a plain argument
            if (!(accepts & arguments))
                detail::usage_error("unexpected argument: " + std::string(arg), usage);
            options.arguments.emplace_back(arg);
            continue;
        }
        // Every flag below takes a value: the next argument.
        auto value = [&](unsigned flag) -> std::string_view {
            if (!(accepts & flag)) detail::usage_error("unknown option: " + std::string(arg), usage);
            if (i + 1 >= argc) detail::usage_error("missing value for " + std::string(arg), usage);
            return argv[++i];
        };
        long number = 0;
        if (arg == "--host") {
            options.host = value(host);
        } else if (arg == "--port") {
            const auto text = value(port);
            if (!detail::parse_number(text, 0, 65535, number))
                detail::usage_error("bad port (want 0..65535): " + std::string(text), usage);
            options.port = static_cast<std::uint16_t>(number);
        } else if (arg == "--unix") {
            options.unix_path = value(unix_path);
        } else if (arg == "--message") {
            options.message = value(message);
        } else if (arg == "--clients") {
            const auto text = value(clients);
            if (!detail::parse_number(text, 1, 10000, number))
                detail::usage_error("bad number of clients (want 1..10000): " + std::string(text), usage);
            options.clients = static_cast<int>(number);
        } else if (arg == "--threads") {
            const auto text = value(threads);
            if (!detail::parse_number(text, 1, 256, number))
                detail::usage_error("bad number of threads (want 1..256): " + std::string(text), usage);
            options.threads = static_cast<int>(number);
        } else if (arg == "--path") {
            options.path = value(path);
        } else if (arg == "--interface") {
            options.interface_name = value(interface_name);
        } else {
            detail::usage_error("unknown option: " + std::string(arg), usage);
        }
    }
    if ((accepts & arguments) && options.arguments.empty()) detail::usage_error("missing argument", usage);
    if ((accepts & message) && options.message == "-") {  // --message - : the message is standard input
        options.message.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    }
    return options;
}

#if defined(_WIN32)
/// A netlite::StopToken that is stopped by the first Ctrl-C, Ctrl-Break or console close. Windows runs
/// console control handlers in a thread of their own, where anything may be called.
inline netlite::StopToken stop_on_signals() {
    static netlite::StopSource source;
    ::SetConsoleCtrlHandler(
        [](DWORD) -> BOOL {
            source.request_stop();
            return TRUE;
        },
        TRUE);
    return source.get_token();
}
#else
/// A netlite::StopToken that is stopped by the first SIGINT (Ctrl-C) or SIGTERM. Call it in main before any
/// other thread starts: it blocks both signals in the calling thread, so every thread started later
/// inherits the mask and the signal is left to one watcher thread, which sigwait()s for it and requests
/// stop. (No signal handler: the stop runs in an ordinary thread, where anything may be called.)
inline netlite::StopToken stop_on_signals() {
    static netlite::StopSource source;
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    std::thread([signals] {
        int received = 0;
        while (sigwait(&signals, &received) != 0) {
        }
        source.request_stop();
    }).detach();
    return source.get_token();
}
#endif

/// Prints a server's first line, `listening on ADDRESS`, for the address `socket` is bound to (with --port 0,
/// the port the system chose) and flushes it: stdout may be a pipe (a test, a script) waiting for the line.
/// Returns false after printing why to stderr (then main exits 1) when the address cannot be read.
template <class Socket>
bool announce_listening(const Socket& socket) {
    auto where = socket.local_address();
    if (!where) {
        fail(where.error().message());
        return false;
    }
    std::printf("listening on %s\n", where->to_string().c_str());
    std::fflush(stdout);
    return true;
}

/// Writes bytes to stdout exactly as they are (no text conversion, embedded NULs kept) and flushes.
inline void print_verbatim(std::string_view bytes) {
    std::fwrite(bytes.data(), 1, bytes.size(), stdout);
    std::fflush(stdout);
}

}  // namespace cli
