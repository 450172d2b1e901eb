// Build-time twin of asio_coro_echo.cpp: a coroutine echo server on netlite/coro.hpp, errors as values.
#include <netlite/coro.hpp>

#include <cstdio>

namespace {

netlite::Task<void> echo(netlite::TcpStream<netlite::IPv4> stream) {
    char data[1024];
    for (;;) {
        auto got = co_await netlite::async_read(stream, netlite::MutableBuffer(data, sizeof data));
        if (!got || *got == 0) co_return;
        if (!co_await netlite::async_write_all(stream, netlite::ConstBuffer(data, *got))) co_return;
    }
}

netlite::Task<void> listen(netlite::Loop& loop, netlite::TcpListener<netlite::IPv4>& listener) {
    netlite::Scope connections(loop);
    for (;;) {
        auto accepted = co_await netlite::async_accept(listener);
        if (accepted) connections.spawn(echo(std::move(accepted->stream)));
    }
}

}  // namespace

int main() {
    auto loop = netlite::Loop::open();
    auto listener = netlite::TcpListener<netlite::IPv4>::bind(netlite::Address<netlite::IPv4>::loopback(0));
    if (!loop || !listener) return 1;
    std::printf("listening on %s\n", listener->local_address()->to_string().c_str());
    loop->run(listen(*loop, *listener));
}
