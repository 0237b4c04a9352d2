// GGUF reader: handcrafted malformed files, each with the exact error it must produce.
// SPDX-License-Identifier: GPL-3.0-or-later
#include <gtest/gtest.h>

#include "engine/model/gguf_file.h"
#include "tests/engine/model/gguf_test_util.h"

namespace batchscope::engine {
namespace {

using test::RawGguf;

Error parseError(const RawGguf& raw) {
    auto r = GgufFile::fromBytes(raw.bytes);
    EXPECT_FALSE(r.ok()) << "expected the file to be rejected";
    return r.ok() ? Error{} : r.error();
}

void expectError(const RawGguf& raw, ErrorCode code, const std::string& message) {
    const Error e = parseError(raw);
    EXPECT_EQ(e.code, code) << e.message;
    EXPECT_EQ(e.message, message);
}

const auto kInvalid = ErrorCode::InvalidFormat;

TEST(GgufMalformed, EmptyFile) {
    expectError(RawGguf{}, kInvalid, "truncated file: magic at offset 0 needs 4 bytes, only 0 left");
}

TEST(GgufMalformed, BadMagic) {
    RawGguf raw;
    raw.u32(0x4C4C5546).u32(3).u64(0).u64(0);
    expectError(raw, kInvalid,
                "not a GGUF file: bad magic 0x4c4c5546 at offset 0 (expected 0x46554747, \"GGUF\")");
}

TEST(GgufMalformed, Version1IsUnsupported) {
    RawGguf raw;
    raw.header(0, 0, 1);
    expectError(raw, ErrorCode::Unsupported, "unsupported GGUF version 1 (supported: 2, 3)");
}

TEST(GgufMalformed, BigEndianVersionIsUnsupported) {
    RawGguf raw;
    raw.header(0, 0, 0x03000000);
    expectError(raw, ErrorCode::Unsupported, "unsupported GGUF version 50331648 (supported: 2, 3)");
}

TEST(GgufMalformed, TruncatedHeader) {
    RawGguf raw;
    raw.u32(0x46554747).u32(3).u32(0);
    expectError(raw, kInvalid, "truncated file: tensor count at offset 8 needs 8 bytes, only 4 left");
}

TEST(GgufMalformed, AbsurdKeyValueCount) {
    RawGguf raw;
    raw.header(0, 1000000).kvU32("a", 1);
    expectError(raw, kInvalid,
                "metadata key/value count 1000000 at offset 16 exceeds what the remaining 17 bytes "
                "can hold");
}

TEST(GgufMalformed, AbsurdTensorCount) {
    RawGguf raw;
    raw.header(~0ULL, 0).zeros(64);
    expectError(raw, kInvalid,
                "tensor count 18446744073709551615 at offset 8 exceeds what the remaining 64 bytes "
                "can hold");
}

TEST(GgufMalformed, KeyLengthPastEnd) {
    RawGguf raw;
    raw.header(0, 1).u64(999).u32(4).u32(0).u8(0);
    expectError(raw, kInvalid,
                "string length 999 of metadata key at offset 24 runs past the end of the file (9 "
                "bytes left)");
}

TEST(GgufMalformed, StringValueLengthPastEnd) {
    RawGguf raw;
    raw.header(0, 1).str("name").u32(8).u64(1ULL << 60);
    expectError(raw, kInvalid,
                "string length 1152921504606846976 of value of key 'name' at offset 40 runs past "
                "the end of the file (0 bytes left)");
}

TEST(GgufMalformed, UnknownValueType) {
    RawGguf raw;
    raw.header(0, 1).str("a").u32(13).u32(0);
    expectError(raw, kInvalid, "key 'a': unknown value type 13 at offset 33");
}

TEST(GgufMalformed, TruncatedScalarValue) {
    RawGguf raw;
    raw.header(0, 1).str("ctx").u32(10).u32(7);
    expectError(raw, kInvalid,
                "truncated file: value of key 'ctx' at offset 39 needs 8 bytes, only 4 left");
}

TEST(GgufMalformed, ArrayLengthPastEnd) {
    RawGguf raw;
    raw.header(0, 1).str("arr").u32(9).u32(5).u64(100).u32(1).u32(2);
    expectError(raw, kInvalid, "key 'arr': array length 100 at offset 43 exceeds the remaining 8 bytes");
}

TEST(GgufMalformed, StringArrayLengthCappedByRemainingBytes) {
    // 3 strings need at least 24 bytes of length prefixes; 16 remain.
    RawGguf raw;
    raw.header(0, 1).str("s").u32(9).u32(8).u64(3).str("ab").u32(0).u32(0);
    expectError(raw, kInvalid, "key 's': array length 3 at offset 41 exceeds the remaining 18 bytes");
}

TEST(GgufMalformed, NestedArraysAreUnsupported) {
    RawGguf raw;
    raw.header(0, 1).str("n").u32(9).u32(9).u64(0);
    expectError(raw, ErrorCode::Unsupported, "key 'n': nested arrays (at offset 37) are not supported");
}

TEST(GgufMalformed, UnknownArrayElementType) {
    RawGguf raw;
    raw.header(0, 1).str("n").u32(9).u32(77).u64(0);
    expectError(raw, kInvalid, "key 'n': unknown array element type 77 at offset 37");
}

TEST(GgufMalformed, BoolOutOfRange) {
    RawGguf raw;
    raw.header(0, 1).str("b").u32(7).u8(2);
    expectError(raw, kInvalid, "key 'b': bool value 2 at offset 37 is not 0 or 1");
}

TEST(GgufMalformed, DuplicateKey) {
    RawGguf raw;
    raw.header(0, 2).kvU32("general.x", 1).kvU32("general.x", 2);
    expectError(raw, kInvalid, "duplicate metadata key 'general.x' at offset 49");
}

TEST(GgufMalformed, AlignmentOfWrongType) {
    RawGguf raw;
    raw.header(0, 1).kvString("general.alignment", "32");
    expectError(raw, kInvalid, "general.alignment must be uint32, got string");
}

TEST(GgufMalformed, AlignmentNotAPowerOfTwo) {
    RawGguf raw;
    raw.header(0, 1).kvU32("general.alignment", 48);
    expectError(raw, kInvalid, "general.alignment must be a nonzero power of two, got 48");
    RawGguf zero;
    zero.header(0, 1).kvU32("general.alignment", 0);
    expectError(zero, kInvalid, "general.alignment must be a nonzero power of two, got 0");
}

TEST(GgufMalformed, TooManyDims) {
    RawGguf raw;
    raw.header(1, 0).tensor("w", {1, 1, 1, 1, 1}, 0, 0).padTo(32).zeros(32);
    expectError(raw, kInvalid, "tensor 'w' (info at offset 24): n_dims 5 is out of range 1..4");
}

TEST(GgufMalformed, ZeroDims) {
    RawGguf raw;
    raw.header(1, 0).tensor("w", {}, 0, 0).padTo(32).zeros(32);
    expectError(raw, kInvalid, "tensor 'w' (info at offset 24): n_dims 0 is out of range 1..4");
}

TEST(GgufMalformed, DimsOverflow) {
    RawGguf raw;
    raw.header(1, 0).tensor("big", {1ULL << 32, 1ULL << 32}, 0, 0).padTo(32).zeros(32);
    expectError(raw, kInvalid, "tensor 'big': element count overflows (dimension 1 = 4294967296)");
}

TEST(GgufMalformed, NegativeDimension) {
    RawGguf raw;
    raw.header(1, 0).tensor("neg", {~0ULL}, 0, 0).padTo(32).zeros(32);
    expectError(raw, kInvalid,
                "tensor 'neg': element count overflows (dimension 0 = 18446744073709551615)");
}

TEST(GgufMalformed, UnknownTensorType) {
    RawGguf raw;
    raw.header(1, 0).tensor("w", {4}, 4, 0).padTo(32).zeros(32);
    expectError(raw, ErrorCode::Unsupported, "tensor 'w': unknown tensor type id 4 at offset 45");
}

TEST(GgufMalformed, RowNotAMultipleOfTheBlockSize) {
    RawGguf raw;
    raw.header(1, 0).tensor("q", {33}, 2, 0).padTo(32).zeros(64);
    expectError(raw, kInvalid,
                "tensor 'q': dimension 0 (33) is not a multiple of the block size 32 of type Q4_0");
}

TEST(GgufMalformed, MisalignedTensorOffset) {
    RawGguf raw;
    raw.header(1, 0).tensor("w", {4}, 0, 4).padTo(32).zeros(64);
    expectError(raw, kInvalid, "tensor 'w': data offset 4 is not a multiple of the alignment 32");
}

TEST(GgufMalformed, TensorDataPastEndOfFile) {
    RawGguf raw;
    raw.header(1, 0).tensor("w", {16}, 0, 0).padTo(32).zeros(32);  // needs 64 bytes
    expectError(raw, kInvalid,
                "tensor 'w': data [0, +64) runs past the end of the file (data section at offset "
                "64 holds 32 bytes)");
}

TEST(GgufMalformed, TensorOffsetFarPastEnd) {
    RawGguf raw;
    raw.header(1, 0).tensor("w", {1}, 0, 1ULL << 63).padTo(32).zeros(32);
    expectError(raw, kInvalid,
                "tensor 'w': data [9223372036854775808, +4) runs past the end of the file (data "
                "section at offset 64 holds 32 bytes)");
}

TEST(GgufMalformed, DuplicateTensorName) {
    RawGguf raw;
    raw.header(2, 0).tensor("w", {4}, 0, 0).tensor("w", {4}, 0, 32).padTo(32).zeros(64);
    expectError(raw, kInvalid, "duplicate tensor name 'w'");
}

TEST(GgufMalformed, OverlappingTensors) {
    RawGguf raw;
    raw.header(2, 0).tensor("a", {16}, 0, 0).tensor("b", {4}, 0, 32).padTo(32).zeros(96);
    expectError(raw, kInvalid, "tensor 'b': data at offset 32 overlaps tensor 'a'");
}

TEST(GgufMalformed, TruncatedTensorInfo) {
    RawGguf raw;
    raw.header(1, 0).str("w").u32(2).u64(4).zeros(19);
    expectError(raw, kInvalid,
                "truncated file: data offset of tensor 'w' at offset 57 needs 8 bytes, only 7 left");
}

TEST(GgufMalformed, ErrorsFromOpenNameThePath) {
    auto r = GgufFile::open("/proc/self/status");  // exists, but not a GGUF regular-size file
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().message.find("/proc/self/status"), std::string::npos) << r.error().message;
}

TEST(GgufMalformed, EmptyTensorAtTheEndIsValid) {
    RawGguf raw;
    raw.header(1, 0).tensor("empty", {0, 4}, 0, 0);  // no data section at all
    auto r = GgufFile::fromBytes(raw.bytes);
    ASSERT_TRUE(r.ok()) << r.error().message;
    const auto& t = r.value()->tensors().at(0);
    EXPECT_EQ(t.sizeBytes, 0u);
    EXPECT_EQ(t.elementCount(), 0u);
}

TEST(GgufMalformed, NoTensorsAndNoPaddingIsValid) {
    RawGguf raw;
    raw.header(0, 1).kvU32("general.alignment", 64);
    auto r = GgufFile::fromBytes(raw.bytes);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r.value()->alignment(), 64u);
    EXPECT_TRUE(r.value()->tensors().empty());
}

}  // namespace
}  // namespace batchscope::engine
