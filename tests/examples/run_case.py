#!/usr/bin/env python3
"""End-to-end tests of the netlite example programs: run_case.py CASE --bin-dir DIR.

Each case starts example programs (and non-netlite peers: the Python ports of the tutorial's programs in
peers/, socat, nc, python's http.server, nginx) on loopback only - 127.0.0.1, ::1 or Unix paths in a
private temp dir. Servers are started with --port 0 and the real port is read from their
`listening on ADDRESS` line. Every wait is bounded; every process started here is killed by its PID
and reaped at the end. Exit status: 0 pass, 1 fail, 77 skipped (with the reason on stdout).

--emulator WINE_RUN: the examples are Windows programs (NAME.exe, cross-compiled with mingw-w64) run
through WINE_RUN (cmake/wine-run.sh, the build's CMAKE_CROSSCOMPILING_EMULATOR); this driver and its
Python peers stay on the Linux host and talk to them over loopback. Cases that need what wine lacks
(AF_UNIX, POSIX signals) skip.
"""
import argparse
import os
import queue
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

from client_support import echo_in_rounds, make_throwaway_pki, raise_descriptor_limit

HERE = os.path.dirname(os.path.abspath(__file__))
PEERS = os.path.join(HERE, "peers")
SKIP = 77
BIN = None          # the examples' build directory (--bin-dir)
EMULATOR = None     # --emulator: run BIN/NAME.exe through it (wine)
TMP = None          # a private temp dir for this case
STARTED = []        # every process started by this case, stopped and reaped at exit
MIB = 1024 * 1024
TIMEOUT = 30        # seconds: the bound on any single wait

PROGRAMS = ["create_sockets", "resolve", "http_get", "echo_server_once", "echo_server",
            "echo_server_threaded", "echo_server_async", "echo_client", "echo_clients_threaded",
            "echo_clients_async", "udp_echo_server",
            "udp_echo_client", "multicast_sender", "multicast_receiver", "udp_reply_from"]
TCP_SERVERS = ["echo_server_once", "echo_server", "echo_server_threaded", "echo_server_async"]
HOST_CLIENTS = ["http_get", "echo_client", "echo_clients_threaded", "echo_clients_async", "udp_echo_client"]
MULTI_CLIENTS = ["echo_clients_threaded", "echo_clients_async"]


class Skip(Exception):
    pass


class Fail(Exception):
    pass


def check(condition, what):
    if not condition:
        raise Fail(what)
    print("ok: " + what)


def exe(name):
    if EMULATOR is None:
        return os.path.join(BIN, name)
    # A one-line script that execs the emulator on NAME.exe (as scripts/tour --wine), so the PID a case
    # tracks and signals is the Windows program's own process, and argv[0] stays one word.
    wrapper = os.path.join(TMP, "wine-bin", name)
    if not os.path.exists(wrapper):
        os.makedirs(os.path.dirname(wrapper), exist_ok=True)
        with open(wrapper, "w") as f:
            f.write('#!/bin/sh\nexec "%s" "%s" "$@"\n' % (EMULATOR, os.path.join(BIN, name + ".exe")))
        os.chmod(wrapper, 0o755)
    return wrapper


def under_wine():
    return EMULATOR is not None


def skip_under_wine(why):
    """Skips the case, saying `why`, when the examples run under wine."""
    if under_wine():
        raise Skip("under wine: %s" % why)


def peer(name):
    return [sys.executable, os.path.join(PEERS, name)]


def require_tool(name):
    path = shutil.which(name)
    if not path:
        raise Skip("%s is not installed" % name)
    return path


def ipv6_available():
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


def require_ipv6():
    if not ipv6_available():
        raise Skip("IPv6 loopback (::1) is not available here")


# --- processes ------------------------------------------------------------------------------------------

class Process:
    """A started program whose stdout lines are collected by a thread (so waits can time out)."""

    def __init__(self, argv, stdin_data=None, interactive=False):
        """stdin_data: bytes written to stdin (then closed) by a thread; interactive: stdin is a pipe the
        case writes to itself (self.proc.stdin); otherwise stdin is /dev/null."""
        self.argv = [str(a) for a in argv]
        piped = stdin_data is not None or interactive
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.PIPE if piped else subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        STARTED.append(self)
        self.lines = queue.Queue()
        self.stdout_lines = []
        self._stdout_raw = []
        self._stderr = bytearray()
        self._lock = threading.Lock()
        self._out = threading.Thread(target=self._read_stdout, daemon=True)
        self._err = threading.Thread(target=self._read_stderr, daemon=True)
        self._out.start()
        self._err.start()
        if stdin_data is not None:
            threading.Thread(target=self._write, args=(stdin_data,), daemon=True).start()

    def _write(self, data):
        try:
            self.proc.stdin.write(data)
            self.proc.stdin.close()
        except OSError:
            pass

    def _read_stdout(self):
        for raw in self.proc.stdout:
            self._stdout_raw.append(raw)
            line = raw.decode(errors="replace").rstrip("\n")
            self.stdout_lines.append(line)
            self.lines.put(line)
        self.lines.put(None)  # end of output

    def _read_stderr(self):
        while True:
            chunk = self.proc.stderr.read1(65536)
            if not chunk:
                return
            with self._lock:
                self._stderr += chunk

    @property
    def stderr(self):
        with self._lock:
            return bytes(self._stderr)

    def stderr_so_far(self):
        return self.stderr

    def stdout_bytes(self):
        """Everything the program wrote to stdout (complete once it has exited and wait() returned)."""
        return b"".join(self._stdout_raw)

    def expect_line(self, pattern, timeout=TIMEOUT):
        """Waits (bounded) for the next stdout line; it must match `pattern`. Returns the match."""
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            raise Fail("%s: no output line within %ss (wanted /%s/)" % (self.argv[0], timeout, pattern))
        if line is None:
            self.wait(5)
            raise Fail("%s ended (status %s) before printing /%s/; stderr: %s"
                       % (self.argv[0], self.proc.returncode, pattern, self.stderr.decode(errors="replace")))
        match = re.fullmatch(pattern, line)
        if not match:
            raise Fail("%s printed %r, wanted /%s/" % (self.argv[0], line, pattern))
        return match

    def wait(self, timeout=TIMEOUT):
        """Waits for the program to exit; returns its status (fails the case on timeout)."""
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise Fail("%s did not exit within %ss" % (" ".join(self.argv), timeout))
        self._out.join(5)
        self._err.join(5)
        return self.proc.returncode

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        """Kills this process (by its PID) if it still runs, and reaps it."""
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)
        self._out.join(5)
        self._err.join(5)


def start_server(argv, pattern=r"listening on (.*)"):
    """Starts a server and waits for its `listening on ADDRESS` line. Returns (process, address text)."""
    server = Process(argv)
    return server, server.expect_line(pattern).group(1)


def port_of(address):
    return int(address.rsplit(":", 1)[1])


