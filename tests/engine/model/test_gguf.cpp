// GGUF reader/writer: round trips of every value type, accessors, tensors, fuzzing.
// SPDX-License-Identifier: GPL-3.0-or-later
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <unistd.h>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <random>

#include "engine/model/gguf_file.h"
#include "engine/model/gguf_writer.h"

namespace batchscope::engine {
namespace {

std::unique_ptr<GgufFile> parseOk(std::vector<std::uint8_t> bytes) {
    auto r = GgufFile::fromBytes(std::move(bytes));
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
    return r.ok() ? std::move(r).value() : nullptr;
}

GgufWriter writerWithEveryType() {
    GgufWriter w;
    w.set("u8", GgufValue(std::uint8_t{200}));
    w.set("i8", GgufValue(std::int8_t{-100}));
    w.set("u16", GgufValue(std::uint16_t{60000}));
    w.set("i16", GgufValue(std::int16_t{-30000}));
    w.setUInt32("u32", 4000000000u);
    w.setInt32("i32", -2000000000);
    w.setFloat32("f32", 1.5f);
    w.setBool("bool", true);
    w.setString("str", std::string("h\xc3\xa9llo\0x", 8));
    w.setUInt64("u64", std::numeric_limits<std::uint64_t>::max());
    w.set("i64", GgufValue(std::int64_t{-(1LL << 62)}));
    w.set("f64", GgufValue(0.1));
    w.set("a.u8", GgufValue(GgufArray(std::vector<std::uint8_t>{1, 2, 255})));
    w.set("a.i8", GgufValue(GgufArray(std::vector<std::int8_t>{-1, 2})));
    w.set("a.u16", GgufValue(GgufArray(std::vector<std::uint16_t>{65535})));
    w.set("a.i16", GgufValue(GgufArray(std::vector<std::int16_t>{-5, 5})));
    w.set("a.u32", GgufValue(GgufArray(std::vector<std::uint32_t>{7, 8, 9})));
    w.setInt32Array("a.i32", {-7, 0, 7});
    w.setFloat32Array("a.f32", {0.5f, -2.25f});
    w.set("a.bool", GgufValue(GgufArray(std::vector<bool>{true, false, true})));
    w.setStringArray("a.str", {"", "a", "\xe2\x96\x81x"});
    w.set("a.u64", GgufValue(GgufArray(std::vector<std::uint64_t>{1, 1ULL << 40})));
    w.set("a.i64", GgufValue(GgufArray(std::vector<std::int64_t>{-(1LL << 40)})));
    w.set("a.f64", GgufValue(GgufArray(std::vector<double>{1e300, -0.0})));
    w.set("a.empty", GgufValue(GgufArray(std::vector<std::string>{})));
    return w;
}

TEST(GgufRoundTrip, EveryScalarType) {
    auto bytes = writerWithEveryType().serialize();
    ASSERT_TRUE(bytes.ok());
    auto f = parseOk(std::move(bytes).value());
    ASSERT_TRUE(f);
    EXPECT_EQ(f->version(), 3u);
    EXPECT_EQ(f->alignment(), 32u);
    EXPECT_EQ(f->find("u8")->type, GgufValueType::UInt8);
    EXPECT_EQ(std::get<std::uint8_t>(f->find("u8")->data), 200);
    EXPECT_EQ(f->getInt("u8"), 200);
    EXPECT_EQ(f->getInt("i8"), -100);
    EXPECT_EQ(f->getInt("u16"), 60000);
    EXPECT_EQ(f->getInt("i16"), -30000);
    EXPECT_EQ(f->getInt("u32"), 4000000000LL);
    EXPECT_EQ(f->getInt("i32"), -2000000000);
    EXPECT_EQ(f->find("f32")->type, GgufValueType::Float32);
    EXPECT_EQ(f->getFloat("f32"), 1.5);
    EXPECT_EQ(f->getBool("bool"), true);
    EXPECT_EQ(f->getString("str"), std::string("h\xc3\xa9llo\0x", 8));
    EXPECT_EQ(std::get<std::uint64_t>(f->find("u64")->data), std::numeric_limits<std::uint64_t>::max());
    EXPECT_EQ(f->getInt("u64"), std::nullopt) << "uint64 above INT64_MAX is range-checked";
    EXPECT_EQ(f->getInt("i64"), -(1LL << 62));
    EXPECT_EQ(f->getFloat("f64"), 0.1);
    EXPECT_EQ(f->find("f64")->type, GgufValueType::Float64);
}

TEST(GgufRoundTrip, EveryArrayType) {
    auto f = parseOk(writerWithEveryType().serialize().value());
    ASSERT_TRUE(f);
    EXPECT_EQ(f->getIntArray("a.u8"), (std::vector<std::int64_t>{1, 2, 255}));
    EXPECT_EQ(f->getIntArray("a.i8"), (std::vector<std::int64_t>{-1, 2}));
    EXPECT_EQ(f->getIntArray("a.u16"), (std::vector<std::int64_t>{65535}));
    EXPECT_EQ(f->getIntArray("a.i16"), (std::vector<std::int64_t>{-5, 5}));
    EXPECT_EQ(f->getIntArray("a.u32"), (std::vector<std::int64_t>{7, 8, 9}));
    EXPECT_EQ(f->getIntArray("a.i32"), (std::vector<std::int64_t>{-7, 0, 7}));
    EXPECT_EQ(f->getFloatArray("a.f32"), (std::vector<float>{0.5f, -2.25f}));
    EXPECT_EQ(f->getIntArray("a.bool"), (std::vector<std::int64_t>{1, 0, 1}));
    EXPECT_EQ(f->find("a.bool")->array()->elementType, GgufValueType::Bool);
    ASSERT_NE(f->getStringArray("a.str"), nullptr);
    EXPECT_EQ(*f->getStringArray("a.str"), (std::vector<std::string>{"", "a", "\xe2\x96\x81x"}));
    EXPECT_EQ(f->getIntArray("a.u64"), (std::vector<std::int64_t>{1, 1LL << 40}));
    EXPECT_EQ(f->getIntArray("a.i64"), (std::vector<std::int64_t>{-(1LL << 40)}));
    auto f64 = f->getFloatArray("a.f64");
    ASSERT_TRUE(f64);
    EXPECT_TRUE(std::isinf((*f64)[0])) << "1e300 does not fit a float";
    EXPECT_EQ(std::get<std::vector<double>>(f->find("a.f64")->array()->data)[0], 1e300);
    ASSERT_NE(f->getStringArray("a.empty"), nullptr);
    EXPECT_TRUE(f->getStringArray("a.empty")->empty());
    EXPECT_EQ(f->find("a.u32")->array()->size(), 3u);
}

TEST(GgufRoundTrip, AccessorsRejectOtherTypesAndMissingKeys) {
    auto f = parseOk(writerWithEveryType().serialize().value());
    ASSERT_TRUE(f);
    EXPECT_EQ(f->find("nope"), nullptr);
    EXPECT_EQ(f->getString("u32"), std::nullopt);
    EXPECT_EQ(f->getInt("str"), std::nullopt);
    EXPECT_EQ(f->getInt("f32"), std::nullopt);
    EXPECT_EQ(f->getInt("bool"), std::nullopt);
    EXPECT_EQ(f->getFloat("u32"), 4000000000.0);
    EXPECT_EQ(f->getBool("u8"), std::nullopt);
    EXPECT_EQ(f->getStringArray("a.u8"), nullptr);
    EXPECT_EQ(f->getStringArray("str"), nullptr);
    EXPECT_EQ(f->getFloatArray("a.str"), std::nullopt);
    EXPECT_EQ(f->getIntArray("a.f32"), std::nullopt);
    EXPECT_EQ(f->getFloatArray("a.i32"), (std::vector<float>{-7, 0, 7}));
    const auto keys = f->keys();
    ASSERT_EQ(keys.size(), 25u);
    EXPECT_EQ(keys.front(), "u8");
    EXPECT_EQ(keys.back(), "a.empty");
}

TEST(GgufRoundTrip, SettingAKeyTwiceReplacesIt) {
    GgufWriter w;
    w.setUInt32("k", 1);
    w.setString("k", "two");
    auto f = parseOk(w.serialize().value());
    ASSERT_TRUE(f);
    EXPECT_EQ(f->keys().size(), 1u);
    EXPECT_EQ(f->getString("k"), "two");
}

std::vector<std::uint8_t> iota(std::size_t n, std::uint8_t start) {
    std::vector<std::uint8_t> v(n);
    for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::uint8_t>(start + i);
    return v;
}

TEST(GgufRoundTrip, TensorsKeepShapeTypeAndBytes) {
    GgufWriter w;
    w.setString("general.architecture", "llama");
    const std::vector<float> emb = {1, 2, 3, 4, 5, 6};
    ASSERT_TRUE(w.addTensorF32("token_embd.weight", {3, 2}, emb).ok());
    const auto q8 = iota(34 * 4, 1);
    ASSERT_TRUE(w.addTensor("blk.0.attn_q.weight", {64, 2}, GgmlType::Q8_0, q8).ok());
    const auto f16 = iota(2 * 5, 9);
    ASSERT_TRUE(w.addTensor("norm", {5}, GgmlType::F16, f16).ok());
    auto f = parseOk(w.serialize().value());
    ASSERT_TRUE(f);
    ASSERT_EQ(f->tensors().size(), 3u);
    const auto* t = f->findTensor("token_embd.weight");
    ASSERT_NE(t, nullptr);
    EXPECT_EQ(t->dims, (std::vector<std::uint64_t>{3, 2}));
    EXPECT_EQ(t->type, GgmlType::F32);
    EXPECT_EQ(t->elementCount(), 6u);
    EXPECT_EQ(t->sizeBytes, 24u);
    EXPECT_EQ(std::memcmp(t->data, emb.data(), 24), 0);
    const auto* q = f->findTensor("blk.0.attn_q.weight");
    ASSERT_NE(q, nullptr);
    EXPECT_EQ(q->type, GgmlType::Q8_0);
    EXPECT_EQ(q->sizeBytes, q8.size());
    EXPECT_EQ(std::memcmp(q->data, q8.data(), q8.size()), 0);
    const auto* n = f->findTensor("norm");
    ASSERT_NE(n, nullptr);
    EXPECT_EQ(std::memcmp(n->data, f16.data(), f16.size()), 0);
    for (const auto& ti : f->tensors()) {
        EXPECT_EQ(ti.offset % 32, 0u) << ti.name;
        EXPECT_EQ((f->dataOffset() + ti.offset) % 32, 0u) << ti.name;
    }
    EXPECT_EQ(f->findTensor("missing"), nullptr);
}

TEST(GgufRoundTrip, CustomAlignmentAndVersion2) {
    GgufWriter w;
    w.setVersion(2);
    w.setAlignment(64);
    ASSERT_TRUE(w.addTensor("a", {3}, GgmlType::I8, iota(3, 0)).ok());
    ASSERT_TRUE(w.addTensorOwned("b", {2}, GgmlType::F64, iota(16, 50)).ok());
    auto f = parseOk(w.serialize().value());
    ASSERT_TRUE(f);
    EXPECT_EQ(f->version(), 2u);
    EXPECT_EQ(f->alignment(), 64u);
    EXPECT_EQ(f->dataOffset() % 64, 0u);
    EXPECT_EQ(f->findTensor("b")->offset, 64u);
    EXPECT_EQ(static_cast<int>(f->findTensor("b")->data[0]), 50);
}

TEST(GgufRoundTrip, OpenMapsAFileFromDisk) {
    GgufWriter w;
    w.setString("general.name", "disk");
    ASSERT_TRUE(w.addTensorF32("x", {2}, std::vector<float>{7.f, 8.f}).ok());
    const auto path = (std::filesystem::temp_directory_path() /
                       ("bs_gguf_" + std::to_string(::getpid()) + ".gguf")).string();
    ASSERT_TRUE(w.writeFile(path).ok());
    {
        std::ifstream in(path, std::ios::binary);
        const std::vector<std::uint8_t> onDisk((std::istreambuf_iterator<char>(in)), {});
        EXPECT_EQ(onDisk, w.serialize().value()) << "writeFile streams the same bytes";
    }
    auto r = GgufFile::open(path);
    ASSERT_TRUE(r.ok()) << r.error().message;
    auto& f = *r.value();
    EXPECT_EQ(f.getString("general.name"), "disk");
    EXPECT_EQ(f.fileSize(), std::filesystem::file_size(path));
    EXPECT_EQ(f.path(), path);
    float x[2];
    std::memcpy(x, f.findTensor("x")->data, sizeof x);
    EXPECT_EQ(x[1], 8.f);
    std::filesystem::remove(path);
}

TEST(GgufRoundTrip, OpenMissingFileIsNotFound) {
    auto r = GgufFile::open("/nonexistent/dir/model.gguf");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::NotFound);
    EXPECT_NE(r.error().message.find("/nonexistent/dir/model.gguf"), std::string::npos);
}

TEST(GgufWriterTest, RejectsBadTensors) {
    GgufWriter w;
    ASSERT_TRUE(w.addTensor("t", {4}, GgmlType::F32, iota(16, 0)).ok());
    auto dup = w.addTensor("t", {4}, GgmlType::F32, iota(16, 0));
    ASSERT_FALSE(dup.ok());
    EXPECT_EQ(dup.error().message, "duplicate tensor 't'");
    auto size = w.addTensor("u", {4}, GgmlType::F32, iota(15, 0));
    ASSERT_FALSE(size.ok());
    EXPECT_EQ(size.error().message, "tensor 'u': data has 15 bytes, dims and type F32 need 16");
    EXPECT_FALSE(w.addTensor("v", {33}, GgmlType::Q4_0, iota(18, 0)).ok());
    EXPECT_FALSE(w.addTensor("w", {}, GgmlType::F32, {}).ok());
    auto owned = w.addTensorOwned("t", {1}, GgmlType::F32, iota(4, 0));
    ASSERT_FALSE(owned.ok());
    EXPECT_EQ(owned.error().message, "duplicate tensor 't'");
    w.setAlignment(48);
    EXPECT_FALSE(w.serialize().ok());
}

TEST(GgmlTypes, NamesIdsAndBlockSizes) {
    EXPECT_EQ(ggmlTypeName(GgmlType::Q4_K), "Q4_K");
    EXPECT_EQ(ggmlTypeName(GgmlType::BF16), "BF16");
    EXPECT_EQ(ggmlTypeFromId(8), GgmlType::Q8_0);
    EXPECT_EQ(ggmlTypeFromId(4), std::nullopt);
    EXPECT_EQ(ggmlTypeFromId(1000), std::nullopt);
    EXPECT_EQ(ggmlTypeBlockSize(GgmlType::F32), 1);
    EXPECT_EQ(ggmlTypeBytesPerBlock(GgmlType::F32), 4);
    EXPECT_EQ(ggmlTypeBytesPerBlock(GgmlType::F16), 2);
    EXPECT_EQ(ggmlTypeBytesPerBlock(GgmlType::BF16), 2);
    EXPECT_EQ(ggmlTypeBlockSize(GgmlType::Q8_0), 32);
    EXPECT_EQ(ggmlTypeBytesPerBlock(GgmlType::Q8_0), 34);
    EXPECT_EQ(ggmlTypeBytesPerBlock(GgmlType::Q4_0), 18);
    EXPECT_EQ(ggmlTypeBlockSize(GgmlType::Q6_K), 256);
    EXPECT_EQ(ggmlTypeBytesPerBlock(GgmlType::Q6_K), 210);
    EXPECT_EQ(ggmlTypeBytesPerBlock(GgmlType::Q4_K), 144);
    for (std::uint32_t id = 0; id < 64; ++id) {
        if (auto t = ggmlTypeFromId(id)) {
            EXPECT_NE(ggmlTypeName(*t), "unknown") << id;
            EXPECT_GT(ggmlTypeBlockSize(*t), 0) << id;
            EXPECT_GT(ggmlTypeBytesPerBlock(*t), 0) << id;
        }
    }
}

// A file with metadata of several kinds and three tensors, for the fuzz loops.
std::vector<std::uint8_t> fuzzSeed() {
    GgufWriter w = writerWithEveryType();
    EXPECT_TRUE(w.addTensorF32("a", {2, 2}, std::vector<float>{1, 2, 3, 4}).ok());
    EXPECT_TRUE(w.addTensor("b", {32}, GgmlType::Q8_0, iota(34, 3)).ok());
    EXPECT_TRUE(w.addTensor("c", {256}, GgmlType::Q4_K, iota(144, 0)).ok());
    return w.serialize().value();
}

// A successful parse must be self-consistent: every tensor lies inside the file.
void checkConsistent(const GgufFile& f) {
    for (const auto& t : f.tensors()) {
        ASSERT_LE(f.dataOffset() + t.offset + t.sizeBytes, f.fileSize()) << t.name;
        ASSERT_NE(t.data, nullptr);
        // Touch the first and last bytes: ASan flags any out-of-bounds pointer.
        if (t.sizeBytes > 0) {
            volatile std::byte first = t.data[0];
            volatile std::byte last = t.data[t.sizeBytes - 1];
            (void)first;
            (void)last;
        }
    }
}

TEST(GgufFuzz, EveryTruncationFailsCleanly) {
    const auto seed = fuzzSeed();
    std::size_t parsed = 0;
    for (std::size_t len = 0; len < seed.size(); ++len) {
        auto r = GgufFile::fromBytes(std::vector<std::uint8_t>(seed.begin(), seed.begin() + len));
        if (r.ok()) {
            ++parsed;
            checkConsistent(*r.value());
        } else {
            EXPECT_FALSE(r.error().message.empty());
        }
    }
    // Only cutting trailing padding after the last tensor can still parse.
    EXPECT_LT(parsed, 32u);
}

TEST(GgufFuzz, RandomByteFlipsNeverCrash) {
    const auto seed = fuzzSeed();
    std::mt19937 rng(12345);
    std::uniform_int_distribution<std::size_t> pos(0, seed.size() - 1);
    std::uniform_int_distribution<int> byte(0, 255), flips(1, 4);
    int errors = 0;
    for (int iter = 0; iter < 3000; ++iter) {
        auto bytes = seed;
        const int n = flips(rng);
        for (int i = 0; i < n; ++i) bytes[pos(rng)] = static_cast<std::uint8_t>(byte(rng));
        auto r = GgufFile::fromBytes(std::move(bytes));
        if (r.ok()) {
            checkConsistent(*r.value());
        } else {
            ++errors;
            EXPECT_TRUE(r.error().code == ErrorCode::InvalidFormat ||
                        r.error().code == ErrorCode::Unsupported);
        }
    }
    EXPECT_GT(errors, 0);
}

}  // namespace
}  // namespace batchscope::engine
