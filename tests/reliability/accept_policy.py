#!/usr/bin/env python3
"""Every accept path follows netlite's one published accept-error policy.

For each errno that policy names, and for one it does not (the control), the scenario's first accept(2)
fails with it (strace -e inject=accept4,accept:error=E:when=1) while a client's connection stays queued:

  * transient (is_transient_accept_error: ECONNABORTED, EPROTO, ENETDOWN, ENETUNREACH, EHOSTUNREACH,
    EPERM): incoming(), try_accept_batch() and the coroutine async_accept_next() all skip it and accept
    the queued connection;
  * out of resources (is_out_of_resources: EMFILE, ENFILE, ENOBUFS, ENOMEM): incoming() and
    async_accept_next() pause and accept the connection; try_accept_batch() returns the error (the event
    loop stops watching the listener);
  * anything else (EINVAL, the control): all end with it.

Exits 0 when every path agrees with the policy, 1 otherwise, 77 when strace cannot run here (with why).
usage: accept_policy.py --scenario PATH [--skip REASON]
"""

import errno
import subprocess
import sys

import driver_support
from driver_support import SKIP, TRACED_ENV

TRANSIENT = ["ECONNABORTED", "EPROTO", "ENETDOWN", "ENETUNREACH", "EHOSTUNREACH", "EPERM"]
RESOURCES = ["EMFILE", "ENFILE", "ENOBUFS", "ENOMEM"]
OTHER = ["EINVAL"]
PATHS = ("incoming", "batch", "async")
log = driver_support.logger("accept_policy")


def expected(path, name):
    if name in TRANSIENT or (name in RESOURCES and path in ("incoming", "async")):
        return "accepted"
    return f"error {getattr(errno, name)}"


def run(scenario, path, name):
    command = ["strace", "-f", "-qq", "-o", "/dev/null", "-e", f"inject=accept4,accept:error={name}:when=1",
               scenario, path]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=30, env=TRACED_ENV)
    except subprocess.TimeoutExpired:
        return "hang (30 s)"
    if done.returncode != 0:
        return f"exit {done.returncode}: {(done.stdout + done.stderr).strip()}"
    return done.stdout.strip()


def main():
    args = driver_support.scenario_arguments(driver_support.argument_parser(__doc__), log)
    if args is None:
        return SKIP
    failures = 0
    for name in TRANSIENT + RESOURCES + OTHER:
        for path in PATHS:
            want = expected(path, name)
            got = run(args.scenario, path, name)
            ok = got == want or got.startswith(want + " ")
            log(f"{name:12} {path:8} {'ok  ' if ok else 'FAIL'} {got}" + ("" if ok else f" (want {want})"))
            failures += not ok
    total = len(PATHS) * len(TRANSIENT + RESOURCES + OTHER)
    log(f"{total - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
