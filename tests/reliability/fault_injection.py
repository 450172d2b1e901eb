#!/usr/bin/env python3
"""System-call fault injection: run fault_scenario under strace, making each system call netlite makes
fail at its 1st, 2nd, ... Nth call (bounded) with EINTR, ENOBUFS, ENOMEM and EMFILE, and require that

  * every run ends by itself within its deadline (nothing hangs) and is not killed by a signal;
  * every public call succeeded truly or failed with a specific error (the scenario checks what each
    success claims from the other end: exit 2 otherwise, 3 for an error without code or message);
  * descriptors are back to their starting count (exit 4), timeouts and stops keep their bounds (exit 5);
  * EINTR injected into a call that can block (connect, accept4, send/recv, poll) never reaches the
    caller: the run must succeed as if nothing happened (exit 6 otherwise), also with EINTR at every
    third call.

close(2) is left out: a close that "fails" by injection never ran, so the descriptor really stays open.
Exits 0 on success, 1 on a broken guarantee, 77 when strace cannot run here (with the reason).

usage: fault_injection.py --scenario PATH [--max-position 3] [--timeout 30] [--jobs 2]
"""

import collections
import concurrent.futures
import os
import re
import subprocess
import sys
import tempfile

import driver_support
from driver_support import SKIP

BLOCKING = ["connect", "accept4", "sendto", "recvfrom", "sendmsg", "recvmsg", "poll", "ppoll"]
SETUP = ["socket", "bind", "listen", "getsockname", "getpeername", "setsockopt", "getsockopt", "fcntl", "pipe",
         "shutdown", "eventfd2", "pipe2", "socketpair"]
ERRORS = ["EINTR", "ENOBUFS", "ENOMEM", "EMFILE"]
EXIT_MEANING = {0: "ok", 10: "a specific error", 2: "a false success or lost data", 3: "an empty error",
                4: "a descriptor leak", 5: "a broken timeout or stop bound", 6: "EINTR reached the caller"}

log = driver_support.logger("fault_injection")


def run(scenario, strace_args, timeout, strict=False):
    """(exit status or 'hang', output) of the scenario under strace with `strace_args`."""
    env = dict(os.environ, FAULT_STRICT="1" if strict else "0")
    command = ["strace", "-f", "-qq", "-o", "/dev/null", *strace_args, scenario]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return "hang", ""
    return done.returncode, (done.stdout + done.stderr).strip()


def call_counts(scenario, timeout):
    """How often the scenario makes each system call of interest, from one traced clean run."""
    with tempfile.TemporaryDirectory() as tmp:
        trace = os.path.join(tmp, "trace")
        names = ",".join(BLOCKING + SETUP)
        subprocess.run(["strace", "-f", "-qq", "-o", trace, "-e", f"trace={names}", scenario],
                       capture_output=True, timeout=timeout, check=False)
        counts = collections.Counter()
        with open(trace) as lines:
            for line in lines:
                match = re.match(r"^(?:\d+\s+)?(\w+)\(", line)
                if match:
                    counts[match.group(1)] += 1
        return counts


def main():
    parser = driver_support.argument_parser(__doc__)
    parser.add_argument("--max-position", type=int, default=3, help="inject at calls 1..N of each system call")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds one run may take")
    parser.add_argument("--jobs", type=int, default=2)
    args = driver_support.scenario_arguments(parser, log)
    if args is None:
        return SKIP

    clean, output = run(args.scenario, [], args.timeout)
    if clean != 0:
        log(f"FAILED: the scenario fails without any fault (status {clean}): {output}")
        return 1
    counts = call_counts(args.scenario, args.timeout)
    log("system calls in a clean run:", ", ".join(f"{name} x{count}" for name, count in sorted(counts.items())))

    cases = []
    for name, count in sorted(counts.items()):
        for error in ERRORS:
            strict = error == "EINTR" and name in BLOCKING
            for position in range(1, min(count, args.max_position) + 1):
                cases.append((name, error, str(position), strict))
            if strict and count > 1:
                cases.append((name, error, "2+3", strict))  # the 2nd, 5th, 8th, ... call

    def one(case):
        name, error, when, strict = case
        status, output = run(args.scenario, ["-e", f"trace={name}", "-e", f"inject={name}:error={error}:when={when}"],
                             args.timeout, strict)
        return case, status, output

    outcomes = collections.Counter()
    failures = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        for (name, error, when, strict), status, output in pool.map(one, cases):
            allowed = {0} if strict else {0, 10}
            outcomes[EXIT_MEANING.get(status, f"status {status}")] += 1
            if status not in allowed:
                meaning = "hung" if status == "hang" else EXIT_MEANING.get(
                    status, f"died with status {status} (negative: a signal)")
                failures.append(f"{name} failing with {error} at call {when}: {meaning}: {output[-300:]}")

    log(f"{len(cases)} injected runs over {len(counts)} system calls:",
        ", ".join(f"{count} {meaning}" for meaning, count in sorted(outcomes.items())))
    for failure in failures:
        log("FAILED:", failure)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
