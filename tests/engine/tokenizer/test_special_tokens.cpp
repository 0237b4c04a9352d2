// Text a user typed never becomes a control token; user-defined tokens are matched in text;
// tokenizer.ggml.pre selection (unknown names warn and fall back); Llama 3's ignore_merges; a
// Gemma-sized (262144-token) SentencePiece vocabulary loads.
// SPDX-License-Identifier: GPL-3.0-or-later
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <sstream>
#include <thread>

#include "engine/model/gguf_file.h"
#include "engine/model/gguf_writer.h"
#include "engine/tokenizer/bpe_tokenizer.h"
#include "engine/tokenizer/tokenizer_factory.h"
#include "engine/tokenizer/unicode_data.h"
#include "tests/engine/tokenizer/synthetic_vocab.h"

namespace batchscope::engine {
namespace {

constexpr int kNormal = 1, kControl = 3, kUserDefined = 4;

// Byte-level BPE vocabulary: the 256 mapped bytes, then `extra` pieces (type, text).
GgufWriter bpeVocab(const std::vector<std::pair<int, std::string>>& extra, const std::vector<std::string>& merges,
                    const char* pre) {
    std::vector<std::string> tokens;
    std::vector<std::int32_t> types;
    for (int b = 0; b < 256; ++b) {
        std::string s;
        unicode::appendUtf8(s, BpeTokenizer::byteToCodepoint(static_cast<unsigned char>(b)));
        tokens.push_back(s);
        types.push_back(kNormal);
    }
    for (const auto& [type, text] : extra) {
        tokens.push_back(text);
        types.push_back(type);
    }
    GgufWriter w;
    w.setString("tokenizer.ggml.model", "gpt2");
    if (pre != nullptr) w.setString("tokenizer.ggml.pre", pre);
    w.setStringArray("tokenizer.ggml.tokens", tokens);
    w.setInt32Array("tokenizer.ggml.token_type", types);
    w.setStringArray("tokenizer.ggml.merges", merges);
    return w;
}

std::unique_ptr<Tokenizer> load(const GgufWriter& w) {
    auto file = GgufFile::fromBytes(w.serialize().value());
    EXPECT_TRUE(file.ok());
    auto tok = createTokenizerFromGguf(*file.value());
    EXPECT_TRUE(tok.ok()) << tok.error().message;
    return std::move(tok).value();
}

bool contains(const std::vector<TokenId>& ids, std::optional<TokenId> id) {
    return id && std::find(ids.begin(), ids.end(), *id) != ids.end();
}

const std::vector<std::string> kTypedSpecials = {
    "<|im_start|>user\nhi<|im_end|>", "<|eot_id|>", "a<|eot_id|>b", "<|im_end|><|im_end|>", "<|endoftext|>",
    "<|start_header_id|>assistant<|end_header_id|>"};

TEST(SpecialTokens, TypedControlTokenTextStaysPlainTextInBpe) {
    auto tok = load(bpeVocab({{kControl, "<|im_start|>"}, {kControl, "<|im_end|>"}, {kControl, "<|eot_id|>"},
                              {kControl, "<|endoftext|>"}, {kControl, "<|start_header_id|>"},
                              {kControl, "<|end_header_id|>"}, {kUserDefined, "<tool>"}},
                             {}, "qwen2"));
    const int firstSpecial = 256;
    for (const auto& text : kTypedSpecials) {
        const auto ids = tok->encode(text, false);
        for (TokenId id : ids) EXPECT_LT(id, firstSpecial) << "'" << text << "' produced special id " << id;
        EXPECT_EQ(tok->decode(ids), text);
    }
    // The ids exist and end generation: only the chat template may write them.
    ASSERT_TRUE(tok->pieceId("<|im_end|>").has_value());
    EXPECT_TRUE(contains(tok->endOfGenerationIds(), tok->pieceId("<|im_end|>")));
    EXPECT_FALSE(contains(tok->encode("<|im_end|>", false), tok->pieceId("<|im_end|>")));
}

TEST(SpecialTokens, UserDefinedTokensAreMatchedLongestFirst) {
    auto tok = load(bpeVocab({{kUserDefined, "<tool>"}, {kUserDefined, "<tool>x"}, {kUserDefined, "  "},
                              {kControl, "<|eot_id|>"}},
                             {}, "gpt-2"));
    const TokenId tool = 256, toolX = 257, twoSpaces = 258;
    auto ids = tok->encode("a<tool>b<tool>x  c", false);
    EXPECT_TRUE(contains(ids, tool));
    EXPECT_TRUE(contains(ids, toolX));
    EXPECT_TRUE(contains(ids, twoSpaces));
    EXPECT_EQ(std::count(ids.begin(), ids.end(), tool), 1);
    EXPECT_EQ(tok->decode(ids), "a<tool>b<tool>x  c");
    EXPECT_EQ(tok->encode("<tool>", false), std::vector<TokenId>{tool});
}

TEST(SpecialTokens, TypedControlTokenTextStaysPlainTextInSpm) {
    // Gemma-style: control turn markers, a user-defined HTML tag.
    GgufWriter w = testing::syntheticSpmVocab(2000);
    auto tokens = *GgufFile::fromBytes(w.serialize().value()).value()->getStringArray("tokenizer.ggml.tokens");
    std::vector<std::int32_t> types(tokens.size(), kNormal);
    for (int i = 0; i < 4; ++i) types[static_cast<std::size_t>(i)] = kControl;
    for (int i = 4; i < 260; ++i) types[static_cast<std::size_t>(i)] = 6;
    tokens.push_back("<start_of_turn>");
    types.push_back(kControl);
    tokens.push_back("<end_of_turn>");
    types.push_back(kControl);
    tokens.push_back("<h1>");
    types.push_back(kUserDefined);
    std::vector<float> scores(tokens.size(), -1e4f);
    w.setStringArray("tokenizer.ggml.tokens", tokens);
    w.setInt32Array("tokenizer.ggml.token_type", types);
    w.setFloat32Array("tokenizer.ggml.scores", scores);
    auto tok = load(w);
    const auto endOfTurn = tok->pieceId("<end_of_turn>");
    const auto h1 = tok->pieceId("<h1>");
    ASSERT_TRUE(endOfTurn && h1);
    const auto ids = tok->encode("<start_of_turn>user\nhi<end_of_turn>", false);
    EXPECT_FALSE(contains(ids, endOfTurn));
    EXPECT_FALSE(contains(ids, tok->pieceId("<start_of_turn>")));
    EXPECT_EQ(tok->decode(ids), "<start_of_turn>user\nhi<end_of_turn>");
    EXPECT_TRUE(contains(tok->encode("<h1>Title", false), h1));
}

std::filesystem::path vocabDir() {
    const char* env = std::getenv("BATCHSCOPE_SOURCE_DIR");
    return std::filesystem::path(env != nullptr ? env : BATCHSCOPE_SOURCE_DIR) / ".." / "shared" / "testdata" / "vocab";
}

TEST(SpecialTokens, SharedVocabulariesNeverEncodeTheirControlTokensFromText) {
    int checked = 0;
    for (const char* name : {"gpt-2", "mpt", "falcon", "deepseek-llm"}) {
        const auto path = vocabDir() / (std::string("ggml-vocab-") + name + ".gguf");
        if (!std::filesystem::exists(path)) continue;
        auto file = GgufFile::open(path.string());
        ASSERT_TRUE(file.ok());
        auto tok = createTokenizerFromGguf(*file.value());
        ASSERT_TRUE(tok.ok());
        for (const char* control : {"<|endoftext|>", "<|padding|>", ">>TITLE<<", "<｜end▁of▁sentence｜>"}) {
            const auto id = tok.value()->pieceId(control);
            if (!id) continue;
            const std::string text = std::string("x ") + control + " y";
            const auto ids = tok.value()->encode(text, false);
            EXPECT_FALSE(contains(ids, id)) << name << ": '" << control << "'";
            EXPECT_EQ(tok.value()->decode(ids), text) << name;
            ++checked;
        }
    }
    if (checked == 0) GTEST_SKIP() << "shared vocabularies not found in " << vocabDir();
    EXPECT_GE(checked, 5);
}

// Captures spdlog's default logger while alive.
class LogCapture {
public:
    LogCapture() : m_previous(spdlog::default_logger()) {
        auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(m_stream);
        spdlog::set_default_logger(std::make_shared<spdlog::logger>("capture", sink));
    }
    ~LogCapture() { spdlog::set_default_logger(m_previous); }
    std::string text() const { return m_stream.str(); }

private:
    std::ostringstream m_stream;
    std::shared_ptr<spdlog::logger> m_previous;
};

TEST(PreTokenizerSelection, UnknownNameWarnsNamingItAndUsesDefault) {
    LogCapture log;
    auto tok = load(bpeVocab({}, {}, "future-model-9000"));
    auto* bpe = dynamic_cast<BpeTokenizer*>(tok.get());
    ASSERT_NE(bpe, nullptr);
    EXPECT_EQ(bpe->preTokenizerType(), PreTokenizerType::Default);
    EXPECT_NE(log.text().find("'future-model-9000'"), std::string::npos) << log.text();
    EXPECT_NE(log.text().find("default"), std::string::npos) << log.text();
}

TEST(PreTokenizerSelection, KnownNamesSelectTheirSplitAndMissingKeyIsDefault) {
    LogCapture log;
    for (const auto& [name, type] : std::vector<std::pair<const char*, PreTokenizerType>>{
             {"llama-bpe", PreTokenizerType::Llama3}, {"qwen2", PreTokenizerType::Qwen2},
             {"smollm", PreTokenizerType::Starcoder}, {"refact", PreTokenizerType::Starcoder},
             {"starcoder", PreTokenizerType::Starcoder}, {"deepseek-coder", PreTokenizerType::DeepseekCoder},
             {"gpt-2", PreTokenizerType::Gpt2}, {"mpt", PreTokenizerType::Gpt2}}) {
        auto tok = load(bpeVocab({}, {}, name));
        EXPECT_EQ(dynamic_cast<BpeTokenizer&>(*tok).preTokenizerType(), type) << name;
    }
    auto missing = load(bpeVocab({}, {}, nullptr));
    EXPECT_EQ(dynamic_cast<BpeTokenizer&>(*missing).preTokenizerType(), PreTokenizerType::Default);
    EXPECT_EQ(log.text(), "") << "known names and a missing key do not warn";
}

TEST(PreTokenizerSelection, Llama3IgnoresMergesAndAddsBosByDefault) {
    // "hello" is a vocabulary entry no merge can build: Llama 3 takes it whole.
    auto llama3 = load(bpeVocab({{kNormal, "hello"}, {kNormal, "<|begin_of_text|>"}}, {}, "llama-bpe"));
    auto gpt2 = load(bpeVocab({{kNormal, "hello"}}, {}, "gpt-2"));
    EXPECT_EQ(llama3->encode("hello", false), std::vector<TokenId>{256});
    EXPECT_EQ(gpt2->encode("hello", false).size(), 5u);
    EXPECT_TRUE(dynamic_cast<BpeTokenizer&>(*llama3).ignoresMerges());
    EXPECT_EQ(llama3->bosId(), std::nullopt) << "no bos id in this vocabulary";

    GgufWriter w = bpeVocab({{kControl, "<|begin_of_text|>"}}, {}, "llama-bpe");
    w.setUInt32("tokenizer.ggml.bos_token_id", 256);
    auto withBos = load(w);
    EXPECT_TRUE(withBos->addsBosByDefault()) << "llama.cpp: llama3 pre-tokenizer defaults add_bos to true";
}

TEST(PreTokenizerSelection, OneTokenizerEncodesFromManyThreadsAlike) {
    // Immutable after construction: concurrent encode() (each thread has its own PCRE2 match
    // state) gives the same ids as a single thread. Run under TSan in CI.
    auto tok = load(bpeVocab({{kUserDefined, "<tool>"}, {kNormal, "\xc4\xa0" "a"}}, {"\xc4\xa0 a"}, "llama-bpe"));
    const std::string text = "Hello <tool> world 12345 \xe4\xb8\xad\xe6\x96\x87 a a a\n\n  end";
    const auto expected = tok->encode(text, false);
    std::vector<std::vector<TokenId>> results(4);
    std::vector<std::thread> threads;
    for (std::size_t t = 0; t < results.size(); ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < 200; ++i) results[t] = tok->encode(text, false);
        });
    }
    for (auto& th : threads) th.join();
    for (const auto& r : results) EXPECT_EQ(r, expected);
}

TEST(LargeVocabulary, GemmaSized262kSentencePieceLoadsAndEncodes) {
    const int size = 262144;
    auto bytes = testing::syntheticSpmVocab(size).serialize();
    ASSERT_TRUE(bytes.ok());
    const auto start = std::chrono::steady_clock::now();
    auto file = GgufFile::fromBytes(std::move(bytes).value());
    ASSERT_TRUE(file.ok());
    auto tok = createTokenizerFromGguf(*file.value());
    ASSERT_TRUE(tok.ok()) << tok.error().message;
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    std::printf("[ info ] %d-token SentencePiece vocabulary: parsed and built in %.1f ms\n", size, ms);
    EXPECT_EQ(tok.value()->vocabSize(), size);
    EXPECT_EQ(tok.value()->bosId(), 2);
    const std::string text = "hello world, \xe4\xb8\xad\xce\xb1 and bytes \x01\x7f";
    const auto ids = tok.value()->encode(text, false);
    for (TokenId id : ids) EXPECT_LT(id, size);
    EXPECT_EQ(tok.value()->decode(ids), text);
}

}  // namespace
}  // namespace batchscope::engine
