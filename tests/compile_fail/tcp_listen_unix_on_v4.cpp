// MUST NOT COMPILE: a Unix-domain TCP listener cannot bind an IPv4 address.
// The matching-family version of this call is in control_ok.cpp.
#include <netlite/netlite.hpp>

int main() {
    auto listener = netlite::TcpListener<netlite::Unix>::bind(netlite::Address<netlite::IPv4>::any(0));
    (void)listener;
    return 0;
}