def run(argv, stdin_data=b"", timeout=TIMEOUT):
    """Runs a program to completion (killed and reaped after `timeout`). Returns CompletedProcess."""
    argv = [str(a) for a in argv]
    try:
        result = subprocess.run(argv, input=stdin_data, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise Fail("%s did not finish within %ss" % (" ".join(argv), timeout))
    if b"Sanitizer" in result.stderr:  # a build with -fsanitize=...: any report fails the case
        raise Fail("%s: sanitizer report:\n%s" % (argv[0], result.stderr.decode(errors="replace")))
    return result


def one_line(text):
    lines = text.decode(errors="replace").strip("\n").split("\n")
    return len(lines) == 1 and lines[0] != ""


# --- raw socket helpers (the test's own non-netlite clients) ---------------------------------------------

def connect(family, address, timeout=TIMEOUT):
    s = socket.socket(family, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(address)
    return s


def echo_once(family, address, data, timeout=TIMEOUT):
    """Sends `data` (from a thread, so a long message cannot deadlock), shuts down, reads to EOF."""
    with connect(family, address, timeout) as s:
        errors = []

        def send():
            try:
                s.sendall(data)
                s.shutdown(socket.SHUT_WR)
            except OSError as error:
                errors.append(error)

        sender = threading.Thread(target=send)
        sender.start()
        reply = recv_to_eof(s)
        sender.join(timeout)
        if errors:
            raise Fail("sending failed: %s" % errors[0])
        return reply


def tcp_address(text):
    """(family, sockaddr) to reach a server that printed `listening on text`."""
    if text.startswith("["):
        return socket.AF_INET6, ("::1", port_of(text))
    if text.startswith("/"):
        return socket.AF_UNIX, text
    return socket.AF_INET, ("127.0.0.1", port_of(text))


def refused_port():
    """A TCP port on 127.0.0.1 that refuses connections for as long as the returned socket is kept:
    it is bound (so nobody else takes it) but not listening."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    return s, s.getsockname()[1]


# --- cases ----------------------------------------------------------------------------------------------

CASES = {}


def case(name=None):
    def register(fn):
        CASES[name or fn.__name__] = fn
        return fn
    return register


def port_in_use_fails(program, kind):
    """`program --port P` where another socket of `kind` (SOCK_STREAM: listening) holds 127.0.0.1:P:
    exit 1, one line saying the address is in use."""
    with socket.socket(socket.AF_INET, kind) as busy:
        busy.bind(("127.0.0.1", 0))
        if kind == socket.SOCK_STREAM:
            busy.listen(1)
        r = run([exe(program), "--host", "127.0.0.1", "--port", busy.getsockname()[1]])
    check(r.returncode == 1 and b"in use" in r.stderr and one_line(r.stderr),
          "%s on a port in use: exit 1, reason %r" % (program, r.stderr.decode().strip()))


def contract(program):
    """--help 0; unknown flag, missing value, bad ports 2; a network failure 1 with a one-line reason."""
    has_port = program not in ("create_sockets", "resolve")
    extra = ["localhost"] if program == "resolve" else []

    r = run([exe(program), "--help"])
    check(r.returncode == 0 and r.stdout.startswith(b"usage: " + program.encode()) and not r.stderr,
          "%s --help: usage on stdout, exit 0" % program)
    r = run([exe(program), "--no-such-flag"] + extra)
    check(r.returncode == 2 and b"usage: " in r.stderr and not r.stdout, "%s unknown flag: usage on stderr, exit 2" % program)
    if has_port:
        r = run([exe(program), "--port"])
        check(r.returncode == 2 and b"usage: " in r.stderr, "%s --port without value: exit 2" % program)
        r = run([exe(program), "--host"])
        check(r.returncode == 2 and b"usage: " in r.stderr, "%s --host without value: exit 2" % program)
        for bad in ("abc", "70000", "65536", "-1", "80x", ""):
            r = run([exe(program), "--port", bad])
            check(r.returncode == 2 and b"usage: " in r.stderr and not r.stdout,
                  "%s --port %r: exit 2" % (program, bad))
    if program == "resolve":
        r = run([exe(program)])
        check(r.returncode == 2 and b"usage: " in r.stderr, "resolve without a HOST: exit 2")
    if program in MULTI_CLIENTS:
        for bad in ("0", "x", "-3"):
            r = run([exe(program), "--clients", bad])
            check(r.returncode == 2, "%s --clients %r: exit 2" % (program, bad))
    if program == "echo_server_async":
        for bad in ("0", "x", "257"):
            r = run([exe(program), "--threads", bad])
            check(r.returncode == 2 and b"usage: " in r.stderr, "%s --threads %r: exit 2" % (program, bad))

    # A network failure: one line on stderr, exit 1.
    if program in ["http_get", "echo_client"] + MULTI_CLIENTS:
        holder, port = refused_port()
        with holder:
            r = run([exe(program), "--host", "127.0.0.1", "--port", port])
        check(r.returncode == 1 and b"refused" in r.stderr.lower() and not r.stdout,
              "%s to a closed port: exit 1, reason %r" % (program, r.stderr.decode().strip().split("\n")[0]))
        if program not in MULTI_CLIENTS:
            check(one_line(r.stderr), "%s: the reason is one line" % program)
    if program == "echo_client":
        r = run([exe(program), "--unix", os.path.join(TMP, "nobody-listens-here")])
        check(r.returncode == 1 and one_line(r.stderr), "echo_client --unix to a missing path: exit 1, one line")
    if program in TCP_SERVERS:
        port_in_use_fails(program, socket.SOCK_STREAM)
    if program in ("udp_echo_server", "udp_reply_from"):
        port_in_use_fails(program, socket.SOCK_DGRAM)
    if program == "udp_echo_client":
        r = run([exe(program), "--host", "127.0.0.1", "--port", "0"])
        check(r.returncode == 1 and one_line(r.stderr), "udp_echo_client to port 0: exit 1, reason %r"
              % r.stderr.decode().strip())


for _program in PROGRAMS:
    CASES["contract_" + _program] = (lambda p: lambda: contract(p))(_program)


@case()
def unresolvable():
    """Inside a fresh network namespace (run_in_netns.sh): a name that does not resolve -> exit 1."""
    names = [name for _, name in socket.if_nameindex()]
    if any(name != "lo" for name in names):
        # Not isolated: refuse to send a DNS query for a made-up name to the real network.
        raise Skip("not inside an empty network namespace (interfaces: %s); run via run_in_netns.sh" % names)
    bad = "no-such-host.invalid"
    for program in ["resolve"] + HOST_CLIENTS + TCP_SERVERS + ["udp_echo_server", "udp_reply_from"]:
        argv = [exe(program), bad] if program == "resolve" else [exe(program), "--host", bad, "--port", "1"]
        if program in MULTI_CLIENTS:
            argv += ["--clients", "1"]
        r = run(argv, timeout=60)
        check(r.returncode == 1 and one_line(r.stderr) and not r.stdout,
              "%s --host %s: exit 1, reason %r" % (program, bad, r.stderr.decode().strip()))


@case()
def create_sockets():
    r = run([exe("create_sockets")])
    lines = r.stdout.decode().splitlines()
    check(r.returncode == 0, "create_sockets exits 0")
    check(len(lines) == 6, "create_sockets prints 6 lines: %r" % lines)
    seen = set()
    for line in lines:
        m = re.fullmatch(r"(ipv4|ipv6|unix) (stream|datagram): (ok|unavailable: .+)", line)
        check(m is not None, "line %r has the form 'FAMILY TYPE: ok|unavailable: REASON'" % line)
        seen.add((m.group(1), m.group(2)))
    check(len(seen) == 6, "every family x type appears once")
    check("ipv4 stream: ok" in lines, "ipv4 stream opens here")
    if under_wine():  # wine has no AF_UNIX: reported with a reason, not an error
        check(any(line.startswith("unix stream: unavailable: ") for line in lines),
              "under wine, unix stream is reported unavailable with a reason")
    else:
        check("unix stream: ok" in lines, "unix stream opens here")
    if ipv6_available():
        check("ipv6 stream: ok" in lines, "ipv6 stream opens (IPv6 is available here)")


@case()
def resolve_localhost():
    r = run([exe("resolve"), "localhost"])
    lines = r.stdout.decode().splitlines()
    check(r.returncode == 0 and "127.0.0.1" in lines, "resolve localhost prints 127.0.0.1 (%r)" % lines)
    r = run([exe("resolve"), "127.0.0.1", "::1", "localhost"])
    lines = r.stdout.decode().splitlines()
    check(r.returncode == 0 and lines[:2] == ["127.0.0.1", "::1"] and "127.0.0.1" in lines[2:],
          "resolve of literals and a name, one address per line in order (%r)" % lines)


def http_site():
    site = os.path.join(TMP, "www")
    os.makedirs(site)
    body = ("netlite http_get test %d\n" % random.getrandbits(64)).encode() * 50
    with open(os.path.join(site, "hello.txt"), "wb") as f:
        f.write(body)
    return site, body


def check_http_response(out, body, what):
    head, _, rest = out.partition(b"\r\n\r\n")
    check(re.match(rb"HTTP/1\.[01] 200 ", head) is not None, "%s: status 200 (%r)" % (what, head[:40]))
    check(rest == body, "%s: the whole body arrived byte for byte (%d bytes)" % (what, len(body)))


@case()
def http_get_request_bytes():
    """The exact request http_get sends, captured by a raw socket server in this script."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        listener.settimeout(TIMEOUT)
        port = listener.getsockname()[1]
        client = Process([exe("http_get"), "--host", "127.0.0.1", "--port", port, "--path", "/a/b?c=d"])
        conn, _ = listener.accept()
        with conn:
            conn.settimeout(TIMEOUT)
            request = b""
            while b"\r\n\r\n" not in request:
                chunk = conn.recv(4096)
                if not chunk:
                    break
                request += chunk
            response = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello"
            conn.sendall(response)
    status = client.wait()
    expected = b"GET /a/b?c=d HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n\r\n" % port
    check(request == expected, "http_get sends exactly %r (got %r)" % (expected, request))
    check(status == 0, "http_get exits 0")
    check(client.stdout_bytes() == response, "http_get printed the whole response verbatim")


@case()
def http_get_python_http_server():
    site, body = http_site()
    server, address = start_server(peer("http_server.py") + ["--host", "127.0.0.1", "--directory", site])
    port = port_of(address)
    r = run([exe("http_get"), "--host", "127.0.0.1", "--port", port, "--path", "/hello.txt"])
    check(r.returncode == 0, "http_get against python http.server exits 0")
    check_http_response(r.stdout, body, "http_get /hello.txt from python http.server")
    r = run([exe("http_get"), "--host", "127.0.0.1", "--port", port, "--path", "/missing"])
    check(r.returncode == 0 and r.stdout.startswith(b"HTTP/1.") and b" 404 " in r.stdout.split(b"\r\n")[0],
          "http_get prints a 404 response whole and exits 0")
    if ipv6_available():
        server6, address6 = start_server(peer("http_server.py") + ["--host", "::1", "--directory", site])
        r = run([exe("http_get"), "--host", "::1", "--port", port_of(address6), "--path", "/hello.txt"])
        check(r.returncode == 0, "http_get --host ::1 exits 0")
        check_http_response(r.stdout, body, "http_get over IPv6 from python http.server")
    else:
        print("skipped: IPv6 part (no ::1 here)")


def free_tcp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_accepting(port, process, timeout=15):
    """For servers that cannot report their port (nginx): poll connect() until it succeeds, bounded."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not process.alive():
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return True
        except OSError:
            time.sleep(0.05)
    return False


def require_nginx():
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK) else None)
    if not nginx:
        raise Skip("nginx is not installed (apt-get install nginx-light to run this case)")
    return nginx


def start_nginx(nginx, site, listen_tls=""):
    """nginx serving the directory `site` on a free 127.0.0.1 port, with its files in the case's temp dir;
    `listen_tls` ends its listen line for HTTPS (" ssl; ssl_certificate FILE; ..."). Returns the port."""
    for attempt in range(3):  # the port is chosen before nginx binds it: retry if someone took it
        port = free_tcp_port()
        conf = os.path.join(TMP, "nginx.conf")
        with open(conf, "w") as f:
            f.write("""daemon off; master_process off; pid %(d)s/nginx.pid; error_log %(d)s/error.log;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path %(d)s/body; proxy_temp_path %(d)s/proxy; fastcgi_temp_path %(d)s/fastcgi;
    uwsgi_temp_path %(d)s/uwsgi; scgi_temp_path %(d)s/scgi;
    types { text/plain txt; }
    server { listen 127.0.0.1:%(p)d%(tls)s; root %(s)s; }
}
""" % {"d": TMP, "p": port, "s": site, "tls": listen_tls})
        server = Process([nginx, "-p", TMP, "-c", conf, "-e", os.path.join(TMP, "error.log")])
        if wait_until_accepting(port, server):
            return port
        server.stop()
    raise Fail("nginx did not start: " + open(os.path.join(TMP, "error.log")).read())


@case()
def http_get_nginx():
    nginx = require_nginx()
    site, body = http_site()
    port = start_nginx(nginx, site)
    r = run([exe("http_get"), "--host", "127.0.0.1", "--port", port, "--path", "/hello.txt"])
    check(r.returncode == 0, "http_get against nginx exits 0")
    check_http_response(r.stdout, body, "http_get /hello.txt from nginx")
    check(b"\r\nServer: nginx" in r.stdout, "the response came from nginx")


def throwaway_ca_and_server_cert():
    """A CA and a certificate for localhost and 127.0.0.1 signed by it, made now with the openssl command
    in the case's temp dir (nothing committed). Returns (ca.pem, server.pem, server.key) paths."""
    openssl = require_tool("openssl")
    d = os.path.join(TMP, "pki")
    os.makedirs(d)
    return make_throwaway_pki(openssl, d, "netlite examples CA")  # an openssl failure fails the case


@case()
def https_get_nginx():
    """https_get (built only with OpenSSL) against nginx serving HTTPS with a throwaway CA."""
    skip_under_wine("TLS is not built for Windows")
    if not os.path.exists(exe("https_get")):
        raise Skip("https_get is not built (OpenSSL 3 was not found at configure time)")
    nginx = require_nginx()
    ca, cert, key = throwaway_ca_and_server_cert()
    site, body = http_site()
    port = start_nginx(nginx, site, " ssl; ssl_certificate %s; ssl_certificate_key %s" % (cert, key))
    r = run([exe("https_get"), "--host", "localhost", "--port", port, "--path", "/hello.txt", "--ca", ca])
    check(r.returncode == 0, "https_get --ca against nginx exits 0 (stderr: %r)" % r.stderr)
    check_http_response(r.stdout, body, "https_get /hello.txt from nginx over TLS")
    check(b"\r\nServer: nginx" in r.stdout, "the response came from nginx")
    r = run([exe("https_get"), "--host", "localhost", "--port", port, "--path", "/hello.txt"])
    check(r.returncode == 1 and one_line(r.stderr) and b"certificate verify failed" in r.stderr,
          "without --ca the throwaway CA is not trusted: exit 1, one line saying why (%r)" % r.stderr)
    check(r.stdout == b"", "nothing is printed when the certificate is refused")
    r = run([exe("https_get"), "--ca"])
    check(r.returncode == 2, "https_get --ca without a value exits 2")


def tls_client(port, ca, timeout=TIMEOUT):
    """A Python ssl client connected to localhost:port, verifying the server against `ca`."""
    import ssl
    context = ssl.create_default_context(cafile=ca)
    return context.wrap_socket(connect(socket.AF_INET, ("127.0.0.1", port), timeout), server_hostname="localhost")


@case()
def tls_echo_server_async():
    """tls_echo_server_async (built only with OpenSSL) with Python's ssl: 1 MiB echoed in 64 KiB rounds and
    close_notify both ways; a silent client does not hold the others; a client that vanishes without
    close_notify is reported; the CLI contract; SIGINT exits 0."""
    skip_under_wine("TLS is not built for Windows")
    program = exe("tls_echo_server_async")
    if not os.path.exists(program):
        raise Skip("tls_echo_server_async is not built (OpenSSL 3 was not found at configure time)")
    ca, cert, key = throwaway_ca_and_server_cert()
    r = run([program, "--help"])
    check(r.returncode == 0 and b"usage:" in r.stdout, "--help prints usage, exit 0")
    r = run([program, "--host", "127.0.0.1", "--port", "0"])
    check(r.returncode == 2 and b"--cert" in r.stderr, "without --cert/--key: usage, exit 2")
    r = run([program, "--cert", cert, "--key"])
    check(r.returncode == 2, "--key without a value: exit 2")
    r = run([program, "--cert", cert, "--key", key, "--port", "70000"])
    check(r.returncode == 2, "a bad port: exit 2")
    r = run([program, "--cert", os.path.join(TMP, "missing.pem"), "--key", key, "--port", "0"])
    check(r.returncode == 1 and one_line(r.stderr), "an unreadable certificate: exit 1, one line (%r)" % r.stderr)

    server, address = start_server([program, "--cert", cert, "--key", key, "--host", "127.0.0.1", "--port", "0"])
    port = port_of(address)
    with connect(socket.AF_INET, ("127.0.0.1", port)) as silent:  # connects and never says a word
        server.expect_line(r"Connected with 127\.0\.0\.1:\d+")
        with tls_client(port, ca) as s:
            server.expect_line(r"Connected with 127\.0\.0\.1:\d+")
            data = big_payload(MIB)
            check(echo_in_rounds(s, data) == data, "1 MiB echoed byte-identical over TLS while a silent client waits")
            check(s.version() in ("TLSv1.3", "TLSv1.2"), "negotiated %s" % s.version())
            s.unwrap()  # close_notify, and the server's in answer
            check(True, "close_notify both ways")
    with tls_client(port, ca) as s:
        server.expect_line(r"Connected with 127\.0\.0\.1:\d+")
        s.sendall(b"cut short")
        check(s.recv(100) == b"cut short", "a second client is echoed")
    # That client closed TCP without close_notify: the server says so and goes on serving.
    check(wait_for_stderr(server, b"tls read: connection closed without close_notify"),
          "a client gone without close_notify is reported as truncated")
    with tls_client(port, ca) as s:
        server.expect_line(r"Connected with 127\.0\.0\.1:\d+")
        s.sendall(b"still there")
        check(s.recv(100) == b"still there", "the server goes on after a truncated client")
        s.unwrap()
    os.kill(server.proc.pid, signal.SIGINT)
    check(server.wait(15) == 0, "SIGINT: exit 0")



# --- tls_echo_server and tls_echo_client: the threaded echo pair over TLS ---------------------------------

def require_tls_example(name):
    """The path of a TLS example (built only where OpenSSL 3 was found); skips the case otherwise."""
    skip_under_wine("TLS is not built for Windows")
    program = exe(name)
    if not os.path.exists(program):
        raise Skip("%s is not built (OpenSSL 3 was not found at configure time)" % name)
    return program


def wait_for_stdout_bytes(process, size, timeout=TIMEOUT):
    """Waits (bounded) until `process` has written at least `size` bytes of whole lines to stdout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if len(process.stdout_bytes()) >= size or not process.alive():
            break
        time.sleep(0.01)
    return process.stdout_bytes()


def start_tls_echo_server(cert, key, extra=()):
    program = require_tls_example("tls_echo_server")
    return start_server([program, "--cert", cert, "--key", key, "--host", "127.0.0.1", "--port", "0"] + list(extra))


@case()
def tls_echo_server_peers():
    """tls_echo_server (threaded) against non-netlite TLS clients: openssl s_client, Python's ssl (1 MiB in
    rounds, close_notify both ways, a client certificate required with --ca), socat OPENSSL: (1 MiB) and
    gnutls-cli (1 MiB); no client is reported as truncated; the CLI contract; SIGTERM exits 0."""
    program = require_tls_example("tls_echo_server")
    ca, cert, key = throwaway_ca_and_server_cert()
    r = run([program, "--help"])
    check(r.returncode == 0 and r.stdout.startswith(b"usage: tls_echo_server"), "--help prints usage, exit 0")
    r = run([program, "--host", "127.0.0.1", "--port", "0"])
    check(r.returncode == 2 and b"--cert" in r.stderr, "without --cert/--key: usage, exit 2")
    for argv in (["--cert", cert, "--key"], ["--cert", cert, "--key", key, "--port", "70000"],
                 ["--cert", cert, "--key", key, "--no-such-flag"]):
        r = run([program] + argv)
        check(r.returncode == 2 and b"usage:" in r.stderr, "%s: usage, exit 2" % " ".join(argv[-2:]))
    r = run([program, "--cert", os.path.join(TMP, "missing.pem"), "--key", key, "--port", "0"])
    check(r.returncode == 1 and one_line(r.stderr), "an unreadable certificate: exit 1, one line (%r)" % r.stderr)

    server, address = start_tls_echo_server(cert, key)
    port = port_of(address)
    # openssl s_client: it relays stdin and stdout; stdin stays open until the echo is back (at stdin's end
    # it sends close_notify and exits).
    openssl = require_tool("openssl")
    data = b"".join(b"line %04d from openssl s_client\n" % i for i in range(200))
    client = Process([openssl, "s_client", "-connect", "127.0.0.1:%d" % port, "-CAfile", ca, "-verify_return_error",
                      "-servername", "localhost", "-brief", "-nocommands"], interactive=True)
    client.proc.stdin.write(data)
    client.proc.stdin.flush()
    back = wait_for_stdout_bytes(client, len(data))
    client.proc.stdin.close()
    check(client.wait() == 0 and back == data, "openssl s_client: %d bytes echoed, exit 0" % len(data))
    check(b"Peer certificate: CN = localhost" in client.stderr, "s_client verified the server's certificate")
    server.expect_line(r"Connected with 127\.0\.0\.1:\d+")

    # Python's ssl: rounds of 64 KiB, then close_notify both ways (unwrap).
    with tls_client(port, ca) as s:
        server.expect_line(r"Connected with 127\.0\.0\.1:\d+")
        data = big_payload(MIB)
        check(echo_in_rounds(s, data) == data, "Python ssl: 1 MiB echoed byte-identical")
        s.unwrap()
        check(True, "Python ssl: close_notify both ways")

    socat = shutil.which("socat")
    if socat:
        data = big_payload(MIB)
        r = run([socat, "-t", "10", "-", "OPENSSL:127.0.0.1:%d,cafile=%s,commonname=localhost" % (port, ca)],
                stdin_data=data)
        check(r.returncode == 0 and r.stdout == data, "socat OPENSSL: 1 MiB echoed byte-identical (%r)" % r.stderr[-300:])
        server.expect_line(r"Connected with 127\.0\.0\.1:\d+")
    else:
        print("skipped: socat part (socat is not installed)")
    gnutls = shutil.which("gnutls-cli")
    if gnutls:
        data = big_payload(MIB)
        r = run([gnutls, "--logfile=" + os.path.join(TMP, "gnutls.log"), "--x509cafile", ca, "-p", port, "localhost"],
                stdin_data=data)
        check(r.returncode == 0 and r.stdout == data, "gnutls-cli: 1 MiB echoed byte-identical (%r)" % r.stderr[-300:])
        server.expect_line(r"Connected with 127\.0\.0\.1:\d+")
    else:
        print("skipped: gnutls-cli part (gnutls-bin is not installed)")
    check(b"truncated" not in server.stderr and b"close_notify" not in server.stderr,
          "no client was reported truncated (stderr: %r)" % server.stderr)

    # A client that vanishes without close_notify is reported, and the server goes on.
    with tls_client(port, ca) as s:
        server.expect_line(r"Connected with 127\.0\.0\.1:\d+")
        s.sendall(b"cut short")
        check(recv_exactly(s, 9) == b"cut short", "a client about to vanish is echoed")
    check(wait_for_stderr(server, b"tls read: connection closed without close_notify"),
          "a client gone without close_notify is reported as truncated")

    # Mutual TLS: with --ca, a client without a certificate is refused, one with a certificate from the CA
    # is served.
    mserver, maddress = start_tls_echo_server(cert, key, ["--ca", ca])
    mport = port_of(maddress)
    import ssl
    try:
        with tls_client(mport, ca) as s:
            s.sendall(b"no certificate")
            reply = s.recv(100)
        refused = reply == b""
    except (ssl.SSLError, OSError):
        refused = True
    check(refused, "with --ca, a client without a certificate gets no echo")
    check(wait_for_stderr(mserver, b"peer did not return a certificate"), "and the server says why")
    context = ssl.create_default_context(cafile=ca)
    context.load_cert_chain(cert, key)  # any certificate the CA issued will do: the server's own
    with context.wrap_socket(connect(socket.AF_INET, ("127.0.0.1", mport)), server_hostname="localhost") as s:
        s.sendall(b"with a certificate")
        check(recv_exactly(s, 18) == b"with a certificate", "with --ca, a client with a certificate is echoed")
        s.unwrap()

    os.kill(server.proc.pid, signal.SIGTERM)
    check(server.wait(15) == 0, "SIGTERM: exit 0")


@case()
def tls_echo_client_peers():
    """tls_echo_client against Python's ssl echo server (the default message, 4 MiB from stdin, close_notify
    both ways) and against tls_echo_server (4 MiB, over a Unix socket, mutual TLS); an untrusted CA, a name
    the certificate does not hold, a refused port and a missing client certificate are one-line errors with
    exit 1; the CLI contract."""
    import ssl
    program = require_tls_example("tls_echo_client")
    ca, cert, key = throwaway_ca_and_server_cert()
    r = run([program, "--help"])
    check(r.returncode == 0 and r.stdout.startswith(b"usage: tls_echo_client"), "--help prints usage, exit 0")
    for argv in (["--ca"], ["--port", "70000"], ["--frobnicate"], ["--cert", cert]):
        r = run([program] + argv)
        check(r.returncode == 2 and b"usage:" in r.stderr, "%s: usage, exit 2" % " ".join(argv))
    keep, closed_port = refused_port()
    r = run([program, "--host", "127.0.0.1", "--port", closed_port, "--ca", ca])
    check(r.returncode == 1 and one_line(r.stderr) and not r.stdout, "a refused port: exit 1, %r" % r.stderr.strip())
    keep.close()

    # Python's ssl as the echo server: a thread per connection, echo until close_notify, then unwrap.
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(TIMEOUT)
    port = listener.getsockname()[1]
    outcomes = []

    def serve_one():
        raw, _ = listener.accept()
        raw.settimeout(TIMEOUT)
        try:
            with context.wrap_socket(raw, server_side=True, suppress_ragged_eofs=False) as s:
                while True:
                    chunk = s.recv(65536)
                    if not chunk:  # the client's close_notify
                        break
                    s.sendall(chunk)
                s.unwrap()
                outcomes.append("close_notify")
        except (ssl.SSLError, OSError) as error:
            outcomes.append(error)

    for message, stdin_data in ((None, b""), ("-", big_payload())):
        server = threading.Thread(target=serve_one, daemon=True)
        server.start()
        argv = [program, "--port", port, "--ca", ca]
        if message:
            argv += ["--message", message]
        r = run(argv, stdin_data=stdin_data)
        server.join(TIMEOUT)
        want = stdin_data if message else b"GET / HTTP/1.1\r\n\r\n"
        check(r.returncode == 0 and r.stdout == want,
              "tls_echo_client + Python ssl server: %d bytes back byte-identical (%r)" % (len(want), r.stderr))
        check(outcomes[-1:] == ["close_notify"], "the Python server saw close_notify and answered it (%r)" % outcomes[-1:])
    # A server that ends the stream (close_notify) before it took the whole message: an error, not an echo.
    def close_early():
        raw, _ = listener.accept()
        raw.settimeout(TIMEOUT)
        try:
            with context.wrap_socket(raw, server_side=True) as s:
                s.recv(1000)
                s.unwrap()
        except (ssl.SSLError, OSError):
            pass

    server = threading.Thread(target=close_early, daemon=True)
    server.start()
    r = run([program, "--port", port, "--ca", ca, "--message", "-"], stdin_data=big_payload())
    server.join(TIMEOUT)
    check(r.returncode == 1 and one_line(r.stderr), "a server that closes early: exit 1, %r" % r.stderr.strip())
    # Nobody trusts the throwaway CA without --ca.
    server = threading.Thread(target=serve_one, daemon=True)
    server.start()
    r = run([program, "--port", port, "--message", "x"])
    server.join(TIMEOUT)
    check(r.returncode == 1 and one_line(r.stderr) and b"certificate verify failed" in r.stderr and not r.stdout,
          "without --ca: exit 1, %r" % r.stderr.strip())
    listener.close()

    # tls_echo_server as the peer: TCP with 4 MiB, a Unix socket, and mutual TLS.
    eserver, address = start_tls_echo_server(cert, key)
    data = big_payload()
    r = run([program, "--host", "127.0.0.1", "--port", port_of(address), "--ca", ca, "--message", "-"], stdin_data=data)
    check(r.returncode == 0 and r.stdout == data, "tls_echo_client + tls_echo_server: 4 MiB byte-identical")
    if not under_wine():
        path = os.path.join(TMP, "tls.sock")
        userver, _ = start_server([exe("tls_echo_server"), "--cert", cert, "--key", key, "--unix", path])
        r = run([program, "--unix", path, "--ca", ca, "--message", "over a Unix socket"])
        check(r.returncode == 0 and r.stdout == b"over a Unix socket", "--unix: echoed (%r)" % r.stderr)
        # Over the Unix socket, --host is only the name checked: not the certificate's.
        r = run([program, "--unix", path, "--host", "not-the-server.example", "--ca", ca, "--message", "x"])
        check(r.returncode == 1 and one_line(r.stderr) and b"hostname mismatch" in r.stderr and not r.stdout,
              "a name the certificate does not hold: exit 1, %r" % r.stderr.strip())
    mserver, maddress = start_tls_echo_server(cert, key, ["--ca", ca])
    r = run([program, "--host", "127.0.0.1", "--port", port_of(maddress), "--ca", ca, "--message", "no cert"])
    check(r.returncode == 1 and one_line(r.stderr) and not r.stdout,
          "mutual TLS without --cert/--key: exit 1, %r" % r.stderr.strip())
    r = run([program, "--host", "127.0.0.1", "--port", port_of(maddress), "--ca", ca, "--cert", cert, "--key", key,
             "--message", "with a client certificate"])
    check(r.returncode == 0 and r.stdout == b"with a client certificate", "mutual TLS with --cert/--key: echoed")


def big_payload(size=4 * MIB):
    return random.randbytes(size)


def big_echo_netlite_server(program):
    """A netlite server echoes 4 MiB byte-identical to the Python client and to the netlite client."""
    data = big_payload()
    server, address = start_server([exe(program), "--host", "127.0.0.1", "--port", "0"])
    r = run(peer("echo_client.py") + ["--host", "127.0.0.1", "--port", port_of(address), "--stdin"], stdin_data=data)
    check(r.returncode == 0 and r.stdout == data, "%s echoed 4 MiB byte-identical to peers/echo_client.py" % program)
    server.expect_line(r"Connected with 127\.0\.0\.1:\d+")
    if program == "echo_server_once":
        check(server.wait() == 0, "echo_server_once exits 0 after its connection")
        return
    r = run([exe("echo_client"), "--host", "127.0.0.1", "--port", port_of(address), "--message", "-"], stdin_data=data)
    check(r.returncode == 0 and r.stdout == data, "%s echoed 4 MiB byte-identical to echo_client" % program)


for _program in TCP_SERVERS:
    CASES["big_echo_" + _program] = (lambda p: lambda: big_echo_netlite_server(p))(_program)


@case()
def big_echo_python_server():
    """The Python port of the tutorial's server, and netlite's echo_client sending 4 MiB from stdin."""
    data = big_payload()
    server, address = start_server(peer("echo_server.py") + ["--mode", "loop", "--host", "127.0.0.1", "--port", "0"])
    r = run([exe("echo_client"), "--host", "127.0.0.1", "--port", port_of(address), "--message", "-"], stdin_data=data)
    check(r.returncode == 0 and r.stdout == data, "echo_client got 4 MiB back byte-identical from peers/echo_server.py")
    r = run([exe("echo_client"), "--host", "127.0.0.1", "--port", port_of(address)])
    check(r.returncode == 0 and r.stdout == b"GET / HTTP/1.1\r\n\r\n", "echo_client's default message is the tutorial's")


def concurrent_clients(address, count, size):
    """`count` clients connected at once, each sending its own `size`+ bytes and reading them back."""
    family, where = tcp_address(address)
    payloads = [("client %04d|" % i).encode() + random.randbytes(size) for i in range(count)]
    sockets = [connect(family, where) for _ in range(count)]
    results = [None] * count
    barrier = threading.Barrier(count, timeout=TIMEOUT)

    def talk(i):
        s = sockets[i]
        try:
            barrier.wait()
            sender = threading.Thread(target=lambda: (s.sendall(payloads[i]), s.shutdown(socket.SHUT_WR)))
            sender.start()
            results[i] = recv_to_eof(s)
            sender.join(TIMEOUT)
        except (OSError, threading.BrokenBarrierError) as error:
            results[i] = error
        finally:
            s.close()

    threads = [threading.Thread(target=talk, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(TIMEOUT * 2)
    return [r == p for r, p in zip(results, payloads)]



@case()
def threaded_64_clients():
    """64 clients connected at once to echo_server_threaded; each gets exactly its own bytes."""
    server, address = start_server([exe("echo_server_threaded"), "--host", "127.0.0.1", "--port", "0"])
    count = 64
    ok = concurrent_clients(address, count, 64 * 1024)  # all connected before anyone sends
    check(all(ok), "all 64 clients got exactly their own bytes back")
    for _ in range(count):
        server.expect_line(r"Connected with 127\.0\.0\.1:\d+")
    check(True, "the server printed 64 'Connected with' lines")
    r = run([exe("echo_clients_threaded"), "--host", "127.0.0.1", "--port", port_of(address), "--clients", "16",
             "--message", "ping\n"])
    check(r.returncode == 0 and r.stdout == b"ping\n" * 16, "echo_clients_threaded --clients 16: 16 replies")


def vanishing_clients(program):
    """Clients that vanish mid-echo (close without reading; reset with SO_LINGER 0) do not kill the server."""
    server, address = start_server([exe(program), "--host", "127.0.0.1", "--port", "0"])
    family, where = tcp_address(address)
    # 1. Sends a lot without reading the echo, until the buffers are full, then closes with unread data.
    s = connect(family, where)
    s.settimeout(0.5)
    sent = 0
    chunk = b"x" * 65536
    try:
        while sent < 64 * MIB:
            sent += s.send(chunk)
    except socket.timeout:
        pass
    s.close()
    check(sent > 0, "client 1 sent %d bytes and closed without reading" % sent)
    # 2. Sends 1 MiB and resets the connection at once (SO_LINGER 0 -> RST).
    s = connect(family, where)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    s.settimeout(5)
    try:
        s.sendall(b"y" * MIB)
    except OSError:
        pass
    s.close()
    # 3. The next client is served normally.
    reply = echo_once(family, where, b"still there?\n")
    check(reply == b"still there?\n", "%s still echoes for the next client" % program)
    r = run([exe("echo_client"), "--host", "127.0.0.1", "--port", port_of(address), "--message", "again"])
    check(r.returncode == 0 and r.stdout == b"again", "and for netlite's echo_client")
    check(server.alive(), "%s is still running (no SIGPIPE death)" % program)


for _program in ("echo_server", "echo_server_threaded", "echo_server_async"):
    CASES["vanishing_clients_" + _program] = (lambda p: lambda: vanishing_clients(p))(_program)


@case()
def idle_client_threaded():
    """A client that connects and sends nothing does not block echo_server_threaded for others."""
    server, address = start_server([exe("echo_server_threaded"), "--host", "127.0.0.1", "--port", "0"])
    family, where = tcp_address(address)
    with connect(family, where) as idle:
        server.expect_line(r"Connected with 127\.0\.0\.1:\d+")  # the idle one is accepted and in its thread
        reply = echo_once(family, where, b"not blocked\n", timeout=5)
        check(reply == b"not blocked\n", "another client is echoed (within 5 s) while the idle one waits")
        r = run([exe("echo_client"), "--host", "127.0.0.1", "--port", port_of(address), "--message", "me too"], timeout=5)
        check(r.returncode == 0 and r.stdout == b"me too", "netlite's echo_client too")
        idle.sendall(b"late")
        idle.shutdown(socket.SHUT_WR)
        check(idle.recv(100) == b"late", "the idle client is still served when it finally speaks")


# --- echo_server_threaded: clean shutdown on SIGINT/SIGTERM ---------------------------------------------

GRACE = 5.0  # seconds echo_server_threaded gives open connections after SIGINT/SIGTERM


def wait_for_stderr(process, text, timeout=TIMEOUT):
    """Waits (bounded) until `process` has written `text` to stderr. Returns whether it did."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in process.stderr_so_far():
            return True
        if not process.alive():
            break
        time.sleep(0.01)
    return text in process.stderr_so_far()


