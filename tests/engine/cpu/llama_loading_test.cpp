// SPDX-License-Identifier: GPL-3.0-or-later
// Loading GGUF llama files for the CPU runtime: errors name what is wrong; progress; cancel.
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>

#include "engine/model/cpu/cpu_llama_executor.h"
#include "engine/model/cpu/random_llama_gguf.h"
#include "engine/model/gguf_writer.h"

using namespace batchscope::engine;

namespace {

std::vector<std::uint8_t> tinyBytes(GgmlType type = GgmlType::F32) {
    auto b = cpu::makeRandomLlamaGguf(*cpu::llamaShapeByName("tiny"), type, 11);
    EXPECT_TRUE(b.ok());
    return *b;
}

// Copies a file through GgufWriter, letting `edit` change keys/tensors on the way.
struct TensorEdit {
    std::string name;
    std::vector<std::uint64_t> dims;
    GgmlType type;
    std::vector<std::uint8_t> data;
    bool drop = false;
};

std::vector<std::uint8_t> rewrite(const std::vector<std::uint8_t>& bytes,
                                  const std::function<void(GgufWriter&)>& editKeys,
                                  const std::function<void(TensorEdit&)>& editTensor) {
    auto f = GgufFile::fromBytes(bytes);
    EXPECT_TRUE(f.ok());
    GgufWriter w;
    for (const auto& k : (*f)->keys()) w.set(k, *(*f)->find(k));
    if (editKeys) editKeys(w);
    for (const auto& t : (*f)->tensors()) {
        TensorEdit e{t.name, t.dims, t.type,
                     std::vector<std::uint8_t>(reinterpret_cast<const std::uint8_t*>(t.data),
                                               reinterpret_cast<const std::uint8_t*>(t.data) + t.sizeBytes)};
        if (editTensor) editTensor(e);
        if (!e.drop) {
            EXPECT_TRUE(w.addTensor(e.name, e.dims, e.type, e.data).ok()) << e.name;
        }
    }
    auto out = w.serialize();
    EXPECT_TRUE(out.ok());
    return *out;
}

Error loadError(const std::vector<std::uint8_t>& bytes) {
    auto f = GgufFile::fromBytes(bytes);
    if (!f) return f.error();
    auto ex = CpuLlamaExecutor::create(std::move(*f), 1);
    EXPECT_FALSE(ex.ok());
    return ex.ok() ? Error{} : ex.error();
}

}  // namespace

TEST(CpuLlamaLoading, LoadsFromPathWithProgressAndTokenizer) {
    const auto path = (std::filesystem::temp_directory_path() / "batchscope_cpu_tiny.gguf").string();
    const auto bytes = tinyBytes(GgmlType::F16);
    FILE* out = std::fopen(path.c_str(), "wb");
    ASSERT_NE(out, nullptr);
    ASSERT_EQ(std::fwrite(bytes.data(), 1, bytes.size(), out), bytes.size());
    std::fclose(out);
    std::vector<double> fractions;
    auto ex = loadCpuLlamaExecutor(path, 2, [&](double f, const std::string&) { fractions.push_back(f); });
    std::filesystem::remove(path);
    ASSERT_TRUE(ex.ok()) << ex.error().message;
    ASSERT_GE(fractions.size(), 3u);
    EXPECT_TRUE(std::is_sorted(fractions.begin(), fractions.end()));
    EXPECT_EQ(fractions.back(), 1.0);
    const ModelInfo info = (*ex)->modelInfo();
    EXPECT_EQ(info.backend, "cpu");
    EXPECT_EQ(info.tokenizerKind, "llama");
    EXPECT_EQ(info.tensorTypeCounts.at("F16"), 1 + 2 * 7);  // tied output
    EXPECT_EQ(info.fileSizeBytes, bytes.size());
    const auto ids = (*ex)->tokenizer().encode("hi there", true);
    EXPECT_EQ(ids.front(), 1);
    EXPECT_EQ((*ex)->tokenizer().decode(ids), "hi there");
}

