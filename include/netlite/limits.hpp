// SPDX-License-Identifier: BSL-1.0
// netlite/limits.hpp - the process's limit on open descriptors, and raising it as servers do at start.
//
// Debian starts programs with a soft limit of 1,024 descriptors and a much higher hard limit. A server
// needs one descriptor per connection, so it raises its soft limit to the hard one first (Go's runtime
// does this for every program): `netlite::raise_descriptor_limit();` at the top of main().
#pragma once

#include <netlite/detail/sys.hpp>
#include <netlite/result.hpp>

#include <cstdint>

namespace netlite {

/// How many descriptors this process may open: the soft limit in force and the hard ceiling it may be
/// raised to. "Unlimited" reads as the largest std::uint64_t.
struct DescriptorLimit {
    std::uint64_t soft = 0;  ///< the limit in force (RLIMIT_NOFILE's rlim_cur)
    std::uint64_t hard = 0;  ///< the most the soft limit may be raised to (rlim_max)
};

/// This process's descriptor limit. Errors: those of getrlimit (none expected).
inline Result<DescriptorLimit> descriptor_limit() noexcept {
    auto limits = detail::sys::descriptor_limits();
    if (!limits) return fail(limits.error());
    return DescriptorLimit{(*limits)[0], (*limits)[1]};
}

/// Raises the soft descriptor limit to the hard limit (on macOS, at most OPEN_MAX) and returns the limit
/// now in force; a limit already at the ceiling is left as it is. Only the soft limit changes, which any
/// process may do. Errors: EPERM, EINVAL from setrlimit.
inline Result<DescriptorLimit> raise_descriptor_limit() noexcept {
    if (auto raised = detail::sys::raise_descriptor_limit(); !raised) return fail(raised.error());
    return descriptor_limit();
}

}  // namespace netlite
