// The llama.cpp tokenizer test vectors (../shared/testdata/vocab): every expected id sequence is
// reproduced and decodes back to its input.
// SPDX-License-Identifier: GPL-3.0-or-later
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "engine/model/gguf_file.h"
#include "engine/tokenizer/tokenizer_factory.h"

namespace batchscope::engine {
namespace {

std::filesystem::path vocabDir() {
    const char* env = std::getenv("BATCHSCOPE_SOURCE_DIR");
    const std::string root = env != nullptr ? env : BATCHSCOPE_SOURCE_DIR;
    return std::filesystem::path(root) / ".." / "shared" / "testdata" / "vocab";
}

std::string readAll(const std::filesystem::path& p) {
    std::ifstream f(p, std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

struct Case {
    std::string text;
    std::vector<TokenId> ids;
};

// .inp: texts each followed by "\n__ggml_vocab_test__\n"; .out: one line of ids per text.
std::vector<Case> loadCases(const std::string& name) {
    const std::string inp = readAll(vocabDir() / (name + ".inp"));
    const std::string sep = "\n__ggml_vocab_test__\n";
    std::vector<Case> cases;
    for (std::size_t pos = 0; pos < inp.size();) {
        const std::size_t next = inp.find(sep, pos);
        if (next == std::string::npos) break;
        cases.push_back({inp.substr(pos, next - pos), {}});
        pos = next + sep.size();
    }
    std::istringstream out(readAll(vocabDir() / (name + ".out")));
    std::string line;
    for (auto& c : cases) {
        if (!std::getline(out, line)) break;
        std::istringstream ids(line);
        TokenId id = 0;
        while (ids >> id) c.ids.push_back(id);
    }
    return cases;
}

class VocabVectors : public ::testing::TestWithParam<std::string> {
protected:
    void SetUp() override {
        const auto path = vocabDir() / GetParam();
        if (!std::filesystem::exists(path)) GTEST_SKIP() << "test vocabulary not found: " << path;
        auto file = GgufFile::open(path.string());
        ASSERT_TRUE(file.ok()) << file.error().message;
        auto tok = createTokenizerFromGguf(*file.value());
        ASSERT_TRUE(tok.ok()) << tok.error().message;
        m_tokenizer = std::move(tok).value();
        m_cases = loadCases(GetParam());
        ASSERT_EQ(m_cases.size(), 46u);
    }

    std::unique_ptr<Tokenizer> m_tokenizer;
    std::vector<Case> m_cases;
};

TEST_P(VocabVectors, EncodeReproducesEveryExpectedId) {
    int matched = 0;
    for (const auto& c : m_cases) {
        const auto ids = m_tokenizer->encode(c.text, false);
        EXPECT_EQ(ids, c.ids) << "text: '" << c.text << "'";
        matched += ids == c.ids;
    }
    EXPECT_EQ(matched, static_cast<int>(m_cases.size()));
}

TEST_P(VocabVectors, DecodeGivesTheInputBack) {
    for (const auto& c : m_cases) {
        EXPECT_EQ(m_tokenizer->decode(c.ids), c.text) << "ids of '" << c.text << "'";
    }
}

TEST_P(VocabVectors, TenThousandCharactersEncodeQuicklyAndRoundTrip) {
    std::string text;
    for (std::size_t i = 0; text.size() < 10000; ++i) text += m_cases[i % m_cases.size()].text + " ";
    text.resize(10000);
    while ((static_cast<unsigned char>(text.back()) & 0xC0) == 0x80 ||
           static_cast<unsigned char>(text.back()) >= 0xC0) {
        text.pop_back();  // do not end inside a UTF-8 sequence
    }
    const auto start = std::chrono::steady_clock::now();
    const auto ids = m_tokenizer->encode(text, false);
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    RecordProperty("encode_10k_ms", std::to_string(ms));
    std::printf("[ info ] %s: encoded %zu bytes into %zu tokens in %.2f ms\n", GetParam().c_str(),
                text.size(), ids.size(), ms);
    EXPECT_EQ(m_tokenizer->decode(ids), text);
}

TEST_P(VocabVectors, LongRunsRoundTrip) {
    // Long single words and whitespace runs stress the merge queues (no quadratic blow-up).
    for (const std::string unit : {"a", " ", "\n", "\xe6\x88\x91", "ab ", "1"}) {
        std::string text;
        while (text.size() < 20000) text += unit;
        const auto start = std::chrono::steady_clock::now();
        const auto ids = m_tokenizer->encode(text, false);
        const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
        std::printf("[ info ] %s: 20000 bytes of '%s' -> %zu tokens in %.2f ms\n", GetParam().c_str(),
                    unit == "\n" ? "\\n" : unit.c_str(), ids.size(), ms);
        EXPECT_FALSE(ids.empty());
        EXPECT_EQ(m_tokenizer->decode(ids), text) << "unit '" << unit << "'";
    }
}

INSTANTIATE_TEST_SUITE_P(Shared, VocabVectors,
                         ::testing::Values("ggml-vocab-llama-spm.gguf", "ggml-vocab-gpt-2.gguf",
                                           "ggml-vocab-deepseek-llm.gguf", "ggml-vocab-falcon.gguf",
                                           "ggml-vocab-mpt.gguf"),
                         [](const auto& info) {
                             // "ggml-vocab-deepseek-llm.gguf" -> "deepseek_llm"
                             std::string name = info.param.substr(11, info.param.size() - 11 - 5);
                             for (char& c : name) c = (c == '-') ? '_' : c;
                             return name;
                         });

TEST(VocabVectorsMeta, SpecialIdsAndKinds) {
    const auto spmPath = vocabDir() / "ggml-vocab-llama-spm.gguf";
    const auto gptPath = vocabDir() / "ggml-vocab-gpt-2.gguf";
    if (!std::filesystem::exists(spmPath) || !std::filesystem::exists(gptPath))
        GTEST_SKIP() << "test vocabularies not found in " << vocabDir();
    auto spmFile = GgufFile::open(spmPath.string());
    ASSERT_TRUE(spmFile.ok());
    auto spm = createTokenizerFromGguf(*spmFile.value());
    ASSERT_TRUE(spm.ok());
    EXPECT_EQ(spm.value()->kind(), "llama");
    EXPECT_EQ(spm.value()->vocabSize(), 32000);
    EXPECT_EQ(spm.value()->bosId(), 1);
    EXPECT_EQ(spm.value()->eosId(), 2);
    EXPECT_TRUE(spm.value()->addsBosByDefault());
    EXPECT_TRUE(spm.value()->stripsLeadingSpace());
    EXPECT_EQ(spm.value()->encode("Hello", true).front(), 1);
    EXPECT_EQ(spm.value()->tokenBytes(1), "");
    EXPECT_EQ(spm.value()->tokenPiece(1), "<s>");
    EXPECT_EQ(spm.value()->tokenBytes(3 + 0x0A), "\n");
    EXPECT_EQ(spm.value()->endOfGenerationIds(), std::vector<TokenId>{2});

    auto gptFile = GgufFile::open(gptPath.string());
    ASSERT_TRUE(gptFile.ok());
    auto gpt = createTokenizerFromGguf(*gptFile.value());
    ASSERT_TRUE(gpt.ok());
    EXPECT_EQ(gpt.value()->kind(), "gpt2");
    EXPECT_EQ(gpt.value()->vocabSize(), 50257);
    EXPECT_EQ(gpt.value()->eosId(), 50256);
    EXPECT_FALSE(gpt.value()->addsBosByDefault());
    EXPECT_FALSE(gpt.value()->stripsLeadingSpace());
    EXPECT_EQ(gpt.value()->tokenBytes(50256), "") << "<|endoftext|> is a control token";
    EXPECT_EQ(gpt.value()->tokenPiece(50256), "<|endoftext|>");
    EXPECT_EQ(gpt.value()->pieceId("<|endoftext|>"), 50256);
    EXPECT_EQ(gpt.value()->tokenBytes(220), " ");
    EXPECT_EQ(gpt.value()->tokenBytes(-1), "");
    EXPECT_EQ(gpt.value()->tokenBytes(50257), "");
}

}  // namespace
}  // namespace batchscope::engine
