// Test-only shim: include this instead of a Catch2 header directly.
//
// It picks the Catch2 header matching the version found by CMake
// (NETLITE_TEST_CATCH2_MAJOR), falling back to __has_include detection, and
// provides NETLITE_SKIP(msg), which marks the current test case as skipped:
//   Catch2 >= 3.3 : SKIP(msg)            (reported as skipped)
//   older         : WARN("skipped: " msg) followed by return (reported as passed)
// NETLITE_SKIP must be used directly in a TEST_CASE/SECTION body (it returns).
#pragma once

#if defined(NETLITE_TEST_CATCH2_MAJOR)
#if NETLITE_TEST_CATCH2_MAJOR >= 3
#include <catch2/catch_all.hpp>
#else
#include <catch2/catch.hpp>
#endif
#elif __has_include(<catch2/catch_all.hpp>)
#include <catch2/catch_all.hpp>
#else
#include <catch2/catch.hpp>
#endif

#if defined(CATCH_VERSION_MAJOR) && \
    (CATCH_VERSION_MAJOR > 3 || (CATCH_VERSION_MAJOR == 3 && CATCH_VERSION_MINOR >= 3))
#define NETLITE_SKIP(msg) SKIP(msg)
#else
#define NETLITE_SKIP(msg)         \
    do {                          \
        WARN("skipped: " << msg); \
        return;                   \
    } while (false)
#endif
