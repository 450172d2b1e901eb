#!/usr/bin/env bash
# Runs the examples' end-to-end tests (tests/examples/run_case.py) with every example program under
# valgrind memcheck: a directory of wrappers named like the programs, each exec'ing
#   valgrind --tool=memcheck --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=99
# on the real binary, with one log per process. Afterwards every log is checked for memcheck errors and
# definite leaks. Run it once against a normal (non-sanitizer) build:
#
#   tests/reliability/valgrind_examples.sh build/examples [CASE...]   (default: every case)
#
# Prints one line per case (passed / skipped / FAILED) and a memcheck summary; exit status 0 when every
# case passed or was skipped and memcheck found nothing. Expect it to take several minutes: programs run
# 20-50 times slower under valgrind, so the cases that time a big transfer may need their timeouts.
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
driver="$here/../examples/run_case.py"
bin_dir="${1:?usage: valgrind_examples.sh EXAMPLES_BIN_DIR [CASE...]}"
bin_dir="$(cd "$bin_dir" && pwd)"
shift
command -v valgrind >/dev/null 2>&1 || { echo "valgrind_examples: valgrind not installed" >&2; exit 77; }

work="$(mktemp -d "${TMPDIR:-/tmp}/netlite-valgrind-XXXXXX")"
mkdir -p "$work/bin" "$work/logs"
for program in "$bin_dir"/*; do
    [[ -f "$program" && -x "$program" ]] || continue
    name="$(basename "$program")"
    cat >"$work/bin/$name" <<WRAPPER
#!/bin/sh
exec valgrind --tool=memcheck --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=99 \\
    --log-file="$work/logs/$name.%p.log" "$program" "\$@"
WRAPPER
    chmod +x "$work/bin/$name"
done

if [[ $# -gt 0 ]]; then
    cases=("$@")
else
    mapfile -t cases < <(python3 "$driver" list)
fi

passed=0 skipped=0 failed=0 failed_cases=()
for case_name in "${cases[@]}"; do
    [[ "$case_name" == "unresolvable" ]] && { echo "skipped  $case_name (needs a network namespace)"; ((skipped++)); continue; }
    start=$SECONDS
    python3 "$driver" "$case_name" --bin-dir "$work/bin" >"$work/logs/case.$case_name.out" 2>&1
    rc=$?
    if [[ $rc -eq 0 ]]; then
        echo "passed   $case_name ($((SECONDS - start))s)"; ((passed++))
    elif [[ $rc -eq 77 ]]; then
        echo "skipped  $case_name"; ((skipped++))
    else
        echo "FAILED   $case_name (exit $rc, $((SECONDS - start))s): $(tail -n 1 "$work/logs/case.$case_name.out")"
        ((failed++)); failed_cases+=("$case_name")
    fi
done

processes=$(find "$work/logs" -name '*.log' | wc -l)
bad_logs=$(grep -L 'ERROR SUMMARY: 0 errors' "$work/logs"/*.log 2>/dev/null | wc -l)
definite=$(grep -l 'definitely lost: [1-9]' "$work/logs"/*.log 2>/dev/null | wc -l)
echo
echo "cases: $passed passed, $skipped skipped, $failed failed${failed_cases:+ (${failed_cases[*]})}"
echo "memcheck: $processes program runs checked; $bad_logs with errors (or killed before the summary);" \
     "$definite with definite leaks; logs in $work/logs"
if [[ $bad_logs -gt 0 ]]; then
    grep -L 'ERROR SUMMARY: 0 errors' "$work/logs"/*.log | head -n 5 | while read -r log; do
        echo "--- $log"; grep -E 'ERROR SUMMARY|Invalid|uninitialised|definitely lost|Process terminating' "$log" | head -n 5
    done
fi
[[ $failed -eq 0 && $bad_logs -eq 0 && $definite -eq 0 ]]
