// SPDX-License-Identifier: GPL-3.0-or-later
// Every read goes through Cursor, which checks the remaining bytes first; counts and lengths
// are capped by what the rest of the file could possibly hold, so a hostile header can neither
// read out of bounds nor make us allocate more than a small multiple of the file size.
#include "engine/model/gguf_parser.h"

#include "engine/model/gguf_cursor.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <unordered_set>

namespace batchscope::engine {

namespace {

using gguf_detail::Cursor;
using gguf_detail::hex32;
using gguf_detail::invalid;

constexpr std::uint32_t kMagic = 0x46554747;  // "GGUF" little-endian
constexpr std::uint32_t kMaxDims = 4;
constexpr std::uint64_t kReserveCap = 4096;

// Smallest encoding of one element of each value type (strings: the 8-byte length).
std::uint64_t minEncodedSize(GgufValueType t) {
    switch (t) {
        case GgufValueType::UInt8: case GgufValueType::Int8: case GgufValueType::Bool: return 1;
        case GgufValueType::UInt16: case GgufValueType::Int16: return 2;
        case GgufValueType::UInt32: case GgufValueType::Int32: case GgufValueType::Float32: return 4;
        default: return 8;
    }
}

template <typename T>
bool readScalarArray(Cursor& c, std::uint64_t n, GgufArray& arr, const std::string& what) {
    std::vector<T> v(static_cast<std::size_t>(n));  // n was capped by the remaining bytes
    for (auto& x : v) {
        if (!c.read(x, what)) return false;
    }
    arr = GgufArray(std::move(v));
    return true;
}

class Parser {
public:
    Parser(GgufParseOutput& out, const std::byte* data, std::uint64_t size)
        : m_out(out), m_c(data, size), m_base(data) {}

    Status run();

private:
    bool parseHeader(std::uint64_t& tensorCount, std::uint64_t& kvCount);
    bool parseKv();
    bool parseValue(GgufValueType type, GgufValue& out, const std::string& key, std::uint64_t at);
    bool parseArray(GgufValue& out, const std::string& key);
    bool parseBool(bool& out, const std::string& key);
    bool parseTensorInfo(GgufTensorInfo& t);
    bool applyAlignment();
    bool placeTensors(const std::byte* base);

