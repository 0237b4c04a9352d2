// SPDX-License-Identifier: GPL-3.0-or-later
// Quantised models end to end: `batchscope quantize`'s engine function to every preset, the
// result run through the batched paged path against the same weights dequantised to F32; the
// demo model quantised (Q8_0 keeps the reference greedy text, Q4_K_M still says Paris);
// malformed quantised tensors refused with the tensor named.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <algorithm>
#include <map>
#include <tuple>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "engine/model/cpu/cpu_llama_executor.h"
#include "engine/model/cpu/matmul_kernels.h"
#include "engine/model/cpu/quant_types.h"
#include "engine/model/cpu/random_llama_gguf.h"
#include "engine/model/gguf_writer.h"
#include "engine/model/model_quantizer.h"

using namespace batchscope::engine;

namespace {

std::string sourceDir() {
    if (const char* env = std::getenv("BATCHSCOPE_SOURCE_DIR"); env && *env) return env;
    return BATCHSCOPE_SOURCE_DIR;
}

const QuantPreset kPresets[] = {QuantPreset::Q4_0,   QuantPreset::Q4_1,   QuantPreset::Q5_0,   QuantPreset::Q5_1,
                                QuantPreset::Q8_0,   QuantPreset::Q2_K,   QuantPreset::Q3_K_M, QuantPreset::Q4_K_M,
                                QuantPreset::Q5_K_M, QuantPreset::Q6_K,   QuantPreset::IQ4_NL, QuantPreset::IQ4_XS};

// Row length 256 so the K types are used as such (the tiny shape's 64 exercises the fallbacks).
cpu::LlamaShape wideShape() { return cpu::LlamaShape{"wide", 256, 3, 4, 2, 512, 300, 128, false}; }

std::unique_ptr<GgufFile> parse(std::vector<std::uint8_t> bytes) {
    auto f = GgufFile::fromBytes(std::move(bytes));
    EXPECT_TRUE(f.ok()) << f.error().message;
    return f.ok() ? std::move(*f) : nullptr;
}

// The same model with every tensor dequantised to F32.
std::vector<std::uint8_t> dequantisedCopy(const GgufFile& f) {
    GgufWriter w;
    for (const auto& k : f.keys()) w.set(k, *f.find(k));
    for (const auto& t : f.tensors()) {
        std::vector<float> v(t.elementCount());
        const auto type = *cpu::weightTypeFromGgml(t.type);
        const auto cols = static_cast<std::int64_t>(t.dims[0]);
        const std::size_t rowBytes = cpu::weightRowBytes(type, cols);
        for (std::size_t r = 0; r < v.size() / static_cast<std::size_t>(cols); ++r)
            cpu::dequantizeRow(type, t.data + r * rowBytes, cols, v.data() + r * static_cast<std::size_t>(cols));
        EXPECT_TRUE(w.addTensorF32(t.name, t.dims, v).ok());
    }
    return w.serialize().value();
}

// Two sequences prefilled in one batch (paged KV), then one decode step for both: all logits.
std::vector<float> batchedLogits(std::unique_ptr<GgufFile> file) {
    auto ex = CpuLlamaExecutor::create(std::move(file), 2);
    EXPECT_TRUE(ex.ok()) << ex.error().message;
    if (!ex.ok()) return {};
    CpuLlamaExecutor& e = **ex;
    e.configureKvCache(16, 4);
    const std::vector<TokenId> a = {1, 40, 41, 42, 43, 44, 45}, b = {1, 77, 78, 79, 80};
    const std::vector<BlockId> ta = {3, 0}, tb = {1, 2};
    std::vector<float> all, logits;
    auto step = [&](std::span<const TokenId> sa, std::int32_t pa, std::span<const TokenId> sb, std::int32_t pb) {
        ModelBatch batch;
        SequenceStep s1, s2;
        s1.tokens = sa, s1.startPosition = pa, s1.blockTable = ta, s1.needsNextToken = true;
        s2.tokens = sb, s2.startPosition = pb, s2.blockTable = tb, s2.needsNextToken = true;
        batch.blockSize = 4;
        batch.sequences = {s1, s2};
        e.executeWithLogits(batch, &logits);
        all.insert(all.end(), logits.begin(), logits.end());
    };
    step(a, 0, b, 0);
    const TokenId na = 50, nb = 60;
    step(std::span<const TokenId>(&na, 1), 7, std::span<const TokenId>(&nb, 1), 5);
    return all;
}

double relativeMaxError(const std::vector<float>& got, const std::vector<float>& want) {
    double err = 0, mag = 0;
    for (std::size_t i = 0; i < want.size(); ++i) {
        err = std::max(err, std::fabs(double(got[i]) - want[i]));
        mag = std::max(mag, std::fabs(double(want[i])));
    }
    return err / mag;
}

}  // namespace

