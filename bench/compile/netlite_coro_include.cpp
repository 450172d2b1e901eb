// Compile cost of the umbrella plus the opt-in coroutine layer (against netlite_include.cpp).
#include <netlite/coro.hpp>
#include <netlite/netlite.hpp>
