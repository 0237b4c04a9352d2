// SPDX-License-Identifier: GPL-3.0-or-later
#include "engine/model/gguf_file.h"

#include <limits>
#include <type_traits>

#include "engine/model/gguf_parser.h"
#include "engine/model/mapped_file.h"

namespace batchscope::engine {

namespace {

constexpr auto kInt64Max = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());

template <typename T>
constexpr bool kIsInteger = std::is_integral_v<T> && !std::is_same_v<T, bool>;

template <typename T>
std::optional<std::int64_t> toInt64(T v) {
    if constexpr (std::is_same_v<T, std::uint64_t>) {
        if (v > kInt64Max) return std::nullopt;
    }
    return static_cast<std::int64_t>(v);
}

}  // namespace

std::uint64_t GgufTensorInfo::elementCount() const {
    std::uint64_t n = 1;
    for (auto d : dims) n *= d;  // overflow excluded at parse time
    return n;
}

GgufFile::~GgufFile() = default;

Result<std::unique_ptr<GgufFile>> GgufFile::open(const std::string& path) {
    auto file = MappedFile::open(path);
    if (!file.ok()) return file.error();
    auto parsed = GgufParser::parse(std::move(file).value());
    if (!parsed.ok()) return makeError(parsed.error().code, path + ": " + parsed.error().message);
    return parsed;
}

Result<std::unique_ptr<GgufFile>> GgufFile::fromBytes(std::vector<std::uint8_t> bytes) {
    return GgufParser::parse(MappedFile::fromBytes(std::move(bytes)));
}

std::uint64_t GgufFile::fileSize() const { return m_file->size(); }

const std::string& GgufFile::path() const { return m_file->path(); }

const GgufValue* GgufFile::find(std::string_view key) const {
    auto it = m_kvIndex.find(key);
    return it == m_kvIndex.end() ? nullptr : &m_kv[it->second].second;
}

std::optional<std::string> GgufFile::getString(std::string_view key) const {
    const GgufValue* v = find(key);
    if (v == nullptr || v->string() == nullptr) return std::nullopt;
    return *v->string();
}

std::optional<std::int64_t> GgufFile::getInt(std::string_view key) const {
    const GgufValue* v = find(key);
    if (v == nullptr) return std::nullopt;
    return std::visit(
        [](const auto& x) -> std::optional<std::int64_t> {
            using T = std::decay_t<decltype(x)>;
            if constexpr (kIsInteger<T>) {
                return toInt64(x);
            } else {
                return std::nullopt;
            }
        },
        v->data);
}

std::optional<double> GgufFile::getFloat(std::string_view key) const {
    const GgufValue* v = find(key);
    if (v == nullptr) return std::nullopt;
    return std::visit(
        [](const auto& x) -> std::optional<double> {
            using T = std::decay_t<decltype(x)>;
            if constexpr (kIsInteger<T> || std::is_floating_point_v<T>) {
                return static_cast<double>(x);
            } else {
                return std::nullopt;
            }
        },
        v->data);
}

std::optional<bool> GgufFile::getBool(std::string_view key) const {
    const GgufValue* v = find(key);
    if (v == nullptr) return std::nullopt;
    if (const auto* b = std::get_if<bool>(&v->data)) return *b;
    return std::nullopt;
}

const std::vector<std::string>* GgufFile::getStringArray(std::string_view key) const {
    const GgufValue* v = find(key);
    const GgufArray* a = v ? v->array() : nullptr;
    return a ? std::get_if<std::vector<std::string>>(&a->data) : nullptr;
}

std::optional<std::vector<float>> GgufFile::getFloatArray(std::string_view key) const {
    const GgufValue* v = find(key);
    const GgufArray* a = v ? v->array() : nullptr;
    if (a == nullptr) return std::nullopt;
    return std::visit(
        [](const auto& vec) -> std::optional<std::vector<float>> {
            using V = std::decay_t<decltype(vec)>;
            if constexpr (std::is_same_v<V, std::monostate> ||
                          std::is_same_v<V, std::vector<std::string>> ||
                          std::is_same_v<V, std::vector<bool>>) {
                return std::nullopt;
            } else {
                return std::vector<float>(vec.begin(), vec.end());
            }
        },
        a->data);
}

std::optional<std::vector<std::int64_t>> GgufFile::getIntArray(std::string_view key) const {
    const GgufValue* v = find(key);
    const GgufArray* a = v ? v->array() : nullptr;
    if (a == nullptr) return std::nullopt;
    return std::visit(
        [](const auto& vec) -> std::optional<std::vector<std::int64_t>> {
            using V = std::decay_t<decltype(vec)>;
            if constexpr (std::is_same_v<V, std::monostate> ||
                          std::is_same_v<V, std::vector<std::string>> ||
                          std::is_same_v<V, std::vector<float>> ||
                          std::is_same_v<V, std::vector<double>>) {
                return std::nullopt;
            } else {
                std::vector<std::int64_t> out;
                out.reserve(vec.size());
                for (auto x : vec) {
                    if constexpr (std::is_same_v<V, std::vector<std::uint64_t>>) {
                        if (x > kInt64Max) return std::nullopt;
                    }
                    out.push_back(static_cast<std::int64_t>(x));
                }
                return out;
            }
        },
        a->data);
}

const GgufTensorInfo* GgufFile::findTensor(std::string_view name) const {
    auto it = m_tensorIndex.find(name);
    return it == m_tensorIndex.end() ? nullptr : &m_tensors[it->second];
}

std::vector<std::string> GgufFile::keys() const {
    std::vector<std::string> out;
    out.reserve(m_kv.size());
    for (const auto& kv : m_kv) out.push_back(kv.first);
    return out;
}

}  // namespace batchscope::engine