// Bound: quantised and dequantised-F32 runs use the same weight values. Types with their own
// kernels (detail::hasOwnKernels: today every quantised type, the 32-block ones per 32, the K
// types and IQ4_XS per 256) quantise activations to int8 (max|x|/127 per block), so a model
// holding any of them gets 3e-2 of the largest logit (the bound of cpu_llama_forward_test's
// Q8_0/Q4_0 models; measured up to 2.5e-2 on the wide shape, Q6_K); a type on the generic
// dequantise-to-F32 path would compute with the F32 kernels and get 1e-3.
TEST(QuantModel, EveryPresetRunsLikeItsDequantisedWeights) {
    for (const cpu::LlamaShape& shape : {wideShape(), *cpu::llamaShapeByName("tiny")}) {
        auto f32 = cpu::makeRandomLlamaGguf(shape, GgmlType::F32, 5);
        ASSERT_TRUE(f32.ok());
        auto src = parse(*f32);
        for (QuantPreset p : kPresets) {
            // The tiny shape only for the presets whose fallbacks differ (Q4_K->Q5_0, Q5_K->Q5_1,
            // Q6_K->Q8_0, Q2_K/Q3_K/IQ4_XS->IQ4_NL): keeps the test fast.
            const bool fallbackPreset = p == QuantPreset::Q4_K_M || p == QuantPreset::Q5_K_M || p == QuantPreset::Q6_K ||
                                        p == QuantPreset::Q2_K || p == QuantPreset::IQ4_XS;
            if (shape.name == "tiny" && !fallbackPreset) continue;
            auto q = quantizeModelBytes(*src, p);
            ASSERT_TRUE(q.ok()) << q.error().message;
            auto qf = parse(*q);
            ASSERT_TRUE(qf);
            EXPECT_EQ(qf->getInt("general.file_type"), quantPresetFileType(p));
            bool intPath = false;
            for (const auto& t : qf->tensors()) {
                const auto wt = cpu::weightTypeFromGgml(t.type);
                intPath = intPath || (cpu::quantTraits(*wt).activation != cpu::ActivationKind::None &&
                                      cpu::detail::hasOwnKernels(*wt));
            }
            const auto ref = batchedLogits(parse(dequantisedCopy(*qf)));
            const auto got = batchedLogits(std::move(qf));
            ASSERT_EQ(got.size(), ref.size());
            ASSERT_EQ(got.size(), 4u * static_cast<std::size_t>(shape.vocabSize));
            const double bound = intPath ? 3e-2 : 1e-3;
            const double err = relativeMaxError(got, ref);
            EXPECT_LT(err, bound) << shape.name << " " << quantPresetName(p);
            std::printf("%-5s %-7s logits vs dequantised F32: %.2e (bound %.0e)\n", shape.name.c_str(),
                        std::string(quantPresetName(p)).c_str(), err, bound);
        }
    }
}

TEST(QuantModel, PresetRulesGiveTheUsualTypeMix) {
    auto f32 = cpu::makeRandomLlamaGguf(wideShape(), GgmlType::F32, 5);
    auto src = parse(*f32);
    auto plan = planQuantization(*src, QuantPreset::Q4_K_M);
    ASSERT_TRUE(plan.ok());
    std::map<std::string, GgmlType> type;
    for (const auto& c : *plan) type[c.name] = c.to;
    EXPECT_EQ(type["output.weight"], GgmlType::Q6_K);
    EXPECT_EQ(type["token_embd.weight"], GgmlType::Q4_K);
    // 3 layers: n / 8 = 0, so only layer 2 (last eighth, and (2 - 0) % 3 == 2) gets more bits.
    EXPECT_EQ(type["blk.0.attn_v.weight"], GgmlType::Q4_K);
    EXPECT_EQ(type["blk.2.attn_v.weight"], GgmlType::Q6_K);
    EXPECT_EQ(type["blk.2.ffn_down.weight"], GgmlType::Q6_K);
    EXPECT_EQ(type["blk.1.ffn_down.weight"], GgmlType::Q4_K);
    EXPECT_EQ(type["blk.1.attn_norm.weight"], GgmlType::F32);
    // Row length 64: the K types fall back; output becomes Q8_0.
    auto tiny = parse(cpu::makeRandomLlamaGguf(*cpu::llamaShapeByName("tiny"), GgmlType::F32, 5).value());
    plan = planQuantization(*tiny, QuantPreset::Q4_K_M);
    ASSERT_TRUE(plan.ok());
    for (const auto& c : *plan) {
        if (c.name == "token_embd.weight") {
            EXPECT_EQ(c.to, GgmlType::Q8_0);  // tied: the output
        } else if (c.name.find("norm") == std::string::npos) {
            EXPECT_TRUE(c.to == GgmlType::Q5_0 || c.to == GgmlType::Q8_0) << c.name;
        }
    }
    // Already quantised input and unknown presets are refused.
    auto q = quantizeModelBytes(*src, QuantPreset::Q8_0);
    auto qf = parse(q.value());
    auto again = planQuantization(*qf, QuantPreset::Q4_0);
    ASSERT_FALSE(again.ok());
    EXPECT_NE(again.error().message.find("already quantised"), std::string::npos) << again.error().message;
    EXPECT_FALSE(quantPresetFromName("Q4_K_S").has_value());
    EXPECT_EQ(quantPresetFromName("q4_k_m"), QuantPreset::Q4_K_M);
}

