// What the README's TLS sketch assumes: a request to send, and the chrono literals for its deadlines.
#include <netlite/tls.hpp>

#include <chrono>
#include <cstdio>
#include <string_view>

using namespace std::chrono_literals;

void sketch(std::string_view request) {
    // README snippet
}

int main() {}
