#!/usr/bin/env python3
"""The standard headers netlite's own headers bring in, against a list of the costly ones.

Compiles a file holding `#include <netlite/netlite.hpp>` and `#include <netlite/coro.hpp>` with
`-H -fsyntax-only` and collects every standard header that a netlite header includes first (-H lists a header
where it is first included). None may be on the list below: each costs a translation unit tens to hundreds
of millions of compiler instructions (bench/compile/count.sh), and the umbrella and coro.hpp keep to lighter
ones (detail/chrono.hpp's <bits/chrono.h> rather than <chrono>, no <algorithm> for a std::min). Opt-in
headers that need them (tls.hpp: <map>, <mutex>, <memory>) are not in the file. libstdc++ only: the header
names are its own (libc++'s <chrono> is what detail/chrono.hpp includes there).

usage: include_budget.py --compiler g++ --include DIR [--std c++20] [--define NAME ...]
Exits 0 when no costly header is included, 1 otherwise (naming the header and who included it).
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

COSTLY = {
    "algorithm", "atomic", "chrono", "condition_variable", "deque", "format", "functional", "future",
    "iomanip", "iostream", "istream", "list", "locale", "map", "memory", "mutex", "ostream", "random",
    "regex", "set", "sstream", "thread", "unordered_map", "unordered_set",
}
TU = "#include <netlite/netlite.hpp>\n#include <netlite/coro.hpp>\n"


def first_includes(compiler, include_dir, std, defines):
    """[(parent, header)] for every header -H reports, the parent being the header that included it."""
    with tempfile.TemporaryDirectory(prefix="netlite-include-budget-") as work:
        source = os.path.join(work, "tu.cpp")
        with open(source, "w") as out:
            out.write(TU)
        command = [compiler, f"-std={std}", "-H", "-fsyntax-only", "-I", include_dir, source]
        command += [f"-D{name}" for name in defines]
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            sys.exit(f"include_budget: the compiler failed:\n{done.stderr[-2000:]}")
    pairs, stack = [], []
    for line in done.stderr.splitlines():
        match = re.match(r"^(\.+) (.*)$", line)
        if not match:
            continue
        depth, path = len(match.group(1)), match.group(2)
        del stack[depth - 1:]
        pairs.append((stack[-1] if stack else source, path))
        stack.append(path)
    return pairs


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--compiler", required=True)
    parser.add_argument("--include", required=True)
    parser.add_argument("--std", default="c++20")
    parser.add_argument("--define", action="append", default=[])
    args = parser.parse_args()
    pairs = first_includes(args.compiler, os.path.abspath(args.include), args.std, args.define)
    own = os.path.join(os.path.abspath(args.include), "netlite") + os.sep
    standard = [(parent, os.path.basename(path)) for parent, path in pairs
                if os.path.abspath(parent).startswith(own) and not os.path.abspath(path).startswith(own)]
    costly = [(parent, header) for parent, header in standard if header in COSTLY]
    print(f"include_budget: {len(pairs)} headers in all; netlite's headers include these first: "
          + ", ".join(sorted({header for _, header in standard})))
    for parent, header in costly:
        print(f"include_budget: <{header}> is included by {os.path.relpath(parent, args.include)}: "
              "a costly header in the umbrella or coro.hpp (see bench/compile/count.sh)")
    return 1 if costly else 0


if __name__ == "__main__":
    sys.exit(main())