TEST(QuantModel, QuantizeFileIsAtomicAndShowsTheTypeMix) {
    const auto dir = std::filesystem::temp_directory_path() / "batchscope_quant_test";
    std::filesystem::create_directories(dir);
    const auto in = (dir / "in.gguf").string(), out = (dir / "out.gguf").string();
    const auto bytes = cpu::makeRandomLlamaGguf(wideShape(), GgmlType::F16, 9).value();
    std::ofstream(in, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    std::ofstream(out) << "previous contents";
    std::stop_source stop;
    stop.request_stop();
    QuantizeOptions cancelled;
    cancelled.stop = stop.get_token();
    auto r = quantizeModelFile(in, out, QuantPreset::Q4_K_M, cancelled);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::Cancelled);
    EXPECT_FALSE(std::filesystem::exists(out + ".partial"));
    EXPECT_EQ(std::filesystem::file_size(out), std::string("previous contents").size());  // untouched
    int calls = 0;
    QuantizeOptions opt;
    opt.progress = [&](const QuantizeProgress&) { ++calls; };
    r = quantizeModelFile(in, out, QuantPreset::Q4_K_M, opt);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_GT(calls, 3);
    auto ex = loadCpuLlamaExecutor(out, 1);
    ASSERT_TRUE(ex.ok()) << ex.error().message;
    const ModelInfo info = (*ex)->modelInfo();
    EXPECT_EQ(info.fileType, "Q4_K_M");
    EXPECT_EQ(tensorTypeMixText(info), "Q4_K_M: 20 × Q4_K, 7 × F32, 3 × Q6_K");
    std::filesystem::remove_all(dir);
}

TEST(QuantModel, MalformedQuantisedTensorsAreRefusedByName) {
    GgufWriter w;
    w.setString("general.architecture", "llama");
    std::vector<std::uint8_t> data(2 * sizeof(cpu::BlockQ4_K), 0);
    ASSERT_TRUE(w.addTensor("blk.0.attn_q.weight", {256, 2}, GgmlType::Q4_K, data).ok());
    auto good = w.serialize().value();
    ASSERT_TRUE(GgufFile::fromBytes(good).ok());
    // Truncated data: the tensor's bytes run past the end of the file.
    auto truncated = good;
    truncated.resize(truncated.size() - 100);
    auto e = GgufFile::fromBytes(truncated);
    ASSERT_FALSE(e.ok());
    EXPECT_NE(e.error().message.find("blk.0.attn_q.weight"), std::string::npos) << e.error().message;
    // Patch the header: dims[0] = 300 (not a whole number of Q4_K blocks), type 99 (unknown),
    // dims[1] = 3 (more bytes than the file holds).
    const std::string name = "blk.0.attn_q.weight";
    const auto at = std::search(good.begin(), good.end(), name.begin(), name.end()) - good.begin() + static_cast<std::ptrdiff_t>(name.size());
    auto patched = [&](std::size_t offset, std::uint64_t value, std::size_t width) {
        auto b = good;
        std::memcpy(b.data() + at + static_cast<std::ptrdiff_t>(offset), &value, width);
        return GgufFile::fromBytes(b);
    };
    for (const auto& [offset, value, width] : {std::tuple{4, 300, 8}, {4 + 16, 99, 4}, {4 + 8, 3, 8}}) {
        auto r = patched(static_cast<std::size_t>(offset), static_cast<std::uint64_t>(value), static_cast<std::size_t>(width));
        ASSERT_FALSE(r.ok()) << offset;
        EXPECT_NE(r.error().message.find("blk.0.attn_q.weight"), std::string::npos) << r.error().message;
    }
    // A known ggml type the runtime cannot compute with: the loader names tensor and type.
    auto wide = parse(cpu::makeRandomLlamaGguf(wideShape(), GgmlType::F32, 5).value());
    GgufWriter w2;
    for (const auto& k : wide->keys()) w2.set(k, *wide->find(k));
    for (const auto& t : wide->tensors()) {
        if (t.name == "blk.1.ffn_up.weight") {
            const std::uint64_t n = t.elementCount() / 256 * 66;
            ASSERT_TRUE(w2.addTensor(t.name, t.dims, GgmlType::IQ2_XXS, std::vector<std::uint8_t>(n)).ok());
        } else {
            ASSERT_TRUE(w2.addTensor(t.name, t.dims, t.type, std::span(reinterpret_cast<const std::uint8_t*>(t.data), t.sizeBytes)).ok());
        }
    }
    auto ex = CpuLlamaExecutor::create(parse(w2.serialize().value()), 1);
    ASSERT_FALSE(ex.ok());
    EXPECT_NE(ex.error().message.find("blk.1.ffn_up.weight"), std::string::npos) << ex.error().message;
    EXPECT_NE(ex.error().message.find("IQ2_XXS"), std::string::npos) << ex.error().message;
}

