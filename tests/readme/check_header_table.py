#!/usr/bin/env python3
"""The README's table of headers ("## The API") against include/netlite/, so that the table cannot drift.

The README says `<netlite/netlite.hpp>` includes every header of the table but those marked opt-in and the
`coro/` parts of `coro.hpp`. Checked here, following #include lines transitively:
  - every public header (include/netlite/**/*.hpp outside detail/, netlite.hpp aside) has a row, and every
    row a header;
  - a row without "opt-in" at the start of its description is a header netlite.hpp includes, unless it is
    a coro/ part, which coro.hpp must include instead;
  - a row marked opt-in is a header neither netlite.hpp nor (for a coro/ part) coro.hpp includes.
Exits 0 when the table is true, 1 with one line per mismatch otherwise.
usage: check_header_table.py --readme README.md --include include/
"""

import argparse
import os
import re
import sys

INCLUDE = re.compile(r"^\s*#\s*include\s*<netlite/([^>]+)>", re.MULTILINE)
ROW = re.compile(r"^\|\s*`([^`]+\.hpp)`\s*\|\s*(.*?)\s*\|\s*$")


def public_headers(root):
    """Every header under include/netlite/ but detail/ and the umbrella itself, as its path below netlite/."""
    found = set()
    for directory, subdirectories, files in os.walk(root):
        subdirectories[:] = [d for d in subdirectories if d != "detail"]
        for name in files:
            if name.endswith(".hpp") and not (directory == root and name == "netlite.hpp"):
                found.add(os.path.relpath(os.path.join(directory, name), root).replace(os.sep, "/"))
    return found


def included_by(root, header):
    """The netlite headers `header` includes, directly or through others (detail/ ones included)."""
    seen, pending = set(), [header]
    while pending:
        path = os.path.join(root, pending.pop())
        if not os.path.isfile(path):
            continue
        with open(path) as source:
            for name in INCLUDE.findall(source.read()):
                if name not in seen:
                    seen.add(name)
                    pending.append(name)
    return seen


def table(readme):
    """{header: description} of the rows between "## The API" and the next heading."""
    rows, inside = {}, False
    for line in readme.splitlines():
        if line.startswith("#"):
            inside = line.strip() == "## The API"
            continue
        match = ROW.match(line) if inside else None
        if match:
            rows[match.group(1)] = match.group(2)
    return rows


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--readme", required=True)
    parser.add_argument("--include", required=True)
    args = parser.parse_args()
    root = os.path.join(args.include, "netlite")
    with open(args.readme) as readme:
        rows = table(readme.read())
    headers = public_headers(root)
    umbrella, coro = included_by(root, "netlite.hpp"), included_by(root, "coro.hpp")
    problems = [f"{h}: a public header without a row in the README's table" for h in sorted(headers - set(rows))]
    problems += [f"{h}: a row for a header that does not exist" for h in sorted(set(rows) - headers)]
    for header in sorted(set(rows) & headers):
        opt_in = rows[header].startswith("opt-in")
        part = header.startswith("coro/")
        owner, included = ("coro.hpp", coro) if part else ("netlite.hpp", umbrella)
        if opt_in and header in included:
            problems.append(f"{header}: marked opt-in, but {owner} includes it")
        if not opt_in and header not in included:
            problems.append(f"{header}: not marked opt-in, but {owner} does not include it")
    for problem in problems:
        print(f"header table: FAIL {problem}")
    print(f"header table: {len(rows)} rows, {len(headers)} public headers, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
