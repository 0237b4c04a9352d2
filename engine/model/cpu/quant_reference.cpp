// SPDX-License-Identifier: GPL-3.0-or-later
// The scalar reference of every quantised type: each block is unpacked into integer levels q,
// one scale and one min per sub-block (value = scale * q - min), and dequantisation and both
// dot products are written once on top of that. The per-type unpackers follow ggml's
// dequantize_row_* exactly, so dequantised values are bit-identical to ggml's.
#include <algorithm>
#include <array>
#include <cstring>

#include "engine/model/cpu/quant_types.h"
#include "engine/model/cpu/matmul_kernels.h"

namespace batchscope::engine::cpu {

// Quantisers (quant_quantize.cpp).
void quantizeRowQ4_0(const float*, std::byte*, std::int64_t);
void quantizeRowQ4_1(const float*, std::byte*, std::int64_t);
void quantizeRowQ5_0(const float*, std::byte*, std::int64_t);
void quantizeRowQ5_1(const float*, std::byte*, std::int64_t);
void quantizeRowQ8_0(const float*, std::byte*, std::int64_t);
void quantizeRowIQ4_NL(const float*, std::byte*, std::int64_t);
void quantizeRowQ2_K(const float*, std::byte*, std::int64_t);
void quantizeRowQ3_K(const float*, std::byte*, std::int64_t);
void quantizeRowQ4_K(const float*, std::byte*, std::int64_t);
void quantizeRowQ5_K(const float*, std::byte*, std::int64_t);
void quantizeRowQ6_K(const float*, std::byte*, std::int64_t);
void quantizeRowIQ4_XS(const float*, std::byte*, std::int64_t);

namespace {

/// One block in unpacked form: value i = scale[i / sub] * q[i] - min[i / sub].
struct Unpacked {
    std::int8_t q[kQK];
    float scale[kQK / 16];
    float min[kQK / 16];
};

template <typename B>
B load(const std::byte* p) {
    B b;
    std::memcpy(&b, p, sizeof b);
    return b;
}

void unpackQ4_0(const BlockQ4_0& b, Unpacked& u) {
    for (int i = 0; i < 16; ++i) {
        u.q[i] = static_cast<std::int8_t>((b.qs[i] & 0xF) - 8);
        u.q[i + 16] = static_cast<std::int8_t>((b.qs[i] >> 4) - 8);
    }
    u.scale[0] = halfToFloat(b.d);
    u.min[0] = 0.0f;
}

void unpackQ4_1(const BlockQ4_1& b, Unpacked& u) {
    for (int i = 0; i < 16; ++i) {
        u.q[i] = static_cast<std::int8_t>(b.qs[i] & 0xF);
        u.q[i + 16] = static_cast<std::int8_t>(b.qs[i] >> 4);
    }
    u.scale[0] = halfToFloat(b.d);
    u.min[0] = -halfToFloat(b.m);  // value = d * q + m
}

template <typename B>
void unpack5(const B& b, Unpacked& u, int offset) {
    std::uint32_t qh;
    std::memcpy(&qh, b.qh, 4);
    for (int i = 0; i < 16; ++i) {
        const int lo = (b.qs[i] & 0xF) | static_cast<int>(((qh >> i) & 1u) << 4);
        const int hi = (b.qs[i] >> 4) | static_cast<int>(((qh >> (i + 16)) & 1u) << 4);
        u.q[i] = static_cast<std::int8_t>(lo - offset);
        u.q[i + 16] = static_cast<std::int8_t>(hi - offset);
    }
}

void unpackQ5_0(const BlockQ5_0& b, Unpacked& u) {
    unpack5(b, u, 16);
    u.scale[0] = halfToFloat(b.d);
    u.min[0] = 0.0f;
}

void unpackQ5_1(const BlockQ5_1& b, Unpacked& u) {
    unpack5(b, u, 0);
    u.scale[0] = halfToFloat(b.d);
    u.min[0] = -halfToFloat(b.m);
}

void unpackQ8_0(const BlockQ8_0& b, Unpacked& u) {
    std::memcpy(u.q, b.qs, kQBlock);
    u.scale[0] = halfToFloat(b.d);
    u.min[0] = 0.0f;
}

void unpackIQ4_NL(const BlockIQ4_NL& b, Unpacked& u) {
    for (int i = 0; i < 16; ++i) {
        u.q[i] = kIq4nlValues[b.qs[i] & 0xF];
        u.q[i + 16] = kIq4nlValues[b.qs[i] >> 4];
    }
    u.scale[0] = halfToFloat(b.d);
    u.min[0] = 0.0f;
}

void unpackQ2_K(const BlockQ2_K& b, Unpacked& u) {
    const float d = halfToFloat(b.d), dmin = halfToFloat(b.dmin);
    for (int j = 0; j < 16; ++j) {
        u.scale[j] = d * static_cast<float>(b.scales[j] & 0xF);
        u.min[j] = dmin * static_cast<float>(b.scales[j] >> 4);
    }
    for (int half = 0; half < 2; ++half)          // 128 values per 32 bytes of qs
        for (int plane = 0; plane < 4; ++plane)   // bit pair 2 * plane
            for (int l = 0; l < 32; ++l)
                u.q[128 * half + 32 * plane + l] = static_cast<std::int8_t>((b.qs[32 * half + l] >> (2 * plane)) & 3);
}

void unpackQ3_K(const BlockQ3_K& b, Unpacked& u) {
    const float d = halfToFloat(b.d);
    for (int j = 0; j < 16; ++j) u.scale[j] = d * static_cast<float>(q3kScale(j, b.scales));
    for (int j = 0; j < 16; ++j) u.min[j] = 0.0f;
    for (int i = 0; i < kQK; ++i) {
        const int half = i / 128, plane = (i % 128) / 32, l = i % 32;
        const int low = (b.qs[32 * half + l] >> (2 * plane)) & 3;
        const bool high = (b.hmask[l] >> (i / 32)) & 1;  // element i: byte i % 32, bit i / 32
        u.q[i] = static_cast<std::int8_t>(low - (high ? 0 : 4));
    }
}

template <typename B>
void unpackK4Scales(const B& b, Unpacked& u) {
    const float d = halfToFloat(b.d), dmin = halfToFloat(b.dmin);
    for (int j = 0; j < 8; ++j) {
        std::uint8_t sc, m;
        unpackScaleMinK4(j, b.scales, &sc, &m);
        u.scale[j] = d * static_cast<float>(sc);
        u.min[j] = dmin * static_cast<float>(m);
    }
}

void unpackQ4_K(const BlockQ4_K& b, Unpacked& u) {
    unpackK4Scales(b, u);
    for (int c = 0; c < 4; ++c)  // 64-value chunks: low nibbles, then high nibbles
        for (int l = 0; l < 32; ++l) {
            u.q[64 * c + l] = static_cast<std::int8_t>(b.qs[32 * c + l] & 0xF);
            u.q[64 * c + 32 + l] = static_cast<std::int8_t>(b.qs[32 * c + l] >> 4);
        }
}

void unpackQ5_K(const BlockQ5_K& b, Unpacked& u) {
    unpackK4Scales(b, u);
    for (int c = 0; c < 4; ++c)
        for (int l = 0; l < 32; ++l) {
            const int hLo = (b.qh[l] >> (2 * c)) & 1, hHi = (b.qh[l] >> (2 * c + 1)) & 1;
            u.q[64 * c + l] = static_cast<std::int8_t>((b.qs[32 * c + l] & 0xF) | hLo << 4);
            u.q[64 * c + 32 + l] = static_cast<std::int8_t>((b.qs[32 * c + l] >> 4) | hHi << 4);
        }
}

void unpackQ6_K(const BlockQ6_K& b, Unpacked& u) {
    const float d = halfToFloat(b.d);
    for (int j = 0; j < 16; ++j) {
        u.scale[j] = d * static_cast<float>(b.scales[j]);
        u.min[j] = 0.0f;
    }
    for (int half = 0; half < 2; ++half) {
        const std::uint8_t* ql = b.ql + 64 * half;
        const std::uint8_t* qh = b.qh + 32 * half;
        std::int8_t* q = u.q + 128 * half;
        for (int l = 0; l < 32; ++l) {
            q[l] = static_cast<std::int8_t>(((ql[l] & 0xF) | ((qh[l] >> 0) & 3) << 4) - 32);
            q[l + 32] = static_cast<std::int8_t>(((ql[l + 32] & 0xF) | ((qh[l] >> 2) & 3) << 4) - 32);
            q[l + 64] = static_cast<std::int8_t>(((ql[l] >> 4) | ((qh[l] >> 4) & 3) << 4) - 32);
            q[l + 96] = static_cast<std::int8_t>(((ql[l + 32] >> 4) | ((qh[l] >> 6) & 3) << 4) - 32);
        }
    }
}

void unpackIQ4_XS(const BlockIQ4_XS& b, Unpacked& u) {
    const float d = halfToFloat(b.d);
    for (int ib = 0; ib < 8; ++ib) {
        const int ls = ((b.scales_l[ib / 2] >> (4 * (ib % 2))) & 0xF) | ((b.scales_h >> (2 * ib)) & 3) << 4;
        u.scale[ib] = d * static_cast<float>(ls - 32);
        u.min[ib] = 0.0f;
        for (int l = 0; l < 16; ++l) {
            u.q[32 * ib + l] = kIq4nlValues[b.qs[16 * ib + l] & 0xF];
            u.q[32 * ib + 16 + l] = kIq4nlValues[b.qs[16 * ib + l] >> 4];
        }
    }
}

/// Per-type glue: block struct, values per block, values per scale, unpacker.
template <typename B, int N, int Sub, void (*Unpack)(const B&, Unpacked&)>
struct Kind {
    static void dequantize(const std::byte* row, float* out, std::int64_t cols) {
        Unpacked u;
        for (std::int64_t b = 0; b < cols / N; ++b) {
            Unpack(load<B>(row + b * static_cast<std::int64_t>(sizeof(B))), u);
            for (int i = 0; i < N; ++i) out[b * N + i] = u.scale[i / Sub] * u.q[i] - u.min[i / Sub];
        }
    }
    static float dotF32(const std::byte* row, const float* x, std::int64_t cols) {
        float buf[N];
        float s = 0.0f;
        for (std::int64_t b = 0; b < cols / N; ++b) {
            dequantize(row + b * static_cast<std::int64_t>(sizeof(B)), buf, N);
            for (int i = 0; i < N; ++i) s += buf[i] * x[b * N + i];
        }
        return s;
    }
    /// Integer products per sub-block; min terms through the activation sums.
    static float dotQ8(const std::byte* row, const void* xq, std::int64_t cols) {
        Unpacked u;
        float s = 0.0f;
        for (std::int64_t b = 0; b < cols / N; ++b) {
            Unpack(load<B>(row + b * static_cast<std::int64_t>(sizeof(B))), u);
            if constexpr (N == kQBlock) {
                const ActivationQ8& a = static_cast<const ActivationQ8*>(xq)[b];
                std::int32_t isum = 0, qsum = 0;
                for (int i = 0; i < N; ++i) {
                    isum += u.q[i] * a.qs[i];
                    qsum += a.qs[i];
                }
                s += (u.scale[0] * a.d) * static_cast<float>(isum) - u.min[0] * a.d * static_cast<float>(qsum);
            } else {
                const BlockQ8_K& a = static_cast<const BlockQ8_K*>(xq)[b];
                float bs = 0.0f;
                for (int j = 0; j < N / Sub; ++j) {
                    std::int32_t isum = 0, qsum = 0;
                    for (int i = j * Sub; i < (j + 1) * Sub; ++i) isum += u.q[i] * a.qs[i];
                    for (int k = j * Sub / 16; k < (j + 1) * Sub / 16; ++k) qsum += a.bsums[k];
                    bs += u.scale[j] * static_cast<float>(isum) - u.min[j] * static_cast<float>(qsum);
                }
                s += a.d * bs;
            }
        }
        return s;
    }
};

using KQ4_0 = Kind<BlockQ4_0, 32, 32, unpackQ4_0>;
using KQ4_1 = Kind<BlockQ4_1, 32, 32, unpackQ4_1>;
using KQ5_0 = Kind<BlockQ5_0, 32, 32, unpackQ5_0>;
using KQ5_1 = Kind<BlockQ5_1, 32, 32, unpackQ5_1>;
using KQ8_0 = Kind<BlockQ8_0, 32, 32, unpackQ8_0>;
using KIQ4_NL = Kind<BlockIQ4_NL, 32, 32, unpackIQ4_NL>;
using KQ2_K = Kind<BlockQ2_K, 256, 16, unpackQ2_K>;
using KQ3_K = Kind<BlockQ3_K, 256, 16, unpackQ3_K>;
using KQ4_K = Kind<BlockQ4_K, 256, 32, unpackQ4_K>;
using KQ5_K = Kind<BlockQ5_K, 256, 32, unpackQ5_K>;
using KQ6_K = Kind<BlockQ6_K, 256, 16, unpackQ6_K>;
using KIQ4_XS = Kind<BlockIQ4_XS, 256, 32, unpackIQ4_XS>;

// F32 / F16 / BF16 through the generic row functions of weight_types.cpp.
template <WeightType T>
struct FloatKind {
    static void dequantize(const std::byte* row, float* out, std::int64_t cols) { dequantizeRow(T, row, cols, out); }
    static void quantize(const float* in, std::byte* out, std::int64_t cols) { quantizeRow(T, in, cols, out); }
    static float dotF32(const std::byte* row, const float* x, std::int64_t cols) {
        float s = 0.0f;
        float buf[64];
        for (std::int64_t k = 0; k < cols; k += 64) {
            const std::int64_t n = std::min<std::int64_t>(64, cols - k);
            dequantizeRow(T, row + k * (T == WeightType::F32 ? 4 : 2), n, buf);
            for (std::int64_t i = 0; i < n; ++i) s += buf[i] * x[k + i];
        }
        return s;
    }
};

#define BS_FLOAT_TRAITS(T, bytes)                                                                   \
    QuantTraits{WeightType::T, GgmlType::T, #T, 1, bytes, ActivationKind::None,                     \
                FloatKind<WeightType::T>::dequantize, FloatKind<WeightType::T>::quantize,          \
                FloatKind<WeightType::T>::dotF32, nullptr}
}  // namespace

// The public reference dequantisers are the Kind<> instantiations.
void dequantizeRowQ4_0(const std::byte* r, float* o, std::int64_t c) { KQ4_0::dequantize(r, o, c); }
void dequantizeRowQ4_1(const std::byte* r, float* o, std::int64_t c) { KQ4_1::dequantize(r, o, c); }
void dequantizeRowQ5_0(const std::byte* r, float* o, std::int64_t c) { KQ5_0::dequantize(r, o, c); }
void dequantizeRowQ5_1(const std::byte* r, float* o, std::int64_t c) { KQ5_1::dequantize(r, o, c); }
void dequantizeRowQ8_0(const std::byte* r, float* o, std::int64_t c) { KQ8_0::dequantize(r, o, c); }
void dequantizeRowIQ4_NL(const std::byte* r, float* o, std::int64_t c) { KIQ4_NL::dequantize(r, o, c); }
void dequantizeRowQ2_K(const std::byte* r, float* o, std::int64_t c) { KQ2_K::dequantize(r, o, c); }
void dequantizeRowQ3_K(const std::byte* r, float* o, std::int64_t c) { KQ3_K::dequantize(r, o, c); }
void dequantizeRowQ4_K(const std::byte* r, float* o, std::int64_t c) { KQ4_K::dequantize(r, o, c); }
void dequantizeRowQ5_K(const std::byte* r, float* o, std::int64_t c) { KQ5_K::dequantize(r, o, c); }
void dequantizeRowQ6_K(const std::byte* r, float* o, std::int64_t c) { KQ6_K::dequantize(r, o, c); }
void dequantizeRowIQ4_XS(const std::byte* r, float* o, std::int64_t c) { KIQ4_XS::dequantize(r, o, c); }

namespace {

template <typename B, int N>
constexpr QuantTraits quantEntry(WeightType t, GgmlType g, std::string_view name, ActivationKind act,
                                 DequantizeRowFn deq, QuantizeRowFn q, DotF32Fn dot, DotQ8Fn dq) {
    return QuantTraits{t, g, name, N, static_cast<int>(sizeof(B)), act, deq, q, dot, dq};
}

// Indexed by WeightType's value.
const std::array<QuantTraits, 15> kTraits = {{
    BS_FLOAT_TRAITS(F32, 4),
    BS_FLOAT_TRAITS(F16, 2),
    BS_FLOAT_TRAITS(BF16, 2),
    quantEntry<BlockQ8_0, 32>(WeightType::Q8_0, GgmlType::Q8_0, "Q8_0", ActivationKind::Q8_0, dequantizeRowQ8_0, quantizeRowQ8_0, KQ8_0::dotF32, KQ8_0::dotQ8),
    quantEntry<BlockQ4_0, 32>(WeightType::Q4_0, GgmlType::Q4_0, "Q4_0", ActivationKind::Q8_0, dequantizeRowQ4_0, quantizeRowQ4_0, KQ4_0::dotF32, KQ4_0::dotQ8),
    quantEntry<BlockQ4_1, 32>(WeightType::Q4_1, GgmlType::Q4_1, "Q4_1", ActivationKind::Q8_0, dequantizeRowQ4_1, quantizeRowQ4_1, KQ4_1::dotF32, KQ4_1::dotQ8),
    quantEntry<BlockQ5_0, 32>(WeightType::Q5_0, GgmlType::Q5_0, "Q5_0", ActivationKind::Q8_0, dequantizeRowQ5_0, quantizeRowQ5_0, KQ5_0::dotF32, KQ5_0::dotQ8),
    quantEntry<BlockQ5_1, 32>(WeightType::Q5_1, GgmlType::Q5_1, "Q5_1", ActivationKind::Q8_0, dequantizeRowQ5_1, quantizeRowQ5_1, KQ5_1::dotF32, KQ5_1::dotQ8),
    quantEntry<BlockIQ4_NL, 32>(WeightType::IQ4_NL, GgmlType::IQ4_NL, "IQ4_NL", ActivationKind::Q8_0, dequantizeRowIQ4_NL, quantizeRowIQ4_NL, KIQ4_NL::dotF32, KIQ4_NL::dotQ8),
    quantEntry<BlockQ2_K, 256>(WeightType::Q2_K, GgmlType::Q2_K, "Q2_K", ActivationKind::Q8_K, dequantizeRowQ2_K, quantizeRowQ2_K, KQ2_K::dotF32, KQ2_K::dotQ8),
    quantEntry<BlockQ3_K, 256>(WeightType::Q3_K, GgmlType::Q3_K, "Q3_K", ActivationKind::Q8_K, dequantizeRowQ3_K, quantizeRowQ3_K, KQ3_K::dotF32, KQ3_K::dotQ8),
    quantEntry<BlockQ4_K, 256>(WeightType::Q4_K, GgmlType::Q4_K, "Q4_K", ActivationKind::Q8_K, dequantizeRowQ4_K, quantizeRowQ4_K, KQ4_K::dotF32, KQ4_K::dotQ8),
    quantEntry<BlockQ5_K, 256>(WeightType::Q5_K, GgmlType::Q5_K, "Q5_K", ActivationKind::Q8_K, dequantizeRowQ5_K, quantizeRowQ5_K, KQ5_K::dotF32, KQ5_K::dotQ8),
    quantEntry<BlockQ6_K, 256>(WeightType::Q6_K, GgmlType::Q6_K, "Q6_K", ActivationKind::Q8_K, dequantizeRowQ6_K, quantizeRowQ6_K, KQ6_K::dotF32, KQ6_K::dotQ8),
    quantEntry<BlockIQ4_XS, 256>(WeightType::IQ4_XS, GgmlType::IQ4_XS, "IQ4_XS", ActivationKind::Q8_K, dequantizeRowIQ4_XS, quantizeRowIQ4_XS, KIQ4_XS::dotF32, KIQ4_XS::dotQ8),
}};

}  // namespace

const QuantTraits& quantTraits(WeightType type) { return kTraits[static_cast<std::size_t>(type)]; }

std::optional<WeightType> weightTypeFromGgml(GgmlType type) {
    for (const QuantTraits& t : kTraits)
        if (t.ggml == type) return t.type;
    return std::nullopt;
}

GgmlType ggmlTypeOf(WeightType type) { return quantTraits(type).ggml; }

std::string supportedWeightTypesText() {
    std::string s;
    for (const QuantTraits& t : kTraits) s += (s.empty() ? "" : ", ") + std::string(t.name);
    return s;
}

QuantKernels quantKernels(CpuIsa isa, WeightType type) {
    // The matmul kernels compute the dot products themselves (matmulRows); the SIMD entries here
    // are the row dequantisers of the sgemm panel path (AVX2 for the 32-block types).
    const QuantTraits& t = quantTraits(type);
    QuantKernels k{t.dequantizeRow, t.dotF32, t.dotQ8};
    if (isa >= CpuIsa::Avx2)
        if (const DequantizeRowFn f = detail::dequantizeRowFnAvx2(type)) k.dequantizeRow = f;
    return k;
}

std::size_t activationBytes(ActivationKind kind, std::int64_t cols) {
    switch (kind) {
    case ActivationKind::Q8_0: return static_cast<std::size_t>(cols / kQBlock) * sizeof(ActivationQ8);
    case ActivationKind::Q8_K: return static_cast<std::size_t>(cols / kQK) * sizeof(BlockQ8_K);
    case ActivationKind::None: return 0;
    }
    return 0;
}

void quantizeActivationsFor(ActivationKind kind, const float* in, std::int64_t cols, void* out) {
    if (kind == ActivationKind::Q8_0) quantizeActivations(in, cols, static_cast<ActivationQ8*>(out));
    if (kind == ActivationKind::Q8_K) quantizeRowQ8K(in, cols, static_cast<BlockQ8_K*>(out));
}

}  // namespace batchscope::engine::cpu
