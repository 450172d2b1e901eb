// SPDX-License-Identifier: BSL-1.0
// netlite/detail/chrono.hpp - std::chrono's clocks, durations and time points, without the calendar,
// time-zone and formatting parts that make <chrono> one of the slowest standard headers to compile.
// (User code that writes 2s or 250ms includes <chrono> for the literals, as always.)
#pragma once

#include <netlite/detail/config.hpp>  // first: the C++20 floor, with a readable message

#include <version>  // defines __GLIBCXX__ when the standard library is libstdc++

#if defined(__GLIBCXX__) && __has_include(<bits/chrono.h>)
#include <bits/chrono.h>  // libstdc++ 11+: everything but the C++20 calendar and I/O
#else
#include <chrono>
#endif
