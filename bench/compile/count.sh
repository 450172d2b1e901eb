#!/usr/bin/env bash
# bench/compile/count.sh - compile cost by instructions the compiler executes (callgrind over g++'s cc1plus
# and clang's -cc1, `-std=c++20 -fsyntax-only`): deterministic where wall time on a shared machine is not.
#
# usage: bench/compile/count.sh [FILE.cpp ...]     (default: the umbrella, coro.hpp, tls.hpp if present)
# For each FILE it prints millions of instructions for g++ 12 and clang++-16, and the ratio to the floor:
# a TU holding only the system and standard headers that the umbrella includes (found by preprocessing
# the umbrella with -H, so the floor follows the headers as they change). Needs valgrind (apt-get install
# valgrind). Takes about a minute per file and compiler.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
command -v valgrind >/dev/null || { echo "count.sh: valgrind is needed (apt-get install valgrind)" >&2; exit 1; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# The floor: every non-netlite header the umbrella includes directly or through netlite's headers, as a
# list of #include lines (system headers only, the first level below a netlite header).
g++ -std=c++20 -Iinclude -H -fsyntax-only -x c++ - <<<'#include <netlite/netlite.hpp>' 2>&1 >/dev/null |
    python3 -c '
import re, sys
stack = {}  # depth -> is a netlite header
seen = []
for line in sys.stdin:
    m = re.match(r"^(\.+) (\S+)$", line.rstrip("\n"))
    if not m:
        continue
    depth, path = len(m.group(1)), m.group(2)
    mine = "netlite/" in path and path.startswith("include/")
    stack[depth] = mine
    if not mine and stack.get(depth - 1, False):
        name = re.sub(r"^.*?/include/(c\+\+/\d+/|x86_64-linux-gnu/(c\+\+/\d+/)?)?", "", path)
        if name not in seen:
            seen.append(name)
print("".join(f"#include <{n}>\n" for n in seen), end="")
' >"$work/floor.cpp"

files=("$@")
if [[ ${#files[@]} -eq 0 ]]; then
    printf '#include <netlite/netlite.hpp>\n' >"$work/umbrella.cpp"
    printf '#include <netlite/netlite.hpp>\n#include <netlite/coro.hpp>\n' >"$work/coro.cpp"
    files=("$work/umbrella.cpp" "$work/coro.cpp")
    if [[ -f include/netlite/tls.hpp ]]; then
        printf '#include <netlite/netlite.hpp>\n#include <netlite/tls.hpp>\n' >"$work/tls.cpp"
        files+=("$work/tls.cpp")
    fi
fi

# count <compiler> <file>: millions of instructions of the compiler proper (not the driver).
count() {
    local compiler="$1" file="$2" out="$work/cg.out"
    rm -f "$out"*
    valgrind --tool=callgrind --trace-children=yes --callgrind-out-file="$out.%p" \
        "$compiler" -std=c++20 -Iinclude -fsyntax-only "$file" >/dev/null 2>&1
    # The driver and the compiler each write a file; the compiler is the larger.
    local most=0 n
    for f in "$out".*; do
        n="$(awk '/^summary:/ {print $2}' "$f")"
        [[ -n "$n" && "$n" -gt "$most" ]] && most="$n"
    done
    echo $((most / 1000000))
}

printf '%-28s %12s %8s %12s %8s\n' file "g++ (M)" ratio "clang (M)" ratio
gfloor="$(count g++ "$work/floor.cpp")"
cfloor="$(count clang++-16 "$work/floor.cpp")"
printf '%-28s %12s %8s %12s %8s\n' "floor ($(wc -l <"$work/floor.cpp") headers)" "$gfloor" 1.00 "$cfloor" 1.00
for file in "${files[@]}"; do
    g="$(count g++ "$file")"
    c="$(count clang++-16 "$file")"
    printf '%-28s %12s %8s %12s %8s\n' "$(basename "$file")" "$g" \
        "$(awk -v a="$g" -v b="$gfloor" 'BEGIN {printf "%.2f", a / b}')" "$c" \
        "$(awk -v a="$c" -v b="$cfloor" 'BEGIN {printf "%.2f", a / b}')"
done
