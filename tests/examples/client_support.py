"""What the drivers that play the example servers' clients share: the example tests (run_case.py) and the
echo attack (../reliability/echo_attack.py). A higher descriptor limit for many connections, a throwaway PKI
made with the openssl command, and a Python ssl client's echo in rounds."""
import os
import subprocess

ROUND = 64 * 1024  # bytes sent before the echo of them is read back


def raise_descriptor_limit(wanted):
    """Raises this process's soft RLIMIT_NOFILE to `wanted` (the hard limit at most); servers started
    afterwards inherit it. Returns the soft limit now."""
    import resource  # POSIX only, as are the cases that open this many connections
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def make_throwaway_pki(openssl, directory, ca_name):
    """A CA called `ca_name` and a certificate for localhost and 127.0.0.1 signed by it, made now in
    `directory` with the `openssl` program (nothing committed; valid one day). Returns the paths
    (ca.pem, server.pem, server.key); raises subprocess.CalledProcessError when openssl fails."""
    p = lambda name: os.path.join(directory, name)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    with open(p("san.cnf"), "w") as f:
        f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    for argv in ([openssl, "req", "-x509"] + ec + ["-subj", "/CN=" + ca_name, "-days", "1",
                                                   "-keyout", p("ca.key"), "-out", p("ca.pem")],
                 [openssl, "req"] + ec + ["-subj", "/CN=localhost", "-keyout", p("server.key"),
                                          "-out", p("server.csr")],
                 [openssl, "x509", "-req", "-in", p("server.csr"), "-CA", p("ca.pem"), "-CAkey", p("ca.key"),
                  "-CAcreateserial", "-days", "1", "-extfile", p("san.cnf"), "-out", p("server.pem")]):
        subprocess.run(argv, check=True, capture_output=True, timeout=60)
    return p("ca.pem"), p("server.pem"), p("server.key")


def echo_in_rounds(tls_socket, data, received=None):
    """Sends `data` over `tls_socket` (an ssl.SSLSocket) in rounds of ROUND bytes, reading each round's echo
    back before the next round goes out: one thread may not read and write an SSL object at once, so it
    cannot send everything first. Returns the bytes that came back; raises ConnectionError when the server
    ends the stream early (then the bytearray `received`, if given, holds what came back)."""
    received = bytearray() if received is None else received
    view = memoryview(data)
    for start in range(0, len(view), ROUND):
        piece = view[start:start + ROUND]
        tls_socket.sendall(piece)
        while len(received) < start + len(piece):
            chunk = tls_socket.recv(256 * 1024)
            if not chunk:
                raise ConnectionError("the server closed after %d bytes" % len(received))
            received += chunk
    return bytes(received)
