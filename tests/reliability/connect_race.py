#!/usr/bin/env python3
"""The blocking Happy Eyeballs race reports a winner it cannot hand back.

connect_race_scenario races TcpStream::connect_any to one loopback listener. A clean run, traced, shows
which fcntl(2) switches the winner back to blocking mode (the last F_SETFL without O_NONBLOCK); that call
is then made to fail (strace -e inject=fcntl:error=EIO:when=N). The race must end with that error, recorded
against the one address tried, and close the stream (the scenario counts its descriptors): before the fix
it closed the stream and reported no_addresses, an error that named no attempt.

Exits 0 when it does, 1 otherwise, 77 when strace cannot run here (with why).
usage: connect_race.py --scenario PATH [--skip REASON]
"""

import errno
import os
import subprocess
import sys
import tempfile

import driver_support
from driver_support import SKIP, TRACED_ENV

log = driver_support.logger("connect_race")


def restoring_call(scenario):
    """The 1-based position, among the scenario's fcntl calls, of the last one that clears O_NONBLOCK."""
    with tempfile.TemporaryDirectory() as tmp:
        trace = os.path.join(tmp, "trace")
        subprocess.run(["strace", "-qq", "-o", trace, "-e", "trace=fcntl", scenario],
                       capture_output=True, timeout=30, check=True, env=TRACED_ENV)
        with open(trace) as lines:
            calls = [line for line in lines if line.startswith("fcntl(")]
    positions = [i + 1 for i, call in enumerate(calls) if "F_SETFL" in call and "O_NONBLOCK" not in call]
    return positions[-1] if positions else None


def main():
    args = driver_support.scenario_arguments(driver_support.argument_parser(__doc__), log)
    if args is None:
        return SKIP
    clean = subprocess.run([args.scenario], capture_output=True, text=True, timeout=30)
    if clean.returncode != 0 or clean.stdout.strip() != "connected":
        log(f"FAIL clean run: exit {clean.returncode}: {clean.stdout.strip()}")
        return 1
    position = restoring_call(args.scenario)
    if position is None:
        log("FAIL the clean run never switched a socket back to blocking mode")
        return 1
    command = ["strace", "-qq", "-o", "/dev/null", "-e", f"inject=fcntl:error=EIO:when={position}",
               args.scenario]
    done = subprocess.run(command, capture_output=True, text=True, timeout=30, env=TRACED_ENV)
    got = done.stdout.strip()
    want = f"error {errno.EIO} attempts 1 {errno.EIO}"
    ok = done.returncode == 0 and got == want
    log(f"EIO at fcntl #{position}: {'ok' if ok else 'FAIL'}: exit {done.returncode}: {got}"
        + ("" if ok else f" (want exit 0: {want})"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