def recv_exactly(s, size):
    data = b""
    while len(data) < size:
        chunk = s.recv(size - len(data))
        if not chunk:
            break
        data += chunk
    return data


def recv_to_eof(s):
    chunks = []
    while True:
        chunk = s.recv(65536)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


@case()
def threaded_sigterm_no_clients():
    """SIGTERM with no client: echo_server_threaded exits 0 within 1 s; stdout has only its listening line."""
    skip_under_wine("the case stops the server with SIGTERM/SIGINT, POSIX signals a Windows program does not get")
    for argv in ([exe("echo_server_threaded"), "--host", "127.0.0.1", "--port", "0"],
                 [exe("echo_server_threaded"), "--unix", os.path.join(TMP, "threaded.sock")]):
        server, address = start_server(argv)
        began = time.monotonic()
        os.kill(server.proc.pid, signal.SIGTERM)
        status = server.wait(10)
        took = time.monotonic() - began
        check(status == 0, "%s: exit status 0 on SIGTERM (got %s)" % (address, status))
        check(took < 1.0, "%s: exited %.3f s after SIGTERM (wanted < 1 s)" % (address, took))
        check(server.stdout_lines == ["listening on " + address], "stdout: only the listening line %r"
              % server.stdout_lines)
        check(b"shutting down" in server.stderr, "stderr says it is shutting down: %r" % server.stderr)


