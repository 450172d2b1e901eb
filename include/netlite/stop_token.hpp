// SPDX-License-Identifier: BSL-1.0
// netlite/stop_token.hpp - cancel any blocking call with a std::stop_token: `stream.read(buffer,
// stop.get_token())`, `Until(2s, token)`, `listener.incoming(token)`.
//
// Separate from netlite.hpp because <stop_token> alone takes longer to compile than all of netlite.
#pragma once

#include <netlite/deadline.hpp>

#include <new>
#include <stop_token>

namespace netlite::detail {

using StopCallback = std::stop_callback<StopWake>;
static_assert(sizeof(StopCallback) <= stop_callback_capacity &&
                  alignof(StopCallback) <= alignof(std::max_align_t),
              "netlite: a std::stop_callback does not fit in StopGuard");

/// Registers `wake` with `token` in the storage at `callback` (a StopGuard's).
inline void attach_stop(StopHook, const std::stop_token& token, void* callback, StopWake wake) noexcept {
    ::new (callback) StopCallback(token, wake);
}
/// Unregisters it, waiting for a `wake` that is running in another thread.
inline void detach_stop(StopHook, const std::stop_token&, void* callback) noexcept {
    static_cast<StopCallback*>(callback)->~StopCallback();
}

}  // namespace netlite::detail
