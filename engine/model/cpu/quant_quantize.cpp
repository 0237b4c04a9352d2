// SPDX-License-Identifier: GPL-3.0-or-later
// Reference quantisers, one row at a time: ggml's algorithms without an importance matrix
// (quantize_row_*_ref for the legacy and K types, quantize_row_iq4_nl_impl with 7 scale tries
// for the IQ4 types), written from ggml-quants.c's description. Scalar on purpose: quantising a
// model is a one-off offline step, and identical output on every CPU keeps files reproducible.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "engine/model/cpu/quant_types.h"

namespace batchscope::engine::cpu {

namespace {

constexpr float kGroupMaxEps = 1e-15f;

/// ggml's nearest_int (the float-mantissa trick) rounds half to even for |x| < 2^22; lrintf does
/// the same under the default rounding mode.
int nearestInt(float f) { return static_cast<int>(std::lrintf(f)); }

template <typename B>
void store(std::byte* out, std::int64_t index, const B& b) {
    std::memcpy(out + index * static_cast<std::int64_t>(sizeof(B)), &b, sizeof b);
}

/// ggml make_qx_quants: symmetric levels in [-nmax, nmax - 1] (stored + nmax), scale search
/// around -nmax / max weighted by x^2 (rmseType 1). Returns the scale.
float makeQxQuants(int n, int nmax, const float* x, std::int8_t* L) {
    float max = 0.0f, amax = 0.0f;
    for (int i = 0; i < n; ++i)
        if (std::fabs(x[i]) > amax) {
            amax = std::fabs(x[i]);
            max = x[i];
        }
    if (amax < kGroupMaxEps) {
        std::fill(L, L + n, std::int8_t{0});
        return 0.0f;
    }
    auto levels = [&](float iscale, float& sumlx, float& suml2, bool write) {
        sumlx = suml2 = 0.0f;
        for (int i = 0; i < n; ++i) {
            const int l = std::clamp(nearestInt(iscale * x[i]), -nmax, nmax - 1);
            if (write) L[i] = static_cast<std::int8_t>(l + nmax);
            const float w = x[i] * x[i];
            sumlx += w * x[i] * static_cast<float>(l);
            suml2 += w * static_cast<float>(l * l);
        }
    };
    float sumlx, suml2;
    levels(-static_cast<float>(nmax) / max, sumlx, suml2, true);
    float scale = suml2 != 0.0f ? sumlx / suml2 : 0.0f;
    float best = scale * sumlx;
    for (int is = -9; is <= 9; ++is) {
        if (is == 0) continue;
        const float iscale = -(static_cast<float>(nmax) + 0.1f * static_cast<float>(is)) / max;
        levels(iscale, sumlx, suml2, false);
        if (suml2 > 0 && sumlx * sumlx > best * suml2) {
            levels(iscale, sumlx, suml2, true);
            scale = sumlx / suml2;
            best = scale * sumlx;
        }
    }
    return scale;
}

/// ggml make_q3_quants with rmse refinement: levels in [-nmax, nmax - 1] stored + nmax.
float makeQ3Quants(int n, int nmax, const float* x, std::int8_t* L) {
    float max = 0.0f, amax = 0.0f;
    for (int i = 0; i < n; ++i)
        if (std::fabs(x[i]) > amax) {
            amax = std::fabs(x[i]);
            max = x[i];
        }
    if (amax < kGroupMaxEps) {
        std::fill(L, L + n, std::int8_t{0});
        return 0.0f;
    }
    const float iscale = -static_cast<float>(nmax) / max;
    float sumlx = 0.0f, suml2 = 0.0f;
    for (int i = 0; i < n; ++i) {
        const int l = std::clamp(nearestInt(iscale * x[i]), -nmax, nmax - 1);
        L[i] = static_cast<std::int8_t>(l);
        const float w = x[i] * x[i];
        sumlx += w * x[i] * static_cast<float>(l);
        suml2 += w * static_cast<float>(l * l);
    }
    for (int itry = 0; itry < 5; ++itry) {
        int changed = 0;
        for (int i = 0; i < n; ++i) {
            const float w = x[i] * x[i];
            float slx = sumlx - w * x[i] * static_cast<float>(L[i]);
            if (slx > 0) {
                float sl2 = suml2 - w * static_cast<float>(L[i] * L[i]);
                const int nl = std::clamp(nearestInt(x[i] * sl2 / slx), -nmax, nmax - 1);
                if (nl != L[i]) {
                    slx += w * x[i] * static_cast<float>(nl);
                    sl2 += w * static_cast<float>(nl * nl);
                    if (sl2 > 0 && slx * slx * suml2 > sumlx * sumlx * sl2) {
                        L[i] = static_cast<std::int8_t>(nl);
                        sumlx = slx;
                        suml2 = sl2;
                        ++changed;
                    }
                }
            }
        }
        if (!changed) break;
    }
    for (int i = 0; i < n; ++i) L[i] = static_cast<std::int8_t>(L[i] + nmax);
    return sumlx / suml2;
}

/// ggml make_qkx2_quants: levels in [0, nmax] with scale and min (value = scale * L - min),
/// weighted least squares over nstep + 1 candidate scales. Returns the scale, *theMin >= 0.
float makeQkx2Quants(int n, int nmax, const float* x, const float* weights, std::uint8_t* L, float* theMin,
                     float rmin, float rdelta, int nstep, bool useMad) {
    float min = x[0], max = x[0], sumW = weights[0], sumX = sumW * x[0];
    for (int i = 1; i < n; ++i) {
        min = std::min(min, x[i]);
        max = std::max(max, x[i]);
        sumW += weights[i];
        sumX += weights[i] * x[i];
    }
    if (min > 0) min = 0;
    if (max == min) {
        std::fill(L, L + n, std::uint8_t{0});
        *theMin = -min;
        return 0.0f;
    }
    const float fn = static_cast<float>(nmax);
    float iscale = fn / (max - min), scale = 1 / iscale, bestMad = 0.0f;
    auto err = [&](float d) { return useMad ? std::fabs(d) : d * d; };
    for (int i = 0; i < n; ++i) {
        L[i] = static_cast<std::uint8_t>(std::clamp(nearestInt(iscale * (x[i] - min)), 0, nmax));
        bestMad += weights[i] * err(scale * L[i] + min - x[i]);
    }
    std::uint8_t aux[32];
    for (int is = 0; is <= nstep; ++is) {
        iscale = (rmin + rdelta * static_cast<float>(is) + fn) / (max - min);
        float sumL = 0, sumL2 = 0, sumXL = 0;
        for (int i = 0; i < n; ++i) {
            const int l = std::clamp(nearestInt(iscale * (x[i] - min)), 0, nmax);
            aux[i] = static_cast<std::uint8_t>(l);
            sumL += weights[i] * static_cast<float>(l);
            sumL2 += weights[i] * static_cast<float>(l * l);
            sumXL += weights[i] * static_cast<float>(l) * x[i];
        }
        const float D = sumW * sumL2 - sumL * sumL;
        if (D > 0) {
            float thisScale = (sumW * sumXL - sumX * sumL) / D;
            float thisMin = (sumL2 * sumX - sumL * sumXL) / D;
            if (thisMin > 0) {
                thisMin = 0;
                thisScale = sumXL / sumL2;
            }
            float mad = 0;
            for (int i = 0; i < n; ++i) mad += weights[i] * err(thisScale * aux[i] + thisMin - x[i]);
            if (mad < bestMad) {
                std::copy(aux, aux + n, L);
                bestMad = mad;
                scale = thisScale;
                min = thisMin;
            }
        }
    }
    *theMin = -min;
    return scale;
}

int bestIndexIq4(float x) {
    const std::int8_t* v = kIq4nlValues;
    if (x <= v[0]) return 0;
    if (x >= v[15]) return 15;
    int lo = 0, hi = 15;
    while (hi - lo > 1) {
        const int mid = (lo + hi) / 2;
        if (x < v[mid]) hi = mid; else lo = mid;
    }
    return x - v[hi - 1] < v[hi] - x ? hi - 1 : hi;
}

/// ggml quantize_row_iq4_nl_impl without imatrix (weights x^2, 7 tries) for one group of
/// `superBlock` values in sub-blocks of 32. Writes levels L, the per-sub-block scales and
/// returns them through `scales`.
void iq4SubScales(const float* x, int superBlock, std::uint8_t* L, float* scales) {
    for (int ib = 0; ib < superBlock / 32; ++ib) {
        const float* xb = x + 32 * ib;
        std::uint8_t* Lb = L + 32 * ib;
        float amax = 0, max = 0;
        for (int j = 0; j < 32; ++j)
            if (std::fabs(xb[j]) > amax) {
                amax = std::fabs(xb[j]);
                max = xb[j];
            }
        if (amax < kGroupMaxEps) {
            scales[ib] = 0;
            std::fill(Lb, Lb + 32, std::uint8_t{0});
            continue;
        }
        constexpr int kTries = 7;
        float d = -max / kIq4nlValues[0];
        auto fit = [&](float id, float& sumqx, float& sumq2, bool write) {
            sumqx = sumq2 = 0;
            for (int j = 0; j < 32; ++j) {
                const int l = bestIndexIq4(id * xb[j]);
                if (write) Lb[j] = static_cast<std::uint8_t>(l);
                const float q = kIq4nlValues[l], w = xb[j] * xb[j];
                sumqx += w * q * xb[j];
                sumq2 += w * q * q;
            }
        };
        float sumqx, sumq2;
        fit(1 / d, sumqx, sumq2, true);
        d = sumqx / sumq2;
        float best = d * sumqx;
        for (int itry = -kTries; itry <= kTries; ++itry) {
            fit((static_cast<float>(itry) + kIq4nlValues[0]) / max, sumqx, sumq2, false);
            if (sumq2 > 0 && sumqx * sumqx > best * sumq2) {
                d = sumqx / sumq2;
                best = d * sumqx;
            }
        }
        scales[ib] = d;
    }
}

void packNibbles32(const std::uint8_t* L, std::uint8_t* qs) {
    for (int j = 0; j < 16; ++j) qs[j] = static_cast<std::uint8_t>(L[j] | (L[j + 16] << 4));
}

void packQ5(const int* L, std::uint8_t* qs, std::uint8_t* qhBytes) {
    std::uint32_t qh = 0;
    for (int j = 0; j < 16; ++j) {
        qs[j] = static_cast<std::uint8_t>((L[j] & 0xF) | ((L[j + 16] & 0xF) << 4));
        qh |= static_cast<std::uint32_t>((L[j] >> 4) & 1) << j;
        qh |= static_cast<std::uint32_t>((L[j + 16] >> 4) & 1) << (j + 16);
    }
    std::memcpy(qhBytes, &qh, 4);
}

/// Packs the 8 6-bit scales and mins of a Q4_K / Q5_K block (inverse of unpackScaleMinK4).
void packScaleMinK4(const std::uint8_t* ls, const std::uint8_t* lm, std::uint8_t* s) {
    std::memset(s, 0, kKScaleBytes);
    for (int j = 0; j < 8; ++j) {
        if (j < 4) {
            s[j] = ls[j];
            s[j + 4] = lm[j];
        } else {
            s[j + 4] = static_cast<std::uint8_t>((ls[j] & 0xF) | ((lm[j] & 0xF) << 4));
            s[j - 4] |= static_cast<std::uint8_t>((ls[j] >> 4) << 6);
            s[j] |= static_cast<std::uint8_t>((lm[j] >> 4) << 6);
        }
    }
}

/// Shared by Q4_K and Q5_K: sub-block fits, 6-bit scales and the final levels in [0, nmax].
template <typename B>
void quantizeK45(const float* x, B& y, std::uint8_t* L, int nmax, float rmin, int nstep) {
    float scales[8], mins[8], weights[32], maxScale = 0, maxMin = 0;
    for (int j = 0; j < 8; ++j) {
        float sumX2 = 0;
        for (int l = 0; l < 32; ++l) sumX2 += x[32 * j + l] * x[32 * j + l];
        const float avX = std::sqrt(sumX2 / 32);
        for (int l = 0; l < 32; ++l) weights[l] = avX + std::fabs(x[32 * j + l]);
        scales[j] = makeQkx2Quants(32, nmax, x + 32 * j, weights, L + 32 * j, &mins[j], rmin, 0.1f, nstep, false);
        maxScale = std::max(maxScale, scales[j]);
        maxMin = std::max(maxMin, mins[j]);
    }
    const float invScale = maxScale > 0 ? 63.f / maxScale : 0.f, invMin = maxMin > 0 ? 63.f / maxMin : 0.f;
    std::uint8_t ls[8], lm[8];
    for (int j = 0; j < 8; ++j) {
        ls[j] = static_cast<std::uint8_t>(std::min(63, nearestInt(invScale * scales[j])));
        lm[j] = static_cast<std::uint8_t>(std::min(63, nearestInt(invMin * mins[j])));
    }
    packScaleMinK4(ls, lm, y.scales);
    y.d = floatToHalf(maxScale / 63.f);
    y.dmin = floatToHalf(maxMin / 63.f);
    for (int j = 0; j < 8; ++j) {
        std::uint8_t sc, m;
        unpackScaleMinK4(j, y.scales, &sc, &m);
        const float d = halfToFloat(y.d) * sc;
        if (d == 0.0f) continue;
        const float dm = halfToFloat(y.dmin) * m;
        for (int i = 0; i < 32; ++i)
            L[32 * j + i] = static_cast<std::uint8_t>(std::clamp(nearestInt((x[32 * j + i] + dm) / d), 0, nmax));
    }
}

}  // namespace

void quantizeRowQ8_0(const float* in, std::byte* out, std::int64_t cols) {
    for (std::int64_t b = 0; b < cols / kQBlock; ++b) {
        const float* x = in + b * kQBlock;
        float amax = 0.0f;
        for (int i = 0; i < kQBlock; ++i) amax = std::max(amax, std::fabs(x[i]));
        const float d = amax / 127.0f, id = d != 0.0f ? 1.0f / d : 0.0f;
        BlockQ8_0 blk;
        blk.d = floatToHalf(d);
        for (int i = 0; i < kQBlock; ++i) blk.qs[i] = static_cast<std::int8_t>(std::lround(x[i] * id));
        store(out, b, blk);
    }
}

void quantizeRowQ4_0(const float* in, std::byte* out, std::int64_t cols) {
    for (std::int64_t b = 0; b < cols / kQBlock; ++b) {
        const float* x = in + b * kQBlock;
        float max = 0.0f;  // the signed value of largest magnitude maps to -8
        for (int i = 0; i < kQBlock; ++i)
            if (std::fabs(x[i]) > std::fabs(max)) max = x[i];
        const float d = max / -8.0f, id = d != 0.0f ? 1.0f / d : 0.0f;
        BlockQ4_0 blk;
        blk.d = floatToHalf(d);
        std::uint8_t L[32];
        for (int i = 0; i < kQBlock; ++i) L[i] = static_cast<std::uint8_t>(std::min(15, static_cast<int>(x[i] * id + 8.5f)));
        packNibbles32(L, blk.qs);
        store(out, b, blk);
    }
}

void quantizeRowQ4_1(const float* in, std::byte* out, std::int64_t cols) {
    for (std::int64_t b = 0; b < cols / kQBlock; ++b) {
        const float* x = in + b * kQBlock;
        const auto [mn, mx] = std::minmax_element(x, x + kQBlock);
        const float d = (*mx - *mn) / 15.0f, id = d != 0.0f ? 1.0f / d : 0.0f;
        BlockQ4_1 blk;
        blk.d = floatToHalf(d);
        blk.m = floatToHalf(*mn);
        std::uint8_t L[32];
        for (int i = 0; i < kQBlock; ++i) L[i] = static_cast<std::uint8_t>(std::min(15, static_cast<int>((x[i] - *mn) * id + 0.5f)));
        packNibbles32(L, blk.qs);
        store(out, b, blk);
    }
}

void quantizeRowQ5_0(const float* in, std::byte* out, std::int64_t cols) {
    for (std::int64_t b = 0; b < cols / kQBlock; ++b) {
        const float* x = in + b * kQBlock;
        float max = 0.0f;
        for (int i = 0; i < kQBlock; ++i)
            if (std::fabs(x[i]) > std::fabs(max)) max = x[i];
        const float d = max / -16.0f, id = d != 0.0f ? 1.0f / d : 0.0f;
        BlockQ5_0 blk;
        blk.d = floatToHalf(d);
        int L[32];
        for (int i = 0; i < kQBlock; ++i) L[i] = std::min(31, static_cast<int>(x[i] * id + 16.5f));
        packQ5(L, blk.qs, blk.qh);
        store(out, b, blk);
    }
}

void quantizeRowQ5_1(const float* in, std::byte* out, std::int64_t cols) {
    for (std::int64_t b = 0; b < cols / kQBlock; ++b) {
        const float* x = in + b * kQBlock;
        const auto [mn, mx] = std::minmax_element(x, x + kQBlock);
        const float d = (*mx - *mn) / 31.0f, id = d != 0.0f ? 1.0f / d : 0.0f;
        BlockQ5_1 blk;
        blk.d = floatToHalf(d);
        blk.m = floatToHalf(*mn);
        int L[32];
        for (int i = 0; i < kQBlock; ++i) L[i] = std::min(31, static_cast<int>((x[i] - *mn) * id + 0.5f));
        packQ5(L, blk.qs, blk.qh);
        store(out, b, blk);
    }
}

void quantizeRowIQ4_NL(const float* in, std::byte* out, std::int64_t cols) {
    for (std::int64_t b = 0; b < cols / kQBlock; ++b) {
        const float* x = in + b * kQBlock;
        std::uint8_t L[32];
        float scale;
        iq4SubScales(x, 32, L, &scale);
        BlockIQ4_NL blk;
        blk.d = floatToHalf(scale);
        const float id = scale != 0.0f ? 1 / scale : 0.0f;
        for (int j = 0; j < 32; ++j) L[j] = static_cast<std::uint8_t>(bestIndexIq4(id * x[j]));
        packNibbles32(L, blk.qs);
        store(out, b, blk);
    }
}

void quantizeRowIQ4_XS(const float* in, std::byte* out, std::int64_t cols) {
    for (std::int64_t b = 0; b < cols / kQK; ++b) {
        const float* x = in + b * kQK;
        std::uint8_t L[kQK];
        float scales[8], maxScale = 0, amaxScale = 0;
        iq4SubScales(x, kQK, L, scales);
        for (float s : scales)
            if (std::fabs(s) > amaxScale) {
                amaxScale = std::fabs(s);
                maxScale = s;
            }
        BlockIQ4_XS blk{};
        const float d = -maxScale / 32;
        blk.d = floatToHalf(d);
        const float id = d != 0.0f ? 1 / d : 0.0f;
        for (int ib = 0; ib < 8; ++ib) {
            int l = std::clamp(nearestInt(id * scales[ib]), -32, 31);
            const float dl = d * static_cast<float>(l), idl = dl != 0.0f ? 1 / dl : 0.0f;
            for (int j = 0; j < 32; ++j) L[32 * ib + j] = static_cast<std::uint8_t>(bestIndexIq4(idl * x[32 * ib + j]));
            l += 32;
            if (ib % 2 == 0) blk.scales_l[ib / 2] = static_cast<std::uint8_t>(l & 0xF);
            else blk.scales_l[ib / 2] |= static_cast<std::uint8_t>((l & 0xF) << 4);
            blk.scales_h |= static_cast<std::uint16_t>((l >> 4) << (2 * ib));
        }
        for (int ib = 0; ib < 8; ++ib) packNibbles32(L + 32 * ib, blk.qs + 16 * ib);
        store(out, b, blk);
    }
}

void quantizeRowQ2_K(const float* in, std::byte* out, std::int64_t cols) {
    for (std::int64_t b = 0; b < cols / kQK; ++b) {
        const float* x = in + b * kQK;
        std::uint8_t L[kQK];
        float scales[16], mins[16], weights[16], maxScale = 0, maxMin = 0;
        for (int j = 0; j < 16; ++j) {
            for (int l = 0; l < 16; ++l) weights[l] = std::fabs(x[16 * j + l]);
            scales[j] = makeQkx2Quants(16, 3, x + 16 * j, weights, L + 16 * j, &mins[j], -0.5f, 0.1f, 15, true);
            maxScale = std::max(maxScale, scales[j]);
            maxMin = std::max(maxMin, mins[j]);
        }
        BlockQ2_K blk{};
        if (maxScale > 0) {
            const float iscale = 15.f / maxScale;
            for (int j = 0; j < 16; ++j) blk.scales[j] = static_cast<std::uint8_t>(nearestInt(iscale * scales[j]));
            blk.d = floatToHalf(maxScale / 15.f);
        }
        if (maxMin > 0) {
            const float iscale = 15.f / maxMin;
            for (int j = 0; j < 16; ++j) blk.scales[j] |= static_cast<std::uint8_t>(nearestInt(iscale * mins[j]) << 4);
            blk.dmin = floatToHalf(maxMin / 15.f);
        }
        for (int j = 0; j < 16; ++j) {
            const float d = halfToFloat(blk.d) * static_cast<float>(blk.scales[j] & 0xF);
            if (d == 0.0f) continue;
            const float dm = halfToFloat(blk.dmin) * static_cast<float>(blk.scales[j] >> 4);
            for (int i = 0; i < 16; ++i)
                L[16 * j + i] = static_cast<std::uint8_t>(std::clamp(nearestInt((x[16 * j + i] + dm) / d), 0, 3));
        }
        for (int j = 0; j < kQK; j += 128)
            for (int l = 0; l < 32; ++l)
                blk.qs[j / 4 + l] = static_cast<std::uint8_t>(L[j + l] | (L[j + l + 32] << 2) | (L[j + l + 64] << 4) | (L[j + l + 96] << 6));
        store(out, b, blk);
    }
}

void quantizeRowQ3_K(const float* in, std::byte* out, std::int64_t cols) {
    for (std::int64_t b = 0; b < cols / kQK; ++b) {
        const float* x = in + b * kQK;
        std::int8_t L[kQK];
        float scales[16], maxScale = 0, amax = 0;
        for (int j = 0; j < 16; ++j) {
            scales[j] = makeQ3Quants(16, 4, x + 16 * j, L + 16 * j);
            if (std::fabs(scales[j]) > amax) {
                amax = std::fabs(scales[j]);
                maxScale = scales[j];
            }
        }
        BlockQ3_K blk{};
        if (maxScale != 0.0f) {
            const float iscale = -32.f / maxScale;
            for (int j = 0; j < 16; ++j) {
                const int l = std::clamp(nearestInt(iscale * scales[j]), -32, 31) + 32;
                if (j < 8) blk.scales[j] = static_cast<std::uint8_t>(l & 0xF);
                else blk.scales[j - 8] |= static_cast<std::uint8_t>((l & 0xF) << 4);
                blk.scales[j % 4 + 8] |= static_cast<std::uint8_t>((l >> 4) << (2 * (j / 4)));
            }
            blk.d = floatToHalf(1 / iscale);
        }
        for (int j = 0; j < 16; ++j) {
            const float d = halfToFloat(blk.d) * static_cast<float>(q3kScale(j, blk.scales));
            if (d == 0.0f) continue;
            for (int i = 0; i < 16; ++i)
                L[16 * j + i] = static_cast<std::int8_t>(std::clamp(nearestInt(x[16 * j + i] / d), -4, 3) + 4);
        }
        for (int j = 0; j < kQK; ++j) {  // element j: hmask byte j % 32, bit j / 32
            if (L[j] > 3) {
                blk.hmask[j % 32] |= static_cast<std::uint8_t>(1u << (j / 32));
                L[j] = static_cast<std::int8_t>(L[j] - 4);
            }
        }
        for (int j = 0; j < kQK; j += 128)
            for (int l = 0; l < 32; ++l)
                blk.qs[j / 4 + l] = static_cast<std::uint8_t>(L[j + l] | (L[j + l + 32] << 2) | (L[j + l + 64] << 4) | (L[j + l + 96] << 6));
        store(out, b, blk);
    }
}

void quantizeRowQ4_K(const float* in, std::byte* out, std::int64_t cols) {
    for (std::int64_t b = 0; b < cols / kQK; ++b) {
        std::uint8_t L[kQK];
        BlockQ4_K blk{};
        quantizeK45(in + b * kQK, blk, L, 15, -1.f, 20);
        for (int c = 0; c < 4; ++c)
            for (int l = 0; l < 32; ++l) blk.qs[32 * c + l] = static_cast<std::uint8_t>(L[64 * c + l] | (L[64 * c + l + 32] << 4));
        store(out, b, blk);
    }
}

void quantizeRowQ5_K(const float* in, std::byte* out, std::int64_t cols) {
    for (std::int64_t b = 0; b < cols / kQK; ++b) {
        std::uint8_t L[kQK];
        BlockQ5_K blk{};
        quantizeK45(in + b * kQK, blk, L, 31, -0.5f, 15);
        for (int c = 0; c < 4; ++c)
            for (int l = 0; l < 32; ++l) {
                const int lo = L[64 * c + l], hi = L[64 * c + 32 + l];
                blk.qs[32 * c + l] = static_cast<std::uint8_t>((lo & 0xF) | ((hi & 0xF) << 4));
                blk.qh[l] |= static_cast<std::uint8_t>(((lo >> 4) << (2 * c)) | ((hi >> 4) << (2 * c + 1)));
            }
        store(out, b, blk);
    }
}

void quantizeRowQ6_K(const float* in, std::byte* out, std::int64_t cols) {
    for (std::int64_t b = 0; b < cols / kQK; ++b) {
        const float* x = in + b * kQK;
        std::int8_t L[kQK];
        float scales[16], maxScale = 0, maxAbs = 0;
        for (int j = 0; j < 16; ++j) {
            scales[j] = makeQxQuants(16, 32, x + 16 * j, L + 16 * j);
            if (std::fabs(scales[j]) > maxAbs) {
                maxAbs = std::fabs(scales[j]);
                maxScale = scales[j];
            }
        }
        BlockQ6_K blk{};
        if (maxAbs >= kGroupMaxEps) {
            const float iscale = -128.f / maxScale;
            blk.d = floatToHalf(1 / iscale);
            for (int j = 0; j < 16; ++j) blk.scales[j] = static_cast<std::int8_t>(std::min(127, nearestInt(iscale * scales[j])));
            for (int j = 0; j < 16; ++j) {
                const float d = halfToFloat(blk.d) * static_cast<float>(blk.scales[j]);
                if (d == 0.0f) continue;
                for (int i = 0; i < 16; ++i)
                    L[16 * j + i] = static_cast<std::int8_t>(std::clamp(nearestInt(x[16 * j + i] / d), -32, 31) + 32);
            }
            for (int j = 0; j < kQK; j += 128) {
                std::uint8_t* ql = blk.ql + j / 2;
                std::uint8_t* qh = blk.qh + j / 4;
                for (int l = 0; l < 32; ++l) {
                    const int q1 = L[j + l], q2 = L[j + l + 32], q3 = L[j + l + 64], q4 = L[j + l + 96];
                    ql[l] = static_cast<std::uint8_t>((q1 & 0xF) | ((q3 & 0xF) << 4));
                    ql[l + 32] = static_cast<std::uint8_t>((q2 & 0xF) | ((q4 & 0xF) << 4));
                    qh[l] = static_cast<std::uint8_t>((q1 >> 4) | ((q2 >> 4) << 2) | ((q3 >> 4) << 4) | ((q4 >> 4) << 6));
                }
            }
        }
        store(out, b, blk);
    }
}

void quantizeRowQ8K(const float* in, std::int64_t cols, BlockQ8_K* out) {
    for (std::int64_t b = 0; b < cols / kQK; ++b) {
        const float* x = in + b * kQK;
        BlockQ8_K& y = out[b];
        float max = 0, amax = 0;
        for (int i = 0; i < kQK; ++i)
            if (std::fabs(x[i]) > amax) {
                amax = std::fabs(x[i]);
                max = x[i];
            }
        if (amax == 0.0f) {
            std::memset(&y, 0, sizeof y);
            continue;
        }
        const float iscale = -127.f / max;
        for (int i = 0; i < kQK; ++i) y.qs[i] = static_cast<std::int8_t>(std::min(127, nearestInt(iscale * x[i])));
        for (int j = 0; j < kQK / 16; ++j) {
            int s = 0;
            for (int i = 0; i < 16; ++i) s += y.qs[16 * j + i];
            y.bsums[j] = static_cast<std::int16_t>(s);
        }
        y.d = 1 / iscale;
    }
}

}  // namespace batchscope::engine::cpu