TEST(CpuLlamaLoading, KvCacheTypeAutoFollowsTheWeightsAndCanBeOverridden) {
    struct Case {
        GgmlType weights;
        KvCacheType requested;
        const char* expected;
    };
    for (const Case c : {Case{GgmlType::F32, KvCacheType::Auto, "F32"}, Case{GgmlType::F16, KvCacheType::Auto, "F16"},
                         Case{GgmlType::Q8_0, KvCacheType::Auto, "F16"}, Case{GgmlType::F16, KvCacheType::F32, "F32"},
                         Case{GgmlType::F32, KvCacheType::F16, "F16"}}) {
        auto f = GgufFile::fromBytes(tinyBytes(c.weights));
        ASSERT_TRUE(f.ok());
        auto ex = CpuLlamaExecutor::create(std::move(*f), 1);
        ASSERT_TRUE(ex.ok()) << ex.error().message;
        EXPECT_EQ((*ex)->modelInfo().kvCacheType, "F32") << "create() alone keeps the exact F32 pool";
        const std::size_t f32Bytes = (*ex)->kvBytesPerBlock(16);
        (*ex)->setKvCacheType(c.requested);
        EXPECT_EQ((*ex)->modelInfo().kvCacheType, c.expected) << ggmlTypeName(c.weights);
        EXPECT_EQ((*ex)->kvBytesPerBlock(16), std::string(c.expected) == "F16" ? f32Bytes / 2 : f32Bytes);
    }
}

TEST(CpuLlamaLoading, CancelledLoadReturnsCancelled) {
    std::stop_source stop;
    auto f = GgufFile::fromBytes(tinyBytes());
    ASSERT_TRUE(f.ok());
    int calls = 0;
    auto ex = CpuLlamaExecutor::create(std::move(*f), 1, [&](double, const std::string&) {
        if (++calls == 3) stop.request_stop();
    }, stop.get_token());
    ASSERT_FALSE(ex.ok());
    EXPECT_EQ(ex.error().code, ErrorCode::Cancelled);
}

TEST(CpuLlamaLoading, MissingFileNamesThePath) {
    auto ex = loadCpuLlamaExecutor("/nonexistent/model.gguf", 1);
    ASSERT_FALSE(ex.ok());
    EXPECT_NE(ex.error().message.find("/nonexistent/model.gguf"), std::string::npos);
}

TEST(CpuLlamaLoading, RefusesOtherArchitectures) {
    const Error e = loadError(rewrite(tinyBytes(), [](GgufWriter& w) { w.setString("general.architecture", "gpt2"); }, {}));
    EXPECT_EQ(e.code, ErrorCode::Unsupported);
    EXPECT_NE(e.message.find("gpt2"), std::string::npos) << e.message;
}

TEST(CpuLlamaLoading, RefusesMissingTensorNamingIt) {
    const Error e = loadError(rewrite(tinyBytes(), {}, [](TensorEdit& t) { t.drop = t.name == "blk.1.ffn_up.weight"; }));
    EXPECT_EQ(e.code, ErrorCode::InvalidFormat);
    EXPECT_NE(e.message.find("blk.1.ffn_up.weight"), std::string::npos) << e.message;
    EXPECT_NE(e.message.find("missing"), std::string::npos) << e.message;
}

TEST(CpuLlamaLoading, RefusesWrongShapeNamingIt) {
    const Error e = loadError(rewrite(tinyBytes(), {}, [](TensorEdit& t) {
        if (t.name != "blk.0.attn_k.weight") return;
        t.dims = {64, 64};  // should be [64, 32]
        t.data.resize(64 * 64 * 4);
    }));
    EXPECT_EQ(e.code, ErrorCode::InvalidFormat);
    EXPECT_NE(e.message.find("blk.0.attn_k.weight"), std::string::npos) << e.message;
    EXPECT_NE(e.message.find("[64, 32]"), std::string::npos) << e.message;
}

TEST(CpuLlamaLoading, RefusesUnsupportedTensorTypeNamingIt) {
    const Error e = loadError(rewrite(tinyBytes(), {}, [](TensorEdit& t) {
        if (t.name != "blk.0.ffn_gate.weight") return;
        t.type = GgmlType::Q8_1;  // 36 bytes per 32 values; an activation type, not a weight type
        t.data.assign(64 / 32 * 36 * 160, 0);
    }));
    EXPECT_EQ(e.code, ErrorCode::Unsupported);
    EXPECT_NE(e.message.find("blk.0.ffn_gate.weight"), std::string::npos) << e.message;
    EXPECT_NE(e.message.find("Q8_1"), std::string::npos) << e.message;
}

TEST(CpuLlamaLoading, RefusesInconsistentHeadCount) {
    const Error e = loadError(rewrite(tinyBytes(), [](GgufWriter& w) { w.setUInt32("llama.attention.head_count_kv", 3); }, {}));
    EXPECT_EQ(e.code, ErrorCode::InvalidFormat);
    EXPECT_NE(e.message.find("head_count_kv"), std::string::npos) << e.message;
}

