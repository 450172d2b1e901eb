#!/usr/bin/env python3
"""The README's C++ code blocks as tests, as Rust's doc tests are.

Every ```cpp block of README.md (and of each other Markdown file given, such as docs/*.md) is one of three
kinds, told by an HTML comment on the line before it:

  (no marker)                          a complete program (includes and main): compiled with
                                       g++ -std=c++20 -Wall -Wextra -Wpedantic -Werror against include/, and
                                       run, on loopback only; it must exit 0 within 30 s.
  <!-- compile-only: WHY -->           a complete program that is compiled but not run, because it needs
                                       the internet or serves until killed (WHY says which).
  <!-- fragment: of PATH -->           an excerpt of the program PATH (relative to the repository), which
                                       is compiled and run elsewhere: every code line of the block, less
                                       its trailing // comment and "// ..." elisions, must occur in PATH
                                       (whitespace, line breaks and netlite:: qualifiers aside), so the
                                       excerpt cannot drift from the program.
  <!-- fragment: in PATH -->           a sketch that names variables it does not declare: compiled (not
                                       run) in their context, the file PATH, in place of its line
                                       "// README snippet" (the sketch's #include lines go to the top).

A block without a marker and without main, or a marker before anything but a ```cpp block, fails.
Exits 0 when every block passes, 1 otherwise. PATHs are relative to the repository: --root, by default the
directory of the first file given.
usage: check_snippets.py --readme README.md [docs/*.md ...] --include include/ --compiler g++ --work DIR
                         [--root DIR] [--run-timeout 30]
"""

import argparse
import os
import re
import subprocess
import sys

MARKER = re.compile(r"^<!--\s*(compile-only|fragment)(?::\s*(.*?))?\s*-->\s*$")
FLAGS = ["-std=c++20", "-Wall", "-Wextra", "-Wpedantic", "-Werror", "-pthread"]


class Block:
    def __init__(self, line, kind, argument, code, document="README.md"):
        self.line, self.kind, self.argument, self.code = line, kind, argument, code
        self.document = document

    def name(self):
        return f"{self.document}:{self.line}"

    def stem(self):
        """A file name for this block's program, unique across documents."""
        return re.sub(r"[^A-Za-z0-9]+", "_", os.path.splitext(self.document)[0]).strip("_").lower() + f"_{self.line}"


def blocks(readme_lines, document="README.md"):
    """Every ```cpp block with the marker on the line before it (None when there is none)."""
    found, errors = [], []
    i = 0
    while i < len(readme_lines):
        line = readme_lines[i].rstrip("\n")
        marker = MARKER.match(line)
        if marker and not (i + 1 < len(readme_lines) and readme_lines[i + 1].startswith("```cpp")):
            errors.append(f"{document}:{i + 1}: a snippet marker not followed by a ```cpp block")
        if line.startswith("```cpp"):
            end = i + 1
            while end < len(readme_lines) and not readme_lines[end].startswith("```"):
                end += 1
            previous = MARKER.match(readme_lines[i - 1].rstrip("\n")) if i > 0 else None
            kind, argument = (previous.group(1), previous.group(2)) if previous else ("run", None)
            found.append(Block(i + 1, kind, argument, "".join(readme_lines[i + 1:end]), document))
            i = end
        i += 1
    return found, errors


def normalized(text):
    """Code with comments, elisions and line breaks gone, whitespace collapsed."""
    kept = []
    for line in text.splitlines():
        line = re.sub(r"(^|\s)//.*$", "", line).replace("netlite::", "").strip()
        if line:
            kept.append(line)
    return kept


def compile_program(block, args, run):
    source = os.path.join(args.work, f"{block.stem()}.cpp")
    binary = source[:-4]
    with open(source, "w") as out:
        out.write(block.code)
    command = [args.compiler, *FLAGS, "-I", args.include, source, "-o", binary]
    if not run:
        command[-2:] = ["-c", "-o", binary + ".o"]
    built = subprocess.run(command, capture_output=True, text=True)
    if built.returncode != 0:
        return f"does not compile:\n{built.stdout}{built.stderr}"
    if not run:
        return None
    try:
        done = subprocess.run([binary], capture_output=True, text=True, timeout=args.run_timeout,
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return f"ran longer than {args.run_timeout} s"
    if done.returncode != 0:
        return f"exited {done.returncode}:\n{done.stdout}{done.stderr}"
    return None


def compile_in_context(block, args, path):
    with open(path) as context:
        text = context.read()
    if "// README snippet" not in text:
        return f"{path} has no line '// README snippet'"
    lines = block.code.splitlines(keepends=True)
    includes = "".join(line for line in lines if line.startswith("#include"))
    body = "".join(line for line in lines if not line.startswith("#include"))
    return compile_program(Block(block.line, block.kind, None, includes + text.replace("// README snippet", body),
                                 block.document), args, run=False)


def check_fragment(block, args):
    kind, _, name = (block.argument or "").partition(" ")
    path = os.path.join(args.root, name.strip())
    if kind not in ("of", "in") or not os.path.isfile(path):
        return f"names no file of the repository: '{block.argument}'"
    if kind == "in":
        return compile_in_context(block, args, path)
    with open(path) as source:
        whole = " ".join(" ".join(line.split()) for line in normalized(source.read()))
    missing = [line for line in normalized(block.code) if " ".join(line.split()) not in whole]
    return f"lines not in {block.argument[3:]}:\n  " + "\n  ".join(missing) if missing else None


def check(block, args):
    has_main = re.search(r"^int main\(", block.code, re.MULTILINE) is not None
    if block.kind == "run":
        if not has_main:
            return "has no main: make it a complete program or mark it <!-- fragment: of PATH -->"
        return compile_program(block, args, run=True)
    if block.kind == "compile-only":
        if not block.argument:
            return "compile-only says not why (<!-- compile-only: needs the internet -->)"
        return compile_program(block, args, run=False)
    return check_fragment(block, args)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--readme", required=True, nargs="+", help="README.md, then any other Markdown files")
    parser.add_argument("--root", help="the repository (default: the first file's directory)")
    parser.add_argument("--include", required=True)
    parser.add_argument("--compiler", default="g++")
    parser.add_argument("--work", required=True)
    parser.add_argument("--run-timeout", type=float, default=30)
    args = parser.parse_args()
    args.root = os.path.abspath(args.root or os.path.dirname(os.path.abspath(args.readme[0])))
    os.makedirs(args.work, exist_ok=True)
    found, failures = [], []
    for path in args.readme:
        with open(path) as document:
            more, errors = blocks(document.readlines(), os.path.relpath(os.path.abspath(path), args.root))
        found += more
        failures += errors
    for message in failures:
        print(f"readme: FAIL {message}")
    for block in found:
        problem = check(block, args)
        what = {"run": "compiled and ran", "compile-only": "compiled", "fragment": "fragment"}[block.kind]
        if block.kind == "fragment":
            what = ("excerpt of " if block.argument.startswith("of ") else "compiled in ") + block.argument[3:]
        print(f"readme: {block.name():22} {'ok  ' if problem is None else 'FAIL'} {what}"
              + ("" if problem is None else f": {problem}"))
        failures += [block] if problem else []
    print(f"readme: {len(found)} blocks in {len(args.readme)} files, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
