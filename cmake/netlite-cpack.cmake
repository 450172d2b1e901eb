# CPack: `cpack -G DEB` in a build tree makes netlite_<version>_all.deb, an architecture-independent
# package of what `cmake --install` installs (headers, CMake package, pkg-config file) under /usr, plus the
# copyright and changelog files Debian policy asks for. Included from the top-level CMakeLists.txt only.

set(NETLITE_PACKAGE_CONTACT "netlite maintainers <maintainers@netlite.invalid>"
    CACHE STRING "Maintainer field of the Debian package made by cpack -G DEB")

set(CPACK_PACKAGE_NAME netlite)
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_VENDOR "netlite")
# Boost Software License 1.0: also in /usr/share/doc/netlite/copyright, as Debian policy asks.
set(CPACK_RESOURCE_FILE_LICENSE "${CMAKE_CURRENT_SOURCE_DIR}/LICENSE")
set(CPACK_PACKAGE_CONTACT "${NETLITE_PACKAGE_CONTACT}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
set(CPACK_PACKAGE_DESCRIPTION
    "netlite gives C++20 programs RAII sockets over IPv4, IPv6 and Unix domains,\n\
a Result (std::expected-style) from every fallible call instead of exceptions,\n\
deadlines and cancellation on every blocking call, and a readiness poller.\n\
This package holds the headers, the CMake package (find_package(netlite))\n\
and the pkg-config file.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES OFF)

set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_ARCHITECTURE all)
set(CPACK_DEBIAN_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
# <netlite/tls.hpp> (find_package(netlite COMPONENTS tls), pkg-config netlite-tls) needs OpenSSL 3's headers.
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "libssl-dev (>= 3.0)")

# /usr/share/doc/netlite/{copyright,changelog.gz}: lintian's no-copyright-file and no-changelog errors.
set(_netlite_deb_doc "${CMAKE_CURRENT_BINARY_DIR}/debian-doc")
string(TIMESTAMP _netlite_deb_date "%a, %d %b %Y %H:%M:%S +0000" UTC)
configure_file("${CMAKE_CURRENT_SOURCE_DIR}/cmake/debian/changelog.in" "${_netlite_deb_doc}/changelog" @ONLY)
file(ARCHIVE_CREATE OUTPUT "${_netlite_deb_doc}/changelog.gz" PATHS "${_netlite_deb_doc}/changelog"
    FORMAT raw COMPRESSION GZip COMPRESSION_LEVEL 9)
install(FILES "${CMAKE_CURRENT_SOURCE_DIR}/cmake/debian/copyright" "${_netlite_deb_doc}/changelog.gz"
    DESTINATION "${CMAKE_INSTALL_DATADIR}/doc/netlite"
    COMPONENT debian_doc EXCLUDE_FROM_ALL)
# `cmake --install` leaves those two out (EXCLUDE_FROM_ALL); the package installs both components.
set(CPACK_INSTALL_CMAKE_PROJECTS
    "${CMAKE_CURRENT_BINARY_DIR};netlite;Unspecified;/"
    "${CMAKE_CURRENT_BINARY_DIR};netlite;debian_doc;/")
unset(_netlite_deb_doc)
unset(_netlite_deb_date)

include(CPack)
