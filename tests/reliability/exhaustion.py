#!/usr/bin/env python3
"""Run an echo server under a low descriptor limit (soft = hard, so it cannot raise it) and exhaust it:

  1. clients connect until the server has no descriptor left for the next one (it stops accepting:
     later clients wait in the listen queue or are refused);
  2. while exhausted: the server is alive, a connection it already accepted still echoes, and it uses
     (almost) no CPU -- it must not spin on a listener that stays readable;
  3. the clients leave; a fresh client is accepted and echoed within a bounded time;
  4. the server's log did not flood (a few lines at most per second of exhaustion).

Exits 0 on success, 1 on a broken guarantee, 77 when the machine cannot run it (no /proc).

usage: exhaustion.py --server PATH [--limit 48] [--clients 80] [--exhausted-seconds 3]
"""

import os
import resource
import socket
import sys
import threading
import time

import driver_support
from driver_support import SKIP

log = driver_support.logger("exhaustion")


def cpu_seconds(pid):
    """User + system CPU time of process `pid` (all threads)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks  # utime, stime


def descriptors(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def echo(sock, payload, timeout):
    """Sends `payload` and reads back as many bytes; returns what came back."""
    sock.settimeout(timeout)
    sock.sendall(payload)
    received = b""
    while len(received) < len(payload):
        chunk = sock.recv(len(payload) - len(received))
        if not chunk:
            break
        received += chunk
    return received


def fresh_echo(port, payload, deadline):
    """Connects, echoes `payload` and closes, retrying until `deadline`; True once it worked."""
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
                got = echo(sock, payload, timeout=2)
                sock.shutdown(socket.SHUT_WR)
                if got == payload:
                    return True
        except OSError:
            pass
        time.sleep(0.2)
    return False


def main():
    parser = driver_support.argument_parser(__doc__)
    parser.add_argument("--server", required=True)
    parser.add_argument("--limit", type=int, default=48, help="the server's soft and hard RLIMIT_NOFILE")
    parser.add_argument("--clients", type=int, default=80, help="clients that connect to exhaust it")
    parser.add_argument("--exhausted-seconds", type=float, default=3.0)
    parser.add_argument("--recover-seconds", type=float, default=15.0)
    args = parser.parse_args()
    if args.skip:
        log(f"skipped: {args.skip}")
        return SKIP

    if not os.path.isdir("/proc/self/fd"):
        log("skipped: needs Linux /proc")
        return SKIP

    def limit_descriptors():
        resource.setrlimit(resource.RLIMIT_NOFILE, (args.limit, args.limit))

    server = driver_support.start_server([args.server, "--host", "127.0.0.1", "--port", "0"],
                                         preexec_fn=limit_descriptors)
    stderr_lines = []
    clients = []
    try:
        port = driver_support.listening_port(server, log)
        if port is None:
            return 1
        threading.Thread(target=lambda: [None for _ in server.stdout], daemon=True).start()
        threading.Thread(target=lambda: [stderr_lines.append(l.rstrip()) for l in server.stderr],
                         daemon=True).start()

        # A connection the server serves before it runs out: it must keep being served.
        survivor = socket.create_connection(("127.0.0.1", port), timeout=5)
        if echo(survivor, b"before", timeout=5) != b"before":
            log("FAILED: the first client was not echoed")
            return 1

        # Exhaust: connect until the server holds (nearly) `limit` descriptors and stops growing.
        for _ in range(args.clients):
            try:
                sock = socket.create_connection(("127.0.0.1", port), timeout=2)
                sock.setblocking(False)
                clients.append(sock)
            except OSError:
                break  # the listen queue is full: refused or timed out
        settle_deadline = time.monotonic() + 10
        previous = -1
        while time.monotonic() < settle_deadline:
            now = descriptors(server.pid)
            if now == previous and now >= args.limit - 2:
                break
            previous = now
            time.sleep(0.3)
        held = descriptors(server.pid)
        log(f"server pid {server.pid}: {len(clients)} clients connected, server holds {held} of "
            f"{args.limit} descriptors")
        if held < args.limit - 2:
            log(f"FAILED: the server never ran out of descriptors (holds {held} of {args.limit})")
            return 1

        # Exhausted: alive, still serving the survivor, and not spinning.
        cpu_before = cpu_seconds(server.pid)
        lines_before = len(stderr_lines)
        time.sleep(args.exhausted_seconds)
        cpu_used = cpu_seconds(server.pid) - cpu_before
        log_lines = len(stderr_lines) - lines_before
        alive = server.poll() is None
        survivor_ok = alive and echo(survivor, b"during", timeout=5) == b"during"
        log(f"while exhausted for {args.exhausted_seconds:.1f} s: alive {alive}, CPU {cpu_used:.3f} s, "
            f"{log_lines} log lines, the earlier client still echoed: {survivor_ok}")

        # Descriptors come back: every client leaves, then a fresh one must be served.
        for sock in clients:
            sock.close()
        clients.clear()
        survivor.close()
        recovered = fresh_echo(port, b"after", time.monotonic() + args.recover_seconds)
        still_alive = server.poll() is None
        log(f"after the clients left: a fresh client echoed: {recovered}; server alive: {still_alive}")
        if stderr_lines:
            log("server stderr (first lines):", *stderr_lines[:5])

        failures = []
        if not alive or not still_alive:
            failures.append(f"the server exited (status {server.returncode})")
        if not survivor_ok:
            failures.append("a connection accepted before the exhaustion was not served during it")
        if cpu_used > 0.2:  # near zero: a spinning accept loop burns the whole 3 s
            failures.append(f"the server spun while exhausted: {cpu_used:.2f} s of CPU in "
                            f"{args.exhausted_seconds:.1f} s")
        if log_lines > 5 * args.exhausted_seconds:
            failures.append(f"the server flooded its log: {log_lines} lines in {args.exhausted_seconds:.1f} s")
        if not recovered:
            failures.append(f"no fresh client was echoed within {args.recover_seconds:.0f} s of recovery")
        for failure in failures:
            log("FAILED:", failure)
        return 1 if failures else 0
    finally:
        for sock in clients:
            sock.close()
        driver_support.stop(server)


if __name__ == "__main__":
    sys.exit(main())
