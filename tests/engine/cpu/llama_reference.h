// SPDX-License-Identifier: GPL-3.0-or-later
// A deliberately simple Llama forward pass for one sequence: no batching, no paging, plain
// loops with double accumulation, weights dequantised from the GGUF tensors by name.
#pragma once
#include <cmath>
#include <string>
#include <vector>

#include "engine/model/cpu/weight_types.h"
#include "engine/model/gguf_file.h"

namespace reference {

using batchscope::engine::GgufFile;
using Matrix = std::vector<double>;  // row-major [rows x cols]

struct Model {
    int dim, layers, heads, kvHeads, headDim, ffn, vocab;
    double eps, base;
    const GgufFile* file;

    explicit Model(const GgufFile& f) : file(&f) {
        dim = static_cast<int>(*f.getInt("llama.embedding_length"));
        layers = static_cast<int>(*f.getInt("llama.block_count"));
        heads = static_cast<int>(*f.getInt("llama.attention.head_count"));
        kvHeads = static_cast<int>(*f.getInt("llama.attention.head_count_kv"));
        ffn = static_cast<int>(*f.getInt("llama.feed_forward_length"));
        headDim = dim / heads;
        eps = *f.getFloat("llama.attention.layer_norm_rms_epsilon");
        base = f.getFloat("llama.rope.freq_base").value_or(10000.0);
        vocab = static_cast<int>(f.findTensor("token_embd.weight")->dims[1]);
    }

    Matrix tensor(const std::string& name) const {
        const auto* t = file->findTensor(name);
        if (!t) t = file->findTensor("token_embd.weight");  // tied output
        const auto cols = static_cast<std::int64_t>(t->dims[0]);
        const std::int64_t rows = t->dims.size() > 1 ? static_cast<std::int64_t>(t->dims[1]) : 1;
        const auto wt = static_cast<batchscope::engine::cpu::WeightType>(
            t->type == batchscope::engine::GgmlType::F32    ? 0
            : t->type == batchscope::engine::GgmlType::F16  ? 1
            : t->type == batchscope::engine::GgmlType::BF16 ? 2
            : t->type == batchscope::engine::GgmlType::Q8_0 ? 3
                                                            : 4);
        const std::size_t rb = batchscope::engine::cpu::weightRowBytes(wt, cols);
        std::vector<float> row(static_cast<std::size_t>(cols));
        Matrix m;
        for (std::int64_t r = 0; r < rows; ++r) {
            batchscope::engine::cpu::dequantizeRow(wt, t->data + r * rb, cols, row.data());
            m.insert(m.end(), row.begin(), row.end());
        }
        return m;
    }

    // y = W x with W [rows x cols]
    static std::vector<double> mul(const Matrix& w, const std::vector<double>& x) {
        const std::size_t cols = x.size(), rows = w.size() / cols;
        std::vector<double> y(rows, 0.0);
        for (std::size_t r = 0; r < rows; ++r)
            for (std::size_t c = 0; c < cols; ++c) y[r] += w[r * cols + c] * x[c];
        return y;
    }

    std::vector<double> norm(const std::vector<double>& x, const Matrix& w) const {
        double ss = 0;
        for (double v : x) ss += v * v;
        const double s = 1.0 / std::sqrt(ss / static_cast<double>(x.size()) + eps);
        std::vector<double> y(x.size());
        for (std::size_t i = 0; i < x.size(); ++i) y[i] = x[i] * s * w[i];
        return y;
    }

    void rope(std::vector<double>& v, int pos) const {
        for (std::size_t h = 0; h < v.size() / static_cast<std::size_t>(headDim); ++h) {
            for (int i = 0; i < headDim / 2; ++i) {
                const double theta = pos * std::pow(base, -2.0 * i / headDim);
                double& a = v[h * static_cast<std::size_t>(headDim) + 2 * static_cast<std::size_t>(i)];
                double& b = v[h * static_cast<std::size_t>(headDim) + 2 * static_cast<std::size_t>(i) + 1];
                const double na = a * std::cos(theta) - b * std::sin(theta);
                const double nb = a * std::sin(theta) + b * std::cos(theta);
                a = na;
                b = nb;
            }
        }
    }

    /// Logits after every position of `tokens`.
    std::vector<std::vector<double>> run(const std::vector<int>& tokens) const {
        const Matrix embd = tensor("token_embd.weight");
        std::vector<std::vector<double>> xs;
        for (int t : tokens) xs.emplace_back(embd.begin() + t * dim, embd.begin() + (t + 1) * dim);
        const std::size_t T = tokens.size();
        for (int l = 0; l < layers; ++l) {
            const std::string p = "blk." + std::to_string(l) + ".";
            const Matrix wq = tensor(p + "attn_q.weight"), wk = tensor(p + "attn_k.weight"),
                         wv = tensor(p + "attn_v.weight"), wo = tensor(p + "attn_output.weight"),
                         wg = tensor(p + "ffn_gate.weight"), wu = tensor(p + "ffn_up.weight"),
                         wd = tensor(p + "ffn_down.weight"), n1 = tensor(p + "attn_norm.weight"),
                         n2 = tensor(p + "ffn_norm.weight");
            std::vector<std::vector<double>> q(T), k(T), v(T);
            for (std::size_t t = 0; t < T; ++t) {
                const auto xn = norm(xs[t], n1);
                q[t] = mul(wq, xn);
                k[t] = mul(wk, xn);
                v[t] = mul(wv, xn);
                rope(q[t], static_cast<int>(t));
                rope(k[t], static_cast<int>(t));
            }
            for (std::size_t t = 0; t < T; ++t) {
                std::vector<double> att(static_cast<std::size_t>(dim), 0.0);
                for (int h = 0; h < heads; ++h) {
                    const int kh = h / (heads / kvHeads);
                    std::vector<double> s(t + 1);
                    double mx = -1e300, sum = 0;
                    for (std::size_t j = 0; j <= t; ++j) {
                        double d = 0;
                        for (int i = 0; i < headDim; ++i) d += q[t][h * headDim + i] * k[j][kh * headDim + i];
                        s[j] = d / std::sqrt(static_cast<double>(headDim));
                        mx = std::max(mx, s[j]);
                    }
                    for (double& e : s) sum += (e = std::exp(e - mx));
                    for (std::size_t j = 0; j <= t; ++j)
                        for (int i = 0; i < headDim; ++i) att[h * headDim + i] += s[j] / sum * v[j][kh * headDim + i];
                }
                const auto o = mul(wo, att);
                for (int i = 0; i < dim; ++i) xs[t][i] += o[i];
                const auto xn = norm(xs[t], n2);
                auto g = mul(wg, xn);
                const auto u = mul(wu, xn);
                for (std::size_t i = 0; i < g.size(); ++i) g[i] = g[i] / (1.0 + std::exp(-g[i])) * u[i];
                const auto d = mul(wd, g);
                for (int i = 0; i < dim; ++i) xs[t][i] += d[i];
            }
        }
        const Matrix on = tensor("output_norm.weight"), out = tensor("output.weight");
        std::vector<std::vector<double>> logits;
        for (auto& x : xs) logits.push_back(mul(out, norm(x, on)));
        return logits;
    }
};

}  // namespace reference
