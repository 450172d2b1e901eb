// What the README's Poller sketch assumes: a bound listener and a handler of one event.
#include <netlite/poll.hpp>
#include <netlite/tcp.hpp>

#include <array>
#include <span>

void on_ready(const netlite::Event& event);  // try_accept on the listener, try_read on a connection

void sketch(netlite::Result<netlite::TcpListener<>>& listener) {
    // README snippet
}

int main() {}