namespace {

std::vector<std::uint8_t> familyBytes(const char* family) {
    auto b = cpu::makeRandomLlamaGguf(*cpu::llamaShapeByName("tiny", family), GgmlType::F32, 11);
    EXPECT_TRUE(b.ok());
    return *b;
}

}  // namespace

TEST(CpuLlamaLoading, LoadsEveryFamilyAndCountsItsParameters) {
    for (const char* family : {"llama", "llama3", "qwen2", "qwen3", "phi3", "gemma2", "gemma3"}) {
        const auto bytes = familyBytes(family);
        auto f = GgufFile::fromBytes(bytes);
        ASSERT_TRUE(f.ok());
        std::uint64_t elements = 0;
        for (const auto& t : (*f)->tensors()) {
            if (t.name.rfind("rope_", 0) == 0) continue;  // rope factors are not parameters
            std::uint64_t n = 1;
            for (auto d : t.dims) n *= d;
            elements += n;
        }
        auto ex = CpuLlamaExecutor::create(std::move(*f), 1);
        ASSERT_TRUE(ex.ok()) << family << ": " << ex.error().message;
        const ModelInfo info = (*ex)->modelInfo();
        EXPECT_EQ(info.architecture, std::string(family) == "llama3" ? "llama" : family);
        EXPECT_EQ(info.parameterCount, elements) << family;
    }
}

TEST(CpuLlamaLoading, RefusesATensorTheArchitectureDoesNotUse) {
    // A llama file with a Q bias: running without it would silently compute another model.
    const Error e = loadError(rewrite(tinyBytes(), [](GgufWriter& w) {
        EXPECT_TRUE(w.addTensorF32("blk.0.attn_q.bias", {64}, std::vector<float>(64, 0.5f)).ok());
    }, {}));
    EXPECT_EQ(e.code, ErrorCode::Unsupported);
    EXPECT_NE(e.message.find("blk.0.attn_q.bias"), std::string::npos) << e.message;
}

TEST(CpuLlamaLoading, RefusesRopeScalingItDoesNotImplement) {
    const Error e = loadError(rewrite(tinyBytes(), [](GgufWriter& w) { w.setString("llama.rope.scaling.type", "yarn"); }, {}));
    EXPECT_EQ(e.code, ErrorCode::Unsupported);
    EXPECT_NE(e.message.find("llama.rope.scaling.type"), std::string::npos) << e.message;
    EXPECT_NE(e.message.find("yarn"), std::string::npos) << e.message;
}

TEST(CpuLlamaLoading, RefusesFamilyFilesMissingTheirPartsNamingThem) {
    Error e = loadError(rewrite(familyBytes("qwen2"), {}, [](TensorEdit& t) { t.drop = t.name == "blk.1.attn_k.bias"; }));
    EXPECT_NE(e.message.find("blk.1.attn_k.bias"), std::string::npos) << e.message;
    e = loadError(rewrite(familyBytes("qwen3"), {}, [](TensorEdit& t) { t.drop = t.name == "blk.0.attn_q_norm.weight"; }));
    EXPECT_NE(e.message.find("blk.0.attn_q_norm.weight"), std::string::npos) << e.message;
    e = loadError(rewrite(familyBytes("gemma2"), {}, [](TensorEdit& t) { t.drop = t.name == "blk.1.post_ffw_norm.weight"; }));
    EXPECT_NE(e.message.find("blk.1.post_ffw_norm.weight"), std::string::npos) << e.message;
    e = loadError(rewrite(familyBytes("phi3"), {}, [](TensorEdit& t) { t.drop = t.name == "rope_factors_short.weight"; }));
    EXPECT_NE(e.message.find("rope_factors_short.weight"), std::string::npos) << e.message;
    // A key the architecture needs: gemma2's soft-capping.
    auto f = GgufFile::fromBytes(familyBytes("gemma2"));
    ASSERT_TRUE(f.ok());
    GgufWriter w;
    for (const auto& k : (*f)->keys())
        if (k != "gemma2.attn_logit_softcapping") w.set(k, *(*f)->find(k));
    for (const auto& t : (*f)->tensors())
        ASSERT_TRUE(w.addTensor(t.name, t.dims, t.type,
                                std::vector<std::uint8_t>(reinterpret_cast<const std::uint8_t*>(t.data),
                                                          reinterpret_cast<const std::uint8_t*>(t.data) + t.sizeBytes)).ok());
    auto bytes = w.serialize();
    ASSERT_TRUE(bytes.ok());
    e = loadError(*bytes);
    EXPECT_EQ(e.code, ErrorCode::InvalidFormat);
    EXPECT_NE(e.message.find("gemma2.attn_logit_softcapping"), std::string::npos) << e.message;
}
