# Script-mode (cmake -P) driver for the package_* CTests.
#
# Required -D variables:
#   NETLITE_MODE                 "install" or "build-tree"
#   NETLITE_BUILD_DIR            netlite build tree
#   NETLITE_CONSUMER_SOURCE_DIR  tests/package_consumer
#   NETLITE_WORK_DIR             scratch directory (wiped before and after)
# Optional: NETLITE_CONFIG, NETLITE_INSTALL_DATADIR, NETLITE_INSTALL_INCLUDEDIR (relative),
#   NETLITE_GENERATOR, NETLITE_MAKE_PROGRAM,
#   NETLITE_CXX_COMPILER, NETLITE_CXX_FLAGS, NETLITE_EXE_LINKER_FLAGS,
#   NETLITE_CXX_STANDARD (all forwarded so the consumer is built like netlite).
# Set the environment variable NETLITE_KEEP_PACKAGE_TEST_DIR=1 to keep the
# scratch directory for debugging.
cmake_minimum_required(VERSION 3.21)

foreach(var NETLITE_MODE NETLITE_BUILD_DIR NETLITE_CONSUMER_SOURCE_DIR NETLITE_WORK_DIR)
    if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
        message(FATAL_ERROR "netlite-package-test: ${var} is not set")
    endif()
endforeach()
if(NOT NETLITE_MODE MATCHES "^(install|build-tree)$")
    message(FATAL_ERROR "netlite-package-test: unknown NETLITE_MODE '${NETLITE_MODE}'")
endif()
if(NOT NETLITE_CONFIG)
    set(NETLITE_CONFIG Debug)
endif()
if(NOT NETLITE_INSTALL_DATADIR)
    set(NETLITE_INSTALL_DATADIR share)
endif()
if(NOT NETLITE_INSTALL_INCLUDEDIR)
    set(NETLITE_INSTALL_INCLUDEDIR include)
endif()

set(prefix "${NETLITE_WORK_DIR}/prefix")
set(consumer_build "${NETLITE_WORK_DIR}/consumer-build")

function(cleanup)
    if("$ENV{NETLITE_KEEP_PACKAGE_TEST_DIR}" STREQUAL "")
        file(REMOVE_RECURSE "${NETLITE_WORK_DIR}")
    else()
        message(STATUS "keeping ${NETLITE_WORK_DIR}")
    endif()
endfunction()

function(fail msg)
    cleanup()
    message(FATAL_ERROR "${msg}")
endfunction()

# run(<description> <command...>): run a command, echo it, fail on non-zero exit.
function(run description)
    string(REPLACE ";" " " printable "${ARGN}")
    message(STATUS "${description}: ${printable}")
    execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc)
    if(NOT rc EQUAL 0)
        fail("${description} failed (exit status: ${rc})")
    endif()
endfunction()

file(REMOVE_RECURSE "${NETLITE_WORK_DIR}")
file(MAKE_DIRECTORY "${NETLITE_WORK_DIR}")

# --- Where should find_package(netlite) look? --------------------------------
set(consumer_args
    -S "${NETLITE_CONSUMER_SOURCE_DIR}"
    -B "${consumer_build}"
    "-DCMAKE_BUILD_TYPE=${NETLITE_CONFIG}"
    -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF
    -DCMAKE_FIND_USE_SYSTEM_PACKAGE_REGISTRY=OFF)