@case()
def threaded_sigint_in_flight():
    """SIGINT mid-echo: no new connections, the open one finishes its echo, then exit 0 (not after the grace)."""
    skip_under_wine("the case stops the server with SIGTERM/SIGINT, POSIX signals a Windows program does not get")
    server, address = start_server([exe("echo_server_threaded"), "--host", "127.0.0.1", "--port", "0"])
    family, where = tcp_address(address)
    with connect(family, where, timeout=10) as client:
        server.expect_line(r"Connected with 127\.0\.0\.1:\d+")
        client.sendall(b"first half, ")
        check(recv_exactly(client, 12) == b"first half, ", "the first half is echoed")
        os.kill(server.proc.pid, signal.SIGINT)
        check(wait_for_stderr(server, b"shutting down", 5), "the server says it is shutting down")
        try:
            with connect(family, where, timeout=2) as late:
                late.sendall(b"let me in")
                late.shutdown(socket.SHUT_WR)
                answer = recv_to_eof(late)
            served = answer != b""
        except OSError:  # refused (the listener is closed) or reset
            served = False
        check(not served, "a new client is not served after SIGINT")
        check(server.alive(), "the server still runs: it waits for the client in flight")
        client.sendall(b"second half")
        client.shutdown(socket.SHUT_WR)
        check(recv_to_eof(client) == b"second half", "the client in flight gets the rest of its echo")
    began = time.monotonic()
    status = server.wait(GRACE + 3)
    took = time.monotonic() - began
    check(status == 0, "exit status 0 after SIGINT (got %s)" % status)
    check(took < 2.0, "it exited %.3f s after its last client was done (not after the %g s grace)" % (took, GRACE))
    check(len(server.stdout_lines) == 2, "stdout: the listening line and one Connected line %r" % server.stdout_lines)