    GgufParseOutput& m_out;
    Cursor m_c;
    const std::byte* m_base;
    std::unordered_set<std::string> m_keys;
};

Status Parser::run() {
    std::uint64_t tensorCount = 0, kvCount = 0;
    if (!parseHeader(tensorCount, kvCount)) return m_c.takeError();
    // Containers grow as entries are actually parsed (a reservation capped at kReserveCap), so
    // a lying count fails on truncation before it costs memory.
    m_out.kv.reserve(static_cast<std::size_t>(std::min(kvCount, kReserveCap)));
    for (std::uint64_t i = 0; i < kvCount; ++i) {
        if (!parseKv()) return m_c.takeError();
    }
    if (!applyAlignment()) return m_c.takeError();
    m_out.tensors.reserve(static_cast<std::size_t>(std::min(tensorCount, kReserveCap)));
    for (std::uint64_t i = 0; i < tensorCount; ++i) {
        GgufTensorInfo t;
        if (!parseTensorInfo(t)) return m_c.takeError();
        m_out.tensors.push_back(std::move(t));
    }
    if (!placeTensors(m_base)) return m_c.takeError();
    return Ok{};
}

bool Parser::parseHeader(std::uint64_t& tensorCount, std::uint64_t& kvCount) {
    std::uint32_t magic = 0;
    if (!m_c.read(magic, "magic")) return false;
    if (magic != kMagic) {
        m_c.fail(invalid("not a GGUF file: bad magic " + hex32(magic) +
                         " at offset 0 (expected 0x46554747, \"GGUF\")"));
        return false;
    }
    if (!m_c.read(m_out.version, "version")) return false;
    if (m_out.version != 2 && m_out.version != 3) {
        m_c.fail(makeError(ErrorCode::Unsupported, "unsupported GGUF version " +
                           std::to_string(m_out.version) + " (supported: 2, 3)"));
        return false;
    }
    if (!m_c.read(tensorCount, "tensor count") || !m_c.read(kvCount, "metadata key/value count"))
        return false;
    // Each key/value takes >= 13 bytes (key length, type, 1-byte value); each tensor info
    // >= 32 bytes (name length, n_dims, one dim, type, offset).
    if (kvCount > m_c.remaining() / 13) {
        m_c.fail(invalid("metadata key/value count " + std::to_string(kvCount) +
                         " at offset 16 exceeds what the remaining " +
                         std::to_string(m_c.remaining()) + " bytes can hold"));
        return false;
    }
    if (tensorCount > m_c.remaining() / 32) {
        m_c.fail(invalid("tensor count " + std::to_string(tensorCount) +
                         " at offset 8 exceeds what the remaining " +
                         std::to_string(m_c.remaining()) + " bytes can hold"));
        return false;
    }
    return true;
}

bool Parser::parseKv() {
    const std::uint64_t at = m_c.pos();
    std::string key;
    if (!m_c.readString(key, "metadata key")) return false;
    if (!m_keys.insert(key).second) {
        m_c.fail(invalid("duplicate metadata key '" + key + "' at offset " + std::to_string(at)));
        return false;
    }
    std::uint32_t typeId = 0;
    const std::uint64_t typeAt = m_c.pos();
    if (!m_c.read(typeId, "value type of key '" + key + "'")) return false;
    GgufValue value;
    if (!parseValue(static_cast<GgufValueType>(typeId), value, key, typeAt)) return false;
    m_out.kv.emplace_back(std::move(key), std::move(value));
    return true;
}

bool Parser::parseBool(bool& out, const std::string& key) {
    const std::uint64_t at = m_c.pos();
    std::uint8_t b = 0;
    if (!m_c.read(b, "bool value of key '" + key + "'")) return false;
    if (b > 1) {
        m_c.fail(invalid("key '" + key + "': bool value " + std::to_string(b) + " at offset " +
                         std::to_string(at) + " is not 0 or 1"));
        return false;
    }
    out = b != 0;
    return true;
}

bool Parser::parseValue(GgufValueType type, GgufValue& out, const std::string& key,
                        std::uint64_t at) {
    const std::string what = "value of key '" + key + "'";
    auto scalar = [&](auto zero) {
        if (!m_c.read(zero, what)) return false;
        out = GgufValue(zero);
        return true;
    };
    switch (type) {
        case GgufValueType::UInt8: return scalar(std::uint8_t{});
        case GgufValueType::Int8: return scalar(std::int8_t{});
        case GgufValueType::UInt16: return scalar(std::uint16_t{});
        case GgufValueType::Int16: return scalar(std::int16_t{});
        case GgufValueType::UInt32: return scalar(std::uint32_t{});
        case GgufValueType::Int32: return scalar(std::int32_t{});
        case GgufValueType::Float32: return scalar(float{});
        case GgufValueType::UInt64: return scalar(std::uint64_t{});
        case GgufValueType::Int64: return scalar(std::int64_t{});
        case GgufValueType::Float64: return scalar(double{});
        case GgufValueType::Bool: {
            bool b = false;
            if (!parseBool(b, key)) return false;
            out = GgufValue(b);
            return true;
        }
        case GgufValueType::String: {
            std::string s;
            if (!m_c.readString(s, what)) return false;
            out = GgufValue(std::move(s));
            return true;
        }
        case GgufValueType::Array: return parseArray(out, key);
    }
    m_c.fail(invalid("key '" + key + "': unknown value type " +
                     std::to_string(static_cast<std::uint32_t>(type)) + " at offset " +
                     std::to_string(at)));
    return false;
}

bool Parser::parseArray(GgufValue& out, const std::string& key) {
    const std::uint64_t at = m_c.pos();
    std::uint32_t typeId = 0;
    std::uint64_t n = 0;
    if (!m_c.read(typeId, "array element type of key '" + key + "'")) return false;
    const auto type = static_cast<GgufValueType>(typeId);
    if (typeId > static_cast<std::uint32_t>(GgufValueType::Float64)) {
        m_c.fail(invalid("key '" + key + "': unknown array element type " +
                         std::to_string(typeId) + " at offset " + std::to_string(at)));
        return false;
    }
    if (type == GgufValueType::Array) {
        m_c.fail(makeError(ErrorCode::Unsupported, "key '" + key + "': nested arrays (at offset " +
                           std::to_string(at) + ") are not supported"));
        return false;
    }
    if (!m_c.read(n, "array length of key '" + key + "'")) return false;
    if (n > m_c.remaining() / minEncodedSize(type)) {
        m_c.fail(invalid("key '" + key + "': array length " + std::to_string(n) + " at offset " +
                         std::to_string(at + 4) + " exceeds the remaining " +
                         std::to_string(m_c.remaining()) + " bytes"));
        return false;
    }
    const std::string what = "element of array '" + key + "'";
    GgufArray arr;
    bool ok = true;
    switch (type) {
        case GgufValueType::UInt8: ok = readScalarArray<std::uint8_t>(m_c, n, arr, what); break;
        case GgufValueType::Int8: ok = readScalarArray<std::int8_t>(m_c, n, arr, what); break;
        case GgufValueType::UInt16: ok = readScalarArray<std::uint16_t>(m_c, n, arr, what); break;
        case GgufValueType::Int16: ok = readScalarArray<std::int16_t>(m_c, n, arr, what); break;
        case GgufValueType::UInt32: ok = readScalarArray<std::uint32_t>(m_c, n, arr, what); break;
        case GgufValueType::Int32: ok = readScalarArray<std::int32_t>(m_c, n, arr, what); break;
        case GgufValueType::Float32: ok = readScalarArray<float>(m_c, n, arr, what); break;
        case GgufValueType::UInt64: ok = readScalarArray<std::uint64_t>(m_c, n, arr, what); break;
        case GgufValueType::Int64: ok = readScalarArray<std::int64_t>(m_c, n, arr, what); break;
        case GgufValueType::Float64: ok = readScalarArray<double>(m_c, n, arr, what); break;
        case GgufValueType::Bool: {
            std::vector<bool> v(static_cast<std::size_t>(n));
            for (std::size_t i = 0; ok && i < v.size(); ++i) {
                bool b = false;
                ok = parseBool(b, key);
                v[i] = b;
            }
            arr = GgufArray(std::move(v));
            break;
        }
        case GgufValueType::String: {
            // Grown as read: 32 bytes per std::string against >= 8 on disk would let a bogus
            // length claim 4x the file's size up front.
            std::vector<std::string> v;
            v.reserve(static_cast<std::size_t>(std::min<std::uint64_t>(n, 1 << 16)));
            std::string s;
            for (std::uint64_t i = 0; ok && i < n; ++i) {
                ok = m_c.readString(s, what);
                v.push_back(std::move(s));
            }
            arr = GgufArray(std::move(v));
            break;
        }
        case GgufValueType::Array: break;  // rejected above
    }
    if (!ok) return false;
    out = GgufValue(std::move(arr));
    return true;
}

bool Parser::applyAlignment() {
    for (const auto& [key, value] : m_out.kv) {
        if (key != "general.alignment") continue;
        const auto* a = std::get_if<std::uint32_t>(&value.data);
        if (a == nullptr) {
            m_c.fail(invalid("general.alignment must be uint32, got " +
                             std::string(ggufValueTypeName(value.type))));
            return false;
        }
        if (*a == 0 || (*a & (*a - 1)) != 0) {
            m_c.fail(invalid("general.alignment must be a nonzero power of two, got " +
                             std::to_string(*a)));
            return false;
        }
        m_out.alignment = *a;
    }
    return true;
}

bool Parser::parseTensorInfo(GgufTensorInfo& t) {
    const std::uint64_t at = m_c.pos();
    if (!m_c.readString(t.name, "tensor name")) return false;
    const std::string tn = "tensor '" + t.name + "'";
    std::uint32_t nDims = 0;
    if (!m_c.read(nDims, "n_dims of " + tn)) return false;
    if (nDims < 1 || nDims > kMaxDims) {
        m_c.fail(invalid(tn + " (info at offset " + std::to_string(at) + "): n_dims " +
                         std::to_string(nDims) + " is out of range 1..4"));
        return false;
    }
    t.dims.resize(nDims);
    std::uint64_t count = 1;
    for (std::uint32_t d = 0; d < nDims; ++d) {
        if (!m_c.read(t.dims[d], "dimension of " + tn)) return false;
        const std::uint64_t ne = t.dims[d];
        const auto maxCount = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
        if (ne > maxCount || (ne != 0 && count > maxCount / ne)) {
            m_c.fail(invalid(tn + ": element count overflows (dimension " + std::to_string(d) +
                             " = " + std::to_string(ne) + ")"));
            return false;
        }
        count *= ne;
    }
    std::uint32_t typeId = 0;
    const std::uint64_t typeAt = m_c.pos();
    if (!m_c.read(typeId, "type of " + tn)) return false;
    const auto type = ggmlTypeFromId(typeId);
    if (!type) {
        m_c.fail(makeError(ErrorCode::Unsupported, tn + ": unknown tensor type id " +
                           std::to_string(typeId) + " at offset " + std::to_string(typeAt)));
        return false;
    }
    t.type = *type;
    const auto block = static_cast<std::uint64_t>(ggmlTypeBlockSize(t.type));
    const auto bytes = static_cast<std::uint64_t>(ggmlTypeBytesPerBlock(t.type));
    if (t.dims[0] % block != 0) {
        m_c.fail(invalid(tn + ": dimension 0 (" + std::to_string(t.dims[0]) +
                         ") is not a multiple of the block size " + std::to_string(block) +
                         " of type " + std::string(ggmlTypeName(t.type))));
        return false;
    }
    if (count / block > std::numeric_limits<std::uint64_t>::max() / bytes) {
        m_c.fail(invalid(tn + ": data size overflows"));
        return false;
    }
    t.sizeBytes = count / block * bytes;
    return m_c.read(t.offset, "data offset of " + tn);
}

bool Parser::placeTensors(const std::byte* base) {
    std::unordered_set<std::string_view> names;
    for (const auto& t : m_out.tensors) {
        if (!names.insert(t.name).second) {
            m_c.fail(invalid("duplicate tensor name '" + t.name + "'"));
            return false;
        }
    }
    const std::uint64_t a = m_out.alignment;
    const std::uint64_t end = m_c.pos();
    const std::uint64_t fileSize = m_c.size();
    // end <= fileSize, a <= 2^31, so this cannot overflow.
    m_out.dataOffset = (end + a - 1) / a * a;
    const std::uint64_t dataSize = m_out.dataOffset <= fileSize ? fileSize - m_out.dataOffset : 0;
    std::vector<const GgufTensorInfo*> byOffset;
    for (auto& t : m_out.tensors) {
        const std::string tn = "tensor '" + t.name + "'";
        if (t.offset % a != 0) {
            m_c.fail(invalid(tn + ": data offset " + std::to_string(t.offset) +
                             " is not a multiple of the alignment " + std::to_string(a)));
            return false;
        }
        if (t.offset > dataSize || t.sizeBytes > dataSize - t.offset) {
            m_c.fail(invalid(tn + ": data [" + std::to_string(t.offset) + ", +" +
                             std::to_string(t.sizeBytes) + ") runs past the end of the file (" +
                             "data section at offset " + std::to_string(m_out.dataOffset) +
                             " holds " + std::to_string(dataSize) + " bytes)"));
            return false;
        }
        // An empty tensor may sit at the very end; keep its pointer inside [base, base + size].
        t.data = base + std::min(m_out.dataOffset + t.offset, fileSize);
        byOffset.push_back(&t);
    }
    std::sort(byOffset.begin(), byOffset.end(),
              [](const auto* x, const auto* y) { return x->offset < y->offset; });
    for (std::size_t i = 1; i < byOffset.size(); ++i) {
        const auto* prev = byOffset[i - 1];
        if (prev->offset + prev->sizeBytes > byOffset[i]->offset) {
            m_c.fail(invalid("tensor '" + byOffset[i]->name + "': data at offset " +
                             std::to_string(byOffset[i]->offset) + " overlaps tensor '" +
                             prev->name + "'"));
            return false;
        }
    }
    return true;
}

}  // namespace

Result<std::unique_ptr<GgufFile>> GgufParser::parse(std::unique_ptr<MappedFile> file) {
    GgufParseOutput out;
    Parser parser(out, file->data(), file->size());
    Status st = parser.run();
    if (!st.ok()) return st.error();
    std::unique_ptr<GgufFile> result(new GgufFile());
    result->m_version = out.version;
    result->m_alignment = out.alignment;
    result->m_dataOffset = out.dataOffset;
    result->m_kv = std::move(out.kv);
    result->m_tensors = std::move(out.tensors);
    result->m_file = std::move(file);
    // Build the indexes only now: the views point into strings that no longer move.
    for (std::size_t i = 0; i < result->m_kv.size(); ++i) result->m_kvIndex.emplace(result->m_kv[i].first, i);
    for (std::size_t i = 0; i < result->m_tensors.size(); ++i)
        result->m_tensorIndex.emplace(result->m_tensors[i].name, i);
    return result;
}

}  // namespace batchscope::engine
