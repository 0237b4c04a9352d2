// Builds GGUF files (metadata + tensors) in memory: for tests, the demo-model exporter and
// in-memory models. The output is accepted by GgufFile (and by llama.cpp).
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "engine/core/result.h"
#include "engine/model/gguf_types.h"

namespace batchscope::engine {

/// Accumulates metadata and tensors, then serializes them. Keys and tensors keep insertion
/// order; setting an existing key replaces its value in place. Alignment is 32 unless
/// setAlignment() (or set("general.alignment", uint32)) says otherwise; every tensor's data
/// starts at a multiple of it. Not thread-safe; single owner.
class GgufWriter {
public:
    /// GGUF version written: 3 (default) or 2 (same layout).
    void setVersion(std::uint32_t version) { m_version = version; }

    void set(std::string key, GgufValue value);
    void setString(std::string key, std::string value) { set(std::move(key), GgufValue(std::move(value))); }
    void setUInt32(std::string key, std::uint32_t value) { set(std::move(key), GgufValue(value)); }
    void setInt32(std::string key, std::int32_t value) { set(std::move(key), GgufValue(value)); }
    void setUInt64(std::string key, std::uint64_t value) { set(std::move(key), GgufValue(value)); }
    void setFloat32(std::string key, float value) { set(std::move(key), GgufValue(value)); }
    void setBool(std::string key, bool value) { set(std::move(key), GgufValue(value)); }
    void setStringArray(std::string key, std::vector<std::string> values);
    void setFloat32Array(std::string key, std::vector<float> values);
    void setInt32Array(std::string key, std::vector<std::int32_t> values);
    /// Writes general.alignment (uint32). Must be a power of two (checked by serialize()).
    void setAlignment(std::uint32_t alignment) { setUInt32("general.alignment", alignment); }

    /// Adds a tensor. dims: ne[0] first (fastest-varying). `data` must hold exactly the bytes
    /// the dims and type imply. InvalidArgument (naming the tensor) on a duplicate name, 0 or
    /// more than 4 dims, dims[0] not a multiple of the block size, or a wrong data size.
    Status addTensor(std::string name, std::vector<std::uint64_t> dims, GgmlType type,
                     std::span<const std::uint8_t> data);
    /// Same, taking ownership of the bytes (no copy; for large exported weights).
    Status addTensorOwned(std::string name, std::vector<std::uint64_t> dims, GgmlType type,
                     std::vector<std::uint8_t>&& data);
    /// Fills a deferred tensor's bytes (exactly the size its dims and type imply) when the file
    /// is written; an error (e.g. Cancelled) aborts the write and is returned by it.
    using TensorProducer = std::function<Status(std::vector<std::uint8_t>& out)>;
    /// Adds a tensor whose data is produced only while serialize()/writeFile() runs, one tensor
    /// at a time (quantising a model without holding the whole output in memory). Same checks
    /// as addTensor() except the data size, which is checked after `produce` runs.
    Status addTensorDeferred(std::string name, std::vector<std::uint64_t> dims, GgmlType type,
                             TensorProducer produce);
    /// Convenience: an F32 tensor from floats.
    Status addTensorF32(std::string name, std::vector<std::uint64_t> dims, std::span<const float> data);

    std::size_t tensorCount() const { return m_tensors.size(); }

    /// The complete file. InvalidArgument on a bad general.alignment or version.
    Result<std::vector<std::uint8_t>> serialize() const;
    /// Writes the same bytes as serialize() to `path` (replaced if it exists), streaming the
    /// tensor data. InvalidArgument as serialize(); Internal on an I/O failure.
    Status writeFile(const std::string& path) const;

private:
    Result<std::uint64_t> alignmentValue() const;
    std::vector<std::uint8_t> headerBytes(std::uint64_t alignment) const;

    struct Tensor {
        std::string name;
        std::vector<std::uint64_t> dims;
        GgmlType type;
        std::vector<std::uint8_t> data;
        std::uint64_t sizeBytes = 0;  ///< == data.size() unless deferred
        TensorProducer produce;       ///< set for deferred tensors
    };
    Status checkTensor(const std::string& name, const std::vector<std::uint64_t>& dims, GgmlType type,
                       std::uint64_t* sizeBytes) const;
    /// The data of tensor t (produced into `scratch` for a deferred one).
    Result<const std::vector<std::uint8_t>*> tensorData(const Tensor& t, std::vector<std::uint8_t>& scratch) const;

    std::uint32_t m_version = 3;
    std::vector<std::pair<std::string, GgufValue>> m_kv;
    std::vector<Tensor> m_tensors;
};

}  // namespace batchscope::engine
