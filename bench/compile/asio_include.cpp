// Compile cost of including standalone Asio, for comparison.
#include <asio.hpp>