@case()
def threaded_shutdown_grace():
    """A client that stays idle: after SIGTERM the server waits the grace period, closes it, exits 0."""
    skip_under_wine("the case stops the server with SIGTERM/SIGINT, POSIX signals a Windows program does not get")
    server, address = start_server([exe("echo_server_threaded"), "--host", "127.0.0.1", "--port", "0"])
    family, where = tcp_address(address)
    with connect(family, where, timeout=GRACE + 10) as idle:
        server.expect_line(r"Connected with 127\.0\.0\.1:\d+")
        began = time.monotonic()
        os.kill(server.proc.pid, signal.SIGTERM)
        status = server.wait(GRACE + 5)
        took = time.monotonic() - began
        check(status == 0, "exit status 0 after SIGTERM with an idle client (got %s)" % status)
        check(GRACE - 0.5 <= took < GRACE + 3, "it gave the idle client the grace period: exited after %.2f s"
              % took)
        try:
            closed = idle.recv(100) == b""
        except ConnectionResetError:
            closed = True
        check(closed, "the idle client's connection was closed")


@case()
def echo_server_once_exits():
    server, address = start_server([exe("echo_server_once"), "--host", "127.0.0.1", "--port", "0"])
    check(re.fullmatch(r"127\.0\.0\.1:\d+", address) is not None and port_of(address) != 0,
          "listening line shows the real port (%s)" % address)
    r = run([exe("echo_client"), "--host", "127.0.0.1", "--port", port_of(address), "--message", "hi there"])
    check(r.returncode == 0 and r.stdout == b"hi there", "echo_client gets its message back")
    check(server.wait(10) == 0, "echo_server_once exits 0 after one connection")
    check(len(server.stdout_lines) == 2 and server.stdout_lines[1].startswith("Connected with 127.0.0.1:"),
          "its output is the listening line and one Connected line: %r" % server.stdout_lines)
    # And with the Python client as its one connection.
    server, address = start_server([exe("echo_server_once"), "--host", "127.0.0.1", "--port", "0"])
    r = run(peer("echo_client.py") + ["--host", "127.0.0.1", "--port", port_of(address), "--message", "py"])
    check(r.stdout == b"py" and server.wait(10) == 0, "echo_server_once serves peers/echo_client.py, then exits 0")


@case()
def netlite_pairs():
    """Every netlite server with netlite's echo_client (defaults: the tutorial's message) and the Python client."""
    for program in TCP_SERVERS:
        server, address = start_server([exe(program), "--host", "127.0.0.1", "--port", "0"])
        r = run([exe("echo_client"), "--host", "127.0.0.1", "--port", port_of(address)])
        check(r.returncode == 0 and r.stdout == b"GET / HTTP/1.1\r\n\r\n", "%s + echo_client" % program)
        server.expect_line(r"Connected with 127\.0\.0\.1:\d+")
        if program != "echo_server_once":
            r = run(peer("echo_client.py") + ["--host", "127.0.0.1", "--port", port_of(address), "--message", "py"])
            check(r.returncode == 0 and r.stdout == b"py", "%s + peers/echo_client.py" % program)
            for clients in MULTI_CLIENTS:
                r = run([exe(clients), "--host", "127.0.0.1", "--port", port_of(address)])
                check(r.returncode == 0 and r.stdout == b"GET / HTTP/1.1\r\n\r\n" * 4,
                      "%s + %s: 4 replies" % (program, clients))
        server.stop()


def four_clients_on_python_server(clients):
    """`clients` (its 4 clients at once) against the tutorial's threaded server in Python: 4 replies, and the
    server saw 4 connections. Returns the server's address."""
    server, address = start_server(peer("echo_server.py") + ["--mode", "threaded", "--host", "127.0.0.1", "--port", "0"])
    r = run([exe(clients), "--host", "127.0.0.1", "--port", port_of(address), "--message", "hello"])
    check(r.returncode == 0 and r.stdout == b"hello\n" * 4, "4 replies from the Python threaded server: %r" % r.stdout)
    for _ in range(4):
        server.expect_line(r"Connected with 127\.0\.0\.1:\d+")
    return address


@case()
def echo_clients_threaded_python_server():
    address = four_clients_on_python_server("echo_clients_threaded")
    check(True, "the Python server saw 4 connections")
    r = run([exe("echo_clients_threaded"), "--host", "127.0.0.1", "--port", port_of(address)])
    check(r.returncode == 0 and r.stdout == b"GET / HTTP/1.1\r\n\r\n" * 4, "default message, 4 replies")


@case()
def ipv6():
    require_ipv6()
    for program in TCP_SERVERS:
        server, address = start_server([exe(program), "--host", "::1", "--port", "0"])
        check(re.fullmatch(r"\[::1\]:\d+", address) is not None, "%s --host ::1 listens on %s" % (program, address))
        r = run([exe("echo_client"), "--host", "::1", "--port", port_of(address), "--message", "six"])
        check(r.returncode == 0 and r.stdout == b"six", "%s + echo_client over IPv6" % program)
        server.expect_line(r"Connected with \[::1\]:\d+")
        if program != "echo_server_once":
            r = run(peer("echo_client.py") + ["--host", "::1", "--port", port_of(address), "--message", "py6"])
            check(r.returncode == 0 and r.stdout == b"py6", "%s + peers/echo_client.py over IPv6" % program)
        server.stop()
    server, address = start_server(peer("echo_server.py") + ["--host", "::1", "--port", "0"])
    r = run([exe("echo_client"), "--host", "::1", "--port", port_of(address), "--message", "to python"])
    check(r.returncode == 0 and r.stdout == b"to python", "echo_client + peers/echo_server.py over IPv6")
    server, address = start_server([exe("udp_echo_server"), "--host", "::1", "--port", "0"])
    check(address.startswith("[::1]:"), "udp_echo_server --host ::1 listens on %s" % address)
    r = run([exe("udp_echo_client"), "--host", "::1", "--port", port_of(address)])
    check(r.returncode == 0 and r.stdout == b"Hello World\n", "udp_echo_client + udp_echo_server over IPv6")
    r = run(peer("udp_echo_client.py") + ["--host", "::1", "--port", port_of(address), "--message", "py"])
    check(r.returncode == 0 and r.stdout == b"py\n", "peers/udp_echo_client.py + udp_echo_server over IPv6")


@case()
def unix():
    skip_under_wine("wine has no AF_UNIX (Unix-domain sockets)")
    for program in TCP_SERVERS:
        path = os.path.join(TMP, program + ".sock")
        server, address = start_server([exe(program), "--unix", path])
        check(address == path, "%s --unix listens on the path itself (%s)" % (program, address))
        r = run([exe("echo_client"), "--unix", path, "--message", "over unix"])
        check(r.returncode == 0 and r.stdout == b"over unix", "%s + echo_client --unix" % program)
        server.expect_line(r"Connected with .*")
        if program != "echo_server_once":
            data = big_payload(MIB)
            r = run(peer("echo_client.py") + ["--unix", path, "--stdin"], stdin_data=data)
            check(r.returncode == 0 and r.stdout == data, "%s + peers/echo_client.py --unix (1 MiB)" % program)
        server.stop()
    # A socket file left behind by a killed server does not stop the next one (remove_stale_socket).
    path = os.path.join(TMP, "stale.sock")
    server, _ = start_server([exe("echo_server"), "--unix", path])
    os.kill(server.proc.pid, signal.SIGKILL)
    server.wait(10)
    check(os.path.exists(path), "the killed server left its socket file behind")
    server, _ = start_server([exe("echo_server"), "--unix", path])
    r = run([exe("echo_client"), "--unix", path, "--message", "fresh"])
    check(r.returncode == 0 and r.stdout == b"fresh", "a new server binds the stale path and serves")
    # The Python server over a Unix path, and netlite's client.
    path = os.path.join(TMP, "python.sock")
    server, _ = start_server(peer("echo_server.py") + ["--unix", path])
    r = run([exe("echo_client"), "--unix", path, "--message", "to python"])
    check(r.returncode == 0 and r.stdout == b"to python", "echo_client --unix + peers/echo_server.py")


