// What the README's "Deadlines and cancellation" sketch assumes: a connected stream, a body, a deadline.
#include <netlite/tcp.hpp>

#include <chrono>
#include <cstdio>
#include <string_view>

void sketch(netlite::Result<netlite::TcpStream<>>& stream, std::string_view body,
            std::chrono::steady_clock::time_point deadline) {
    // README snippet
}

int main() {}
