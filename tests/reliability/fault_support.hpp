// fault_support.hpp - what the fault-injection scenarios (fault_scenario, fault_scenario_tls) share: the exit
// codes fault_injection.py reads (2 a false success, 3 an error without code or message, 4 a descriptor
// left open, 5 a bound broken, 6 EINTR reaching the caller), the descriptor count, and the step checks.
#pragma once

#include <netlite/result.hpp>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>

#include <dirent.h>

namespace fault {

/// FAULT_STRICT=1: the run injects only EINTR, which must never reach the caller.
inline bool strict() {
    const char* value = std::getenv("FAULT_STRICT");
    return value != nullptr && std::strcmp(value, "1") == 0;
}

inline int open_descriptors() {
    int count = 0;
    if (DIR* dir = ::opendir("/proc/self/fd")) {
        while (::readdir(dir) != nullptr) ++count;
        ::closedir(dir);
    }
    return count - 3;  // ".", ".." and the directory's own descriptor
}

/// Ends the run at once with `code`, printing why (no destructors: the state may be broken).
[[noreturn]] inline void finish(int code, const std::string& why) {
    std::printf("%s\n", why.c_str());
    std::fflush(stdout);
    std::_Exit(code);
}

// A step that failed: it must say what and why; then the run ends (after the caller's objects close).
struct Failed {
    std::string what;
};

/// Throws Failed with the step and the error's message; an error without code or message ends the run (3).
template <class R>
void check(const R& result, const std::string& step) {
    if (result) return;
    const auto& error = result.error();
    if (error.value() == 0 || error.message().empty())
        finish(3, step + ": failed with no error code or message");
    throw Failed{step + ": " + error.message()};
}

inline void expect(bool condition, int code, const std::string& why) {
    if (!condition) finish(code, why);
}

/// Ends a scenario's run with its verdict: 4 when descriptors were left open (counted `before` and now),
/// 6 when a step failed in strict mode (EINTR reached the caller), 10 for a step's specific error, else 0.
[[noreturn]] inline void finish_run(int before, const std::optional<Failed>& failed) {
    const int after = open_descriptors();
    expect(after == before, 4,
           "descriptors leaked: " + std::to_string(before) + " before, " + std::to_string(after) + " after" +
               (failed ? " (" + failed->what + ")" : ""));
    if (failed && strict()) finish(6, "EINTR reached the caller: " + failed->what);
    if (failed) finish(10, failed->what);
    finish(0, "ok");
}

}  // namespace fault
