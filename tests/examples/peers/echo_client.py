#!/usr/bin/env python3
"""The tutorial's TCP echo client, ported to Python 3.

Sends the message (--message, or standard input with --stdin) while reading the echo in parallel,
shuts down its sending side, reads until the server closes and writes the reply to stdout verbatim.
"""
import argparse
import socket
import sys
import threading


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="localhost")
    parser.add_argument("--port", type=int, default=8088)
    parser.add_argument("--unix")
    parser.add_argument("--message", default="GET / HTTP/1.1\r\n\r\n")
    parser.add_argument("--stdin", action="store_true", help="read the message from standard input")
    parser.add_argument("--timeout", type=float, default=30.0)
    args = parser.parse_args()
    message = sys.stdin.buffer.read() if args.stdin else args.message.encode()

    if args.unix:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(args.timeout)
        s.connect(args.unix)
    else:
        s = socket.create_connection((args.host, args.port), timeout=args.timeout)

    def send():
        s.sendall(message)
        s.shutdown(socket.SHUT_WR)

    sender = threading.Thread(target=send)
    sender.start()
    chunks = []
    while True:
        data = s.recv(65536)
        if not data:
            break
        chunks.append(data)
    sender.join()
    s.close()
    sys.stdout.buffer.write(b"".join(chunks))
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
