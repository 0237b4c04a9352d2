// GGUF value and ggml tensor type definitions shared by the GGUF reader and writer.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

namespace batchscope::engine {

/// ggml tensor element types, with ggml's numeric ids (ids 4, 5 and 31..33, 36..38 were
/// removed upstream and are unknown here).
enum class GgmlType : std::uint32_t {
    F32 = 0, F16 = 1, Q4_0 = 2, Q4_1 = 3, Q5_0 = 6, Q5_1 = 7, Q8_0 = 8, Q8_1 = 9,
    Q2_K = 10, Q3_K = 11, Q4_K = 12, Q5_K = 13, Q6_K = 14, Q8_K = 15,
    IQ2_XXS = 16, IQ2_XS = 17, IQ3_XXS = 18, IQ1_S = 19, IQ4_NL = 20, IQ3_S = 21, IQ2_S = 22,
    IQ4_XS = 23, I8 = 24, I16 = 25, I32 = 26, I64 = 27, F64 = 28, IQ1_M = 29, BF16 = 30,
    TQ1_0 = 34, TQ2_0 = 35, MXFP4 = 39,
};

/// "F32", "Q4_0", ...; "unknown" for a value outside the enum.
std::string_view ggmlTypeName(GgmlType type);
/// nullopt for ids we do not know.
std::optional<GgmlType> ggmlTypeFromId(std::uint32_t id);
/// Elements per block (1 for the plain types, 32 or 256 for quantized ones).
std::int64_t ggmlTypeBlockSize(GgmlType type);
/// Bytes per block (F32: 4, F16/BF16: 2, Q8_0: 34, Q4_0: 18, Q4_K: 144, ...).
std::int64_t ggmlTypeBytesPerBlock(GgmlType type);

/// GGUF metadata value types with their on-disk ids.
enum class GgufValueType : std::uint32_t {
    UInt8 = 0, Int8 = 1, UInt16 = 2, Int16 = 3, UInt32 = 4, Int32 = 5, Float32 = 6, Bool = 7,
    String = 8, Array = 9, UInt64 = 10, Int64 = 11, Float64 = 12,
};

/// "uint8", "string", "array", ...; "unknown" otherwise.
std::string_view ggufValueTypeName(GgufValueType type);

/// The elements of a GGUF array. The alternative index equals the element type's id
/// (index 9, Array, is std::monostate: nested arrays are not supported).
using GgufArrayData = std::variant<std::vector<std::uint8_t>, std::vector<std::int8_t>,
    std::vector<std::uint16_t>, std::vector<std::int16_t>, std::vector<std::uint32_t>,
    std::vector<std::int32_t>, std::vector<float>, std::vector<bool>, std::vector<std::string>,
    std::monostate, std::vector<std::uint64_t>, std::vector<std::int64_t>, std::vector<double>>;

/// A typed array value. Invariant: elementType == GgufValueType(data.index()), never Array.
struct GgufArray {
    GgufValueType elementType = GgufValueType::UInt8;
    GgufArrayData data;

    GgufArray() = default;
    /// Sets elementType from the vector's type, e.g. GgufArray(std::vector<float>{...}).
    template <typename Vec>
        requires std::is_constructible_v<GgufArrayData, Vec>
    explicit GgufArray(Vec v) : data(std::move(v)) {
        elementType = static_cast<GgufValueType>(data.index());
    }
    std::size_t size() const;
};

/// The value of one metadata key. The alternative index equals the type's id.
using GgufValueData = std::variant<std::uint8_t, std::int8_t, std::uint16_t, std::int16_t,
    std::uint32_t, std::int32_t, float, bool, std::string, GgufArray, std::uint64_t,
    std::int64_t, double>;

/// A metadata value. Invariant: type == GgufValueType(data.index()). Construct from an exact
/// alternative type: GgufValue(std::uint32_t{7}), GgufValue(std::string("x")),
/// GgufValue(GgufArray(std::vector<std::string>{...})).
struct GgufValue {
    GgufValueType type = GgufValueType::UInt8;
    GgufValueData data;

    GgufValue() = default;
    template <typename T>
        requires(!std::is_same_v<std::decay_t<T>, GgufValue> &&
                 std::is_constructible_v<GgufValueData, T>)
    explicit GgufValue(T v) : data(std::move(v)) {
        type = static_cast<GgufValueType>(data.index());
    }

    const GgufArray* array() const { return std::get_if<GgufArray>(&data); }
    const std::string* string() const { return std::get_if<std::string>(&data); }
};

}  // namespace batchscope::engine
