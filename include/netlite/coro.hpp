// SPDX-License-Identifier: BSL-1.0
// netlite/coro.hpp - C++20 coroutines over netlite: `co_await async_read(stream, buffer, 60s)`.
//
// The umbrella of netlite/coro/: task.hpp (Task), loop.hpp (Loop), operation.hpp (the awaiter base that
// parks on the loop), stream.hpp (AsyncStream), io.hpp (the awaitable calls), wake.hpp (WakeSignal),
// scope.hpp (Scope, when_all, when_any), connect.hpp (the connect races). Include one of them for less.
// Opt-in, not included here: resolve.hpp (async_resolve on a helper thread), signal.hpp (SignalSet,
// async_signal: signals and console control events as awaitables).
//
// The straight-line code of a thread per connection at the cost of a readiness loop. Opt-in (not in
// netlite.hpp): it pulls in <coroutine>.
//
//  * Task<T>: a lazy, move-only coroutine whose value is usually a netlite Result. No exception is needed
//    anywhere (builds with -fno-exceptions; an exception escaping a task terminates).
//  * Loop: one thread's event loop over a Poller. run(task) is the blocking entry point: it runs `task`
//    (and whatever it spawns) until `task` finishes and returns its value.
//  * Awaitable I/O: async_accept (async_accept_next: incoming()'s policy for a server's accept loop, errors
//    that end one connection skipped, a pause when out of descriptors), async_connect (one address;
//    async_connect_any and async_connect(host, port) race several as tasks), async_read, async_write,
//    async_write_all, async_read_exact, async_read_to_end, async_recv_from, async_send_to, async_sleep. Each
//    tries the call first and suspends only when it would block; each takes the same `Until` as the blocking
//    overloads with the same meaning: a deadline gives timed_out, a stop token operation_canceled, the socket
//    stays usable, and a multi-step call's TransferError says how many bytes moved. Apart from the connect
//    races (a frame per attempt), async_accept_next (a frame per call) and read_to_end's container, they
//    allocate nothing: the registration lives in the awaiter, in the coroutine's frame, and the loop's timer
//    heap (O(log n) per park, unpark and expiry, n = deadlines pending) keeps the capacity of the most
//    deadlines ever pending.
//  * AsyncStream: a TcpStream registered with the loop once, for its life (edge-triggered, readiness
//    cached by the loop): the same awaitables on it cost no epoll_ctl per wait and skip the read that
//    would only say "would block". On a plain TcpStream each wait registers it again (one-shot).
//  * Structured concurrency: Scope owns the tasks spawned into it; `co_await scope.join()` waits for them,
//    scope.cancel() cancels them (every operation of a cancelled task fails with operation_canceled).
//    when_all / when_any run tasks concurrently; when_any cancels the losers and waits for them to end.
//    A detached task is spelled loop.spawn_detached(task): the loop owns it.
//  * Loop::for_each_parked lists the suspended operations (operation, descriptor, deadline).
//  * WakeSignal: another thread or a signal handler wakes a task through the loop's Waker.
//
// Rules:
//  * One operation of each direction per socket at a time (one reader and one writer); a second parked
//    reader fails with std::errc::device_or_resource_busy.
//  * Do not close a socket a task is parked on: the OS forgets the registration and the task waits until
//    its deadline (cancel the task first, or give every operation a deadline).
//  * async_accept on a blocking listener costs a poll(2) per accept: set_nonblocking(true) on it.
//  * g++ 12 double-frees a lambda with captures that is created inside a co_await expression (GCC PR
//    100611): `co_await when_all([&]() -> Task<> {...}(), ...)`. Name such a lambda first
//    (`auto body = [&]() -> Task<> {...}; co_await body();`) or use a plain function.
//  * g++ 12 rejects a braced list inside a co_await expression (`co_await async_connect_any<F>({a, b})`:
//    "array used as initializer"): name the vector first.
//  * The frame holds a coroutine's locals, buffers included: a 16 KiB buffer is 160 MiB at 10,000
//    connections; size it for the protocol.
//  * Awaiting a Task resumes it inline and does not rely on symmetric transfer being a tail call (g++ 12
//    does not make it one at -O0/-O1 or under ASan): any number of synchronously completing co_awaits in
//    a row uses constant stack. A promise has no operator new/delete of its own (clang 16 rejects a sized
//    operator delete in a promise by default), so frames come from the global operator new.
#pragma once

#include <netlite/coro/connect.hpp>
#include <netlite/coro/io.hpp>
#include <netlite/coro/loop.hpp>
#include <netlite/coro/operation.hpp>
#include <netlite/coro/scope.hpp>
#include <netlite/coro/stream.hpp>
#include <netlite/coro/task.hpp>
#include <netlite/coro/wake.hpp>
#include <netlite/deadline.hpp>
#include <netlite/poll.hpp>
#include <netlite/result.hpp>
#include <netlite/tcp.hpp>
#include <netlite/udp.hpp>
