#!/usr/bin/env python3
"""Attack the threaded echo server (examples/echo_server_threaded) on loopback, all at once:

  * HOLD connections opened and held silent for the whole attack,
  * SLOW slowloris clients trickling one byte a second each,
  * resetters that connect, send part of a message, read a little and reset (SO_LINGER 0) mid-stream,
  * GOOD well-behaved clients each echoing BYTES random bytes, checked with SHA-256 and length,

then close everything and require the server's thread count (/proc/PID/status Threads) and descriptor
count (/proc/PID/fd) to return to their pre-attack baseline within a bounded wait, and a fresh echo to
still work. Prints the figures; exits 0 on success, 1 on a broken guarantee, 77 when the machine cannot
run the attack (not Linux, descriptor limit too low).

With --tls the server is a TLS echo server (examples/tls_echo_server): a throwaway CA and a certificate for
localhost are made with the openssl command at start (skipped without it), the well-behaved clients talk
TLS (Python's ssl, verifying the server; 64 KiB rounds, close_notify both ways), the slowloris clients
trickle a real ClientHello one byte a second (they stall the handshake, which the server bounds with its
own deadline), and the resetters complete a handshake before they reset. Held connections never start
the handshake; one more silent connection, opened with the attack, must be closed by the server within
--handshake-bound seconds (its handshake deadline, 10 s, and some slack).

With --server-soft-limit N the server starts with a soft descriptor limit of N (the hard limit stays
high, as on Debian: 1,024 soft), so it holds the attack only if it raises its own limit; with
--max-fds-per-held X the descriptors the server holds per idle connection, measured once all HOLD
connections are in, must not exceed X.

usage: echo_attack.py --server PATH [--hold 1000] [--slow 200] [--good 64] [--bytes 1048576]
                      [--min-seconds 5] [--settle-seconds 30] [--server-soft-limit N]
                      [--max-fds-per-held X] [--tls]
"""

import argparse
import hashlib
import os
import random
import resource
import socket
import struct
import shutil
import ssl
import sys
import tempfile
import threading
import time

import driver_support
from driver_support import SKIP

# The example tests' client side (tests/examples/client_support.py): descriptor limit, throwaway PKI, TLS echo.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "examples"))
from client_support import echo_in_rounds, make_throwaway_pki, raise_descriptor_limit  # noqa: E402 (path above)

log = driver_support.logger("echo_attack")


def server_counts(pid):
    """(threads, descriptors) of process `pid`."""
    threads = None
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("Threads:"):
                threads = int(line.split()[1])
    return threads, len(os.listdir(f"/proc/{pid}/fd"))


def settled_counts(pid, bound=5.0):
    """server_counts(pid) once two samples 0.2 s apart agree (or after `bound` seconds: the last sample)."""
    deadline = time.monotonic() + bound
    last = server_counts(pid)
    while time.monotonic() < deadline:
        time.sleep(0.2)
        now = server_counts(pid)
        if now == last:
            break
        last = now
    return last


def describe_descriptors(pid):
    """What process `pid` holds open, as `fd -> target` (a failure's evidence: socket, pipe or file)."""
    held = []
    try:
        names = sorted(os.listdir(f"/proc/{pid}/fd"), key=int)
    except OSError:
        return "unknown: the server has exited"
    for name in names:
        try:
            held.append(f"{name} -> {os.readlink(f'/proc/{pid}/fd/{name}')}")
        except OSError:
            pass  # closed while listing
    return ", ".join(held)


