"""What the reliability drivers (the *.py beside this file, which CTest runs by path: Python finds this module
in the script's own directory) share: their skip status, their command line's --skip, whether strace can
inject faults here, the environment for traced sanitized programs, and starting and stopping an example
server."""

import argparse
import os
import shutil
import subprocess

SKIP = 77  # the tests' SKIP_RETURN_CODE: CTest reports the test as skipped

# LeakSanitizer cannot run under ptrace (strace): it stops the process with "does not work under ptrace".
# What a traced scenario checks is its outcome (some count their own descriptors); fd_leak and the sanitizer
# runs of the unit tests cover leaks.
TRACED_ENV = dict(os.environ, ASAN_OPTIONS=os.environ.get("ASAN_OPTIONS", "") + ":detect_leaks=0")


def logger(name):
    """A print() for driver `name`: each line starts `name:` and is flushed at once (CTest shows the lines
    of a test that hangs up to where it hung)."""
    return lambda *parts: print(f"{name}:", *parts, flush=True)


def argument_parser(description):
    """An ArgumentParser whose --help shows `description` (the driver's docstring) as written, with
    --skip REASON, which CMake passes where the build cannot run the test (the driver then exits SKIP)."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--skip", default="", help="skip with this reason (the build cannot run this test)")
    return parser


def scenario_arguments(parser, log):
    """The command line of a driver that runs a scenario program under strace: `parser`'s arguments and
    --scenario PATH (required). None, with the reason in `log`, when the test skips: --skip REASON was given
    or strace cannot inject faults here (then the driver exits SKIP)."""
    parser.add_argument("--scenario", required=True, help="the scenario program (run under strace)")
    args = parser.parse_args()
    skip = args.skip or strace_missing()
    if skip:
        log(f"skipped: {skip}")
        return None
    return args


def strace_missing():
    """Why strace cannot inject faults here (not installed, or not allowed to trace), or "" when it can."""
    if shutil.which("strace") is None:
        return "strace is not installed (Debian package strace)"
    probe = subprocess.run(["strace", "-f", "-qq", "-o", "/dev/null", "-e", "inject=getpid:error=EINTR:when=1",
                            "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        return f"strace cannot trace here (ptrace not permitted?): {probe.stderr.strip()}"
    return ""


def start_server(argv, preexec_fn):
    """Starts an example server (argv: its path and flags, with --port 0) with stdout and stderr as text pipes,
    `preexec_fn` run in the child first (it sets descriptor limits). Returns the Popen; read its port with
    listening_port() and end it with stop() (in a finally, so that no server outlives the driver)."""
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=preexec_fn)


def listening_port(server, log):
    """The port of the server's first line, `listening on IP:PORT`; None, said to `log` with what the server
    printed, when it printed something else (it did not start)."""
    first = server.stdout.readline()
    if not first.startswith("listening on "):
        log("server did not start:", first, server.stderr.read())
        return None
    return int(first.rsplit(":", 1)[1])


def stop(server):
    """Ends `server` if it still runs (SIGTERM, then SIGKILL after 10 s) and reaps it."""
    if server.poll() is None:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