@case()
def udp():
    server, address = start_server([exe("udp_echo_server"), "--host", "127.0.0.1", "--port", "0"])
    port = port_of(address)
    r = run([exe("udp_echo_client"), "--host", "127.0.0.1", "--port", port])
    check(r.returncode == 0 and r.stdout == b"Hello World\n", "udp_echo_client + udp_echo_server")
    server.expect_line(r"Received from 127\.0\.0\.1:\d+")
    r = run([exe("udp_echo_client"), "--host", "localhost", "--port", port, "--message", "by name"])
    check(r.returncode == 0 and r.stdout == b"by name\n", "udp_echo_client --host localhost")
    r = run(peer("udp_echo_client.py") + ["--host", "127.0.0.1", "--port", port, "--message", "from python"])
    check(r.returncode == 0 and r.stdout == b"from python\n", "peers/udp_echo_client.py + udp_echo_server")
    pserver, paddress = start_server(peer("udp_echo_server.py") + ["--host", "127.0.0.1", "--port", "0"])
    r = run([exe("udp_echo_client"), "--host", "127.0.0.1", "--port", port_of(paddress), "--message", "to python"])
    check(r.returncode == 0 and r.stdout == b"to python\n", "udp_echo_client + peers/udp_echo_server.py")
    pserver.expect_line(r"Received from 127\.0\.0\.1:\d+")


@case()
def udp_client_timeout():
    """Nobody answers (a bound UDP socket that never replies): exit 1 with one line after ~2 s."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind(("127.0.0.1", 0))
        began = time.monotonic()
        r = run([exe("udp_echo_client"), "--host", "127.0.0.1", "--port", silent.getsockname()[1]], timeout=10)
        took = time.monotonic() - began
        got = silent.recvfrom(100)[0]
    check(r.returncode == 1 and one_line(r.stderr) and not r.stdout,
          "udp_echo_client exits 1 with one line: %r" % r.stderr.decode().strip())
    check(1.5 <= took <= 4.5, "it gave up after %.2f s (wanted ~2 s)" % took)
    check(got == b"Hello World", "the datagram did reach the silent socket")


def loopback_multicast_receiver(group, port):
    """A Python receiver of `group`:`port` on the loopback interface, sharing the port; None when this
    system refuses the join."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if hasattr(socket, "SO_REUSEPORT"):
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    s.bind(("0.0.0.0", port))
    try:
        s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP,
                     socket.inet_aton(group) + socket.inet_aton("127.0.0.1"))
    except OSError:
        s.close()
        return None
    s.settimeout(5)
    return s


def loopback_multicast_sender():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton("127.0.0.1"))
    s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 1)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
    return s


@case()
def multicast():
    """Two multicast_receivers share one port on loopback multicast; multicast_sender and Python's socket
    send to the group, each receiver (and a Python one) gets every datagram."""
    skip_under_wine("the loopback interface has no name wine's if_nametoindex knows")
    lo = "lo" if "lo" in [name for _, name in socket.if_nameindex()] else "lo0"
    group = "239.255.%d.%d" % (random.randint(1, 254), random.randint(1, 254))  # organisation-local
    # Can this system deliver multicast on loopback at all? Ask Python's socket first.
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe_port:
        probe_port.bind(("127.0.0.1", 0))
        port = probe_port.getsockname()[1]
    probe = loopback_multicast_receiver(group, port)
    if probe is None:
        raise Skip("this system refuses a multicast join on the loopback interface")
    with probe, loopback_multicast_sender() as sender:
        sender.sendto(b"probe", (group, port))
        try:
            probe.recvfrom(100)
        except socket.timeout:
            raise Skip("this system does not deliver multicast on the loopback interface")

    first, address = start_server([exe("multicast_receiver"), "--host", group, "--port", "0", "--interface", lo])
    port = port_of(address)
    check(address == "0.0.0.0:%d" % port, "multicast_receiver listens on %s" % address)
    second, address2 = start_server([exe("multicast_receiver"), "--host", group, "--port", port,
                                     "--interface", lo])
    check(port_of(address2) == port, "a second multicast_receiver shares port %d" % port)
    python_receiver = loopback_multicast_receiver(group, port)
    check(python_receiver is not None, "Python's socket joins the group on the same port too")
    with python_receiver:
        r = run([exe("multicast_sender"), "--host", group, "--port", port, "--interface", lo,
                 "--message", "hello group"])
        check(r.returncode == 0 and r.stdout == ("sent 11 bytes to %s:%d\n" % (group, port)).encode(),
              "multicast_sender: %r %r" % (r.stdout, r.stderr))
        for receiver in (first, second):
            # The source address is the kernel's choice for a send by lo (127.0.0.1 or the host's own).
            receiver.expect_line(r"Received from [\d.]+:\d+: hello group")
        check(python_receiver.recvfrom(100)[0] == b"hello group", "Python's receiver got it as well")
        with loopback_multicast_sender() as sender:
            sender.sendto(b"from python", (group, port))
        for receiver in (first, second):
            receiver.expect_line(r"Received from 127\.0\.0\.1:\d+: from python")
        check(True, "both multicast_receivers got Python's datagram")
    r = run([exe("multicast_receiver"), "--host", group, "--port", port, "--interface", "no-such-if0"])
    check(r.returncode == 1 and one_line(r.stderr), "an unknown interface: exit 1, %r" % r.stderr.strip())
    r = run([exe("multicast_sender"), "--host", "not-an-address", "--port", port])
    check(r.returncode == 1 and one_line(r.stderr), "a bad group: exit 1, %r" % r.stderr.strip())


def can_bind(family, host):
    """Whether a UDP socket can bind `host` (an address this machine has)."""
    try:
        with socket.socket(family, socket.SOCK_DGRAM) as s:
            s.bind((host, 0))
        return True
    except OSError:
        return False


def ask_udp(family, client_host, target, port, data):
    """Python's socket sends `data` from `client_host` to `target`:`port`; returns (reply, its source
    (host, port), our port)."""
    with socket.socket(family, socket.SOCK_DGRAM) as s:
        s.settimeout(TIMEOUT)
        s.bind((client_host, 0))
        s.sendto(data, (target, port))
        try:
            reply, source = s.recvfrom(65536)
        except socket.timeout:
            raise Fail("no reply from %s:%d within %ss" % (target, port, TIMEOUT))
        return reply, source[:2], s.getsockname()[1]


@case()
def udp_reply_from():
    """udp_reply_from on every address answers each datagram from the address it was sent to: 127.0.0.1
    and 127.0.0.2 (Python's socket as the client, checking the reply's source), ::1 over IPv6; the
    control: udp_echo_server's plain send_to answers 127.0.0.2's datagram from 127.0.0.1."""
    skip_under_wine("netlite has no IP_PKTINFO on Windows yet (set_receive_destination: not supported)")
    server, address = start_server([exe("udp_reply_from"), "--host", "0.0.0.0", "--port", "0"])
    port = port_of(address)
    check(address == "0.0.0.0:%d" % port, "udp_reply_from listens on %s" % address)
    targets = ["127.0.0.1"]
    if can_bind(socket.AF_INET, "127.0.0.2"):  # Linux: all of 127.0.0.0/8 is the loopback interface's
        targets.append("127.0.0.2")
    else:
        print("skipped: the 127.0.0.2 part (this system has only 127.0.0.1 on loopback)")
    for target in targets:
        data = ("asked at " + target).encode()
        reply, source, ours = ask_udp(socket.AF_INET, "127.0.0.1", target, port, data)
        check(reply == data, "the datagram to %s came back whole" % target)
        check(source == (target, port), "the reply to %s:%d came from %s:%d" % (target, port, source[0], source[1]))
        server.expect_line(r"Received from 127\.0\.0\.1:%d at %s \(interface \d+\)" % (ours, re.escape(target)))
    if "127.0.0.2" in targets:
        control, caddress = start_server([exe("udp_echo_server"), "--host", "0.0.0.0", "--port", "0"])
        _, source, _ = ask_udp(socket.AF_INET, "127.0.0.1", "127.0.0.2", port_of(caddress), b"control")
        check(source[0] == "127.0.0.1",
              "the control: udp_echo_server (send_to) answers 127.0.0.2's datagram from %s" % source[0])
        control.expect_line(r"Received from 127\.0\.0\.1:\d+")
    if not ipv6_available():
        print("skipped: the IPv6 part (no ::1 here)")
        return
    server6, address6 = start_server([exe("udp_reply_from"), "--host", "::", "--port", "0"])
    port6 = port_of(address6)
    check(address6 == "[::]:%d" % port6, "udp_reply_from --host :: listens on %s" % address6)
    reply, source, ours = ask_udp(socket.AF_INET6, "::1", "::1", port6, b"over IPv6")
    check(reply == b"over IPv6" and source == ("::1", port6), "the IPv6 reply came from [::1]:%d" % port6)
    server6.expect_line(r"Received from \[::1\]:%d at ::1 \(interface \d+\)" % ours)


@case()
def pass_file():
    """pass_file send/receive hand an open file from one process to another over a Unix socket, the file's
    name already removed; Python's socket.send_fds/recv_fds as the other side each way (a descriptor
    shares its offset); a message without a descriptor, a missing file, nobody listening, bad usage."""
    skip_under_wine("pass_file is built for POSIX only (and wine has no AF_UNIX)")
    if not os.path.exists(exe("pass_file")):
        raise Skip("pass_file is not built here")
    if not hasattr(socket, "send_fds"):
        raise Skip("this Python has no socket.send_fds (3.9+)")
    received = r"received (.*) as descriptor (\d+)\n"

    # netlite to netlite. Once the sender has it open, the file's name goes: only the descriptor leads to it.
    content = b"first line\n" + bytes(range(256)) * 64 + b"\nlast line\n"
    name = os.path.join(TMP, "passed.bin")
    with open(name, "wb") as f:
        f.write(content)
    path = os.path.join(TMP, "pass.sock")
    sender, address = start_server([exe("pass_file"), "send", name, "--unix", path])
    check(address == path, "pass_file send listens on %s" % address)
    os.unlink(name)
    r = run([exe("pass_file"), "receive", "--unix", path])
    head = re.match(received.encode(), r.stdout)
    check(r.returncode == 0 and head is not None and head.group(1) == name.encode(),
          "pass_file receive: %r %r" % (r.stdout[:80], r.stderr))
    check(r.stdout[head.end():] == content, "it read the removed file's %d bytes through the descriptor" % len(content))
    sender.expect_line(r"Connected with .*")
    sender.expect_line(r"passed " + re.escape(name))
    check(sender.wait() == 0, "pass_file send exits 0 after one receiver")

    # netlite sends, Python's socket.recv_fds receives.
    name = os.path.join(TMP, "to-python.txt")
    with open(name, "wb") as f:
        f.write(b"for python\n")
    path = os.path.join(TMP, "to-python.sock")
    sender, _ = start_server([exe("pass_file"), "send", name, "--unix", path])
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(TIMEOUT)
        s.connect(path)
        message, fds, _, _ = socket.recv_fds(s, 4096, 4)
        message += recv_to_eof(s)
    check(message == name.encode() and len(fds) == 1, "Python's recv_fds got the name and one descriptor")
    with os.fdopen(fds[0], "rb") as f:
        check(f.read() == b"for python\n", "Python read the file through it")
    check(sender.wait() == 0, "pass_file send exits 0")

    # Python's socket.send_fds sends a file it has read 6 bytes of; netlite's receiver goes on from there.
    name = os.path.join(TMP, "from-python.txt")
    with open(name, "wb") as f:
        f.write(b"skip: the rest\n")
    path = os.path.join(TMP, "from-python.sock")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as listener:
        listener.bind(path)
        listener.listen(1)
        listener.settimeout(TIMEOUT)
        receiver = Process([exe("pass_file"), "receive", "--unix", path])
        connection, _ = listener.accept()
        fd = os.open(name, os.O_RDONLY)
        try:
            check(os.read(fd, 6) == b"skip: ", "Python read the first 6 bytes")
            with connection:
                socket.send_fds(connection, [b"python's file"], [fd])
        finally:
            os.close(fd)
        check(receiver.wait() == 0, "pass_file receive exits 0: %r" % receiver.stderr)
        out = receiver.stdout_bytes()
        head = re.match(received.encode(), out)
        check(head is not None and head.group(1) == b"python's file" and out[head.end():] == b"the rest\n",
              "pass_file receive read on from Python's offset: %r" % out)

        # A message with no descriptor: exit 1 with one line.
        receiver = Process([exe("pass_file"), "receive", "--unix", path])
        connection, _ = listener.accept()
        with connection:
            connection.sendall(b"no descriptor")
        check(receiver.wait() == 1 and one_line(receiver.stderr) and b"descriptor" in receiver.stderr,
              "no descriptor: exit 1, %r" % receiver.stderr.strip())

    r = run([exe("pass_file"), "send", os.path.join(TMP, "no-such-file"), "--unix", os.path.join(TMP, "x.sock")])
    check(r.returncode == 1 and one_line(r.stderr) and not r.stdout, "a missing file: exit 1, %r" % r.stderr.strip())
    r = run([exe("pass_file"), "receive", "--unix", os.path.join(TMP, "nobody-listens-here")])
    check(r.returncode == 1 and one_line(r.stderr) and not r.stdout, "nobody listening: exit 1, %r" % r.stderr.strip())
    r = run([exe("pass_file"), "--help"])
    check(r.returncode == 0 and r.stdout.startswith(b"usage: pass_file") and not r.stderr, "--help: exit 0")
    for argv in ([], ["frobnicate"], ["receive", "extra"], ["send"], ["receive", "--no-such-flag"], ["receive", "--unix"]):
        r = run([exe("pass_file")] + argv)
        check(r.returncode == 2 and b"usage: " in r.stderr and not r.stdout, "pass_file %s: usage, exit 2" % (" ".join(argv) or "(no arguments)"))


