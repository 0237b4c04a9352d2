// Test helper: writes GGUF bytes by hand, so tests can build files the writer refuses to make.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace batchscope::engine::test {

class RawGguf {
public:
    RawGguf& u8(std::uint8_t v) { return put(v); }
    RawGguf& u32(std::uint32_t v) { return put(v); }
    RawGguf& u64(std::uint64_t v) { return put(v); }
    RawGguf& str(const std::string& s) {
        u64(s.size());
        bytes.insert(bytes.end(), s.begin(), s.end());
        return *this;
    }
    /// magic, version, tensor count, kv count.
    RawGguf& header(std::uint64_t tensors, std::uint64_t kvs, std::uint32_t version = 3) {
        return u32(0x46554747).u32(version).u64(tensors).u64(kvs);
    }
    RawGguf& kvU32(const std::string& key, std::uint32_t v) { return str(key).u32(4).u32(v); }
    RawGguf& kvString(const std::string& key, const std::string& v) { return str(key).u32(8).str(v); }
    RawGguf& tensor(const std::string& name, const std::vector<std::uint64_t>& dims,
                    std::uint32_t type, std::uint64_t offset) {
        str(name).u32(static_cast<std::uint32_t>(dims.size()));
        for (auto d : dims) u64(d);
        return u32(type).u64(offset);
    }
    RawGguf& padTo(std::size_t alignment) {
        while (bytes.size() % alignment != 0) bytes.push_back(0);
        return *this;
    }
    RawGguf& zeros(std::size_t n) {
        bytes.insert(bytes.end(), n, 0);
        return *this;
    }

    std::vector<std::uint8_t> bytes;

private:
    template <typename T>
    RawGguf& put(T v) {
        std::uint8_t b[sizeof(T)];
        std::memcpy(b, &v, sizeof(T));
        bytes.insert(bytes.end(), b, b + sizeof(T));
        return *this;
    }
};

}  // namespace batchscope::engine::test