def connect(port, timeout=30.0):
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def reset(sock):
    """Close with SO_LINGER 0: the peer sees a reset (RST), not an orderly end."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    sock.close()


TLS = None  # with --tls: the client ssl.SSLContext trusting the throwaway CA


def client_hello():
    """The bytes of a real TLS ClientHello for localhost (what a slowloris trickles during the handshake)."""
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = TLS.wrap_bio(incoming, outgoing, server_hostname="localhost")
    try:
        tls.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return outgoing.read()


def tls_echo_once(port, payload, timeout):
    """echo_once over TLS: 64 KiB rounds (one thread may not read and write an SSL object at once), then
    close_notify both ways. Returns (bytes received, errors)."""
    received = bytearray()
    errors = []
    try:
        with TLS.wrap_socket(connect(port, timeout), server_hostname="localhost") as sock:
            echo_in_rounds(sock, payload, received)
            sock.unwrap()  # our close_notify, and the server's in answer
    except (OSError, ValueError) as error:
        errors.append(error)
    return bytes(received), errors


def echo_once(port, payload, timeout=30.0):
    """Sends payload and reads it back, concurrently. Returns the bytes received."""
    if TLS is not None:
        return tls_echo_once(port, payload, timeout)
    sock = connect(port, timeout)
    errors = []

    def send_all():
        try:
            view = memoryview(payload)
            for start in range(0, len(view), 64 * 1024):
                sock.sendall(view[start:start + 64 * 1024])
            sock.shutdown(socket.SHUT_WR)
        except OSError as error:  # recorded; the receive side then comes up short
            errors.append(error)

    sender = threading.Thread(target=send_all)
    sender.start()
    received = bytearray()
    try:
        while True:
            chunk = sock.recv(256 * 1024)
            if not chunk:
                break
            received += chunk
    except OSError as error:
        errors.append(error)
    sender.join()
    sock.close()
    return bytes(received), errors


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--server", required=True, help="path of the echo_server_threaded binary")
    parser.add_argument("--hold", type=int, default=1000)
    parser.add_argument("--slow", type=int, default=200)
    parser.add_argument("--good", type=int, default=64)
    parser.add_argument("--bytes", type=int, default=1 << 20)
    parser.add_argument("--min-seconds", type=float, default=5.0, help="the attack lasts at least this long")
    parser.add_argument("--rounds", type=int, default=1, help="well-behaved rounds (soak: more)")
    parser.add_argument("--settle-seconds", type=float, default=30.0)
    parser.add_argument("--server-soft-limit", type=int, default=0,
                        help="start the server with this soft RLIMIT_NOFILE (0: inherit ours)")
    parser.add_argument("--max-fds-per-held", type=float, default=0.0,
                        help="fail if the server holds more descriptors than this per idle connection")
    parser.add_argument("--server-arg", action="append", default=[],
                        help="an extra argument for the server (repeat for several)")
    parser.add_argument("--evented", action="store_true",
                        help="the server does not start a thread per connection (echo_server_async): "
                             "measure the attack's reach by its descriptors instead")
    parser.add_argument("--handshake-bound", type=float, default=20.0,
                        help="with --tls: a silent connection must be closed by the server within this")
    parser.add_argument("--tls", action="store_true",
                        help="the server is examples/tls_echo_server: clients talk TLS (see above)")
    args = parser.parse_args()

    if not os.path.isdir("/proc/self/fd"):
        log("skipped: needs Linux /proc")
        return SKIP
    needed = args.hold + args.slow + 2 * args.good + 256
    limit = raise_descriptor_limit(needed + 1024)
    if limit < needed:
        log(f"skipped: RLIMIT_NOFILE hard limit {limit} < {needed}")
        return SKIP

    # The server inherits the raised hard limit; its soft limit is ours, or the one a user's shell gives.
    def server_limits():
        if args.server_soft_limit:
            hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
            resource.setrlimit(resource.RLIMIT_NOFILE, (args.server_soft_limit, hard))

    server_argv = [args.server, "--host", "127.0.0.1", "--port", "0"] + args.server_arg
    pki_dir = tempfile.TemporaryDirectory(prefix="echo-attack-pki-")
    hello = b""
    if args.tls:
        global TLS
        openssl = shutil.which("openssl")
        if openssl is None:
            log("skipped: --tls needs the openssl command")
            return SKIP
        ca, cert, key = make_throwaway_pki(openssl, pki_dir.name, "echo_attack CA")
        server_argv += ["--cert", cert, "--key", key]
        TLS = ssl.create_default_context(cafile=ca)
        hello = client_hello()
        log(f"TLS: throwaway CA in {pki_dir.name}; slowloris clients trickle a {len(hello)}-byte ClientHello")
    server = driver_support.start_server(server_argv, preexec_fn=server_limits)
    server_log = {"connected": 0, "stderr": []}
    try:
        port = driver_support.listening_port(server, log)
        if port is None:
            return 1

        def drain(stream, key):
            for line in stream:  # keeps the server's stdout pipe from filling up and blocking it
                if key == "connected":
                    server_log["connected"] += 1
                else:
                    server_log["stderr"].append(line.rstrip())

        threading.Thread(target=drain, args=(server.stdout, "connected"), daemon=True).start()
        threading.Thread(target=drain, args=(server.stderr, "stderr"), daemon=True).start()

        # Baseline. The server makes some descriptors lazily and keeps them: a stop source's wake-up comes
        # with the first call that waits on it (the accept loop's, then the first read that has to wait). A
        # single sample could land before one of them (baseline 5, then 6 after the attack, once under ASan).
        # So: one complete echo (the accept loop has waited; threads and stdio buffers exist), a settled count,
        # then a silent connection held until the server holds its socket and whatever a blocked read needs,
        # and after it a settled count again.
        payload = random.Random(1).randbytes(1024)
        if echo_once(port, payload)[0] != payload:
            log("warm-up echo failed")
            return 1
        _, fds_before = settled_counts(server.pid)
        with connect(port) as warm_up:
            deadline = time.monotonic() + 5
            while server_counts(server.pid)[1] < fds_before + (1 if args.evented else 2) and \
                    time.monotonic() < deadline:
                time.sleep(0.05)
        if echo_once(port, payload)[0] != payload:
            log("warm-up echo failed")
            return 1
        base_threads, base_fds = settled_counts(server.pid)  # the warm-up's threads have finished
        log(f"server pid {server.pid} port {port}: baseline threads {base_threads}, descriptors {base_fds}")

        peak = {"threads": base_threads, "fds": base_fds}
        stop = threading.Event()

        def monitor():
            while not stop.is_set():
                try:
                    threads, fds = server_counts(server.pid)
                except (FileNotFoundError, ProcessLookupError):
                    return
                peak["threads"] = max(peak["threads"], threads)
                peak["fds"] = max(peak["fds"], fds)
                stop.wait(0.1)

        threading.Thread(target=monitor, daemon=True).start()
        start = time.monotonic()
        # With --tls: a client that never starts its handshake, opened with the attack so that the server's
        # handshake deadline runs out during it (the check is after the attack; this saves a deadline's wait).
        silent = connect(port, timeout=args.handshake_bound) if args.tls else None
        silent_start = time.monotonic()

        # 1. Held connections.
        held = []
        try:
            for _ in range(args.hold):
                held.append(connect(port))
        except OSError as error:
            log(f"FAILED: connection {len(held) + 1} of {args.hold} was not accepted: {error}; "
                f"server alive: {server.poll() is None}")
            for sock in held:
                sock.close()
            return 1
        log(f"holding {len(held)} connections")
        # Descriptors per idle connection, once the server has accepted them all (it grows to a plateau).
        plateau_deadline = time.monotonic() + 20
        held_fds = server_counts(server.pid)[1]
        while time.monotonic() < plateau_deadline:
            time.sleep(0.3)
            now_fds = server_counts(server.pid)[1]
            if now_fds == held_fds and now_fds >= base_fds + args.hold:
                break
            held_fds = now_fds
        per_held = (held_fds - base_fds) / args.hold
        log(f"server holds {held_fds} descriptors with {args.hold} idle connections: "
            f"{per_held:.3f} per connection")

        # 2. Slowloris: one byte a second on each; echoes read back without waiting.
        slow = [connect(port) for _ in range(args.slow)]
        for sock in slow:
            sock.setblocking(False)
        slow_stats = {"bytes_sent": 0, "bytes_echoed": 0, "errors": 0}

        def trickle():
            sent_of_hello = 0  # with --tls: the next byte of the ClientHello each one sends
            while not stop.is_set():
                byte = hello[sent_of_hello:sent_of_hello + 1] if args.tls else b"s"
                sent_of_hello += 1
                for sock in slow:
                    if not byte:
                        break  # the whole ClientHello went out: they wait for the server's answer now
                    try:
                        sock.send(byte)
                        slow_stats["bytes_sent"] += 1
                    except (BlockingIOError, InterruptedError):
                        pass
                    except OSError:
                        slow_stats["errors"] += 1
                    try:
                        slow_stats["bytes_echoed"] += len(sock.recv(4096))
                    except (BlockingIOError, InterruptedError):
                        pass
                    except OSError:
                        slow_stats["errors"] += 1
                stop.wait(1.0)

        trickler = threading.Thread(target=trickle)
        trickler.start()

        # 3. Resetters: connect, send part of a message, read some of the echo, reset.
        reset_stats = {"count": 0, "errors": 0}

        def resetter(seed):
            rng = random.Random(seed)
            while not stop.is_set():
                try:
                    sock = connect(port, timeout=10)
                    if args.tls:  # a complete handshake, then the same; the reset goes to the TCP socket
                        sock = TLS.wrap_socket(sock, server_hostname="localhost")
                    sock.sendall(rng.randbytes(rng.randint(1, 200_000)))
                    if rng.random() < 0.5:
                        sock.recv(rng.randint(1, 4096))
                    reset(sock)
                    reset_stats["count"] += 1
                except (OSError, ValueError):
                    reset_stats["errors"] += 1
                stop.wait(0.01)

        resetters = [threading.Thread(target=resetter, args=(seed,)) for seed in range(4)]
        for thread in resetters:
            thread.start()

        # 4. Well-behaved clients, while all of the above goes on.
        results = [None] * args.good
        checked = {"bytes": 0}

        def good(index):
            ok = True
            for round_number in range(args.rounds):
                payload = random.Random(1000 * index + round_number).randbytes(args.bytes)
                received, errors = echo_once(port, payload, timeout=60)
                if len(received) != len(payload) or hashlib.sha256(received).digest() != hashlib.sha256(payload).digest():
                    ok = False
                    log(f"client {index} round {round_number}: got {len(received)} of {len(payload)} bytes, "
                        f"intact prefix: {received == payload[:len(received)]}, errors: {errors}")
                else:
                    checked["bytes"] += len(received)
            results[index] = ok

        goods = [threading.Thread(target=good, args=(i,)) for i in range(args.good)]
        for thread in goods:
            thread.start()
        for thread in goods:
            thread.join()
        good_seconds = time.monotonic() - start
        while time.monotonic() - start < args.min_seconds:
            time.sleep(0.1)
        attack_seconds = time.monotonic() - start

        stop.set()
        trickler.join()
        for thread in resetters:
            thread.join()
        alive_during = server.poll() is None

        # The attackers leave: held connections close in order, slowloris clients reset.
        for sock in held:
            sock.close()
        for sock in slow:
            reset(sock)

        settle_start = time.monotonic()
        threads, fds = server_counts(server.pid) if server.poll() is None else (None, None)
        while server.poll() is None and (threads, fds) != (base_threads, base_fds) and \
                time.monotonic() - settle_start < args.settle_seconds:
            time.sleep(0.1)
            threads, fds = server_counts(server.pid)
        settle_seconds = time.monotonic() - settle_start

        after_payload = random.Random(7).randbytes(64 * 1024)
        still_serves = server.poll() is None and echo_once(port, after_payload)[0] == after_payload

        # With --tls: a client that never starts its handshake is dropped by the server's deadline.
        silent_closed = None
        if silent is not None:
            with silent:
                silent.settimeout(max(0.1, args.handshake_bound - (time.monotonic() - silent_start)))
                try:
                    silent_closed = silent.recv(4096) == b""
                except ConnectionResetError:
                    silent_closed = True
                except socket.timeout:
                    silent_closed = False
            log(f"a silent connection (opened with the attack): closed by the server: {silent_closed}, "
                f"seen after {time.monotonic() - silent_start:.1f} s (bound {args.handshake_bound:.0f} s)")

        good_ok = sum(1 for ok in results if ok)
        log(f"attack: {args.hold} held, {args.slow} slowloris (sent {slow_stats['bytes_sent']} bytes, "
            f"{slow_stats['bytes_echoed']} echoed, {slow_stats['errors']} errors), "
            f"{reset_stats['count']} mid-stream resets ({reset_stats['errors']} errors), "
            f"{args.good} well-behaved x {args.rounds} round(s) x {args.bytes} bytes")
        log(f"well-behaved: {good_ok}/{args.good} intact, {checked['bytes']} bytes checked (SHA-256), "
            f"done after {good_seconds:.1f} s; attack lasted {attack_seconds:.1f} s")
        log(f"server: peak threads {peak['threads']}, peak descriptors {peak['fds']}; after {settle_seconds:.1f} s: "
            f"threads {threads} (baseline {base_threads}), descriptors {fds} (baseline {base_fds}); "
            f"alive during attack: {alive_during}; still serves: {still_serves}; "
            f"connections logged: {server_log['connected']}")
        if server_log["stderr"]:
            log("server stderr:", *server_log["stderr"][:10])

        failures = []
        if args.max_fds_per_held and per_held > args.max_fds_per_held:
            failures.append(f"{per_held:.3f} descriptors per idle connection (at most {args.max_fds_per_held})")
        if good_ok != args.good:
            failures.append(f"{args.good - good_ok} well-behaved client(s) did not get their bytes back intact")
        if not alive_during:
            failures.append(f"server died during the attack (status {server.returncode})")
        if (threads, fds) != (base_threads, base_fds):
            failures.append(f"server did not return to baseline: threads {threads} vs {base_threads}, "
                            f"descriptors {fds} vs {base_fds} (open now: {describe_descriptors(server.pid)})")
        if args.evented:
            if peak["fds"] < base_fds + args.hold:
                failures.append(f"the attack did not reach the server (peak descriptors {peak['fds']})")
        elif peak["threads"] < base_threads + args.hold // 2:
            failures.append(f"the attack did not reach the server (peak threads {peak['threads']})")
        if not still_serves:
            failures.append("server no longer echoes after the attack")
        if args.tls and silent_closed is False:
            failures.append(f"a connection silent during the handshake was not closed within {args.handshake_bound} s")
        for failure in failures:
            log("FAILED:", failure)
        return 1 if failures else 0
    finally:
        pki_dir.cleanup()
        driver_support.stop(server)


if __name__ == "__main__":
    sys.exit(main())
