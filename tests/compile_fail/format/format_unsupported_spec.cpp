// MUST NOT COMPILE where std::format works: an Address takes the string format specs only, so an integer
// presentation type ('d') is rejected when the format string is checked at compile time. Registered only
// where format_control_ok.cpp (the same call with "{:>20}") compiles.
#include <netlite/address.hpp>

#include <string>

int main() {
    const std::string text = std::format("{:d}", netlite::Address<netlite::IPv4>::loopback(80));
    return text.empty() ? 1 : 0;
}
