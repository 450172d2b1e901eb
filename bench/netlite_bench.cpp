// netlite_bench: every workload three ways (netlite, raw POSIX, Asio) in one process run, interleaved
// repetitions, one table. Run it through scripts/bench, which builds it (Release) and passes the paths of
// the tools it drives; `netlite_bench --help` lists the options.
#include "harness.hpp"
#include "workloads.hpp"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>

extern char** environ;

#ifndef NETLITE_BENCH_HAVE_ASIO
#define NETLITE_BENCH_HAVE_ASIO 0
#endif

// Adds Asio's contender `key`, the value of `call`, to workload `w`; without Asio, nothing (and `call`, which
// names a function that is then not declared, is not compiled).
#if NETLITE_BENCH_HAVE_ASIO
#define NETLITE_BENCH_ADD_ASIO(w, key, call) (w).impls.push_back({key, [=] { return call; }})
#else
#define NETLITE_BENCH_ADD_ASIO(w, key, call) static_cast<void>(0)
#endif

namespace {

using bench::Row;
using bench::Sample;
using bench::Workload;

struct Options {
    int reps = 7;
    double scale = 1.0;  // multiplies every workload size
    bool verbose = false;
    std::vector<std::string> only;  // workload groups to run; empty = all
    // Tools and files (set by CMake, overridable on the command line).
    std::string source_dir = NETLITE_BENCH_SOURCE_DIR;
    std::string include_dir = NETLITE_BENCH_INCLUDE_DIR;
    std::string gxx = NETLITE_BENCH_GXX;
    std::string clangxx = NETLITE_BENCH_CLANGXX;
    std::string valgrind = NETLITE_BENCH_VALGRIND;
    std::string strip = NETLITE_BENCH_STRIP;
    std::string echo_netlite = NETLITE_BENCH_ECHO_NETLITE;
    std::string echo_netlite_seq = NETLITE_BENCH_ECHO_NETLITE_SEQ;
    std::string echo_raw = NETLITE_BENCH_ECHO_RAW;
    std::string echo_asio = NETLITE_BENCH_ECHO_ASIO;
    std::string pingpong_cg = NETLITE_BENCH_PINGPONG_CG;

    bool wants(std::string_view group) const {
        if (only.empty()) return true;
        for (const auto& o : only)
            if (o == group) return true;
        return false;
    }
};

/// Runs `argv` (stdout/stderr to /dev/null unless `keep_output`); returns its exit status, -1 when it
/// could not start.
int spawn(const std::vector<std::string>& argv, bool keep_output = false) {
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    if (!keep_output) {
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
    }
    pid_t pid;
    const int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) return -1;
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

bool usable(const std::string& path) {
    return !path.empty() && path.find("NOTFOUND") == std::string::npos;
}

std::size_t scaled(double base, const Options& o) {
    const double v = base * o.scale;
    return v < 1 ? 1 : static_cast<std::size_t>(v);
}

std::string count_text(std::size_t n) {
    char text[32];
    if (n >= 1u << 30 && n % (1u << 20) == 0)
        std::snprintf(text, sizeof text, "%.2g GiB", static_cast<double>(n) / (1u << 30));
    else if (n >= 1u << 20)
        std::snprintf(text, sizeof text, "%.0f MiB", static_cast<double>(n) / (1u << 20));
    else if (n >= 10000)
        std::snprintf(text, sizeof text, "%zuk", n / 1000);
    else
        std::snprintf(text, sizeof text, "%zu", n);
    return text;
}

// --- compile cost ----------------------------------------------------------------------------------------

Sample compile_ms(const Options& o, const std::string& compiler, const std::string& file) {
    const auto t0 = bench::Clock::now();
    const int rc = spawn(
        {compiler, "-std=c++20", "-fsyntax-only", "-I" + o.include_dir, o.source_dir + "/compile/" + file});
    const double ms = bench::seconds_since(t0) * 1000;
    if (rc != 0) {
        std::fprintf(stderr, "netlite_bench: %s -fsyntax-only %s failed (%d)\n", compiler.c_str(),
                     file.c_str(), rc);
        return {NAN, 0};
    }
    return {ms, 0};
}

// --- binary size -----------------------------------------------------------------------------------------

Sample stripped_size(const Options& o, const std::string& binary) {
    if (!usable(binary)) return {NAN, 0};
    const std::string out = "/tmp/netlite_bench_stripped_" + std::to_string(::getpid());
    if (spawn({o.strip, "-o", out, binary}) != 0) return {NAN, 0};
    struct stat info {};
    const bool ok = ::stat(out.c_str(), &info) == 0;
    ::unlink(out.c_str());
    return {ok ? static_cast<double>(info.st_size) : NAN, 0};
}

// --- callgrind ---------------------------------------------------------------------------------------------

/// Instructions callgrind counts inside the ping-pong loops of pingpong_callgrind (both threads), per
/// round trip. Deterministic: no dependence on machine noise.
Sample callgrind_instructions(const Options& o, const std::string& mode, std::size_t trips) {
    if (!usable(o.valgrind) || !usable(o.pingpong_cg)) return {NAN, 0};
    const std::string out = "/tmp/netlite_bench_cg_" + std::to_string(::getpid()) + "_" + mode;
    const int rc =
        spawn({o.valgrind, "--tool=callgrind", "--callgrind-out-file=" + out, "--collect-atstart=no",
               "--toggle-collect=*measured_*", o.pingpong_cg, mode, std::to_string(trips)});
    std::ifstream in(out);
    std::string line;
    double total = NAN;
    while (std::getline(in, line)) {
        if (line.rfind("summary:", 0) == 0 || line.rfind("totals:", 0) == 0) {
            total = std::strtod(line.c_str() + line.find(':') + 1, nullptr);
        }
    }
    ::unlink(out.c_str());
    if (rc != 0) {
        std::fprintf(stderr, "netlite_bench: callgrind run (%s) failed (%d)\n", mode.c_str(), rc);
        return {NAN, 0};
    }
    return {total / static_cast<double>(trips), total};
}

void usage() {
    std::printf(
        "usage: netlite_bench [--reps N] [--scale X] [--only GROUP[,GROUP...]] [--verbose]\n"
        "groups: bulk pingpong udp accept vectored compile size callgrind\n"
        "--scale multiplies every workload size (default 1: the sizes printed in the table)\n");
}

}  // namespace

