// SPDX-License-Identifier: BSL-1.0
// netlite/detail/sys_posix_signal.hpp - signals on POSIX: sigaction(2) (included through
// detail/sys_signal.hpp).
#pragma once

#include <netlite/detail/sys.hpp>
#include <netlite/detail/sys_signal.hpp>  // the shared part (it includes this file after it)

#include <signal.h>
#include <atomic>
#include <cerrno>

namespace netlite::detail::sys {

/// The dispositions catch_signal replaced, restored by release_signal (used under coro/signal.hpp's lock).
inline struct sigaction replaced_signal_actions[max_signal_number + 1] = {};
/// What the installed handler calls.
inline std::atomic<void (*)(int)> signal_callback{nullptr};

/// The handler sigaction installs: the callback, with errno kept (its write(2) to a loop's wake-up
/// descriptor must not change what the interrupted code reads in errno).
inline void on_posix_signal(int signo) noexcept {
    const int saved = errno;
    if (void (*callback)(int) = signal_callback.load(std::memory_order_acquire)) callback(signo);
    errno = saved;
}

/// Catches `signo` with `handler` (SA_RESTART: interrupted calls go on; no signal blocked while it runs),
/// keeping the disposition it replaces for release_signal. Errors: EINVAL (SIGKILL, SIGSTOP, or no such
/// signal).
inline Result<void> catch_signal(int signo, void (*handler)(int)) noexcept {
    if (!signal_number_in_range(signo)) return fail(std::errc::invalid_argument, "sigaction");
    signal_callback.store(handler, std::memory_order_release);
    struct sigaction action = {};
    action.sa_handler = &on_posix_signal;
    sigemptyset(&action.sa_mask);  // unqualified: a macro on macOS
    action.sa_flags = SA_RESTART;
    if (::sigaction(signo, &action, &replaced_signal_actions[signo]) != 0)
        return fail(last_error("sigaction"));
    return {};
}

/// Puts back the disposition catch_signal(signo) replaced: a signal arriving from now on is handled as
/// before (SIGINT's default ends the process).
inline void release_signal(int signo) noexcept {
    if (signal_number_in_range(signo)) (void)::sigaction(signo, &replaced_signal_actions[signo], nullptr);
}

}  // namespace netlite::detail::sys