@case()
def socat_and_nc():
    """socat and OpenBSD nc as clients of the netlite servers; socat as the echo server for netlite's client."""
    socat = shutil.which("socat")
    nc = shutil.which("nc")
    if not socat and not nc:
        raise Skip("neither socat nor nc is installed")
    server, address = start_server([exe("echo_server_threaded"), "--host", "127.0.0.1", "--port", "0"])
    port = port_of(address)
    if socat:
        data = big_payload(MIB)
        r = run([socat, "-t", "10", "-", "TCP4:127.0.0.1:%d" % port], stdin_data=data)
        check(r.returncode == 0 and r.stdout == data, "socat client + echo_server_threaded (1 MiB)")
        sserver = Process([socat, "-d", "-d", "TCP4-LISTEN:0,bind=127.0.0.1,reuseaddr,fork", "EXEC:cat"])
        sport = wait_for_socat_port(sserver)
        data = big_payload(MIB)
        r = run([exe("echo_client"), "--host", "127.0.0.1", "--port", sport, "--message", "-"], stdin_data=data)
        check(r.returncode == 0 and r.stdout == data, "echo_client + socat echo server (EXEC:cat, 1 MiB)")
        r = run([exe("echo_clients_threaded"), "--host", "127.0.0.1", "--port", sport, "--message", "cat\n"])
        check(r.returncode == 0 and r.stdout == b"cat\n" * 4, "echo_clients_threaded + socat echo server")
        if under_wine():
            print("skipped: socat UNIX-CONNECT part (under wine: wine has no AF_UNIX)")
        else:
            path = os.path.join(TMP, "socat.sock")
            userver, _ = start_server([exe("echo_server"), "--unix", path])
            r = run([socat, "-t", "10", "-", "UNIX-CONNECT:" + path], stdin_data=b"unix via socat")
            check(r.returncode == 0 and r.stdout == b"unix via socat", "socat UNIX-CONNECT + echo_server --unix")
        userver, uaddress = start_server([exe("udp_echo_server"), "--host", "127.0.0.1", "--port", "0"])
        r = run([socat, "-t", "2", "-", "UDP4:127.0.0.1:%d" % port_of(uaddress)], stdin_data=b"datagram")
        check(r.stdout == b"datagram", "socat UDP client + udp_echo_server")
    else:
        print("skipped: socat parts (socat is not installed)")
    if nc:
        r = run([nc, "-N", "127.0.0.1", str(port)], stdin_data=b"via nc\n")
        check(r.returncode == 0 and r.stdout == b"via nc\n", "nc -N client + echo_server_threaded")
    else:
        print("skipped: nc parts (nc is not installed)")


