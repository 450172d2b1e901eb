// MUST COMPILE where std::format works: the call of format_unsupported_spec.cpp with a spec an Address
// takes (fill, alignment, width), so that file fails for its spec and not for a missing formatter.
#include <netlite/address.hpp>

#include <string>

int main() {
    const std::string text = std::format("{:*>20}", netlite::Address<netlite::IPv4>::loopback(80));
    return text.empty() ? 1 : 0;
}
