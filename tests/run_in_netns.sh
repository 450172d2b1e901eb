#!/bin/sh
# Usage: run_in_netns.sh <program> [args...]
#
# Runs <program> in a fresh, empty network namespace (only a downed loopback
# interface), so that no DNS server or other host is reachable. Exits 77, which
# CTest treats as "skipped" (SKIP_RETURN_CODE), when a network namespace cannot
# be created here (no CAP_SYS_ADMIN and no unprivileged user namespaces).
set -u

if [ "$#" -lt 1 ]; then
    echo "usage: $0 <program> [args...]" >&2
    exit 2
fi

if ! command -v unshare >/dev/null 2>&1; then
    echo "skipped: unshare -n not permitted (unshare not installed)"
    exit 77
fi

if unshare -n true >/dev/null 2>&1; then
    exec unshare -n -- "$@"
fi

# Not privileged: try a user namespace that maps us to root inside it.
if unshare -r -n true >/dev/null 2>&1; then
    exec unshare -r -n -- "$@"
fi

echo "skipped: unshare -n not permitted"
exit 77
