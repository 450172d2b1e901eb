// MUST NOT COMPILE, with a message naming the header to include: a std::stop_token passed to a blocking
// call without <netlite/stop_token.hpp>. The version with the header is in control_ok.cpp.
#include <netlite/netlite.hpp>

#include <stop_token>

int main() {
    std::stop_source source;
    auto listener = netlite::TcpListener<netlite::IPv4>::bind(netlite::Address<netlite::IPv4>::loopback(0));
    if (listener) (void)listener->accept(source.get_token());
    return 0;
}
