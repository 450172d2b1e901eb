#!/usr/bin/env python3
"""The tutorial's TCP echo servers, ported to Python 3: --mode once | loop | threaded.

Like the netlite examples, it prints `listening on ADDRESS` (with the real port when --port 0),
`Connected with PEER` per connection, and echoes every byte until the client's end of stream.
"""
import argparse
import socket
import sys
import threading


def fmt(family, addr):
    if family == socket.AF_UNIX:
        return addr if isinstance(addr, str) else addr.decode()
    if family == socket.AF_INET6:
        return "[%s]:%d" % (addr[0], addr[1])
    return "%s:%d" % (addr[0], addr[1])


def echo(conn):
    with conn:
        try:
            while True:
                data = conn.recv(65536)
                if not data:
                    return
                conn.sendall(data)
        except OSError:
            return  # the client went away: serve the next one


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", choices=["once", "loop", "threaded"], default="loop")
    parser.add_argument("--host", default="")
    parser.add_argument("--port", type=int, default=8088)
    parser.add_argument("--unix")
    args = parser.parse_args()

    if args.unix:
        family = socket.AF_UNIX
        s = socket.socket(family, socket.SOCK_STREAM)
        s.bind(args.unix)
    else:
        family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
        s = socket.socket(family, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((args.host, args.port))
    s.listen(128)
    print("listening on " + fmt(family, s.getsockname()), flush=True)
    while True:
        conn, addr = s.accept()
        print("Connected with " + fmt(family, addr), flush=True)
        if args.mode == "threaded":
            threading.Thread(target=echo, args=(conn,), daemon=True).start()
        else:
            echo(conn)
        if args.mode == "once":
            break
    s.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
