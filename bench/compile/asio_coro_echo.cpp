// Build-time twin of netlite_coro_echo.cpp: Asio's C++20 awaitable echo server, errors as values
// (as_tuple). Asio 1.22 under clang 16 needs -DASIO_HAS_CO_AWAIT=1 -DASIO_HAS_STD_COROUTINE=1.
#include <asio.hpp>
#include <asio/experimental/as_tuple.hpp>

#include <cstdio>

namespace {

constexpr auto as_tuple_awaitable = asio::experimental::as_tuple(asio::use_awaitable);

asio::awaitable<void> echo(asio::ip::tcp::socket socket) {
    char data[1024];
    for (;;) {
        auto [error, size] = co_await socket.async_read_some(asio::buffer(data), as_tuple_awaitable);
        if (error) co_return;
        auto [write_error, written] =
            co_await asio::async_write(socket, asio::buffer(data, size), as_tuple_awaitable);
        (void)written;
        if (write_error) co_return;
    }
}

asio::awaitable<void> listen(asio::ip::tcp::acceptor& acceptor) {
    for (;;) {
        auto [error, socket] = co_await acceptor.async_accept(as_tuple_awaitable);
        if (!error) asio::co_spawn(acceptor.get_executor(), echo(std::move(socket)), asio::detached);
    }
}

}  // namespace

int main() {
    asio::io_context context(1);
    asio::ip::tcp::acceptor acceptor(context, asio::ip::tcp::endpoint(asio::ip::address_v4::loopback(), 0));
    std::printf("listening on 127.0.0.1:%d\n", acceptor.local_endpoint().port());
    asio::co_spawn(context, listen(acceptor), asio::detached);
    context.run();
}
