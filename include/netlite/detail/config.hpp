// SPDX-License-Identifier: BSL-1.0
// netlite/detail/config.hpp - the language floor, checked before anything else is compiled. Every public
// header reaches this file through its first #include, so a program built in an older standard gets this
// one line instead of pages of errors about concepts deep inside the headers.
#pragma once

// MSVC keeps __cplusplus at 199711L unless /Zc:__cplusplus is given; _MSVC_LANG carries the standard.
#if defined(_MSVC_LANG) && _MSVC_LANG > __cplusplus
#define NETLITE_CPLUSPLUS _MSVC_LANG
#else
#define NETLITE_CPLUSPLUS __cplusplus
#endif

#if NETLITE_CPLUSPLUS < 202002L
#error "netlite needs C++20 or later: compile with -std=c++20 (MSVC: /std:c++20)"
#endif
