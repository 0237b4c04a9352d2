// SPDX-License-Identifier: GPL-3.0-or-later
#include "engine/model/gguf_types.h"

#include <array>

namespace batchscope::engine {

namespace {

struct TypeTraits {
    GgmlType type;
    std::string_view name;
    std::int64_t blockSize;
    std::int64_t bytesPerBlock;
};

// Block layouts as in ggml-common.h (QK_K = 256).
constexpr std::array<TypeTraits, 32> kTypes = {{
    {GgmlType::F32, "F32", 1, 4},         {GgmlType::F16, "F16", 1, 2},
    {GgmlType::Q4_0, "Q4_0", 32, 18},     {GgmlType::Q4_1, "Q4_1", 32, 20},
    {GgmlType::Q5_0, "Q5_0", 32, 22},     {GgmlType::Q5_1, "Q5_1", 32, 24},
    {GgmlType::Q8_0, "Q8_0", 32, 34},     {GgmlType::Q8_1, "Q8_1", 32, 36},
    {GgmlType::Q2_K, "Q2_K", 256, 84},    {GgmlType::Q3_K, "Q3_K", 256, 110},
    {GgmlType::Q4_K, "Q4_K", 256, 144},   {GgmlType::Q5_K, "Q5_K", 256, 176},
    {GgmlType::Q6_K, "Q6_K", 256, 210},   {GgmlType::Q8_K, "Q8_K", 256, 292},
    {GgmlType::IQ2_XXS, "IQ2_XXS", 256, 66}, {GgmlType::IQ2_XS, "IQ2_XS", 256, 74},
    {GgmlType::IQ3_XXS, "IQ3_XXS", 256, 98}, {GgmlType::IQ1_S, "IQ1_S", 256, 50},
    {GgmlType::IQ4_NL, "IQ4_NL", 32, 18},  {GgmlType::IQ3_S, "IQ3_S", 256, 110},
    {GgmlType::IQ2_S, "IQ2_S", 256, 82},   {GgmlType::IQ4_XS, "IQ4_XS", 256, 136},
    {GgmlType::I8, "I8", 1, 1},            {GgmlType::I16, "I16", 1, 2},
    {GgmlType::I32, "I32", 1, 4},          {GgmlType::I64, "I64", 1, 8},
    {GgmlType::F64, "F64", 1, 8},          {GgmlType::IQ1_M, "IQ1_M", 256, 56},
    {GgmlType::BF16, "BF16", 1, 2},        {GgmlType::TQ1_0, "TQ1_0", 256, 54},
    {GgmlType::TQ2_0, "TQ2_0", 256, 66},   {GgmlType::MXFP4, "MXFP4", 32, 17},
}};

const TypeTraits* traits(GgmlType type) {
    for (const auto& t : kTypes) {
        if (t.type == type) return &t;
    }
    return nullptr;
}

}  // namespace

std::string_view ggmlTypeName(GgmlType type) {
    const TypeTraits* t = traits(type);
    return t ? t->name : std::string_view("unknown");
}

std::optional<GgmlType> ggmlTypeFromId(std::uint32_t id) {
    const auto type = static_cast<GgmlType>(id);
    if (traits(type) == nullptr) return std::nullopt;
    return type;
}

std::int64_t ggmlTypeBlockSize(GgmlType type) {
    const TypeTraits* t = traits(type);
    return t ? t->blockSize : 0;
}

std::int64_t ggmlTypeBytesPerBlock(GgmlType type) {
    const TypeTraits* t = traits(type);
    return t ? t->bytesPerBlock : 0;
}

std::string_view ggufValueTypeName(GgufValueType type) {
    static constexpr std::array<std::string_view, 13> kNames = {"uint8", "int8", "uint16",
        "int16", "uint32", "int32", "float32", "bool", "string", "array", "uint64", "int64",
        "float64"};
    const auto i = static_cast<std::uint32_t>(type);
    return i < kNames.size() ? kNames[i] : std::string_view("unknown");
}

std::size_t GgufArray::size() const {
    return std::visit(
        [](const auto& v) -> std::size_t {
            if constexpr (std::is_same_v<std::decay_t<decltype(v)>, std::monostate>) {
                return 0;
            } else {
                return v.size();
            }
        },
        data);
}

}  // namespace batchscope::engine