int main(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        const std::string_view a = argv[i];
        auto next = [&]() -> std::string {
            if (i + 1 >= argc) {
                usage();
                std::exit(2);
            }
            return argv[++i];
        };
        if (a == "--reps")
            o.reps = std::atoi(next().c_str());
        else if (a == "--scale")
            o.scale = std::atof(next().c_str());
        else if (a == "--verbose" || a == "-v")
            o.verbose = true;
        else if (a == "--only") {
            std::stringstream list(next());
            for (std::string g; std::getline(list, g, ',');) o.only.push_back(g);
        } else if (a == "--help" || a == "-h") {
            usage();
            return 0;
        } else {
            usage();
            return 2;
        }
    }
    if (o.reps < 1) o.reps = 1;

    const unsigned cpus = std::thread::hardware_concurrency();
    // Sizes. The issue asks for at least 2 GiB bulk, 200k round trips, 1M datagrams and 20k accepts. On this
    // 2-vCPU gVisor machine a ping-pong between two different CPUs runs ~8x slower than on one CPU, and
    // 1M datagrams take ~7 s per version: the suite would not fit in ~10 minutes with 7 repetitions. So the
    // different-CPU ping-pong uses a tenth of the trips and UDP half the datagrams; the table says so.
    const std::size_t bulk_bytes = scaled(2048.0 * (1 << 20), o);
    const std::size_t trips = scaled(200000, o);
    const std::size_t trips_cross = scaled(20000, o);
    const std::size_t udp_count = scaled(500000, o);
    const std::size_t accepts = scaled(20000, o);
    const std::size_t vec_messages = scaled(200000, o);
    const std::size_t cg_trips = 20000;  // fixed: the regression figure must not depend on --scale

    std::vector<std::unique_ptr<Workload>> workloads;
    std::vector<Row> rows;
    auto add = [&](std::string name, int reps) -> Workload& {
        workloads.push_back(std::make_unique<Workload>());
        workloads.back()->name = std::move(name);
        workloads.back()->repetitions = reps;
        return *workloads.back();
    };
    const bool asio = NETLITE_BENCH_HAVE_ASIO;

    if (o.wants("bulk")) {
        auto& w = add("bulk", o.reps);
        w.impls = {{"netlite", [=] { return bench::bulk_netlite(bulk_bytes); }},
                   {"raw", [=] { return bench::bulk_raw(bulk_bytes); }}};
        NETLITE_BENCH_ADD_ASIO(w, "asio", bench::bulk_asio(bulk_bytes));
        const std::string what = "bulk TCP " + count_text(bulk_bytes) + ", 64 KiB writes";
        rows.push_back(Row{&w, what, "GB/s", "netlite", "raw", asio ? "asio" : "", false, ">= 0.98x raw"});
        rows.push_back(Row{&w, what, "CPU s/GB", "netlite", "raw", asio ? "asio" : "", true, "<= 1.02x raw"});
    }
    if (o.wants("pingpong")) {
        struct Config {
            const char* label;
            std::size_t size;
            int ccpu, scpu;
            std::size_t trips;
        };
        std::vector<Config> configs = {{"same CPU", 1, 0, 0, trips}, {"same CPU", 64, 0, 0, trips}};
        if (cpus >= 2) {
            configs.push_back({"CPUs 0,1", 1, 0, 1, trips_cross});
            configs.push_back({"CPUs 0,1", 64, 0, 1, trips_cross});
        }
        for (const Config& c : configs) {
            auto& w = add(std::string("pingpong ") + c.label + " " + std::to_string(c.size) + "B", o.reps);
            w.impls = {{"netlite", [=] { return bench::pingpong_netlite(c.trips, c.size, c.ccpu, c.scpu); }},
                       {"raw", [=] { return bench::pingpong_raw(c.trips, c.size, c.ccpu, c.scpu); }}};
            NETLITE_BENCH_ADD_ASIO(w, "asio", bench::pingpong_asio(c.trips, c.size, c.ccpu, c.scpu));
            const bool quoted = c.ccpu == c.scpu;
            rows.push_back(Row{&w,
                               "ping-pong " + std::to_string(c.size) + " B, " + c.label + ", " +
                                   count_text(c.trips) + " trips",
                               "trips/s", "netlite", "raw", asio ? "asio" : "", false,
                               quoted ? ">= 0.99x raw" : "(report only)"});
        }
    }
    if (o.wants("udp")) {
        auto& w = add("udp", o.reps);
        w.impls = {{"netlite", [=] { return bench::udp_netlite(udp_count); }},
                   {"raw", [=] { return bench::udp_raw(udp_count); }},
                   {"netlite_batch", [=] { return bench::udp_netlite_batch(udp_count); }},
                   {"raw_batch", [=] { return bench::udp_raw_batch(udp_count); }}};
        NETLITE_BENCH_ADD_ASIO(w, "asio", bench::udp_asio(udp_count));
        const std::string n = count_text(udp_count);
        rows.push_back(Row{&w, "UDP 64 B x " + n + " send_to/recv_from", "dgram/s", "netlite", "raw",
                           asio ? "asio" : "", false, ">= 0.98x raw"});
        rows.push_back(Row{&w, "UDP 64 B x " + n + " send_to/recv_from", "loss %", "netlite", "raw",
                           asio ? "asio" : "", true, ""});
        rows.push_back(Row{&w, "UDP 64 B x " + n + " batch x32 (mmsg)", "dgram/s", "netlite_batch",
                           "raw_batch", "", false, ">= 1.12x raw single", "batch/raw single", "netlite_batch",
                           "raw"});
        rows.push_back(Row{&w, "UDP 64 B x " + n + " batch x32 (mmsg)", "loss %", "netlite_batch",
                           "raw_batch", "", true, "<= raw single", "batch-raw single", "netlite_batch", "raw",
                           true});
    }
    if (o.wants("accept")) {
        auto& w = add("accept", o.reps);
        w.impls = {{"netlite", [=] { return bench::accept_netlite(accepts); }},
                   {"raw", [=] { return bench::accept_raw(accepts); }}};
        NETLITE_BENCH_ADD_ASIO(w, "asio", bench::accept_asio(accepts));
        rows.push_back(Row{&w, "accept storm " + count_text(accepts) + " connect/accept/close", "cycles/s",
                           "netlite", "raw", asio ? "asio" : "", false, "(report only)"});
    }
    if (o.wants("vectored")) {
        auto& w = add("vectored", o.reps);
        w.impls = {{"netlite_vec", [=] { return bench::vectored_netlite(vec_messages, true); }},
                   {"raw_vec", [=] { return bench::vectored_raw(vec_messages, true); }},
                   {"netlite_two", [=] { return bench::vectored_netlite(vec_messages, false); }},
                   {"raw_two", [=] { return bench::vectored_raw(vec_messages, false); }}};
        NETLITE_BENCH_ADD_ASIO(w, "asio_vec", bench::vectored_asio(vec_messages, true));
        NETLITE_BENCH_ADD_ASIO(w, "asio_two", bench::vectored_asio(vec_messages, false));
        const std::string n = count_text(vec_messages);
        rows.push_back(Row{&w, "16 B header + 256 B body x " + n + ", one gather write", "msg/s",
                           "netlite_vec", "raw_vec", asio ? "asio_vec" : "", false, "(report only)",
                           "gather/two writes", "netlite_vec", "netlite_two"});
        rows.push_back(Row{&w, "16 B header + 256 B body x " + n + ", two writes", "msg/s", "netlite_two",
                           "raw_two", asio ? "asio_two" : "", false, "(report only)"});
    }
    if (o.wants("compile")) {
        for (const auto& [name, compiler] :
             {std::pair<std::string, std::string>{"g++", o.gxx}, {"clang++", o.clangxx}}) {
            if (!usable(compiler)) continue;
            auto& w = add("compile " + name, o.reps);
            w.impls = {{"floor", [=] { return compile_ms(o, compiler, "floor.cpp"); }},
                       {"include", [=] { return compile_ms(o, compiler, "netlite_include.cpp"); }},
                       {"api", [=] { return compile_ms(o, compiler, "netlite_api.cpp"); }}};
            if (asio)
                w.impls.push_back({"asio", [=] { return compile_ms(o, compiler, "asio_include.cpp"); }});
            // "raw" here is the floor: the system socket headers and
            // <expected>/<system_error>/<string>/<span>.
            rows.push_back(Row{&w, name + " -fsyntax-only #include <netlite/netlite.hpp>", "ms", "include",
                               "floor", asio ? "asio" : "", false,
                               name == "g++" ? "<= floor + 80 ms" : "(report only)", "netlite-floor ms",
                               "include", "floor", true});
            rows.push_back(Row{&w, name + " -fsyntax-only, whole API used", "ms", "api", "floor",
                               asio ? "asio" : "", false, "(report only)", "netlite-floor ms", "api", "floor",
                               true});
        }
    }
    if (o.wants("size")) {
        auto& w = add("size", 1);
        w.impls = {{"netlite", [=] { return stripped_size(o, o.echo_netlite); }},
                   {"raw", [=] { return stripped_size(o, o.echo_raw); }}};
        if (asio) w.impls.push_back({"asio", [=] { return stripped_size(o, o.echo_asio); }});
        w.impls.push_back({"netlite_seq", [=] { return stripped_size(o, o.echo_netlite_seq); }});
        rows.push_back(Row{&w, "echo client, -O2, stripped", "bytes", "netlite", "raw", asio ? "asio" : "",
                           false, "<= 1.1x raw"});
        rows.push_back(Row{&w, "echo client, sequential connect as raw's, stripped", "bytes", "netlite_seq",
                           "raw", "", false, "(report only)"});
    }
    if (o.wants("callgrind")) {
        auto& w = add("callgrind", 1);
        w.impls = {{"netlite", [=] { return callgrind_instructions(o, "netlite", cg_trips); }},
                   {"raw", [=] { return callgrind_instructions(o, "raw", cg_trips); }}};
        if (asio) w.impls.push_back({"asio", [=] { return callgrind_instructions(o, "asio", cg_trips); }});
        rows.push_back(
            Row{&w, "callgrind: user-space instr. per 1 B TCP round trip (" + count_text(cg_trips) + ")",
                "Ir/trip", "netlite", "raw", asio ? "asio" : "", false, "<= 1.02x raw"});
    }

    bench::QuietWait quiet;
    const auto t0 = bench::Clock::now();
    for (auto& w : workloads) {
        const auto tw = bench::Clock::now();
        std::fprintf(stderr, "running %-28s ...", w->name.c_str());
        std::fflush(stderr);
        if (o.verbose) std::fprintf(stderr, "\n");
        bench::run(*w, quiet, o.verbose);
        std::fprintf(stderr, " %.1f s\n", bench::seconds_since(tw));
    }

    std::printf(
        "\nnetlite benchmark: median [min-max] of %d interleaved repetitions (1 for sizes and\n"
        "instruction counts); ratios are computed per repetition, then summarised. %u CPUs.\n"
        "raw POSIX = the same program on socket/send/recv/sendto/recvfrom/sendmmsg/recvmmsg; "
        "Asio = %s.\n\n",
        o.reps, cpus, asio ? "standalone Asio, synchronous API" : "not built (no <asio.hpp>)");
    bench::print_table(rows);
    std::printf("\ntotal %.0f s\n", bench::seconds_since(t0));
    return 0;
}
