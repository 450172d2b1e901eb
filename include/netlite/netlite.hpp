// SPDX-License-Identifier: BSL-1.0
// netlite/netlite.hpp - the umbrella header: every public netlite type, and nothing heavy.
// (netlite/testing.hpp, for tests, is included separately.)
#pragma once

#include <netlite/address.hpp>
#include <netlite/buffer.hpp>
#include <netlite/deadline.hpp>
#include <netlite/interfaces.hpp>
#include <netlite/limits.hpp>
#include <netlite/poll.hpp>
#include <netlite/result.hpp>
#include <netlite/socket.hpp>
#include <netlite/tcp.hpp>
#include <netlite/tcp_socket.hpp>
#include <netlite/udp.hpp>
#include <netlite/version.hpp>
