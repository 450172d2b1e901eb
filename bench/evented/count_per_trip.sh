#!/bin/sh
# Instructions (callgrind, user space) and system calls (strace -c -f) per round trip of one echo server:
#   count_per_trip.sh OUTDIR NAME TRIPS -- server command...
# Runs the server under each tool twice (0 and TRIPS round trips, 8 connections, 64 B) and prints the
# difference per round trip, so start-up and connection set-up drop out.
set -eu
out=$1 name=$2 trips=$3
shift 4
here=$(dirname "$0")
mkdir -p "$out"
for n in 0 "$trips"; do
    python3 "$here/roundtrips.py" --trips "$n" --conns 8 -- \
        valgrind --tool=callgrind --callgrind-out-file="$out/$name.$n.callgrind" "$@" >/dev/null 2>"$out/$name.$n.vg"
    python3 "$here/roundtrips.py" --trips "$n" --conns 8 -- \
        strace -f -c -o "$out/$name.$n.strace" "$@" >/dev/null 2>&1
done
ir() { grep '^summary:' "$1" | awk '{print $2}'; }
calls() { awk '$NF=="total"{print $(NF-2)}' "$1"; }
i0=$(ir "$out/$name.0.callgrind") i1=$(ir "$out/$name.$trips.callgrind")
s0=$(calls "$out/$name.0.strace") s1=$(calls "$out/$name.$trips.strace")
echo "$name: $(( (i1 - i0) / trips )) Ir/round trip ($i0 -> $i1), $(echo "scale=2; ($s1 - $s0) / $trips" | bc) syscalls/round trip ($s0 -> $s1)"
