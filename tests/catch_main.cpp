// main() for the Catch2 v2 test executables; built once as a static library.
// With Catch2 v3 this file is not compiled (Catch2::Catch2WithMain is used).
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
