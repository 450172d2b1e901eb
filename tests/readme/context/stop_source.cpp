// What the README's StopSource sketch assumes: a bound listener and a function serving one connection.
#include <netlite/tcp.hpp>

#include <thread>
#include <utility>

void serve(netlite::TcpStream<> connection);

void sketch(netlite::Result<netlite::TcpListener<>>& listener) {
    // README snippet
}

int main() {}
