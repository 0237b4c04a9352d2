// SPDX-License-Identifier: GPL-3.0-or-later
#include "engine/model/cpu/weight_types.h"

#include "engine/model/cpu/quant_types.h"

#include <algorithm>
#include <cmath>

namespace batchscope::engine::cpu {

std::string_view weightTypeName(WeightType type) { return quantTraits(type).name; }

std::size_t weightRowBytes(WeightType type, std::int64_t cols) {
    const QuantTraits& t = quantTraits(type);
    return static_cast<std::size_t>(cols / t.blockElements) * static_cast<std::size_t>(t.blockBytes);
}

float halfToFloat(std::uint16_t h) {
    const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000u) << 16;
    const std::uint32_t exp = (h >> 10) & 0x1fu;
    std::uint32_t mant = h & 0x3ffu;
    std::uint32_t bits;
    if (exp == 0) {
        if (mant == 0) {
            bits = sign;
        } else {  // subnormal: normalise
            int e = -1;
            do {
                ++e;
                mant <<= 1;
            } while ((mant & 0x400u) == 0);
            bits = sign | (static_cast<std::uint32_t>(127 - 15 - e) << 23) | ((mant & 0x3ffu) << 13);
        }
    } else if (exp == 31) {
        bits = sign | 0x7f800000u | (mant << 13);
    } else {
        bits = sign | ((exp + 127 - 15) << 23) | (mant << 13);
    }
    float f;
    std::memcpy(&f, &bits, sizeof f);
    return f;
}

std::uint16_t floatToHalf(float f) {
    std::uint32_t x;
    std::memcpy(&x, &f, sizeof x);
    const std::uint32_t sign = (x >> 16) & 0x8000u;
    const std::uint32_t absx = x & 0x7fffffffu;
    if (absx >= 0x7f800000u) {  // inf or nan
        return static_cast<std::uint16_t>(sign | 0x7c00u | (absx > 0x7f800000u ? 0x200u : 0u));
    }
    if (absx >= 0x477ff000u) return static_cast<std::uint16_t>(sign | 0x7c00u);  // overflow
    if (absx < 0x38800000u) {  // subnormal half or zero: round absx * 2^24 to an integer
        float a;
        std::memcpy(&a, &absx, sizeof a);
        const auto m = static_cast<std::uint32_t>(std::nearbyint(a * 16777216.0f));
        return static_cast<std::uint16_t>(sign | m);
    }
    const std::uint32_t mant = absx & 0x7fffffu;
    std::uint32_t h = ((absx >> 23) - 112) << 10 | (mant >> 13);
    const std::uint32_t rest = mant & 0x1fffu;
    if (rest > 0x1000u || (rest == 0x1000u && (h & 1u))) ++h;  // carries into the exponent
    return static_cast<std::uint16_t>(sign | h);
}

std::uint16_t floatToBf16(float f) {
    std::uint32_t x;
    std::memcpy(&x, &f, sizeof x);
    if ((x & 0x7fffffffu) > 0x7f800000u) return static_cast<std::uint16_t>((x >> 16) | 0x40u);
    x += 0x7fffu + ((x >> 16) & 1u);
    return static_cast<std::uint16_t>(x >> 16);
}

void dequantizeRow(WeightType type, const std::byte* row, std::int64_t cols, float* out) {
    switch (type) {
    case WeightType::F32:
        std::memcpy(out, row, static_cast<std::size_t>(cols) * 4);
        return;
    case WeightType::F16:
    case WeightType::BF16:
        for (std::int64_t i = 0; i < cols; ++i) {
            std::uint16_t v;
            std::memcpy(&v, row + 2 * i, 2);
            out[i] = type == WeightType::F16 ? halfToFloat(v) : bf16ToFloat(v);
        }
        return;
    default:
        quantTraits(type).dequantizeRow(row, out, cols);
        return;
    }
}

void quantizeRow(WeightType type, const float* in, std::int64_t cols, std::byte* out) {
    switch (type) {
    case WeightType::F32:
        std::memcpy(out, in, static_cast<std::size_t>(cols) * 4);
        return;
    case WeightType::F16:
    case WeightType::BF16:
        for (std::int64_t i = 0; i < cols; ++i) {
            const std::uint16_t v = type == WeightType::F16 ? floatToHalf(in[i]) : floatToBf16(in[i]);
            std::memcpy(out + 2 * i, &v, 2);
        }
        return;
    default:
        quantTraits(type).quantizeRow(in, out, cols);
        return;
    }
}

void quantizeActivations(const float* in, std::int64_t cols, ActivationQ8* out) {
    for (std::int64_t b = 0; b < cols / kQBlock; ++b) {
        const float* x = in + b * kQBlock;
        float amax = 0.0f;
        for (int i = 0; i < kQBlock; ++i) amax = std::max(amax, std::fabs(x[i]));
        const float d = amax / 127.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        out[b].d = d;
        for (int i = 0; i < kQBlock; ++i)
            out[b].qs[i] = static_cast<std::int8_t>(std::nearbyint(x[i] * id));
    }
}

}  // namespace batchscope::engine::cpu
