// SPDX-License-Identifier: BSL-1.0
// netlite/detail/sys_signal.hpp - the OS interface of signals (coro/signal.hpp): what every platform
// shares, then the platform's file (POSIX: sigaction; Windows: console control events). Apart from
// sys.hpp so that only programs that include coro/signal.hpp compile it.
//
// Each platform file defines, in netlite::detail::sys:
//   Result<void> catch_signal(int signo, void (*handler)(int))  handler(signo) runs on each arrival (in
//       a signal handler on POSIX: it must be async-signal-safe; on a thread of the OS's on Windows)
//   void release_signal(int signo)                               the disposition before catch_signal
// Both are called under one lock by coro/signal.hpp, once per signal while any SignalSet watches it.
#pragma once

#include <netlite/detail/sys.hpp>

namespace netlite::detail::sys {

/// The highest signal number netlite watches (a set keeps its signals as bits of a 64-bit word).
inline constexpr int max_signal_number = 64;

/// True for a number a SignalSet can hold (1 to max_signal_number; the OS may still refuse it).
inline constexpr bool signal_number_in_range(int signo) noexcept {
    return signo >= 1 && signo <= max_signal_number;
}

}  // namespace netlite::detail::sys

#if defined(_WIN32)
#include <netlite/detail/sys_winsock_signal.hpp>
#else
#include <netlite/detail/sys_posix_signal.hpp>
#endif
