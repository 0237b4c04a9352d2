// Internal to the GGUF parser: a bounds-checked little-endian reader over the file bytes.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>

#include "engine/core/result.h"

// Not a public API: only gguf_parser.cpp includes this.

namespace batchscope::engine::gguf_detail {

inline std::string hex32(std::uint32_t v) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "0x%08x", v);
    return buf;
}

inline Error invalid(std::string message) { return makeError(ErrorCode::InvalidFormat, std::move(message)); }

class Cursor {
public:
    Cursor(const std::byte* data, std::uint64_t size) : m_data(data), m_size(size) {}

    std::uint64_t pos() const { return m_pos; }
    std::uint64_t remaining() const { return m_size - m_pos; }
    std::uint64_t size() const { return m_size; }

    /// Reads a little-endian scalar; sets the error naming `what` when truncated.
    template <typename T>
    bool read(T& out, std::string_view what) {
        if (!need(sizeof(T), what)) return false;
        std::memcpy(&out, m_data + m_pos, sizeof(T));
        m_pos += sizeof(T);
        return true;
    }

    bool readString(std::string& out, std::string_view what) {
        const std::uint64_t at = m_pos;
        std::uint64_t len = 0;
        // The name of the length field is only built when it is missing (hot path: vocabularies).
        if (remaining() < sizeof len) return read(len, std::string(what) + " length");
        read(len, {});
        if (len > remaining()) {
            m_error = invalid("string length " + std::to_string(len) + " of " + std::string(what) +
                              " at offset " + std::to_string(at) + " runs past the end of the file (" +
                              std::to_string(remaining()) + " bytes left)");
            return false;
        }
        out.assign(reinterpret_cast<const char*>(m_data + m_pos), static_cast<std::size_t>(len));
        m_pos += len;
        return true;
    }

    bool need(std::uint64_t n, std::string_view what) {
        if (n <= remaining()) return true;
        m_error = invalid("truncated file: " + std::string(what) + " at offset " +
                          std::to_string(m_pos) + " needs " + std::to_string(n) + " bytes, only " +
                          std::to_string(remaining()) + " left");
        return false;
    }

    void fail(Error e) { m_error = std::move(e); }
    Error takeError() { return std::move(m_error); }

private:
    const std::byte* m_data;
    std::uint64_t m_size;
    std::uint64_t m_pos = 0;
    Error m_error;
};

}  // namespace batchscope::engine::gguf_detail
