// Tests for netlite/version.hpp: the header's version is the CMake project's (passed in by
// tests/CMakeLists.txt as NETLITE_TEST_PROJECT_VERSION_*), so a release cannot bump one and forget the other.
#include "catch.hpp"

#include <netlite/netlite.hpp>
#include <netlite/version.hpp>

#include <string>

TEST_CASE("version.hpp equals project(VERSION) in CMakeLists.txt", "[version]") {
    CHECK(NETLITE_VERSION_MAJOR == NETLITE_TEST_PROJECT_VERSION_MAJOR);
    CHECK(NETLITE_VERSION_MINOR == NETLITE_TEST_PROJECT_VERSION_MINOR);
    CHECK(NETLITE_VERSION_PATCH == NETLITE_TEST_PROJECT_VERSION_PATCH);
    CHECK(std::string(NETLITE_VERSION_STRING) == NETLITE_TEST_PROJECT_VERSION);
}

TEST_CASE("the version constants agree with the macros", "[version]") {
    CHECK(netlite::version_major == NETLITE_VERSION_MAJOR);
    CHECK(netlite::version_minor == NETLITE_VERSION_MINOR);
    CHECK(netlite::version_patch == NETLITE_VERSION_PATCH);
    CHECK(std::string(netlite::version_string) == NETLITE_VERSION_STRING);
    CHECK(NETLITE_VERSION ==
          NETLITE_VERSION_MAJOR * 10000 + NETLITE_VERSION_MINOR * 100 + NETLITE_VERSION_PATCH);
}
