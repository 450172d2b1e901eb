// SPDX-License-Identifier: BSL-1.0
// netlite/result.hpp - Result<T>, Error and netlite's error category.
//
// Result<T> is std::expected<T, Error> where the standard library has the full C++23 one
// (__cpp_lib_expected >= 202211L, with the monadic operations), or where the user forces it with
// NETLITE_USE_STD_EXPECTED=1 and any <expected> exists. Elsewhere it is netlite::expected, a type with
// the same interface, so user code reads the same everywhere. This header includes no OS header.
#pragma once

#include <netlite/detail/expected.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>

namespace netlite {

// ---------------------------------------------------------------------------------------------------------
/// netlite's own error codes: failures the library detects itself, before or instead of an OS call.
enum class errc {
    invalid_address = 1,  ///< address text that does not parse
    invalid_port,         ///< port text that is not a number in 0..65535
    path_too_long,        ///< Unix socket path longer than sun_path can hold
    message_truncated,    ///< a datagram larger than the receive buffer (the rest was discarded)
    unexpected_eof,       ///< the peer closed before read_exact filled its buffer
    no_addresses,         ///< name resolution succeeded but returned no usable address
    family_mismatch,      ///< a native sockaddr of another family than the socket's
};

namespace detail {
/// POSIX's (glibc's) text for the std::errc values netlite reports; nullptr for others. Where a C runtime
/// has no text for them (Windows: "Unknown error"), netlite's messages use these.
inline const char* posix_wording(std::errc e) noexcept {
    switch (e) {
        case std::errc::operation_canceled: return "Operation canceled";
        case std::errc::timed_out: return "Connection timed out";
        case std::errc::no_protocol_option: return "Protocol not available";
        case std::errc::operation_not_supported: return "Operation not supported";
        case std::errc::destination_address_required: return "Destination address required";
        case std::errc::message_size: return "Message too long";
        case std::errc::address_family_not_supported: return "Address family not supported by protocol";
        case std::errc::not_connected: return "Transport endpoint is not connected";
        case std::errc::already_connected: return "Transport endpoint is already connected";
        case std::errc::connection_refused: return "Connection refused";
        case std::errc::connection_reset: return "Connection reset by peer";
        case std::errc::connection_aborted: return "Software caused connection abort";
        case std::errc::operation_would_block: return "Resource temporarily unavailable";
        case std::errc::operation_in_progress: return "Operation now in progress";
        case std::errc::address_in_use: return "Address already in use";
        case std::errc::address_not_available: return "Cannot assign requested address";
        case std::errc::network_unreachable: return "Network is unreachable";
        case std::errc::host_unreachable: return "No route to host";
        case std::errc::not_a_socket: return "Socket operation on non-socket";
        case std::errc::no_buffer_space: return "No buffer space available";
        case std::errc::value_too_large: return "Value too large for defined data type";
        case std::errc::broken_pipe: return "Broken pipe";
        case std::errc::invalid_argument: return "Invalid argument";
        case std::errc::bad_file_descriptor: return "Bad file descriptor";
        case std::errc::too_many_files_open: return "Too many open files";
        case std::errc::interrupted: return "Interrupted system call";
        default: return nullptr;
    }
}

/// The one instance of an error category class, made on first use (thread-safe, as every static local).
template <class Category>
const std::error_category& category_instance() noexcept {
    static const Category instance;
    return instance;
}

class netlite_category_impl final : public std::error_category {
public:
    const char* name() const noexcept override { return "netlite"; }
    std::string message(int value) const override {
        switch (static_cast<errc>(value)) {
            case errc::invalid_address: return "invalid address";
            case errc::invalid_port: return "port is not a number in 0..65535";
            case errc::path_too_long: return "Unix socket path is too long";
            case errc::message_truncated: return "datagram truncated: it was larger than the buffer";
            case errc::unexpected_eof: return "connection closed before all bytes arrived";
            case errc::no_addresses: return "name resolved to no usable address";
            case errc::family_mismatch: return "address family does not match the socket";
        }
        return "unknown netlite error";
    }
    std::error_condition default_error_condition(int value) const noexcept override {
        switch (static_cast<errc>(value)) {
            case errc::invalid_address:
            case errc::invalid_port:
            case errc::path_too_long: return std::errc::invalid_argument;
            case errc::message_truncated: return std::errc::message_size;
            case errc::family_mismatch: return std::errc::address_family_not_supported;
            default: return {value, *this};
        }
    }
};
}  // namespace detail

/// The category of netlite::errc values (name "netlite").
inline const std::error_category& netlite_category() noexcept {
    return detail::category_instance<detail::netlite_category_impl>();
}

/// Makes a std::error_code from a netlite::errc.
inline std::error_code make_error_code(errc e) noexcept {
    return {static_cast<int>(e), netlite_category()};
}

// ---------------------------------------------------------------------------------------------------------
/// What went wrong: an error code plus the name of the operation that failed ("connect", "bind", ...).
/// Compares equal to std::errc and netlite::errc values and to std::error_code. 24 bytes, trivially copyable.
class Error {
public:
    constexpr Error() noexcept = default;
    /// An error with `code`, from `operation` (a string literal: it is not copied).
    Error(std::error_code code, const char* operation = "") noexcept : code_(code), operation_(operation) {}
    /// A netlite::errc error from `operation`.
    Error(errc e, const char* operation = "") noexcept : code_(make_error_code(e)), operation_(operation) {}
    /// A std::errc (generic category) error from `operation`.
    Error(std::errc e, const char* operation = "") noexcept
        : code_(std::make_error_code(e)), operation_(operation) {}

