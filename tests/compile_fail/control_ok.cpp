// MUST COMPILE: the same calls as the other files in this directory, with
// matching address families. If this fails, the compile-fail tests prove
// nothing (they would "pass" merely because the headers are broken).
#include <netlite/netlite.hpp>
#include <netlite/stop_token.hpp>

#include <stop_token>

int main() {
    // tcp_connect_v4_to_v6.cpp
    auto stream = netlite::TcpStream<netlite::IPv4>::connect(netlite::Address<netlite::IPv4>::loopback(80));
    (void)stream;

    // udp_send_to_v6_with_v4.cpp
    auto socket = netlite::UdpSocket<netlite::IPv6>::bind(netlite::Address<netlite::IPv6>::any(0));
    if (socket) {
        auto sent = socket->send_to("ping", netlite::Address<netlite::IPv6>::loopback(9));
        (void)sent;
    }

    // tcp_listen_unix_on_v4.cpp
    auto listener = netlite::TcpListener<netlite::IPv4>::bind(netlite::Address<netlite::IPv4>::any(0));
    (void)listener;

    // stop_token_without_hook.cpp
    std::stop_source source;
    if (listener) (void)listener->accept(source.get_token());
    return 0;
}
