#!/bin/sh
# A g++ `-wrapper` for the mingw-w64 toolchain: runs the link with ld.lld instead of GNU ld.
#
#   g++ ... -wrapper /path/mingw-link-with-lld.sh,/usr/bin/ld.lld
#
# g++ runs each subprogram as `mingw-link-with-lld.sh LLD PROGRAM ARGS...`. Debian's mingw-w64 g++ has GNU
# ld's path built in and ignores -fuse-ld=lld, and GNU ld needs ~40 s for one Catch2 test executable (its
# PE back end is slow with tens of thousands of COMDAT sections); ld.lld links the same in well under a
# second. collect2's arguments are GNU ld's, which ld.lld's MinGW driver accepts (it detects the mode from
# `-m i386pep`), so the linker is swapped and everything else runs as g++ asked.
lld="$1"
shift
case "$1" in
    */collect2|collect2) shift; exec "$lld" "$@" ;;
    *) exec "$@" ;;
esac
