// SPDX-License-Identifier: GPL-3.0-or-later
#include "engine/model/gguf_writer.h"

#include <cstring>
#include <fstream>
#include <type_traits>

namespace batchscope::engine {

namespace {

class ByteSink {
public:
    template <typename T>
    void put(T v) {
        static_assert(std::is_trivially_copyable_v<T>);
        const auto* p = reinterpret_cast<const std::uint8_t*>(&v);
        m_bytes.insert(m_bytes.end(), p, p + sizeof(T));
    }
    void putString(const std::string& s) {
        put(static_cast<std::uint64_t>(s.size()));
        m_bytes.insert(m_bytes.end(), s.begin(), s.end());
    }
    void pad(std::uint64_t alignment) {
        while (m_bytes.size() % alignment != 0) m_bytes.push_back(0);
    }
    std::vector<std::uint8_t> take() { return std::move(m_bytes); }

private:
    std::vector<std::uint8_t> m_bytes;
};

void putArray(ByteSink& out, const GgufArray& arr) {
    out.put(static_cast<std::uint32_t>(arr.elementType));
    out.put(static_cast<std::uint64_t>(arr.size()));
    std::visit(
        [&](const auto& vec) {
            using V = std::decay_t<decltype(vec)>;
            if constexpr (std::is_same_v<V, std::monostate>) {
                // no elements
            } else if constexpr (std::is_same_v<V, std::vector<std::string>>) {
                for (const auto& s : vec) out.putString(s);
            } else if constexpr (std::is_same_v<V, std::vector<bool>>) {
                for (bool b : vec) out.put(static_cast<std::uint8_t>(b ? 1 : 0));
            } else {
                for (auto x : vec) out.put(x);
            }
        },
        arr.data);
}

void putValue(ByteSink& out, const GgufValue& value) {
    out.put(static_cast<std::uint32_t>(value.type));
    std::visit(
        [&](const auto& x) {
            using T = std::decay_t<decltype(x)>;
            if constexpr (std::is_same_v<T, std::string>) {
                out.putString(x);
            } else if constexpr (std::is_same_v<T, GgufArray>) {
                putArray(out, x);
            } else if constexpr (std::is_same_v<T, bool>) {
                out.put(static_cast<std::uint8_t>(x ? 1 : 0));
            } else {
                out.put(x);
            }
        },
        value.data);
}

}  // namespace

void GgufWriter::set(std::string key, GgufValue value) {
    for (auto& kv : m_kv) {
        if (kv.first == key) {
            kv.second = std::move(value);
            return;
        }
    }
    m_kv.emplace_back(std::move(key), std::move(value));
}

void GgufWriter::setStringArray(std::string key, std::vector<std::string> values) {
    set(std::move(key), GgufValue(GgufArray(std::move(values))));
}

void GgufWriter::setFloat32Array(std::string key, std::vector<float> values) {
    set(std::move(key), GgufValue(GgufArray(std::move(values))));
}

void GgufWriter::setInt32Array(std::string key, std::vector<std::int32_t> values) {
    set(std::move(key), GgufValue(GgufArray(std::move(values))));
}

Status GgufWriter::addTensor(std::string name, std::vector<std::uint64_t> dims, GgmlType type,
                             std::span<const std::uint8_t> data) {
    return addTensorOwned(std::move(name), std::move(dims), type,
                          std::vector<std::uint8_t>(data.begin(), data.end()));
}

Status GgufWriter::checkTensor(const std::string& name, const std::vector<std::uint64_t>& dims, GgmlType type,
                               std::uint64_t* sizeBytes) const {
    const std::string tn = "tensor '" + name + "'";
    for (const auto& t : m_tensors) {
        if (t.name == name) return makeError(ErrorCode::InvalidArgument, "duplicate " + tn);
    }
    if (dims.empty() || dims.size() > 4)
        return makeError(ErrorCode::InvalidArgument, tn + ": needs 1 to 4 dimensions");
    const auto block = static_cast<std::uint64_t>(ggmlTypeBlockSize(type));
    if (block == 0) return makeError(ErrorCode::InvalidArgument, tn + ": unknown type");
    if (dims[0] % block != 0)
        return makeError(ErrorCode::InvalidArgument,
                         tn + ": dimension 0 is not a multiple of the block size " + std::to_string(block));
    std::uint64_t count = 1;
    for (auto d : dims) count *= d;
    *sizeBytes = count / block * static_cast<std::uint64_t>(ggmlTypeBytesPerBlock(type));
    return Ok{};
}

Status GgufWriter::addTensorOwned(std::string name, std::vector<std::uint64_t> dims, GgmlType type,
                                  std::vector<std::uint8_t>&& data) {
    std::uint64_t expected = 0;
    if (auto s = checkTensor(name, dims, type, &expected); !s) return s;
    if (data.size() != expected)
        return makeError(ErrorCode::InvalidArgument, "tensor '" + name + "': data has " + std::to_string(data.size()) +
                         " bytes, dims and type " + std::string(ggmlTypeName(type)) + " need " +
                         std::to_string(expected));
    m_tensors.push_back(Tensor{std::move(name), std::move(dims), type, std::move(data), expected, {}});
    return Ok{};
}

Status GgufWriter::addTensorDeferred(std::string name, std::vector<std::uint64_t> dims, GgmlType type,
                                     TensorProducer produce) {
    std::uint64_t expected = 0;
    if (auto s = checkTensor(name, dims, type, &expected); !s) return s;
    m_tensors.push_back(Tensor{std::move(name), std::move(dims), type, {}, expected, std::move(produce)});
    return Ok{};
}

Result<const std::vector<std::uint8_t>*> GgufWriter::tensorData(const Tensor& t, std::vector<std::uint8_t>& scratch) const {
    if (!t.produce) return &t.data;
    scratch.clear();
    if (auto s = t.produce(scratch); !s) return s.error();
    if (scratch.size() != t.sizeBytes)
        return makeError(ErrorCode::Internal, "tensor '" + t.name + "': produced " + std::to_string(scratch.size()) +
                                                  " bytes, expected " + std::to_string(t.sizeBytes));
    return &scratch;
}

Status GgufWriter::addTensorF32(std::string name, std::vector<std::uint64_t> dims,
                                std::span<const float> data) {
    std::span<const std::uint8_t> bytes(reinterpret_cast<const std::uint8_t*>(data.data()),
                                        data.size() * sizeof(float));
    return addTensor(std::move(name), std::move(dims), GgmlType::F32, bytes);
}

Result<std::uint64_t> GgufWriter::alignmentValue() const {
    if (m_version != 2 && m_version != 3)
        return makeError(ErrorCode::InvalidArgument, "GGUF version must be 2 or 3");
    std::uint64_t alignment = 32;
    for (const auto& [key, value] : m_kv) {
        if (key != "general.alignment") continue;
        const auto* a = std::get_if<std::uint32_t>(&value.data);
        if (a == nullptr || *a == 0 || (*a & (*a - 1)) != 0)
            return makeError(ErrorCode::InvalidArgument,
                             "general.alignment must be a uint32 power of two");
        alignment = *a;
    }
    return alignment;
}

// Everything before the data section, padded to the alignment.
std::vector<std::uint8_t> GgufWriter::headerBytes(std::uint64_t alignment) const {
    ByteSink out;
    out.put(std::uint32_t{0x46554747});
    out.put(m_version);
    out.put(static_cast<std::uint64_t>(m_tensors.size()));
    out.put(static_cast<std::uint64_t>(m_kv.size()));
    for (const auto& [key, value] : m_kv) {
        out.putString(key);
        putValue(out, value);
    }
    std::uint64_t offset = 0;
    for (const auto& t : m_tensors) {
        out.putString(t.name);
        out.put(static_cast<std::uint32_t>(t.dims.size()));
        for (auto d : t.dims) out.put(d);
        out.put(static_cast<std::uint32_t>(t.type));
        out.put(offset);
        offset += (t.sizeBytes + alignment - 1) / alignment * alignment;
    }
    out.pad(alignment);
    return out.take();
}

Result<std::vector<std::uint8_t>> GgufWriter::serialize() const {
    auto alignment = alignmentValue();
    if (!alignment.ok()) return alignment.error();
    std::vector<std::uint8_t> out = headerBytes(*alignment);
    std::vector<std::uint8_t> scratch;
    for (const auto& t : m_tensors) {
        auto data = tensorData(t, scratch);
        if (!data.ok()) return data.error();
        out.insert(out.end(), (*data)->begin(), (*data)->end());
        out.resize((out.size() + *alignment - 1) / *alignment * *alignment, 0);
    }
    return out;
}

Status GgufWriter::writeFile(const std::string& path) const {
    auto alignment = alignmentValue();
    if (!alignment.ok()) return alignment.error();
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    if (!f) return makeError(ErrorCode::Internal, "cannot create '" + path + "'");
    // Streamed tensor by tensor: no second in-memory copy of the weights.
    const auto header = headerBytes(*alignment);
    f.write(reinterpret_cast<const char*>(header.data()), static_cast<std::streamsize>(header.size()));
    const std::vector<char> zeros(static_cast<std::size_t>(*alignment), 0);
    std::vector<std::uint8_t> scratch;
    for (const auto& t : m_tensors) {
        auto data = tensorData(t, scratch);
        if (!data.ok()) return data.error();
        f.write(reinterpret_cast<const char*>((*data)->data()), static_cast<std::streamsize>((*data)->size()));
        const std::uint64_t pad = (*alignment - t.sizeBytes % *alignment) % *alignment;
        f.write(zeros.data(), static_cast<std::streamsize>(pad));
    }
    f.close();
    if (!f) return makeError(ErrorCode::Internal, "cannot write '" + path + "'");
    return Ok{};
}

}  // namespace batchscope::engine
