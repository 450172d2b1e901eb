// Trivial program built against the packaged netlite::netlite target.
#include <netlite/tcp.hpp>

int main() {
    auto address = netlite::Address<netlite::IPv4>::parse("127.0.0.1:80");
    return address.has_value() ? 0 : 1;
}
