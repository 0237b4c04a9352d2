// A validated, read-only GGUF (v2/v3) model file: metadata key/values and tensor descriptions
// whose data points into a memory mapping of the file.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "engine/core/result.h"
#include "engine/model/gguf_types.h"

namespace batchscope::engine {

class MappedFile;

/// One tensor of the file. Invariants (checked at parse time): 1 <= dims.size() <= 4,
/// dims[0] % blockSize(type) == 0, sizeBytes == elementCount() / blockSize * bytesPerBlock
/// without overflow, offset % alignment == 0, and [data, data + sizeBytes) lies inside the file.
struct GgufTensorInfo {
    std::string name;
    std::vector<std::uint64_t> dims;  ///< ne[0] first = fastest-varying, as in ggml
    GgmlType type = GgmlType::F32;
    std::uint64_t offset = 0;         ///< bytes, relative to the start of the data section
    std::uint64_t sizeBytes = 0;
    const std::byte* data = nullptr;  ///< into the mapping; valid while the GgufFile lives

    std::uint64_t elementCount() const;
};

/// A parsed GGUF file. Every length, count, offset and size was checked against the file before
/// use, so a GgufFile that exists is internally consistent. Immutable after open(), so any
/// thread may read it concurrently. Tensor data stays mapped until destruction.
class GgufFile {
public:
    /// Maps and parses `path`. Errors: NotFound (cannot open), InvalidFormat (malformed; the
    /// message names the key/tensor and byte offset), Unsupported (version, tensor type).
    static Result<std::unique_ptr<GgufFile>> open(const std::string& path);
    /// Parses bytes held in memory (tests, in-memory models). Same validation as open().
    static Result<std::unique_ptr<GgufFile>> fromBytes(std::vector<std::uint8_t> bytes);

    ~GgufFile();
    GgufFile(const GgufFile&) = delete;
    GgufFile& operator=(const GgufFile&) = delete;

    std::uint32_t version() const { return m_version; }
    std::uint64_t fileSize() const;
    std::uint64_t alignment() const { return m_alignment; }
    /// Byte offset of the tensor data section in the file.
    std::uint64_t dataOffset() const { return m_dataOffset; }
    /// open()'s path, or "<memory>".
    const std::string& path() const;

    /// nullptr when absent.
    const GgufValue* find(std::string_view key) const;
    /// Each accessor gives nullopt/nullptr when the key is absent or has another type.
    std::optional<std::string> getString(std::string_view key) const;
    /// Any integer type; nullopt when a uint64 value does not fit int64.
    std::optional<std::int64_t> getInt(std::string_view key) const;
    /// float32/float64, and integers converted.
    std::optional<double> getFloat(std::string_view key) const;
    std::optional<bool> getBool(std::string_view key) const;
    const std::vector<std::string>* getStringArray(std::string_view key) const;
    /// Arrays of float32/float64 or of integers, converted to float.
    std::optional<std::vector<float>> getFloatArray(std::string_view key) const;
    /// Arrays of any integer type (bool too); nullopt when a uint64 element does not fit int64.
    std::optional<std::vector<std::int64_t>> getIntArray(std::string_view key) const;

    /// In file order.
    const std::vector<GgufTensorInfo>& tensors() const { return m_tensors; }
    const GgufTensorInfo* findTensor(std::string_view name) const;
    /// Metadata keys in file order.
    std::vector<std::string> keys() const;

private:
    friend class GgufParser;
    GgufFile() = default;

    std::unique_ptr<MappedFile> m_file;
    std::uint32_t m_version = 0;
    std::uint64_t m_alignment = 32;
    std::uint64_t m_dataOffset = 0;
    std::vector<std::pair<std::string, GgufValue>> m_kv;  ///< file order
    std::unordered_map<std::string_view, std::size_t> m_kvIndex;  ///< views into m_kv keys
    std::vector<GgufTensorInfo> m_tensors;
    std::unordered_map<std::string_view, std::size_t> m_tensorIndex;
};

}  // namespace batchscope::engine
