// Prompt calibration against real tokenizers (the simulated executor's byte tokenizer and the
// demo model's SentencePiece vocabulary): the chosen words give prompts of exactly the asked
// number of tokens, and shared prefix hashes give shared leading text.
// SPDX-License-Identifier: GPL-3.0-or-later
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "engine/model/gguf_file.h"
#include "engine/tokenizer/byte_tokenizer.h"
#include "engine/tokenizer/tokenizer_factory.h"
#include "engine/trace/synthetic_prompt.h"

namespace batchscope::engine {
namespace {

/// Runs the calibration as a server would answer it (prompt tokens = encode(prompt, BOS)).
SyntheticPromptBuilder calibrate(const Tokenizer& tokenizer, bool* exact) {
    PromptCalibration c;
    for (int guard = 0; !c.done() && guard < 3; ++guard)
        for (const auto& p : c.probes()) c.record(p.id, int(tokenizer.encode(p.prompt, true).size()));
    EXPECT_TRUE(c.done());
    *exact = c.exact();
    return c.builder();
}

void expectExactLengths(const Tokenizer& tokenizer, const SyntheticPromptBuilder& b) {
    for (int tokens : {b.offset() + 1, 17, 100, 513, 2000})
        EXPECT_EQ(int(tokenizer.encode(b.build(tokens, std::uint64_t(tokens)), true).size()), tokens) << tokens;
}

TEST(SyntheticPrompt, ByteTokenizerUsesLetters) {
    ByteTokenizer tokenizer;
    bool exact = false;
    const auto b = calibrate(tokenizer, &exact);
    EXPECT_TRUE(exact);
    EXPECT_EQ(b.offset(), 1);  // BOS
    EXPECT_EQ(b.words().front(), "a");
    expectExactLengths(tokenizer, b);
}

TEST(SyntheticPrompt, DemoModelSentencePiece) {
    const char* env = std::getenv("BATCHSCOPE_SOURCE_DIR");
    const std::filesystem::path model = std::filesystem::path(env ? env : BATCHSCOPE_SOURCE_DIR) / "resources/models/demo.gguf";
    if (!std::filesystem::exists(model)) GTEST_SKIP() << "demo model not found at " << model;
    auto file = GgufFile::open(model.string());
    ASSERT_TRUE(file.ok()) << file.error().message;
    auto tokenizer = createTokenizerFromGguf(*file.value());
    ASSERT_TRUE(tokenizer.ok()) << tokenizer.error().message;
    bool exact = false;
    const auto b = calibrate(*tokenizer.value(), &exact);
    EXPECT_TRUE(exact);
    EXPECT_GE(b.words().size(), 4u);
    expectExactLengths(*tokenizer.value(), b);
}

TEST(SyntheticPrompt, SharedPrefixHashesShareText) {
    const SyntheticPromptBuilder b({"a", "b", "c", "d"}, 1);
    const auto x = b.build(60, 1, {11, 22}), y = b.build(60, 2, {11, 22}), z = b.build(60, 3, {11, 99});
    EXPECT_EQ(x.size(), 59u);
    EXPECT_EQ(x.substr(0, 32), y.substr(0, 32));   // both blocks shared
    EXPECT_NE(x.substr(32), y.substr(32));         // the rest is per request
    EXPECT_EQ(x.substr(0, 16), z.substr(0, 16));   // first block shared
    EXPECT_NE(x.substr(16, 16), z.substr(16, 16));
    EXPECT_NE(b.build(60, 1), b.build(60, 2));     // no hashes: nothing shared
    EXPECT_EQ(b.build(60, 1), b.build(60, 1));     // reproducible
}

}  // namespace
}  // namespace batchscope::engine
