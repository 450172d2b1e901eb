// pass_file - hand an open file to another process over a Unix-domain socket.
//
// A Unix-domain socket carries more than bytes: a message can take open descriptors along (SCM_RIGHTS),
// and the receiver gets its own descriptors for the same open files. It does not open the file by name,
// so it needs no permission on the file, nor the name to still exist: what it gets is the sender's open
// file, offset and all. This is how a privileged process hands a file or a socket to an unprivileged
// one (Python: socket.send_fds / socket.recv_fds). One byte at least must travel with the descriptors
// on a stream socket; here it is the file's name, for the receiver to print.
#include "cli.hpp"

#include <netlite/tcp.hpp>
#include <netlite/unix.hpp>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include <fcntl.h>
#include <unistd.h>

using namespace netlite;

constexpr const char* usage =
    "usage: pass_file send FILE [--unix PATH]\n"
    "       pass_file receive [--unix PATH]\n"
    "send: opens FILE for reading, listens on the Unix socket PATH and passes the open file to the one\n"
    "process that connects, then exits. receive: connects to PATH, takes the open file, and prints its name\n"
    "and everything read from it (default PATH: pass_file.sock in the current directory).\n";

/// The sending side: open first, then wait for the process to give the file to.
int send_file(const std::string& file, const std::string& path) {
    const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return cli::fail(file + ": " + std::strerror(errno));
    struct Close {  // closed on every way out: the receiver has its own descriptor by then
        int fd;
        ~Close() { ::close(fd); }
    } close_file{fd};

    auto listener = UnixListener::bind(path, ListenOptions{.remove_stale_socket = true});
    if (!listener) return cli::fail(listener.error().message());
    std::printf("listening on %s\n", path.c_str());
    std::fflush(stdout);

    auto client = listener->accept();
    if (!client) return cli::fail(client.error().message());
    std::printf("Connected with %s\n", client->peer.to_string().c_str());
    std::fflush(stdout);

    // The descriptor rides with the message's first byte; the rest of the name follows as plain bytes.
    const int descriptors[] = {fd};
    auto sent = send_with_descriptors(client->stream, file, descriptors);
    if (!sent) return cli::fail("sending the descriptor: " + sent.error().message());
    if (*sent < file.size()) {
        if (auto rest = client->stream.write_all(ConstBuffer(file.data() + *sent, file.size() - *sent));
            !rest)
            return cli::fail(rest.error().message());
    }
    std::printf("passed %s\n", file.c_str());
    return 0;  // closing our descriptor now leaves the receiver's open: the file stays open for it
}

/// The receiving side: the file's name, then the open file itself.
int receive_file(const std::string& path) {
    auto stream = UnixStream::connect(path);
    if (!stream) return cli::fail(path + ": " + stream.error().message());

    char buffer[4096];
    auto first = recv_with_descriptors(*stream, buffer, 1);  // room for the one descriptor we expect
    if (!first) return cli::fail(first.error().message());
    if (first->descriptors.empty()) return cli::fail("no descriptor came with the message");
    std::string name(buffer, first->size);
    for (;;) {  // the rest of the name, to the end of the stream
        auto got = stream->read(buffer);
        if (!got) return cli::fail(got.error().message());
        if (*got == 0) break;
        name.append(buffer, *got);
    }
    const OwnedDescriptor& file = first->descriptors.front();  // closed when `first` goes
    std::printf("received %s as descriptor %d\n", name.c_str(), static_cast<int>(file.get()));

    // A descriptor like any other: read(2) it to the end.
    for (;;) {
        const ssize_t got = ::read(file.get(), buffer, sizeof buffer);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) return cli::fail(std::string("reading the file: ") + std::strerror(errno));
        if (got == 0) break;
        std::fwrite(buffer, 1, static_cast<std::size_t>(got), stdout);
    }
    std::fflush(stdout);
    return 0;
}

int main(int argc, char** argv) {
    const cli::Options options =
        cli::parse(argc, argv, cli::unix_path | cli::arguments, {.unix_path = "pass_file.sock"}, usage);
    const std::string& role = options.arguments.front();
    if (role == "send" && options.arguments.size() == 2)
        return send_file(options.arguments[1], options.unix_path);
    if (role == "receive" && options.arguments.size() == 1) return receive_file(options.unix_path);
    cli::detail::usage_error("expected `send FILE` or `receive`", usage);
}
