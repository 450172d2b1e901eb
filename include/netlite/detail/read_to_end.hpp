// SPDX-License-Identifier: BSL-1.0
// netlite/detail/read_to_end.hpp - read_to_end's growth rule, shared by the blocking reads (tcp.hpp,
// tls.hpp) and the coroutine one (coro/io.hpp).
#pragma once

#include <netlite/buffer.hpp>
#include <netlite/result.hpp>

#include <cstddef>
#include <string>

namespace netlite::detail {

/// How much room read_to_end offers its next read: twice what the previous read got, at least 16 KiB and
/// at most 1 MiB. The container is resized (zero-filled) to the room before each read, so the room
/// follows what arrives: a fast stream gets reads that double in size, a slow one small rooms. (Growing
/// with what is already read instead cost quadratic time: each read zero-filled the whole length so far,
/// 24 s for a 256 MiB stream arriving in pieces; now the zero-filling is at most twice the bytes read
/// plus 16 KiB per read.) The container's own geometric growth keeps reallocation amortised.
class ReadRoom {
public:
    /// The room of the first read.
    static constexpr std::size_t least = std::size_t{16} * 1024;
    /// The most room one read is offered.
    static constexpr std::size_t most = std::size_t{1024} * 1024;

    /// The room to offer the next read.
    std::size_t size() const noexcept { return room_; }
    /// The read offered size() got `got` bytes.
    void got(std::size_t got) noexcept {
        room_ = got >= most / 2 ? most : (2 * got < least ? least : 2 * got);
    }

private:
    std::size_t room_ = least;
};

/// Appends to `out` (a std::string or vector of bytes) what `read_some(MutableBuffer)` returns until it
/// returns 0 (end of stream), offering ReadRoom's room each time; returns how many bytes were appended.
/// Errors: read_some's, with the count appended before it (what arrived stays in `out`).
template <class Container, class ReadSome>
Result<std::size_t, TransferError> read_all_into(Container& out, ReadSome read_some) {
    const std::size_t start = out.size();
    ReadRoom room;
    for (;;) {
        const std::size_t used = out.size();
        out.resize(used + room.size());
        auto got = read_some(MutableBuffer(out.data() + used, room.size()));
        out.resize(used + (got ? *got : 0));
        if (!got) return unexpected<TransferError>(TransferError(got.error(), used - start));
        if (*got == 0) return used - start;
        room.got(*got);
    }
}

/// `stream.read_to_end(out, until)` into a new string. Errors: read_some's (the bytes before the error are
/// dropped).
template <class Stream, class Until>
Result<std::string> read_all_string(Stream& stream, const Until& until) {
    std::string out;
    if (auto done = stream.read_to_end(out, until); !done)
        return fail(static_cast<const Error&>(done.error()));
    return out;
}

}  // namespace netlite::detail
