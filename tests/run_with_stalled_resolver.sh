#!/bin/sh
# Usage: run_with_stalled_resolver.sh <program> [args...]
#
# Runs <program> in fresh user, network and mount namespaces (only loopback, brought up) whose
# /etc/resolv.conf names 127.0.0.1 as the DNS server, with NETLITE_TEST_STALLED_RESOLVER=1 set: the
# program binds 127.0.0.1:53 (UDP) and never reads it, so every query is taken and never answered.
# Never the machine's DNS. Exits 77 (CTest: skipped) when the namespaces cannot be made here.
set -u

if [ "$#" -lt 1 ]; then
    echo "usage: $0 <program> [args...]" >&2
    exit 2
fi
for tool in unshare ip mount; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "skipped: $tool is not installed"
        exit 77
    fi
done
if ! unshare -r -n -m true >/dev/null 2>&1; then
    echo "skipped: unshare -r -n -m not permitted (no unprivileged user namespaces)"
    exit 77
fi

conf=$(mktemp)
trap 'rm -f "$conf"' EXIT
printf 'nameserver 127.0.0.1\noptions timeout:5 attempts:2\n' >"$conf"
unshare -r -n -m sh -c '
    conf=$1; shift
    ip link set lo up || exit 77
    mount --bind "$conf" /etc/resolv.conf || exit 77
    NETLITE_TEST_STALLED_RESOLVER=1 exec "$@"
' sh "$conf" "$@"
