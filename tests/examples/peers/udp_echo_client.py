#!/usr/bin/env python3
"""The tutorial's UDP echo client, ported to Python 3, with a receive timeout (exit 1 when it expires)."""
import argparse
import socket
import sys


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="localhost")
    parser.add_argument("--port", type=int, default=10000)
    parser.add_argument("--message", default="Hello World")
    parser.add_argument("--timeout", type=float, default=2.0)
    parser.add_argument("--show-source", action="store_true",
                        help="print where the reply came from after it: MESSAGE (from HOST:PORT)")
    args = parser.parse_args()
    family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    s = socket.socket(family, socket.SOCK_DGRAM)
    s.settimeout(args.timeout)
    s.sendto(args.message.encode(), (args.host, args.port))
    try:
        r, source = s.recvfrom(65536)
    except socket.timeout:
        print("udp_echo_client.py: no reply", file=sys.stderr)
        return 1
    if args.show_source:
        host = "[%s]" % source[0] if family == socket.AF_INET6 else source[0]
        r += b" (from %s:%d)" % (host.encode(), source[1])
    sys.stdout.buffer.write(r + b"\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
