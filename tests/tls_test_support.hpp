// A throwaway PKI for the TLS tests (tls_test, tls_coro_test): a CA and the certificates the tests use,
// made at test time through OpenSSL's API (tls_pki.hpp) in a private temp directory (removed at exit). No
// private key is committed. And Peer: another TLS program (openssl s_client, Python, ...) started and stopped
// by PID.
#pragma once

#include "catch.hpp"
#include "tls_pki.hpp"

#include <netlite/tls_options.hpp>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

namespace netlite_tls_test {

using netlite::TlsOptions;

/// A certificate and its key, as PEM text and as files.
struct Identity {
    std::string cert_pem, key_pem, cert_file, key_file;
};

inline constexpr const char* localhost_names = "DNS:localhost,IP:127.0.0.1,IP:::1";

/// The CA and every certificate the tests use, made once per run in a private directory.
class Pki {
public:
    Pki() {
        std::string pattern = (std::filesystem::temp_directory_path() / "netlite-tls-XXXXXX").string();
        REQUIRE(::mkdtemp(pattern.data()) != nullptr);
        dir_ = pattern;
        Key ca_key(EVP_RSA_gen(2048));
        Cert ca = make_cert(ca_key.get(), "netlite test CA", nullptr, nullptr, true, nullptr);
        ca_file = write("ca.pem", pem_of(ca.get()));
        ca_pem = pem_of(ca.get());
        Key other_key(EVP_EC_gen("P-256"));
        Cert other = make_cert(other_key.get(), "another CA", nullptr, nullptr, true, nullptr);
        other_ca_file = write("other-ca.pem", pem_of(other.get()));

        auto issue = [&](const char* name, bool rsa, const char* cn, const char* sans,
                         Validity validity = {}) {
            Key key(rsa ? EVP_RSA_gen(2048) : EVP_EC_gen("P-256"));
            Cert cert = make_cert(key.get(), cn, ca.get(), ca_key.get(), false, sans, validity);
            Identity id{pem_of(cert.get()), pem_of(key.get()), "", ""};
            id.cert_file = write(std::string(name) + ".pem", id.cert_pem);
            id.key_file = write(std::string(name) + ".key", id.key_pem);
            return id;
        };
        server_rsa = issue("server-rsa", true, "localhost", localhost_names);
        server_ec = issue("server-ec", false, "localhost", localhost_names);
        wrong_name = issue("wrong-name", false, "other.example", "DNS:other.example");
        expired = issue("expired", false, "localhost", localhost_names, {-7200, -3600});
        not_yet_valid = issue("not-yet-valid", false, "localhost", localhost_names, {3600, 7200});
        client = issue("client", false, "netlite test client", nullptr);
    }
    ~Pki() {
        std::error_code ignored;
        std::filesystem::remove_all(dir_, ignored);
    }
    Pki(const Pki&) = delete;
    Pki& operator=(const Pki&) = delete;

    std::string path(const std::string& name) const { return (dir_ / name).string(); }

    std::string ca_file, ca_pem, other_ca_file;
    Identity server_rsa, server_ec, wrong_name, expired, not_yet_valid, client;

private:
    std::string write(const std::string& name, const std::string& text) {
        std::ofstream(dir_ / name) << text;
        return path(name);
    }
    std::filesystem::path dir_;
};

inline Pki& pki() {
    static Pki instance;
    return instance;
}

inline TlsOptions client_options() {
    TlsOptions options;
    options.trust.file = pki().ca_file;
    return options;
}
inline TlsOptions server_options(const Identity& id = pki().server_ec) {
    TlsOptions options;
    options.certificate.file = id.cert_file;
    options.private_key.file = id.key_file;
    return options;
}

// --- peers: other programs, started and stopped by PID ---------------------------------------------------

inline bool have(const char* program) {
    return std::system((std::string("command -v ") + program + " >/dev/null 2>&1").c_str()) == 0;
}

/// A child process with its stdin and stdout+stderr piped; killed (by its PID) and reaped at destruction.
class Peer {
public:
    explicit Peer(std::vector<std::string> argv) {
        int in[2], out[2];
        // pipe + FD_CLOEXEC, not pipe2: the portable-POSIX build must import nothing macOS lacks.
        REQUIRE(::pipe(in) == 0);
        REQUIRE(::pipe(out) == 0);
        for (const int fd : {in[0], in[1], out[0], out[1]}) REQUIRE(::fcntl(fd, F_SETFD, FD_CLOEXEC) == 0);
        pid_ = ::fork();
        REQUIRE(pid_ >= 0);
        if (pid_ == 0) {
            ::dup2(in[0], 0);
            ::dup2(out[1], 1);
            ::dup2(out[1], 2);
            std::vector<char*> args;
            for (std::string& arg : argv) args.push_back(arg.data());
            args.push_back(nullptr);
            ::execvp(args[0], args.data());
            ::_exit(127);
        }
        ::close(in[0]);
        ::close(out[1]);
        stdin_ = in[1];
        stdout_ = out[0];
    }
    ~Peer() {
        close_stdin();
        if (pid_ > 0) {  // not after exit_status() reaped it: kill(-1) would signal every process we may
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
        ::close(stdout_);
    }
    Peer(const Peer&) = delete;
    Peer& operator=(const Peer&) = delete;

    void send(const std::string& text) {
        REQUIRE(::write(stdin_, text.data(), text.size()) == ssize_t(text.size()));
    }
    void close_stdin() {
        if (stdin_ >= 0) ::close(stdin_);
        stdin_ = -1;
    }
    /// Reads output until a line contains `marker` (returned) or 10 s pass (std::nullopt).
    std::optional<std::string> line_with(const std::string& marker) {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        for (;;) {
            for (std::size_t end; (end = pending_.find('\n')) != std::string::npos;) {
                std::string line = pending_.substr(0, end);
                output_ += pending_.substr(0, end + 1);
                pending_.erase(0, end + 1);
                if (line.find(marker) != std::string::npos) return line;
            }
            if (!read_some(deadline)) return std::nullopt;
        }
    }
    /// Everything the peer writes until it exits (or 10 s pass).
    std::string rest_of_output() {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (read_some(deadline)) {
        }
        output_ += pending_;
        pending_.clear();
        return output_;
    }
    /// The exit status once the peer exits (waits up to 10 s); -1 if it does not. Once reaped, the PID is
    /// forgotten (it may be reused) and later calls return the same status.
    int exit_status() {
        if (pid_ <= 0) return status_;
        for (int i = 0; i < 1000; ++i) {
            int status = 0;
            if (::waitpid(pid_, &status, WNOHANG) == pid_) {
                pid_ = -1;
                status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
                return status_;
            }
            ::poll(nullptr, 0, 10);  // a child's exit has no descriptor to wait on here
        }
        return -1;
    }

private:
    bool read_some(std::chrono::steady_clock::time_point deadline) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) return false;
        pollfd entry{stdout_, POLLIN, 0};
        if (::poll(&entry, 1, static_cast<int>(left.count())) <= 0) return false;
        char buffer[4096];
        const ssize_t got = ::read(stdout_, buffer, sizeof buffer);
        if (got <= 0) return false;
        pending_.append(buffer, static_cast<std::size_t>(got));
        return true;
    }
    pid_t pid_ = -1;
    int status_ = -1;
    int stdin_ = -1;
    int stdout_ = -1;
    std::string pending_, output_;
};

}  // namespace netlite_tls_test
