// SPDX-License-Identifier: BSL-1.0
// netlite/version.hpp - the library version, equal to the CMake package's (a test keeps them equal).
#pragma once

/// Major version: changes when the API or ABI breaks.
#define NETLITE_VERSION_MAJOR 0
/// Minor version: changes when features are added.
#define NETLITE_VERSION_MINOR 1
/// Patch version: changes for fixes only.
#define NETLITE_VERSION_PATCH 0
/// The version as "MAJOR.MINOR.PATCH".
#define NETLITE_VERSION_STRING "0.1.0"
/// The version as one comparable number: MAJOR * 10000 + MINOR * 100 + PATCH.
#define NETLITE_VERSION (NETLITE_VERSION_MAJOR * 10000 + NETLITE_VERSION_MINOR * 100 + NETLITE_VERSION_PATCH)

namespace netlite {
/// The library's major version (NETLITE_VERSION_MAJOR).
inline constexpr int version_major = NETLITE_VERSION_MAJOR;
/// The library's minor version (NETLITE_VERSION_MINOR).
inline constexpr int version_minor = NETLITE_VERSION_MINOR;
/// The library's patch version (NETLITE_VERSION_PATCH).
inline constexpr int version_patch = NETLITE_VERSION_PATCH;
/// The library's version as "MAJOR.MINOR.PATCH" (NETLITE_VERSION_STRING).
inline constexpr const char* version_string = NETLITE_VERSION_STRING;
}  // namespace netlite
