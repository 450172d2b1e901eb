// SPDX-License-Identifier: BSL-1.0
// netlite/detail/sys_winsock_signal.hpp - "signals" on Windows: console control events
// (SetConsoleCtrlHandler), named as the C runtime's signal numbers (included through
// detail/sys_signal.hpp). Ctrl+C is SIGINT, Ctrl+Break SIGBREAK, closing the console, logging off and
// shutting down SIGTERM.
#pragma once

#include <netlite/detail/sys.hpp>
#include <netlite/detail/sys_signal.hpp>  // the shared part (it includes this file after it)

#include <signal.h>
#include <atomic>
#include <system_error>

namespace netlite::detail::sys {

/// What the console handler calls, and for which signal numbers (bit signo - 1).
inline std::atomic<void (*)(int)> console_signal_handler{nullptr};
inline std::atomic<unsigned long long> console_signals_caught{0};

/// The C runtime's number for a console control event.
inline int signal_of_console_event(DWORD event) noexcept {
    if (event == CTRL_C_EVENT) return SIGINT;
    if (event == CTRL_BREAK_EVENT) return SIGBREAK;
    return SIGTERM;  // CTRL_CLOSE_EVENT, CTRL_LOGOFF_EVENT, CTRL_SHUTDOWN_EVENT
}

/// The console handler (on a thread the OS starts): TRUE when a SignalSet takes the event, FALSE to leave
/// it to the next handler (the default one ends the process).
inline BOOL WINAPI on_console_event(DWORD event) noexcept {
    const int signo = signal_of_console_event(event);
    const unsigned long long bit = 1ull << (signo - 1);
    void (*handler)(int) = console_signal_handler.load(std::memory_order_acquire);
    if (handler == nullptr || (console_signals_caught.load(std::memory_order_acquire) & bit) == 0)
        return FALSE;
    handler(signo);
    return TRUE;
}

/// Takes the console control events named `signo` (SIGINT, SIGBREAK, SIGTERM) to `handler`. Errors:
/// operation_not_supported (any other number: Windows has no other signals to deliver), the OS's error of
/// SetConsoleCtrlHandler.
inline Result<void> catch_signal(int signo, void (*handler)(int)) noexcept {
    if (signo != SIGINT && signo != SIGBREAK && signo != SIGTERM)
        return fail(std::errc::operation_not_supported, "SetConsoleCtrlHandler");
    console_signal_handler.store(handler, std::memory_order_release);
    const unsigned long long before =
        console_signals_caught.fetch_or(1ull << (signo - 1), std::memory_order_acq_rel);
    if (before == 0 && ::SetConsoleCtrlHandler(&on_console_event, TRUE) == 0) {
        const auto code = static_cast<int>(::GetLastError());
        console_signals_caught.fetch_and(~(1ull << (signo - 1)), std::memory_order_acq_rel);
        return fail(Error(std::error_code(code, std::system_category()), "SetConsoleCtrlHandler"));
    }
    return {};
}

/// Stops taking `signo`'s console events; the handler is removed with the last one.
inline void release_signal(int signo) noexcept {
    if (!signal_number_in_range(signo)) return;
    const unsigned long long bit = 1ull << (signo - 1);
    const unsigned long long before = console_signals_caught.fetch_and(~bit, std::memory_order_acq_rel);
    if (before == bit) (void)::SetConsoleCtrlHandler(&on_console_event, FALSE);
}

}  // namespace netlite::detail::sys