// The demo model (F16, dim 256) quantised: Q8_0 keeps the trainer's greedy continuation of the
// "capital" prompts; Q4_K_M still answers Paris.
TEST(QuantModel, DemoModelKeepsItsAnswers) {
    const std::string dir = sourceDir() + "/resources/models/";
    ASSERT_TRUE(std::filesystem::exists(dir + "demo.gguf")) << "no demo model in " << dir;
    std::ifstream in(dir + "demo-reference.json");
    const auto ref = nlohmann::json::parse(in);
    auto demo = GgufFile::open(dir + "demo.gguf");
    ASSERT_TRUE(demo.ok());
    for (QuantPreset p : {QuantPreset::Q8_0, QuantPreset::Q4_K_M}) {
        auto q = quantizeModelBytes(**demo, p);
        ASSERT_TRUE(q.ok()) << q.error().message;
        auto ex = CpuLlamaExecutor::create(parse(*q), 2);
        ASSERT_TRUE(ex.ok()) << ex.error().message;
        CpuLlamaExecutor& e = **ex;
        e.configureKvCache(64, 16);
        BlockId next = 0;
        for (const auto& c : ref["cases"]) {
            const std::string prompt = c["prompt"];
            if (prompt.find("capital") == std::string::npos) continue;
            std::vector<TokenId> tokens = c["prompt_ids"].get<std::vector<TokenId>>();
            const auto greedy = c["greedy_ids"].get<std::vector<TokenId>>();
            const int reliable = c["greedy_reliable_prefix"].get<int>();
            std::vector<BlockId> blocks;
            for (int b = 0; b < 3; ++b) blocks.push_back(next++ % 64);
            std::vector<TokenId> out;
            std::int32_t computed = 0;
            for (int step = 0; step < reliable; ++step) {
                ModelBatch batch;
                SequenceStep s;
                s.tokens = std::span<const TokenId>(tokens).subspan(static_cast<std::size_t>(computed));
                s.startPosition = computed;
                s.blockTable = blocks;
                s.needsNextToken = true;
                s.sampling.temperature = 0.0f;
                batch.sequences.push_back(s);
                const StepResult r = e.execute(batch);
                ASSERT_TRUE(r.nextTokens[0].has_value());
                out.push_back(*r.nextTokens[0]);
                computed = static_cast<std::int32_t>(tokens.size());
                tokens.push_back(*r.nextTokens[0]);  // follow our own path
            }
            const std::vector<TokenId> want(greedy.begin(), greedy.begin() + reliable);
            if (p == QuantPreset::Q8_0) {
                EXPECT_EQ(out, want) << prompt;
            }
            if (p == QuantPreset::Q4_K_M && prompt == "The capital of France is") {
                std::string text;
                for (TokenId t : out) text += e.tokenizer().tokenPiece(t);
                EXPECT_NE(text.find("Paris"), std::string::npos) << "Q4_K_M continuation: " << text;
            }
        }
    }
}
