# Script-mode (cmake -P) driver for the package_* CTests.
#
# Modes (NETLITE_MODE):
#   install         `cmake --install` NETLITE_BUILD_DIR to a temporary prefix, consume it with find_package
#   build-tree      consume NETLITE_BUILD_DIR itself with find_package (netlite_DIR)
#   source-install  the README's recipe verbatim on NETLITE_SOURCE_DIR where neither Catch2 nor OpenSSL
#                   can be found (tests and TLS must turn themselves off, each saying so once,
#                   -DNETLITE_BUILD_TESTS=ON must fail clearly), then consume the installed prefix (asked
#                   for, the tls component is not found, and says why)
#   deb             `cpack -G DEB` from NETLITE_SOURCE_DIR, check its name and contents, unpack it with
#                   dpkg-deb -x into a temporary root, consume that root, run lintian (no errors)
#   fetchcontent    commit NETLITE_SOURCE_DIR's files to a scratch git repository, build
#                   NETLITE_CONSUMER_SOURCE_DIR (tests/fetchcontent_consumer) fetching it from file://
#
# Required -D variables:
#   NETLITE_MODE                 one of the above
#   NETLITE_BUILD_DIR            netlite build tree (install, build-tree)
#   NETLITE_SOURCE_DIR           netlite source tree (source-install, deb, fetchcontent)
#   NETLITE_CONSUMER_SOURCE_DIR  tests/package_consumer (tests/fetchcontent_consumer for fetchcontent)
#   NETLITE_WORK_DIR             scratch directory (wiped before and after)
# Optional: NETLITE_TLS_CONSUMER_SOURCE_DIR (tests/package_consumer_tls: also build the TLS component's
#   consumer with find_package(netlite COMPONENTS tls) and, from an install, pkg-config netlite-tls; given
#   only where netlite's own configure found OpenSSL 3), NETLITE_CONFIG, NETLITE_INSTALL_DATADIR, NETLITE_INSTALL_INCLUDEDIR (relative),
#   NETLITE_GENERATOR, NETLITE_MAKE_PROGRAM,
#   NETLITE_CXX_COMPILER, NETLITE_CXX_FLAGS, NETLITE_EXE_LINKER_FLAGS,
#   NETLITE_CXX_STANDARD (all forwarded so the consumer is built like netlite).
# Set the environment variable NETLITE_KEEP_PACKAGE_TEST_DIR=1 to keep the
# scratch directory for debugging.
cmake_minimum_required(VERSION 3.21)

if(NOT NETLITE_MODE MATCHES "^(install|build-tree|source-install|deb|fetchcontent)$")
    message(FATAL_ERROR "netlite-package-test: unknown NETLITE_MODE '${NETLITE_MODE}'")
endif()
set(required NETLITE_CONSUMER_SOURCE_DIR NETLITE_WORK_DIR)
if(NETLITE_MODE MATCHES "^(install|build-tree)$")
    list(APPEND required NETLITE_BUILD_DIR)
else()
    list(APPEND required NETLITE_SOURCE_DIR)
endif()
foreach(var IN LISTS required)
    if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
        message(FATAL_ERROR "netlite-package-test: ${var} is not set")
    endif()
endforeach()
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
# The core's consumer is configured where OpenSSL cannot be found: the core needs nothing but a compiler.
set(consumer_args
    -S "${NETLITE_CONSUMER_SOURCE_DIR}"
    -B "${consumer_build}"
    -DCMAKE_DISABLE_FIND_PACKAGE_OpenSSL=ON)
# What every consumer (the core's, the TLS component's) is configured with besides its -S/-B.
set(consumer_common_args
    "-DCMAKE_BUILD_TYPE=${NETLITE_CONFIG}"
    -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF
    -DCMAKE_FIND_USE_SYSTEM_PACKAGE_REGISTRY=OFF)
set(tls_absent FALSE)  # the install was made without OpenSSL: the tls component must not be found

# run_expect_failure(<description> <regex> <command...>): the command must fail, saying <regex>.
function(run_expect_failure description regex)
    string(REPLACE ";" " " printable "${ARGN}")
    message(STATUS "${description}: ${printable}")
    execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
    if(rc EQUAL 0)
        fail("${description}: succeeded, but it must fail:\n${out}")
    endif()
    if(NOT out MATCHES "${regex}")
        fail("${description}: failed without saying '${regex}':\n${out}")
    endif()
endfunction()

