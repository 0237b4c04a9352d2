// Special tokens in rendered chat prompts: recognised where the template wrote them, never in
// message contents.
// SPDX-License-Identifier: GPL-3.0-or-later
#include <gtest/gtest.h>

#include "engine/chat/chat_template.h"
#include "engine/model/gguf_file.h"
#include "engine/model/gguf_writer.h"
#include "engine/tokenizer/bpe_tokenizer.h"
#include "engine/tokenizer/special_tokens.h"
#include "engine/tokenizer/tokenizer_factory.h"

namespace batchscope::engine {
namespace {

// Byte-level BPE with one token per byte (no merges) plus control tokens.
struct TinyVocab {
    std::unique_ptr<Tokenizer> tokenizer;
    TokenId imStart = 256;
    TokenId imEnd = 257;
    TokenId bos = 258;
};

TinyVocab makeTinyVocab() {
    std::vector<std::string> tokens;
    std::vector<float> scores;
    std::vector<std::int32_t> types;
    for (int b = 0; b < 256; ++b) {
        std::uint32_t cp = BpeTokenizer::byteToCodepoint(static_cast<unsigned char>(b));
        std::string s;
        if (cp < 0x80) {
            s += static_cast<char>(cp);
        } else {
            s += static_cast<char>(0xc0 | (cp >> 6));
            s += static_cast<char>(0x80 | (cp & 0x3f));
        }
        tokens.push_back(s);
        types.push_back(1);
    }
    for (const char* special : {"<|im_start|>", "<|im_end|>", "<s>"}) {
        tokens.push_back(special);
        types.push_back(3);
    }
    scores.assign(tokens.size(), 0.f);
    GgufWriter w;
    w.setString("tokenizer.ggml.model", "gpt2");
    w.setStringArray("tokenizer.ggml.tokens", tokens);
    w.setFloat32Array("tokenizer.ggml.scores", scores);
    w.setInt32Array("tokenizer.ggml.token_type", types);
    w.setStringArray("tokenizer.ggml.merges", {});
    w.setUInt32("tokenizer.ggml.bos_token_id", 258);
    w.setUInt32("tokenizer.ggml.eos_token_id", 257);
    auto file = GgufFile::fromBytes(w.serialize().value());
    EXPECT_TRUE(file.ok());
    auto tok = createTokenizerFromGguf(*file.value());
    EXPECT_TRUE(tok.ok()) << tok.error().message;
    TinyVocab v;
    v.tokenizer = std::move(tok).value();
    return v;
}

std::vector<TokenId> bytesOf(std::string_view s) {
    std::vector<TokenId> ids;
    for (unsigned char c : s) ids.push_back(c);
    return ids;
}

TEST(SpecialTokens, VocabularyListsControlTokens) {
    TinyVocab v = makeTinyVocab();
    EXPECT_EQ(v.tokenizer->specialTokenIds(), (std::vector<TokenId>{256, 257, 258}));
}

TEST(SpecialTokens, TemplateTextIsParsedUserTextIsNot) {
    TinyVocab v = makeTinyVocab();
    auto tmpl = ChatTemplate::parse(
        "{{ bos_token }}{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>{% endfor %}");
    ASSERT_TRUE(tmpl.ok());
    ChatTemplateOptions options;
    options.bosToken = "<s>";
    auto prompt = tmpl->apply({{"user", "a<|im_end|>b"}}, options);
    ASSERT_TRUE(prompt.ok());
    auto ids = encodeWithSpecialTokens(*v.tokenizer, prompt->text, prompt->userSpans, true);
    std::vector<TokenId> expected{v.bos, v.imStart};
    for (TokenId t : bytesOf("user\na<|im_end|>b")) expected.push_back(t);
    expected.push_back(v.imEnd);
    EXPECT_EQ(ids, expected);  // BOS once (the template wrote it), the user's <|im_end|> as bytes
}

TEST(SpecialTokens, PiecesSplitAcrossTemplateAndUserTextAreNotSpecial) {
    TinyVocab v = makeTinyVocab();
    const std::string text = "<|im_end|>";
    std::vector<TextSpan> userTail{{5, 5}};  // "<|im_" from the template, "end|>" from the user
    EXPECT_EQ(encodeWithSpecialTokens(*v.tokenizer, text, userTail, false), bytesOf(text));
    EXPECT_EQ(encodeWithSpecialTokens(*v.tokenizer, text, {}, false), std::vector<TokenId>{v.imEnd});
    // Plain encode never parses special tokens.
    EXPECT_EQ(v.tokenizer->encode(text, false), bytesOf(text));
}

TEST(SpecialTokens, BosIsAddedWhenTheTemplateDidNotWriteIt) {
    TinyVocab v = makeTinyVocab();
    auto ids = encodeWithSpecialTokens(*v.tokenizer, "<|im_start|>x", {}, true);
    EXPECT_EQ(ids, (std::vector<TokenId>{v.bos, v.imStart, 'x'}));
}

}  // namespace
}  // namespace batchscope::engine
