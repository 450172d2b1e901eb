#!/usr/bin/env python3
"""The tutorial's UDP echo server, ported to Python 3 (prints `listening on`, supports --port 0)."""
import argparse
import socket
import sys


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="")
    parser.add_argument("--port", type=int, default=10000)
    args = parser.parse_args()
    family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    s = socket.socket(family, socket.SOCK_DGRAM)
    s.bind((args.host, args.port))
    host, port = s.getsockname()[:2]
    print("listening on " + ("[%s]:%d" if family == socket.AF_INET6 else "%s:%d") % (host, port), flush=True)
    while True:
        data, addr = s.recvfrom(65536)
        print("Received from %s:%d" % addr[:2], flush=True)
        s.sendto(data, addr)


if __name__ == "__main__":
    sys.exit(main())