if(NETLITE_MODE STREQUAL "install")
    run("install netlite" "${CMAKE_COMMAND}" --install "${NETLITE_BUILD_DIR}"
        --prefix "${prefix}" --config "${NETLITE_CONFIG}")

    # The pkg-config file must be installed and usable.
    set(pc_file "${prefix}/${NETLITE_INSTALL_DATADIR}/pkgconfig/netlite.pc")
    if(NOT EXISTS "${pc_file}")
        fail("pkg-config file not installed: ${pc_file}")
    endif()
    find_program(PKG_CONFIG_EXECUTABLE NAMES pkg-config pkgconf)
    if(PKG_CONFIG_EXECUTABLE)
        set(ENV{PKG_CONFIG_PATH} "${prefix}/${NETLITE_INSTALL_DATADIR}/pkgconfig")
        set(ENV{PKG_CONFIG_LIBDIR} "${prefix}/${NETLITE_INSTALL_DATADIR}/pkgconfig")
        execute_process(COMMAND "${PKG_CONFIG_EXECUTABLE}" --cflags netlite
            RESULT_VARIABLE rc OUTPUT_VARIABLE pc_cflags OUTPUT_STRIP_TRAILING_WHITESPACE)
        if(NOT rc EQUAL 0)
            fail("pkg-config --cflags netlite failed (exit status: ${rc})")
        endif()
        # ${pcfiledir}-relative paths are not normalised by every pkg-config
        # implementation, so compare real paths.
        string(REGEX MATCH "-I[^ ]+" pc_include "${pc_cflags}")
        string(REGEX REPLACE "^-I" "" pc_include "${pc_include}")
        set(pc_include_real "")
        if(pc_include AND IS_DIRECTORY "${pc_include}")
            file(REAL_PATH "${pc_include}" pc_include_real)
        endif()
        file(REAL_PATH "${prefix}/${NETLITE_INSTALL_INCLUDEDIR}" want_include_real)
        if(NOT pc_include_real STREQUAL want_include_real)
            fail("pkg-config --cflags netlite gave '${pc_cflags}', expected -I${prefix}/${NETLITE_INSTALL_INCLUDEDIR}")
        endif()
        message(STATUS "pkg-config --cflags netlite: ${pc_cflags}")
    else()
        message(STATUS "pkg-config not found; only checked that ${pc_file} exists")
    endif()
    if(NOT EXISTS "${prefix}/${NETLITE_INSTALL_INCLUDEDIR}/netlite/netlite.hpp")
        fail("headers not installed under ${prefix}/${NETLITE_INSTALL_INCLUDEDIR}/netlite")
    endif()

    list(APPEND consumer_args "-DCMAKE_PREFIX_PATH=${prefix}")
    set(expected_dir "${prefix}")
else()
    list(APPEND consumer_args "-Dnetlite_DIR=${NETLITE_BUILD_DIR}")
    set(expected_dir "${NETLITE_BUILD_DIR}")
endif()

# --- Configure, build and run the consumer with netlite's toolchain ----------
if(NETLITE_GENERATOR)
    list(APPEND consumer_args -G "${NETLITE_GENERATOR}")
endif()
if(NETLITE_MAKE_PROGRAM)
    list(APPEND consumer_args "-DCMAKE_MAKE_PROGRAM=${NETLITE_MAKE_PROGRAM}")
endif()
if(NETLITE_CXX_COMPILER)
    list(APPEND consumer_args "-DCMAKE_CXX_COMPILER=${NETLITE_CXX_COMPILER}")
endif()
if(NETLITE_CXX_STANDARD)
    list(APPEND consumer_args "-DCMAKE_CXX_STANDARD=${NETLITE_CXX_STANDARD}")
endif()
list(APPEND consumer_args
    "-DCMAKE_CXX_FLAGS=${NETLITE_CXX_FLAGS}"
    "-DCMAKE_EXE_LINKER_FLAGS=${NETLITE_EXE_LINKER_FLAGS}")

run("configure consumer" "${CMAKE_COMMAND}" ${consumer_args})

# Make sure the package really came from where we meant it to.
file(STRINGS "${consumer_build}/CMakeCache.txt" found_dir REGEX "^netlite_DIR:")
string(REGEX REPLACE "^netlite_DIR:[A-Z]+=" "" found_dir "${found_dir}")
file(REAL_PATH "${found_dir}" found_dir_real)
file(REAL_PATH "${expected_dir}" expected_dir_real)
string(FIND "${found_dir_real}/" "${expected_dir_real}/" pos)
if(NOT pos EQUAL 0)
    fail("netlite was found in '${found_dir}', expected it under '${expected_dir}'")
endif()
message(STATUS "netlite package found in ${found_dir}")

run("build consumer" "${CMAKE_COMMAND}" --build "${consumer_build}" --config "${NETLITE_CONFIG}")

set(app "${consumer_build}/app")
if(NOT EXISTS "${app}" AND EXISTS "${consumer_build}/${NETLITE_CONFIG}/app")
    set(app "${consumer_build}/${NETLITE_CONFIG}/app")
endif()
run("run consumer" "${app}")

cleanup()
message(STATUS "package test (${NETLITE_MODE}) passed")
