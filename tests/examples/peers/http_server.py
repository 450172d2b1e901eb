#!/usr/bin/env python3
"""A tiny HTTP/1.1 server (the standard library's http.server) for testing http_get.

Binds --host/--port (port 0: the OS picks), prints `listening on HOST:PORT`, and serves the files of
--directory.
"""
import argparse
import functools
import http.server
import socket
import sys


class Handler(http.server.SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):
        pass


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--directory", required=True)
    args = parser.parse_args()
    if ":" in args.host:
        Server.address_family = socket.AF_INET6
    handler = functools.partial(Handler, directory=args.directory)
    with Server((args.host, args.port), handler) as server:
        host, port = server.server_address[:2]
        print("listening on " + ("[%s]:%d" if ":" in host else "%s:%d") % (host, port), flush=True)
        server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
