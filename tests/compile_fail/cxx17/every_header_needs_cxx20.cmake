# SPDX-License-Identifier: BSL-1.0
# compile_fail.cxx17_needs_cxx20: every public header, included alone in a C++17 translation unit, must fail
# with netlite's own "netlite needs C++20" as its first error, not with pages about concepts deep inside the
# headers (issue 18). Run by CTest as
#   cmake -DCOMPILER=<c++> -DINCLUDE_DIR=<include> -DWORK_DIR=<dir> [-DEXTRA_FLAGS=<flags>] -P <this file>
# (EXTRA_FLAGS: the build's CMAKE_CXX_FLAGS, e.g. -stdlib=libc++, as one string.)
foreach(var COMPILER INCLUDE_DIR WORK_DIR)
    if(NOT DEFINED ${var})
        message(FATAL_ERROR "every_header_needs_cxx20.cmake: -D${var}=... is required")
    endif()
endforeach()

separate_arguments(extra_flags UNIX_COMMAND "${EXTRA_FLAGS}")
# Every header a user may include, in subdirectories too (netlite/coro/...); detail/ is netlite's own.
file(GLOB_RECURSE headers RELATIVE "${INCLUDE_DIR}" "${INCLUDE_DIR}/netlite/*.hpp")
list(FILTER headers EXCLUDE REGEX "^netlite/detail/")
# version.hpp is only macros, usable from any standard on purpose (a build script may test the version).
list(REMOVE_ITEM headers netlite/version.hpp)
file(MAKE_DIRECTORY "${WORK_DIR}")
set(failures 0)
foreach(header IN LISTS headers)
    string(MAKE_C_IDENTIFIER "${header}" header_id)
    set(source "${WORK_DIR}/${header_id}.cpp")
    file(WRITE "${source}" "#include <${header}>\n")
    # -Wfatal-errors: the first error is the one that counts, and stopping there keeps each header quick.
    execute_process(
        COMMAND "${COMPILER}" ${extra_flags} -std=c++17 -fsyntax-only -Wfatal-errors "-I${INCLUDE_DIR}" "${source}"
        RESULT_VARIABLE status
        OUTPUT_VARIABLE output
        ERROR_VARIABLE output)
    string(REGEX MATCH "error[^\n]*" first_error "${output}")
    if(status EQUAL 0)
        message(SEND_ERROR "${header}: compiled in C++17; expected the C++20 #error")
        math(EXPR failures "${failures} + 1")
    elseif(NOT first_error MATCHES "netlite needs C\\+\\+20")
        message(SEND_ERROR "${header}: the first error in C++17 is not netlite's C++20 message:\n"
            "  ${first_error}")
        math(EXPR failures "${failures} + 1")
    else()
        message(STATUS "${header}: ${first_error}")
    endif()
endforeach()
list(LENGTH headers count)
if(failures GREATER 0)
    message(FATAL_ERROR "${failures} of ${count} public headers do not say that netlite needs C++20")
endif()
message(STATUS "all ${count} public headers say that netlite needs C++20 when compiled as C++17")
