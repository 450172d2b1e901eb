#!/usr/bin/env python3
"""Fixed echo load for instruction counts (callgrind) and system-call counts (strace -c) per round trip.

Starts SERVER_CMD (which prints `listening on HOST:PORT`), opens --conns connections, does --trips
64-byte round trips in total (each round: one message on every connection, then every echo), then
sends SIGTERM to the server and waits for it. Run it twice (--trips 0 and --trips N) and divide the
difference by N: what start-up and connection set-up cost drops out.
  roundtrips.py --trips 20000 --conns 8 -- valgrind --tool=callgrind build/rel/bench/evented/evented_bench --serve raw
"""
import argparse, os, re, signal, socket, subprocess, sys

parser = argparse.ArgumentParser()
parser.add_argument("--trips", type=int, default=20000)
parser.add_argument("--conns", type=int, default=8)
parser.add_argument("--size", type=int, default=64)
parser.add_argument("server", nargs=argparse.REMAINDER)
args = parser.parse_args()
command = args.server[1:] if args.server[:1] == ["--"] else args.server
# Its own process group: SIGTERM reaches the server under strace too (strace does not pass it on).
server = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, start_new_session=True)
try:
    port = None
    for _ in range(1000):  # bounded: valgrind prints nothing on stdout before the server does
        line = server.stdout.readline()
        if not line:
            break
        found = re.search(r"listening on [^\s]*:(\d+)", line)
        if found:
            port = int(found.group(1))
            break
    if port is None:
        sys.exit("no 'listening on' line from the server")
    conns = [socket.create_connection(("127.0.0.1", port), timeout=60) for _ in range(args.conns)]
    message = b"x" * args.size
    done = 0
    while done < args.trips:
        batch = conns[: min(len(conns), args.trips - done)]
        for c in batch:
            c.sendall(message)
        for c in batch:
            got = b""
            while len(got) < len(message):
                part = c.recv(len(message) - len(got))
                if not part:
                    sys.exit("server closed a connection")
                got += part
        done += len(batch)
    for c in conns:
        c.close()
finally:
    os.killpg(server.pid, signal.SIGTERM)
    server.wait(timeout=120)
print(f"{args.trips} round trips of {args.size} B over {args.conns} connections")
