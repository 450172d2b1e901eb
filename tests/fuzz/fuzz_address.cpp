// libFuzzer target: address parsing and formatting for all four families (IPv4, IPv6, IP, Unix).
//
// For every input, as text: parse must not crash; whatever parses must format (to_string) to text that
// parses again to an equal address that formats the same. The IP-and-port form parse(ip, port) must
// round-trip through ip() and port() the same way (scope ids aside: ip() leaves them out). The input is
// also read as a native sockaddr of each family: from_native must not crash and, when it accepts the
// bytes, to_string must stay within the library's maximum address text.
//
// Build: clang++ -fsanitize=fuzzer,address,undefined (tests/fuzz/CMakeLists.txt, scripts/fuzz).
#include <netlite/address.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

namespace {

[[noreturn]] void broken(const char* family, const char* what, std::string_view input,
                         const std::string& text) {
    std::fprintf(stderr, "fuzz_address: %s: %s\n  input (%zu bytes), formatted: \"%s\"\n", family, what,
                 input.size(), text.c_str());
    std::abort();
}

template <netlite::Family F>
void round_trip(const char* family, std::string_view input) {
    auto parsed = netlite::Address<F>::parse(input);
    if (parsed) {
        const std::string text = parsed->to_string();
        if (text.size() > netlite::detail::max_address_text)
            broken(family, "to_string too long", input, text);
        auto again = netlite::Address<F>::parse(text);
        if (!again) broken(family, "to_string does not parse back", input, text);
        if (!(*again == *parsed)) broken(family, "parse(to_string(a)) != a", input, text);
        if (again->to_string() != text) broken(family, "to_string differs after a round trip", input, text);
        (void)std::hash<netlite::Address<F>>{}(*parsed);
    }
    if constexpr (!std::is_same_v<F, netlite::Unix>) {
        const std::uint16_t port =
            input.size() >= 2 ? static_cast<std::uint16_t>(static_cast<unsigned char>(input[0]) << 8 |
                                                           static_cast<unsigned char>(input[1]))
                              : 0;
        auto with_port = netlite::Address<F>::parse(input, port);
        if (with_port) {
            if (with_port->port() != port)
                broken(family, "parse(ip, port) lost the port", input, with_port->to_string());
            auto again = netlite::Address<F>::parse(with_port->ip(), with_port->port());
            if (!again) broken(family, "ip() does not parse back", input, with_port->ip());
            bool scoped = false;
            if constexpr (std::is_same_v<F, netlite::IPv6>) scoped = with_port->scope_id() != 0;
            if constexpr (std::is_same_v<F, netlite::IP>)
                scoped = with_port->is_v6() && with_port->as_v6()->scope_id() != 0;
            if (!scoped && !(*again == *with_port))
                broken(family, "parse(ip(), port()) != a", input, with_port->to_string());
        }
    }
}

template <netlite::Family F>
void native(const char* family, const std::uint8_t* data, std::size_t size) {
    sockaddr_storage storage{};
    const std::size_t used = size < sizeof storage ? size : sizeof storage;
    if (used < sizeof(sa_family_t)) return;
    std::memcpy(&storage, data, used);
    // The family field comes from the input half the time, else it is forced to match.
    if (used > 2 && (data[0] & 1)) {
        if constexpr (std::is_same_v<F, netlite::IP>)
            storage.ss_family = (data[1] & 1) ? AF_INET6 : AF_INET;
        else
            storage.ss_family = static_cast<sa_family_t>(F::domain);
    }
    auto address = netlite::Address<F>::from_native(reinterpret_cast<const sockaddr*>(&storage),
                                                    static_cast<socklen_t>(used));
    if (!address) return;
    const std::string text = address->to_string();
    if (text.size() > netlite::detail::max_address_text)
        broken(family, "from_native: to_string too long", {}, text);
    (void)netlite::Address<F>::parse(text);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    round_trip<netlite::IPv4>("IPv4", input);
    round_trip<netlite::IPv6>("IPv6", input);
    round_trip<netlite::IP>("IP", input);
    round_trip<netlite::Unix>("Unix", input);
    native<netlite::IPv4>("IPv4", data, size);
    native<netlite::IPv6>("IPv6", data, size);
    native<netlite::IP>("IP", data, size);
    native<netlite::Unix>("Unix", data, size);
    return 0;
}
