// A value-or-error type (C++20 has no std::expected). Expected failures are values, not throws.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <string>
#include <utility>
#include <variant>

namespace batchscope::engine {

/// Machine-readable error kinds. The API maps them to its stable codes; do not renumber.
enum class ErrorCode {
    InvalidArgument,  ///< a caller passed a bad value (message names the field)
    QueueFull,        ///< the request queue is at capacity
    PromptTooLong,    ///< the prompt does not fit the model's context or the sequence limit
    NotFound,         ///< no such request / file / tensor
    InvalidFormat,    ///< a malformed file (GGUF) or message
    Unsupported,      ///< a well-formed input we do not handle (architecture, tensor type)
    Cancelled,        ///< the operation was cancelled by the caller
    Internal,         ///< a bug or an unexpected failure
};

const char* errorCodeName(ErrorCode code);

struct Error {
    ErrorCode code = ErrorCode::Internal;
    std::string message;  ///< human-readable, names what was wrong
};

/// Holds either a T or an Error.
template <typename T>
class Result {
public:
    Result(T value) : m_data(std::move(value)) {}  // NOLINT: implicit by design
    Result(Error error) : m_data(std::move(error)) {}  // NOLINT

    bool ok() const { return std::holds_alternative<T>(m_data); }
    explicit operator bool() const { return ok(); }
    T& value() & { return std::get<T>(m_data); }
    const T& value() const& { return std::get<T>(m_data); }
    T&& value() && { return std::get<T>(std::move(m_data)); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    T& operator*() & { return value(); }
    const Error& error() const { return std::get<Error>(m_data); }

private:
    std::variant<T, Error> m_data;
};

/// Result of an operation with no value.
struct Ok {};
using Status = Result<Ok>;

inline Error makeError(ErrorCode code, std::string message) { return Error{code, std::move(message)}; }

}  // namespace batchscope::engine
