// Compile cost of including the umbrella header and nothing else.
#include <netlite/netlite.hpp>