# built_program(<variable> <build dir> <name>): the program <name> built in <build dir>, or in its
# <config> subdirectory, where a multi-config generator puts it.
function(built_program variable build_dir name)
    set(program "${build_dir}/${name}")
    if(NOT EXISTS "${program}" AND EXISTS "${build_dir}/${NETLITE_CONFIG}/${name}")
        set(program "${build_dir}/${NETLITE_CONFIG}/${name}")
    endif()
    set(${variable} "${program}" PARENT_SCOPE)
endfunction()

# deb_field(<variable> <package> <field>): the control field <field> (Architecture, Recommends, ...) of the
# .deb file <package>.
function(deb_field variable package field)
    execute_process(COMMAND dpkg-deb --field "${package}" ${field} OUTPUT_VARIABLE value
        OUTPUT_STRIP_TRAILING_WHITESPACE)
    set(${variable} "${value}" PARENT_SCOPE)
endfunction()

set(netlite_build "${NETLITE_WORK_DIR}/netlite-build")

if(NETLITE_MODE STREQUAL "source-install")
    # The README's recipe, word for word, where find_package(Catch2) and find_package(OpenSSL) find nothing:
    # installing the core needs nothing but a compiler and CMake.
    set(recipe_configure "${CMAKE_COMMAND}" -S "${NETLITE_SOURCE_DIR}" -B "${netlite_build}"
        -DCMAKE_DISABLE_FIND_PACKAGE_Catch2=ON -DCMAKE_DISABLE_FIND_PACKAGE_OpenSSL=ON)
    message(STATUS "configure netlite without Catch2 and OpenSSL: ${recipe_configure}")
    execute_process(COMMAND ${recipe_configure} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
    message("${out}")
    if(NOT rc EQUAL 0)
        fail("configuring netlite without Catch2 failed (exit status: ${rc})")
    endif()
    string(REPLACE ";" "," out "${out}")  # a CMake list separator: keep each match one element
    string(REGEX MATCHALL "tests are off: Catch2 was not found[^\n]*apt-get install catch2[^\n]*-DNETLITE_BUILD_TESTS=ON"
        said "${out}")
    list(LENGTH said said_count)
    if(NOT said_count EQUAL 1)
        fail("configure without Catch2 must say once that tests are off, naming catch2 and -DNETLITE_BUILD_TESTS=ON")
    endif()
    if(EXISTS "${netlite_build}/tests")
        fail("configure without Catch2 still set up the tests (${netlite_build}/tests exists)")
    endif()
    string(REGEX MATCHALL "TLS is off[^\n]*OpenSSL 3 was not found[^\n]*apt-get install libssl-dev" said "${out}")
    list(LENGTH said said_count)
    if(NOT said_count EQUAL 1)
        fail("configure without OpenSSL must say once that TLS is off, naming libssl-dev")
    endif()
    set(tls_absent TRUE)
    run("install netlite (README recipe)" "${CMAKE_COMMAND}" --install "${netlite_build}" --prefix "${prefix}")
    # Asked for explicitly, the tests need Catch2 and say so.
    run_expect_failure("configure with -DNETLITE_BUILD_TESTS=ON without Catch2"
        "NETLITE_BUILD_TESTS is ON but Catch2.*apt-get install catch2"
        "${CMAKE_COMMAND}" -S "${NETLITE_SOURCE_DIR}" -B "${NETLITE_WORK_DIR}/netlite-build-tests-on"
        -DCMAKE_DISABLE_FIND_PACKAGE_Catch2=ON -DNETLITE_BUILD_TESTS=ON)
    set(NETLITE_MODE install)
    set(netlite_installed TRUE)
elseif(NETLITE_MODE STREQUAL "deb")
    set(deb_configure "${CMAKE_COMMAND}" -S "${NETLITE_SOURCE_DIR}" -B "${netlite_build}"
        -DNETLITE_BUILD_TESTS=OFF -DNETLITE_BUILD_EXAMPLES=OFF -DNETLITE_BUILD_BENCHMARKS=OFF)
    if(NETLITE_GENERATOR)
        list(APPEND deb_configure -G "${NETLITE_GENERATOR}")
    endif()
    run("configure netlite" ${deb_configure})
    get_filename_component(cmake_bin_dir "${CMAKE_COMMAND}" DIRECTORY)
    find_program(NETLITE_CPACK NAMES cpack HINTS "${cmake_bin_dir}" REQUIRED)
    execute_process(COMMAND "${NETLITE_CPACK}" -G DEB WORKING_DIRECTORY "${netlite_build}" RESULT_VARIABLE rc)
    if(NOT rc EQUAL 0)
        fail("cpack -G DEB failed (exit status: ${rc})")
    endif()
    file(STRINGS "${NETLITE_SOURCE_DIR}/CMakeLists.txt" project_version_line REGEX "^ *VERSION [0-9.]+")
    string(REGEX MATCH "[0-9]+\\.[0-9]+\\.[0-9]+" project_version "${project_version_line}")
    set(deb "${netlite_build}/netlite_${project_version}_all.deb")
    if(NOT EXISTS "${deb}")
        file(GLOB made "${netlite_build}/*.deb")
        fail("cpack did not make ${deb} (made: ${made})")
    endif()
    # Only headers, the CMake package, the pkg-config file and the two files Debian policy asks for.
    execute_process(COMMAND dpkg-deb --contents "${deb}" OUTPUT_VARIABLE listing RESULT_VARIABLE rc)
    if(NOT rc EQUAL 0)
        fail("dpkg-deb --contents failed (exit status: ${rc})")
    endif()
    string(REGEX MATCHALL "\\./usr/[^\n]*[^/\n]\n" files "${listing}")
    foreach(entry IN LISTS files)
        string(STRIP "${entry}" entry)
        if(NOT entry MATCHES "^\\./usr/(include/netlite/.*\\.hpp|share/cmake/netlite/netlite-[a-z-]+\\.cmake|share/pkgconfig/netlite(-tls)?\\.pc|share/doc/netlite/(copyright|changelog\\.gz))$")
            fail("the package holds a file it should not: ${entry}")
        endif()
    endforeach()
    set(must_have usr/include/netlite/netlite.hpp usr/include/netlite/version.hpp
        usr/share/cmake/netlite/netlite-config.cmake usr/share/pkgconfig/netlite.pc)
    if(NETLITE_TLS_CONSUMER_SOURCE_DIR)
        # The TLS component: its CMake targets and pkg-config file (and, below, OpenSSL's headers recommended).
        list(APPEND must_have usr/include/netlite/tls.hpp usr/share/cmake/netlite/netlite-tls-targets.cmake
            usr/share/pkgconfig/netlite-tls.pc)
    endif()
    foreach(must IN LISTS must_have)
        if(NOT listing MATCHES "\\./${must}\n")
            fail("the package lacks ${must}")
        endif()
    endforeach()
    if(NETLITE_TLS_CONSUMER_SOURCE_DIR)
        deb_field(recommends "${deb}" Recommends)
        if(NOT recommends MATCHES "libssl-dev")
            fail("the package does not recommend libssl-dev (Recommends: '${recommends}')")
        endif()
    endif()
    deb_field(arch "${deb}" Architecture)
    if(NOT arch STREQUAL "all")
        fail("the package's Architecture is '${arch}', not 'all'")
    endif()
    set(root "${NETLITE_WORK_DIR}/root")
    run("unpack the package" dpkg-deb -x "${deb}" "${root}")
    set(prefix "${root}/usr")
    find_program(NETLITE_LINTIAN lintian)
    if(NOT NETLITE_LINTIAN)
        fail("lintian not found (apt-get install lintian)")
    endif()
    run("lintian (no errors allowed)" "${NETLITE_LINTIAN}" --fail-on error "${deb}")
    set(NETLITE_MODE install)
    set(netlite_installed TRUE)
endif()

if(NETLITE_MODE STREQUAL "fetchcontent")
    # A git repository holding the source tree as it is now (committed or not), for GIT_REPOSITORY.
    set(repo "${NETLITE_WORK_DIR}/netlite.git-source")
    file(COPY "${NETLITE_SOURCE_DIR}/" DESTINATION "${repo}"
        PATTERN ".git" EXCLUDE PATTERN "build" EXCLUDE PATTERN "__pycache__" EXCLUDE)
    find_program(NETLITE_GIT git REQUIRED)
    set(git "${NETLITE_GIT}" -C "${repo}" -c user.name=netlite-test -c user.email=test@netlite.invalid
        -c init.defaultBranch=main)
    run("git init" ${git} init -q)
    run("git add" ${git} add -A)
    run("git commit" ${git} commit -q -m snapshot)
    list(APPEND consumer_common_args "-DNETLITE_GIT_REPOSITORY=file://${repo}" -DNETLITE_GIT_TAG=main)
elseif(NETLITE_MODE STREQUAL "install")
    if(NOT netlite_installed)
        run("install netlite" "${CMAKE_COMMAND}" --install "${NETLITE_BUILD_DIR}"
            --prefix "${prefix}" --config "${NETLITE_CONFIG}")
    endif()

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

    list(APPEND consumer_common_args "-DCMAKE_PREFIX_PATH=${prefix}")
    set(expected_dir "${prefix}")
else()
    list(APPEND consumer_common_args "-Dnetlite_DIR=${NETLITE_BUILD_DIR}")
    set(expected_dir "${NETLITE_BUILD_DIR}")
endif()

# --- Configure, build and run the consumer with netlite's toolchain ----------
if(NETLITE_GENERATOR)
    list(APPEND consumer_common_args -G "${NETLITE_GENERATOR}")
endif()
if(NETLITE_MAKE_PROGRAM)
    list(APPEND consumer_common_args "-DCMAKE_MAKE_PROGRAM=${NETLITE_MAKE_PROGRAM}")
endif()
if(NETLITE_CXX_COMPILER)
    list(APPEND consumer_common_args "-DCMAKE_CXX_COMPILER=${NETLITE_CXX_COMPILER}")
endif()
if(NETLITE_CXX_STANDARD)
    list(APPEND consumer_common_args "-DCMAKE_CXX_STANDARD=${NETLITE_CXX_STANDARD}")
endif()
list(APPEND consumer_common_args
    "-DCMAKE_CXX_FLAGS=${NETLITE_CXX_FLAGS}"
    "-DCMAKE_EXE_LINKER_FLAGS=${NETLITE_EXE_LINKER_FLAGS}")

list(APPEND consumer_args ${consumer_common_args})
run("configure consumer (OpenSSL cannot be found)" "${CMAKE_COMMAND}" ${consumer_args})

# Make sure the package really came from where we meant it to.
if(NETLITE_MODE STREQUAL "fetchcontent")
    run("build consumer" "${CMAKE_COMMAND}" --build "${consumer_build}" --config "${NETLITE_CONFIG}")
    run("run consumer" "${consumer_build}/app")
    cleanup()
    message(STATUS "package test (fetchcontent) passed")
    return()
endif()
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

built_program(app "${consumer_build}" app)
run("run consumer" "${app}")

# --- The TLS component: find_package(netlite COMPONENTS tls) and pkg-config netlite-tls ----------------
# run_tls_consumer(<description> <program>): runs the TLS consumer, which must print its one line.
function(run_tls_consumer description program)
    message(STATUS "${description}: ${program}")
    execute_process(COMMAND "${program}" RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
    if(NOT rc EQUAL 0 OR NOT out MATCHES "^netlite::tls client context made, minimum version TLS 1\\.2\n$")
        fail("${description}: exit status ${rc}, printed '${out}' (stderr: ${err})")
    endif()
endfunction()

if(NETLITE_TLS_CONSUMER_SOURCE_DIR)
    set(tls_build "${NETLITE_WORK_DIR}/consumer-tls-build")
    set(tls_consumer_args -S "${NETLITE_TLS_CONSUMER_SOURCE_DIR}" ${consumer_common_args})
    if(tls_absent)
        # Installed without OpenSSL: no netlite::tls, and asking for it says why.
        if(EXISTS "${found_dir}/netlite-tls-targets.cmake")
            fail("an install made without OpenSSL has ${found_dir}/netlite-tls-targets.cmake")
        endif()
        run_expect_failure("configure the TLS consumer against an install made without OpenSSL"
            "has no tls component: OpenSSL 3 was not found"
            "${CMAKE_COMMAND}" ${tls_consumer_args} -B "${tls_build}-absent")
    else()
        # Where OpenSSL cannot be found, COMPONENTS tls fails and names it.
        run_expect_failure("configure the TLS consumer where OpenSSL cannot be found" "OpenSSL"
            "${CMAKE_COMMAND}" ${tls_consumer_args} -B "${tls_build}-no-openssl"
            -DCMAKE_DISABLE_FIND_PACKAGE_OpenSSL=ON)
        run("configure TLS consumer (find_package(netlite COMPONENTS tls))"
            "${CMAKE_COMMAND}" ${tls_consumer_args} -B "${tls_build}")
        run("build TLS consumer" "${CMAKE_COMMAND}" --build "${tls_build}" --config "${NETLITE_CONFIG}")
        built_program(app_tls "${tls_build}" app_tls)
        run_tls_consumer("run TLS consumer (CMake)" "${app_tls}")

        # From an install: the same program built with pkg-config netlite-tls alone (its Requires: openssl
        # comes from the system's pkg-config path, searched after the install's).
        if(NETLITE_MODE STREQUAL "install")
            find_program(PKG_CONFIG_EXECUTABLE NAMES pkg-config pkgconf)
            if(NOT PKG_CONFIG_EXECUTABLE)
                fail("pkg-config not found: the TLS consumer cannot be built with pkg-config netlite-tls")
            endif()
            set(pc_dir "${prefix}/${NETLITE_INSTALL_DATADIR}/pkgconfig")
            if(NOT EXISTS "${pc_dir}/netlite-tls.pc")
                fail("pkg-config file not installed: ${pc_dir}/netlite-tls.pc")
            endif()
            set(ENV{PKG_CONFIG_PATH} "${pc_dir}")
            unset(ENV{PKG_CONFIG_LIBDIR})
            execute_process(COMMAND "${PKG_CONFIG_EXECUTABLE}" --cflags netlite-tls
                RESULT_VARIABLE rc OUTPUT_VARIABLE tls_cflags ERROR_VARIABLE err OUTPUT_STRIP_TRAILING_WHITESPACE)
            if(NOT rc EQUAL 0)
                fail("pkg-config --cflags netlite-tls failed (exit status: ${rc}): ${err}")
            endif()
            execute_process(COMMAND "${PKG_CONFIG_EXECUTABLE}" --libs netlite-tls
                RESULT_VARIABLE rc OUTPUT_VARIABLE tls_libs ERROR_VARIABLE err OUTPUT_STRIP_TRAILING_WHITESPACE)
            if(NOT rc EQUAL 0 OR NOT tls_libs MATCHES "-lssl")
                fail("pkg-config --libs netlite-tls gave '${tls_libs}' (exit status ${rc}, ${err}), want -lssl")
            endif()
            message(STATUS "pkg-config --cflags --libs netlite-tls: ${tls_cflags} ${tls_libs}")
            set(tls_include_found FALSE)
            file(REAL_PATH "${prefix}/${NETLITE_INSTALL_INCLUDEDIR}" want_include_real)
            separate_arguments(tls_cflags_list UNIX_COMMAND "${tls_cflags}")
            foreach(flag IN LISTS tls_cflags_list)
                if(flag MATCHES "^-I(.+)$")
                    set(include_dir "${CMAKE_MATCH_1}")  # ${} in a condition expands before MATCHES sets it
                    if(IS_DIRECTORY "${include_dir}")
                        file(REAL_PATH "${include_dir}" include_real)
                        if(include_real STREQUAL want_include_real)
                            set(tls_include_found TRUE)
                        endif()
                    endif()
                endif()
            endforeach()
            if(NOT tls_include_found)
                fail("pkg-config --cflags netlite-tls gave '${tls_cflags}', expected -I${prefix}/${NETLITE_INSTALL_INCLUDEDIR}")
            endif()
            set(compiler "${NETLITE_CXX_COMPILER}")
            if(NOT compiler)
                find_program(compiler NAMES c++ g++ clang++ REQUIRED)
            endif()
            separate_arguments(cxx_flags UNIX_COMMAND "${NETLITE_CXX_FLAGS}")
            separate_arguments(link_flags UNIX_COMMAND "${NETLITE_EXE_LINKER_FLAGS}")
            separate_arguments(tls_libs_list UNIX_COMMAND "${tls_libs}")
            set(std 20)
            if(NETLITE_CXX_STANDARD)
                set(std "${NETLITE_CXX_STANDARD}")
            endif()
            set(app_pc "${NETLITE_WORK_DIR}/app_tls_pkgconfig")
            run("build TLS consumer with pkg-config netlite-tls" "${compiler}" "-std=c++${std}" ${cxx_flags}
                ${tls_cflags_list} "${NETLITE_TLS_CONSUMER_SOURCE_DIR}/main.cpp" -o "${app_pc}"
                ${link_flags} ${tls_libs_list})
            run_tls_consumer("run TLS consumer (pkg-config)" "${app_pc}")
        endif()
    endif()
endif()

cleanup()
message(STATUS "package test (${NETLITE_MODE}) passed")
