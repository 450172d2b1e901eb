# Cross-compiles netlite for 64-bit Windows with Debian's mingw-w64 (g++-mingw-w64-x86-64-posix: the
# posix thread model, which std::thread and std::jthread need) and runs the results under wine.
#
#   cmake -B build/mingw -G Ninja -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-mingw-w64.cmake
#
# Executables link libgcc, libstdc++ and winpthread statically, so wine finds every DLL it needs in
# its own system directory (no PATH or WINEPATH set-up).
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)

set(NETLITE_MINGW_TRIPLE x86_64-w64-mingw32)
set(CMAKE_C_COMPILER ${NETLITE_MINGW_TRIPLE}-gcc-posix)
set(CMAKE_CXX_COMPILER ${NETLITE_MINGW_TRIPLE}-g++-posix)
set(CMAKE_RC_COMPILER ${NETLITE_MINGW_TRIPLE}-windres)

# Look for libraries and headers in the target's sysroot only; programs (python3, sh) on the host.
set(CMAKE_FIND_ROOT_PATH /usr/${NETLITE_MINGW_TRIPLE})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

set(CMAKE_EXE_LINKER_FLAGS_INIT "-static")

# Link with ld.lld when it is installed (Debian: apt-get install lld): GNU ld takes ~40 s per test executable
# here, ld.lld under a second. g++ ignores -fuse-ld=lld for this target, so a -wrapper swaps the linker
# (cmake/mingw-link-with-lld.sh). -DNETLITE_MINGW_LLD=OFF keeps GNU ld.
find_program(NETLITE_MINGW_LLD_PROGRAM NAMES ld.lld ld.lld-16 ld.lld-14)
option(NETLITE_MINGW_LLD "Link the mingw-w64 executables with ld.lld (much faster than GNU ld)" ON)
if(NETLITE_MINGW_LLD AND NETLITE_MINGW_LLD_PROGRAM)
    string(APPEND CMAKE_EXE_LINKER_FLAGS_INIT
           " -wrapper ${CMAKE_CURRENT_LIST_DIR}/mingw-link-with-lld.sh,${NETLITE_MINGW_LLD_PROGRAM}")
endif()

# ctest and add_custom_command run the .exe files through wine (quiet, in its own prefix).
set(CMAKE_CROSSCOMPILING_EMULATOR "${CMAKE_CURRENT_LIST_DIR}/wine-run.sh")
