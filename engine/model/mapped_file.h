// A read-only view of a whole file's bytes: a memory mapping, or an owned in-memory buffer.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/core/result.h"

namespace batchscope::engine {

/// Invariant: data() points to size() readable bytes that stay valid and unchanged for the
/// object's lifetime (the mapping is PROT_READ, MAP_PRIVATE). Immutable after construction, so
/// any thread may read concurrently. An empty file gives size() == 0 and a non-null data().
class MappedFile {
public:
    /// Maps `path` read-only. NotFound when it cannot be opened, InvalidFormat when it is not a
    /// regular file, Internal when mmap fails.
    static Result<std::unique_ptr<MappedFile>> open(const std::string& path);
    /// Wraps bytes already in memory (tests, generated models). No copy beyond the move.
    static std::unique_ptr<MappedFile> fromBytes(std::vector<std::uint8_t> bytes);

    ~MappedFile();
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;

    const std::byte* data() const { return m_data; }
    std::uint64_t size() const { return m_size; }
    /// The path given to open(), or "<memory>".
    const std::string& path() const { return m_path; }

private:
    MappedFile() = default;

    const std::byte* m_data = nullptr;
    std::uint64_t m_size = 0;
    void* m_mapping = nullptr;  ///< non-null when mmap'd (unmapped in the destructor)
    std::vector<std::uint8_t> m_owned;
    std::string m_path;
};

}  // namespace batchscope::engine
