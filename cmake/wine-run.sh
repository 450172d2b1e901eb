#!/bin/sh
# Runs a Windows program under wine64 for ctest (CMAKE_CROSSCOMPILING_EMULATOR of the mingw toolchain).
# WINEDEBUG=-all keeps wine's own diagnostics out of the program's output; WINEPREFIX defaults to one
# prefix per user outside the source tree (wine creates it on first use, which takes a few seconds).
: "${WINEDEBUG:=-all}"
: "${WINEPREFIX:=${HOME:-/tmp}/.wine-netlite}"
export WINEDEBUG WINEPREFIX
for wine in /usr/lib/wine/wine64 wine64 wine; do
    if command -v "$wine" >/dev/null 2>&1; then exec "$wine" "$@"; fi
done
echo "wine-run.sh: wine64 is not installed (apt-get install wine64)" >&2
exit 127
