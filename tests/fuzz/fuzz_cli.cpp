// libFuzzer target: the examples' command-line parser, cli::parse (examples/cli.hpp, used as it is).
//
// The input is split at NUL bytes into argv[1..]; its first byte picks which flags the program accepts.
// cli::parse prints usage and calls std::exit on --help and on mistakes. So that one process can run
// millions of command lines, this file renames that call (a macro around the #include, nothing copied):
// here std::exit throws ParseExit, which is caught below, and the exit status is checked (0 for --help,
// 2 for a mistake). std::cout/std::cerr go to a null buffer; std::cin is empty (for "--message -").
// Checked on success: the port is 0..65535 by construction, clients in 1..10000, and when `arguments` is
// accepted at least one argument was given.
//
// Build: clang++ -fsanitize=fuzzer,address,undefined (tests/fuzz/CMakeLists.txt, scripts/fuzz).

// Every header cli.hpp includes comes first, so the macro below renames nothing but cli.hpp's own calls.
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <iterator>
#include <sstream>
#include <stop_token>
#include <streambuf>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <vector>

#include <signal.h>

struct ParseExit {
    int status;
};
namespace std {  // the name std::exit is rewritten to inside cli.hpp
[[noreturn]] inline void netlite_fuzz_exit(int status) {
    throw ParseExit{status};
}
}  // namespace std

#define exit netlite_fuzz_exit
#include "../../examples/cli.hpp"
#undef exit

namespace {

class NullBuffer : public std::streambuf {
protected:
    int_type overflow(int_type c) override { return traits_type::not_eof(c); }
    std::streamsize xsputn(const char*, std::streamsize n) override { return n; }
};

struct Silence {
    NullBuffer null;
    std::istringstream empty_input;
    Silence() {
        std::cout.rdbuf(&null);
        std::cerr.rdbuf(&null);
        std::cin.rdbuf(empty_input.rdbuf());
    }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static Silence silence;
    if (size == 0) return 0;
    const unsigned accepts = data[0] & 0x7f;
    std::vector<std::string> words{"fuzzed_program"};
    std::string current;
    for (std::size_t i = 1; i < size; ++i) {
        if (data[i] == 0) {
            words.push_back(current);
            current.clear();
        } else {
            current.push_back(static_cast<char>(data[i]));
        }
    }
    if (size > 1) words.push_back(current);
    std::vector<char*> argv;
    for (std::string& word : words) argv.push_back(word.data());
    argv.push_back(nullptr);

    try {
        const cli::Options options = cli::parse(static_cast<int>(words.size()), argv.data(), accepts,
                                                cli::Options{.port = 8088}, "usage\n");
        if (options.clients < 1 || options.clients > 10000) std::abort();
        if ((accepts & cli::arguments) && options.arguments.empty()) std::abort();
        if (!(accepts & cli::arguments) && !options.arguments.empty()) std::abort();
        if (!(accepts & cli::port) && options.port != 8088) std::abort();
    } catch (const ParseExit& exit_status) {
        if (exit_status.status != 0 && exit_status.status != 2) std::abort();
    }
    return 0;
}
