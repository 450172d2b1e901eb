// Compile cost of a file that uses the whole public API: every class template instantiated for the
// families a program would use, so the compiler has to parse and instantiate all of it.
#include <netlite/netlite.hpp>

#include <array>
#include <string>

namespace {

template <netlite::Family F>
int streams(const netlite::Address<F>& where) {
    auto listener = netlite::TcpListener<F>::bind(where);
    if (!listener) return 1;
    auto local = listener->local_address();
    auto client = netlite::TcpStream<F>::connect(*local);
    auto accepted = listener->accept();
    if (!client || !accepted) return 2;
    std::array<char, 64> buffer{};
    (void)client->set_read_timeout(std::chrono::seconds(1));
    (void)client->write_all("hello");
    (void)accepted->stream.read_exact(netlite::MutableBuffer(buffer.data(), 5));
    (void)client->write_vectored({netlite::ConstBuffer("a"), netlite::ConstBuffer("b")});
    (void)accepted->stream.read_vectored({netlite::MutableBuffer(buffer)});
    (void)client->shutdown(netlite::Shutdown::write);
    std::string rest;
    (void)accepted->stream.read_to_end(rest);
    (void)client->send_file(0, 0, 1);
    for (auto&& [stream, peer] : listener->incoming()) {
        (void)peer.to_string();
        break;
    }
    return 0;
}

template <netlite::Family F>
int datagrams(const netlite::Address<F>& where) {
    auto socket = netlite::UdpSocket<F>::bind(where);
    if (!socket) return 1;
    std::array<char, 64> buffer{};
    (void)socket->send_to("x", where);
    (void)socket->recv_from(buffer);
    std::array<netlite::DatagramOut<F>, 2> out{{{"a", where}, {"b", where}}};
    (void)socket->send_batch(out);
    std::array<netlite::DatagramIn<F>, 2> in{};
    (void)socket->recv_batch(in);
    return 0;
}

}  // namespace

int main() {
    auto v4 = netlite::Address<netlite::IPv4>::parse("127.0.0.1:0");
    auto v6 = netlite::Address<netlite::IPv6>::parse("[::1]:0");
    auto any = netlite::Address<netlite::IP>::parse("127.0.0.1:0");
    auto unix_path = netlite::Address<netlite::Unix>::parse("/tmp/netlite-api");
    auto resolved = netlite::resolve<netlite::IP>("localhost", 80);
    int failures = 0;
    if (v4) failures += streams(*v4) + datagrams(*v4);
    if (v6) failures += streams(*v6) + datagrams(*v6);
    if (any) failures += streams(*any) + datagrams(*any);
    if (unix_path) failures += streams(*unix_path) + datagrams(*unix_path);
    auto pair = netlite::UnixStream::pair();
    return failures + (resolved ? 0 : 1) + (pair ? 0 : 1);
}
