// netlite/netlite.hpp - the umbrella header: every public netlite type, and nothing heavy.
// (netlite/testing.hpp, for tests, is included separately.)
#pragma once

#include <netlite/address.hpp>
#include <netlite/buffer.hpp>
#include <netlite/deadline.hpp>
#include <netlite/limits.hpp>
#include <netlite/poll.hpp>
#include <netlite/result.hpp>
#include <netlite/socket.hpp>
#include <netlite/tcp.hpp>
#include <netlite/udp.hpp>

namespace netlite {
/// The library version, as in the CMake package.
inline constexpr int version_major = 0;
inline constexpr int version_minor = 1;
inline constexpr int version_patch = 0;
}  // namespace netlite