    /// The error code (system category for OS errors, netlite or resolve category otherwise).
    const std::error_code& code() const noexcept { return code_; }
    /// The failed operation's name, "" when none was recorded.
    const char* operation() const noexcept { return operation_ ? operation_ : ""; }
    /// "operation: reason", e.g. "connect: Connection refused".
    std::string message() const {
        std::string text = operation();
        if (!text.empty()) text += ": ";
        std::string reason = code_.message();
        // Windows' C runtime has no text for most POSIX networking codes ("Unknown error"): use POSIX's.
        if (code_.category() == std::generic_category() && reason.starts_with("Unknown error"))
            if (const char* posix = detail::posix_wording(static_cast<std::errc>(code_.value())))
                reason = posix;
        return text + reason;
    }
    /// The error number (errno value for system errors).
    int value() const noexcept { return code_.value(); }
    /// The error category: system, generic, netlite or resolve.
    const std::error_category& category() const noexcept { return code_.category(); }
    operator std::error_code() const noexcept { return code_; }

    /// Equal when the codes are (the operation names are not compared).
    friend bool operator==(const Error& a, const Error& b) noexcept { return a.code_ == b.code_; }
    /// Equal when the code is `b`.
    friend bool operator==(const Error& a, const std::error_code& b) noexcept { return a.code_ == b; }
    /// Equal when the code is equivalent to `b` (e.g. EAGAIN and EWOULDBLOCK).
    friend bool operator==(const Error& a, std::errc b) noexcept {
        return a.code_ == std::make_error_condition(b);
    }
    /// Equal when the code is the netlite::errc `b`.
    friend bool operator==(const Error& a, errc b) noexcept { return a.code_ == make_error_code(b); }

private:
    std::error_code code_{};
    const char* operation_ = "";
};

/// An Error from a bulk transfer (write_all, read_exact, ...) that also says how many bytes moved first.
class TransferError : public Error {
public:
    constexpr TransferError() noexcept = default;
    /// `error`, after `bytes_transferred` bytes moved.
    TransferError(Error error, std::size_t bytes_transferred) noexcept
        : Error(error), bytes_transferred_(bytes_transferred) {}
    /// Bytes written or read before the failure; they are not lost (they reached the peer or the buffer).
    std::size_t bytes_transferred() const noexcept { return bytes_transferred_; }

private:
    std::size_t bytes_transferred_ = 0;
};

// ---------------------------------------------------------------------------------------------------------
/// The result of every fallible netlite call: a T, or an Error saying what failed and why.
template <class T, class E = Error>
using Result = expected<T, E>;

/// A failed Result<T> for any T: `return netlite::fail(std::errc::timed_out, "read");`.
template <class Code>
inline unexpected<Error> fail(Code code, const char* operation = "") noexcept {
    return unexpected<Error>(Error(code, operation));
}
/// A failed Result<T> for any T, carrying `error` as it is.
inline unexpected<Error> fail(Error error) noexcept {
    return unexpected<Error>(error);
}

}  // namespace netlite

// Lets a std::error_code be made from the enum (std's hook; after the API, which calls make_error_code).
/// @cond
template <>
struct std::is_error_code_enum<netlite::errc> : std::true_type {};
/// @endcond