def wait_for_socat_port(process, timeout=TIMEOUT):
    """socat -d -d logs `listening on AF=2 127.0.0.1:PORT` to stderr: read it (bounded) from a pipe."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        m = re.search(rb"listening on AF=\d+ [\d.]+:(\d+)", process.stderr_so_far())
        if m:
            return int(m.group(1))
        if not process.alive():
            break
        time.sleep(0.02)
    raise Fail("socat did not report its port")


def main():
    global BIN, TMP, EMULATOR
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("case", help="one of: " + ", ".join(sorted(CASES)) + ", or 'list'")
    parser.add_argument("--bin-dir", default=os.path.join(os.getcwd(), "build", "examples"))
    parser.add_argument("--emulator", help="run the examples (NAME.exe) through this program (wine)")
    args = parser.parse_args()
    if args.case == "list":
        print("\n".join(sorted(CASES)))
        return 0
    if args.case not in CASES:
        print("unknown case %r" % args.case, file=sys.stderr)
        return 2
    BIN = os.path.abspath(args.bin_dir)
    if args.emulator:
        EMULATOR = os.path.abspath(args.emulator)
    random.seed()
    with tempfile.TemporaryDirectory(prefix="netlite-examples-") as tmp:
        TMP = tmp
        try:
            if EMULATOR is not None:
                # Start wine's server now, with no pipe of ours: the first Windows program would start it
                # otherwise, and it keeps that program's stderr open while it lingers (3 s after the last
                # program), so every run() would wait for it. It ends by itself. (A new wine prefix is
                # created here too, which takes longer.)
                subprocess.run([EMULATOR, "wineboot"], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, timeout=4 * TIMEOUT)
            CASES[args.case]()
            status = 0
        except Skip as why:
            print("skipped: %s" % why)
            status = SKIP
        except Fail as why:
            print("FAIL: %s" % why)
            status = 1
        except (OSError, subprocess.SubprocessError, threading.BrokenBarrierError) as why:  # e.g. a socket timeout
            print("FAIL: %s: %s" % (type(why).__name__, why))
            status = 1
        finally:
            for process in reversed(STARTED):
                process.stop()
                if process.proc.returncode is not None and process.proc.returncode < 0 \
                        and -process.proc.returncode not in (signal.SIGTERM, signal.SIGKILL):
                    print("FAIL: %s died from signal %d" % (process.argv[0], -process.proc.returncode))
                    status = 1
                if b"Sanitizer" in process.stderr:
                    print("FAIL: %s: sanitizer report:\n%s" % (process.argv[0], process.stderr.decode(errors="replace")))
                    status = 1
    return status


# --- echo_server_evented: one thread, many connections (readiness poller, back-pressure) ----------------

EVENTED = "echo_server_evented"


def vm_rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


CASES["contract_" + EVENTED] = lambda: evented_contract()
CASES["big_echo_" + EVENTED] = lambda: big_echo_netlite_server(EVENTED)
CASES["vanishing_clients_" + EVENTED] = lambda: vanishing_clients(EVENTED)


def evented_contract():
    contract(EVENTED)
    port_in_use_fails(EVENTED, socket.SOCK_STREAM)
    server, address = start_server([exe(EVENTED), "--host", "127.0.0.1", "--port", "0"])
    check(re.fullmatch(r"127\.0\.0\.1:\d+", address) is not None and port_of(address) != 0,
          "listening line shows the real port (%s)" % address)
    r = run([exe("echo_client"), "--host", "127.0.0.1", "--port", port_of(address)])
    check(r.returncode == 0 and r.stdout == b"GET / HTTP/1.1\r\n\r\n", "echo_client gets the tutorial's message back")
    server.expect_line(r"Connected with 127\.0\.0\.1:\d+")
    r = run(peer("echo_client.py") + ["--host", "127.0.0.1", "--port", port_of(address), "--message", "py"])
    check(r.returncode == 0 and r.stdout == b"py", "peers/echo_client.py gets its message back")
    r = run([exe("echo_clients_threaded"), "--host", "127.0.0.1", "--port", port_of(address)])
    check(r.returncode == 0 and r.stdout == b"GET / HTTP/1.1\r\n\r\n" * 4, "echo_clients_threaded: 4 replies")
    family, where = tcp_address(address)
    with connect(family, where) as s:  # echo until end of stream: several messages on one connection
        for i in range(5):
            s.sendall(b"message %d\n" % i)
            got = b""
            while len(got) < len(b"message %d\n" % i):
                chunk = s.recv(100)
                if not chunk:
                    break
                got += chunk
            check(got == b"message %d\n" % i, "reply %d on one connection arrives before the client closes" % i)
        s.shutdown(socket.SHUT_WR)
        check(s.recv(100) == b"", "after the client's end of stream the server closes its side")
    os.kill(server.proc.pid, signal.SIGINT)
    check(server.wait(10) == 0, "SIGINT stops the loop (through the poller's waker): exit 0")


@case()
def evented_ipv6():
    require_ipv6()
    server, address = start_server([exe(EVENTED), "--host", "::1", "--port", "0"])
    check(re.fullmatch(r"\[::1\]:\d+", address) is not None, "--host ::1 listens on %s" % address)
    r = run([exe("echo_client"), "--host", "::1", "--port", port_of(address), "--message", "six"])
    check(r.returncode == 0 and r.stdout == b"six", "echo_client over IPv6")
    server.expect_line(r"Connected with \[::1\]:\d+")
    data = big_payload()
    r = run(peer("echo_client.py") + ["--host", "::1", "--port", port_of(address), "--stdin"], stdin_data=data)
    check(r.returncode == 0 and r.stdout == data, "4 MiB byte-identical over IPv6 to peers/echo_client.py")


@case()
def evented_unix():
    skip_under_wine("wine has no AF_UNIX (Unix-domain sockets)")
    path = os.path.join(TMP, "evented.sock")
    server, address = start_server([exe(EVENTED), "--unix", path])
    check(address == path, "--unix listens on the path itself (%s)" % address)
    r = run([exe("echo_client"), "--unix", path, "--message", "over unix"])
    check(r.returncode == 0 and r.stdout == b"over unix", "echo_client --unix")
    server.expect_line(r"Connected with .*")
    data = big_payload()
    r = run(peer("echo_client.py") + ["--unix", path, "--stdin"], stdin_data=data)
    check(r.returncode == 0 and r.stdout == data, "4 MiB byte-identical over a Unix socket")
    r = run([exe("echo_client"), "--unix", path, "--message", "-"], stdin_data=data)
    check(r.returncode == 0 and r.stdout == data, "and to netlite's echo_client --unix")


@case()
def evented_64_clients():
    server, address = start_server([exe(EVENTED), "--host", "127.0.0.1", "--port", "0"])
    ok = concurrent_clients(address, 64, 256 * 1024)
    check(all(ok), "all 64 clients got exactly their own 256 KiB back (%d did)" % sum(ok))
    for _ in range(64):
        server.expect_line(r"Connected with 127\.0\.0\.1:\d+")
    check(True, "the server printed 64 'Connected with' lines")


@case()
def evented_hostile_peers():
    """Idle clients, slowloris tricklers, a client that never reads and resets: nobody else waits."""
    hostile_peers([exe(EVENTED), "--host", "127.0.0.1", "--port", "0"])


@case()
def async_hostile_peers():
    """The same hostile peers against the coroutine server, on one loop and on two."""
    hostile_peers([exe("echo_server_async"), "--host", "127.0.0.1", "--port", "0"])
    hostile_peers([exe("echo_server_async"), "--host", "127.0.0.1", "--port", "0", "--threads", "2"])


def hostile_peers(argv):
    server, address = start_server(argv)
    family, where = tcp_address(address)
    idle = [connect(family, where) for _ in range(20)]
    # A client that sends and never reads: back-pressure must cap what the server takes from it.
    hog = connect(family, where)
    hog.settimeout(1.0)
    rss_before = vm_rss_kib(server.proc.pid)
    pushed = 0
    try:
        while pushed < 256 * MIB:
            pushed += hog.send(b"h" * 65536)
    except socket.timeout:
        pass
    rss_after = vm_rss_kib(server.proc.pid)
    check(pushed < 256 * MIB, "a client that never reads is stopped by back-pressure after %d KiB" % (pushed // 1024))
    check(rss_after - rss_before < 16 * 1024,
          "the server's memory grew by %d KiB only (bounded buffers)" % (rss_after - rss_before))
    # Slowloris: clients that trickle one byte at a time, each expecting its bytes back.
    stop = threading.Event()
    trickle_errors = []

    def trickle(i):
        try:
            with connect(family, where, timeout=10) as s:
                sent = b""
                while not stop.is_set() and len(sent) < 200:
                    byte = bytes([65 + (i + len(sent)) % 26])
                    s.sendall(byte)
                    sent += byte
                    stop.wait(0.02)
                s.shutdown(socket.SHUT_WR)
                got = b""
                while True:
                    chunk = s.recv(1024)
                    if not chunk:
                        break
                    got += chunk
                if got != sent:
                    trickle_errors.append("trickler %d got %d of %d bytes" % (i, len(got), len(sent)))
        except OSError as error:
            trickle_errors.append("trickler %d: %s" % (i, error))

    tricklers = [threading.Thread(target=trickle, args=(i,)) for i in range(16)]
    for t in tricklers:
        t.start()
    # Resets mid-echo.
    for _ in range(5):
        s = connect(family, where)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        s.sendall(b"r" * 100000)
        s.close()
    # Meanwhile an ordinary client is served at once, several times.
    for i in range(5):
        began = time.monotonic()
        reply = echo_once(family, where, b"not blocked %d\n" % i, timeout=5)
        took = time.monotonic() - began
        check(reply == b"not blocked %d\n" % i and took < 2,
              "ordinary client %d echoed in %.3f s among idle, hogging, trickling and resetting peers" % (i, took))
    ok = concurrent_clients(address, 8, 64 * 1024)
    check(all(ok), "8 concurrent clients with 64 KiB each are served correctly meanwhile")
    stop.set()
    for t in tricklers:
        t.join(TIMEOUT)
    check(not trickle_errors, "every slowloris client got exactly its bytes back %s" % trickle_errors[:3])
    for s in idle:
        s.sendall(b"late")
        s.shutdown(socket.SHUT_WR)
    check(all(s.recv(100) == b"late" for s in idle), "the 20 idle clients are still served when they speak")
    for s in idle:
        s.close()
    hog.close()
    check(server.alive(), "the server is still running")
    r = run([exe("echo_client"), "--host", "127.0.0.1", "--port", port_of(address), "--message", "after"])
    check(r.returncode == 0 and r.stdout == b"after", "and serves echo_client afterwards")


@case()
def evented_2000_connections():
    """2,000 connections open at once on the one-thread server; each gets exactly its own bytes back."""
    many_connections([exe(EVENTED), "--host", "127.0.0.1", "--port", "0"])


@case()
def async_2000_connections():
    """2,000 connections at once on the coroutine server (one coroutine each, 2 loops)."""
    many_connections([exe("echo_server_async"), "--host", "127.0.0.1", "--port", "0", "--threads", "2"])


def many_connections(argv):
    import selectors
    count = 2000
    limit = raise_descriptor_limit(count + 500)
    if limit < count + 100:
        raise Skip("RLIMIT_NOFILE cannot be raised to %d here (hard limit: %d)" % (count + 100, limit))
    server, address = start_server(argv)
    family, where = tcp_address(address)
    sockets = []
    for _ in range(count):
        sockets.append(connect(family, where))
    check(len(sockets) == count, "%d connections are open at once" % count)
    for _ in range(count):
        server.expect_line(r"Connected with 127\.0\.0\.1:\d+")
    check(True, "the server printed %d 'Connected with' lines" % count)
    messages = [b"connection %05d %s\n" % (i, random.randbytes(16).hex().encode()) for i in range(count)]
    for s, message in zip(sockets, messages):
        s.sendall(message)
    replies = {}
    selector = selectors.DefaultSelector()
    for i, s in enumerate(sockets):
        s.setblocking(False)
        selector.register(s, selectors.EVENT_READ, i)
        replies[i] = b""
    done = 0
    deadline = time.monotonic() + TIMEOUT * 2
    while done < count and time.monotonic() < deadline:
        for key, _ in selector.select(timeout=1):
            i = key.data
            chunk = key.fileobj.recv(4096)
            replies[i] += chunk
            if len(replies[i]) >= len(messages[i]) or not chunk:
                selector.unregister(key.fileobj)
                done += 1
    selector.close()
    wrong = [i for i in range(count) if replies[i] != messages[i]]
    check(not wrong, "all %d connections got exactly their own bytes (%d wrong)" % (count, len(wrong)))
    for s in sockets:
        s.close()
    reply = echo_once(family, where, b"after the crowd\n", timeout=10)
    check(reply == b"after the crowd\n" and server.alive(), "the server serves the next client after they left")


# --- echo_server_async / echo_clients_async: coroutines ------------------------------------------------

def per_loop_counts(server):
    """The connections each loop took, from the line echo_server_async prints to stderr at shutdown."""
    found = re.search(rb"connections per loop:((?: \d+)+)\)", server.stderr)
    if not found:
        raise Fail("stderr has no 'connections per loop' line: %r" % server.stderr)
    return [int(n) for n in found.group(1).split()]


@case()
def async_threads():
    """--threads 4: one listener, connections handed round four loops; 64 clients all served, spread evenly.
    --unix --threads 2: the same hand-off; 4 clients one after another land on both loops."""
    skip_under_wine("the case stops the server with SIGTERM/SIGINT, POSIX signals a Windows program does not get")
    server, address = start_server([exe("echo_server_async"), "--host", "127.0.0.1", "--port", "0", "--threads", "4"])
    check(port_of(address) != 0, "--threads 4 --port 0: one listening line with the real port (%s)" % address)
    ok = concurrent_clients(address, 64, 64 * 1024)
    check(all(ok), "all 64 clients got exactly their own 64 KiB back (%d did)" % sum(ok))
    for _ in range(64):
        server.expect_line(r"Connected with 127\.0\.0\.1:\d+")
    threads = len(os.listdir("/proc/%d/task" % server.proc.pid))
    check(threads >= 4, "the server runs %d threads (4 loops)" % threads)
    r = run([exe("echo_clients_async"), "--host", "127.0.0.1", "--port", port_of(address), "--clients", "16",
             "--message", "ping\n"])
    check(r.returncode == 0 and r.stdout == b"ping\n" * 16, "echo_clients_async --clients 16: 16 replies")
    os.kill(server.proc.pid, signal.SIGTERM)
    check(server.wait(10) == 0, "SIGTERM stops every loop: exit 0")
    counts = per_loop_counts(server)
    check(counts == [20, 20, 20, 20], "80 connections handed round 4 loops: 20 each (%s)" % counts)

    path = os.path.join(TMP, "async_threads.sock")
    server, address = start_server([exe("echo_server_async"), "--unix", path, "--threads", "2"])
    for i in range(4):
        reply = echo_once(socket.AF_UNIX, path, b"client %d\n" % i)
        check(reply == b"client %d\n" % i, "--unix --threads 2: client %d echoed (%r)" % (i, reply))
        server.expect_line(r"Connected with.*")
    os.kill(server.proc.pid, signal.SIGTERM)
    check(server.wait(10) == 0, "--unix --threads 2: SIGTERM, exit 0")
    counts = per_loop_counts(server)
    check(counts == [2, 2], "--unix --threads 2: 4 connections on both loops, 2 each (%s)" % counts)


@case()
def async_threads_one_listener():
    """--threads 2 on one listener (no SO_REUSEPORT, so on Windows too): 8 clients at once, all echoed."""
    server, address = start_server([exe("echo_server_async"), "--host", "127.0.0.1", "--port", "0", "--threads", "2"])
    ok = concurrent_clients(address, 8, 16 * 1024)
    check(all(ok), "all 8 clients got exactly their own 16 KiB back (%d did)" % sum(ok))
    for _ in range(8):
        server.expect_line(r"Connected with 127\.0\.0\.1:\d+")
    server.stop()


@case()
def async_shutdown():
    """SIGINT: exit 0 at once without clients; an idle client gets the 5 s grace period, then is dropped."""
    skip_under_wine("the case stops the server with SIGTERM/SIGINT, POSIX signals a Windows program does not get")
    for argv in ([exe("echo_server_async"), "--host", "127.0.0.1", "--port", "0"],
                 [exe("echo_server_async"), "--unix", os.path.join(TMP, "async.sock"), "--threads", "2"]):
        server, address = start_server(argv)
        began = time.monotonic()
        os.kill(server.proc.pid, signal.SIGINT)
        check(server.wait(10) == 0 and time.monotonic() - began < 2, "%s: SIGINT without clients, exit 0 at once"
              % " ".join(argv[1:]))
    server, address = start_server([exe("echo_server_async"), "--host", "127.0.0.1", "--port", "0"])
    family, where = tcp_address(address)
    with connect(family, where) as idle:
        server.expect_line(r"Connected with 127\.0\.0\.1:\d+")
        began = time.monotonic()
        os.kill(server.proc.pid, signal.SIGINT)
        check(server.wait(15) == 0, "SIGINT with an idle client: exit 0")
        took = time.monotonic() - began
        check(4.5 <= took < 8, "the idle client had the grace period (%.1f s) before it was dropped" % took)
        idle.settimeout(5)
        check(idle.recv(10) == b"", "the dropped client sees the connection closed")


@case()
def echo_clients_async_python_server():
    four_clients_on_python_server("echo_clients_async")
    check(True, "the Python server saw 4 connections at once")


if __name__ == "__main__":
    sys.exit(main())
