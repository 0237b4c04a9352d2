// The pre-tokenizers' splits agree with the published regexes run by Python's `regex` module
// (tests/engine/tokenizer/data, made by tools/gen_pretokenizer_splits.py), and the regex
// splitter's own contract (tiling, gaps, invalid UTF-8, \s).
// SPDX-License-Identifier: GPL-3.0-or-later
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "engine/tokenizer/pre_tokenizer.h"
#include "engine/tokenizer/regex_splitter.h"

namespace batchscope::engine {
namespace {

std::filesystem::path dataDir() {
    const char* env = std::getenv("BATCHSCOPE_SOURCE_DIR");
    const std::string root = env != nullptr ? env : BATCHSCOPE_SOURCE_DIR;
    return std::filesystem::path(root) / "tests" / "engine" / "tokenizer" / "data";
}

std::string readAll(const std::filesystem::path& p) {
    std::ifstream f(p, std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

std::vector<std::string> loadCorpus() {
    const std::string all = readAll(dataDir() / "pretokenizer_corpus.txt");
    const std::string sep = "\n__ggml_vocab_test__\n";
    std::vector<std::string> texts;
    for (std::size_t pos = 0; pos < all.size();) {
        const std::size_t next = all.find(sep, pos);
        if (next == std::string::npos) break;
        texts.push_back(all.substr(pos, next - pos));
        pos = next + sep.size();
    }
    return texts;
}

// name -> per text, the byte lengths of the pieces.
std::map<std::string, std::vector<std::vector<std::size_t>>> loadSplits() {
    std::map<std::string, std::vector<std::vector<std::size_t>>> splits;
    std::istringstream in(readAll(dataDir() / "pretokenizer_splits.txt"));
    std::string line, current;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#') continue;
        if (line.rfind("pre ", 0) == 0) {
            current = line.substr(4);
            splits[current];
            continue;
        }
        std::istringstream lengths(line);
        std::vector<std::size_t> row;
        for (std::size_t n = 0; lengths >> n;) row.push_back(n);
        splits[current].push_back(std::move(row));
    }
    return splits;
}

std::string show(const std::vector<std::string_view>& pieces) {
    std::string s;
    for (auto p : pieces) s += "[" + std::string(p) + "]";
    return s;
}

TEST(PreTokenizerSplits, MatchPythonRegexOnTheMultilingualCorpus) {
    const auto texts = loadCorpus();
    const auto splits = loadSplits();
    ASSERT_GE(texts.size(), 30u) << "corpus missing in " << dataDir();
    // The pre-tokenizers with reference splits; smollm stands for the Starcoder family.
    for (const char* name : {"default", "gpt-2", "llama3", "qwen2", "smollm", "falcon", "deepseek-llm",
                             "deepseek-coder", "bloom"}) {
        SCOPED_TRACE(name);
        auto it = splits.find(name);
        ASSERT_NE(it, splits.end()) << "no reference splits for " << name;
        ASSERT_EQ(it->second.size(), texts.size());
        auto entry = findPreTokenizer(name);
        ASSERT_TRUE(entry.has_value());
        auto pre = PreTokenizer::create(entry->type);
        ASSERT_TRUE(pre.ok()) << pre.error().message;
        int matched = 0;
        for (std::size_t i = 0; i < texts.size(); ++i) {
            const auto pieces = pre->split(texts[i]);
            std::vector<std::size_t> lengths;
            for (auto p : pieces) lengths.push_back(p.size());
            EXPECT_EQ(lengths, it->second[i]) << "text " << i << ": '" << texts[i] << "' -> " << show(pieces);
            matched += lengths == it->second[i];
        }
        std::printf("[ info ] %s: %d/%zu corpus texts split as Python's regex\n", name, matched, texts.size());
    }
}

TEST(PreTokenizerSplits, EveryNameHasPatternsThatCompile) {
    for (const auto& entry : preTokenizerNames()) {
        auto pre = PreTokenizer::create(entry.type);
        ASSERT_TRUE(pre.ok()) << entry.name << ": " << pre.error().message;
        const auto pieces = pre->split("Hello, world 123!");
        std::string joined;
        for (auto p : pieces) joined += p;
        EXPECT_EQ(joined, "Hello, world 123!") << entry.name;
    }
    EXPECT_FALSE(findPreTokenizer("no-such-pre-tokenizer").has_value());
    EXPECT_TRUE(findPreTokenizer("llama-bpe")->ignoreMerges);
}

TEST(RegexSplitter, MatchesAndGapsTileTheText) {
    auto digits = RegexSplitter::compile(R"(\p{N}+)");
    ASSERT_TRUE(digits.ok());
    std::vector<std::string_view> out;
    digits->split("ab12c½²d", out);
    // ½ and ² are category No, so \p{N}: one number run.
    EXPECT_EQ(out, (std::vector<std::string_view>{"ab", "12", "c", "½²", "d"}));
}

TEST(RegexSplitter, WhitespaceIsTheUnicodeWhiteSpaceProperty) {
    auto spaces = RegexSplitter::compile(R"(\s+)");
    ASSERT_TRUE(spaces.ok());
    std::vector<std::string_view> out;
    // U+0085 and U+3000 are White_Space; U+180E (Mongolian vowel separator) and U+200B are not.
    spaces->split("a\xc2\x85\xe3\x80\x80" "b\xe1\xa0\x8e" "c\xe2\x80\x8b" "d", out);
    ASSERT_EQ(out.size(), 3u);
    EXPECT_EQ(out[1], "\xc2\x85\xe3\x80\x80");
    EXPECT_EQ(RegexSplitter::rewriteWhitespaceClasses(R"([^\s\p{L}]\s+(?!\S))"),
              R"([^\t-\r\x{85}\p{Z}\p{L}][\t-\r\x{85}\p{Z}]+(?![^\t-\r\x{85}\p{Z}]))");
}

TEST(RegexSplitter, InvalidUtf8StaysInTheGapsAndRoundTrips) {
    auto letters = RegexSplitter::compile(R"( ?\p{L}+)");
    ASSERT_TRUE(letters.ok());
    const std::string text = "ab\xff\xfe cd\xe4\xb8 e\x80";
    std::vector<std::string_view> out;
    letters->split(text, out);
    std::string joined;
    for (auto p : out) joined += p;
    EXPECT_EQ(joined, text);
    EXPECT_EQ(out.front(), "ab");
}

TEST(RegexSplitter, ABadPatternIsAnErrorNamingIt) {
    auto bad = RegexSplitter::compile("[z-a]");
    ASSERT_FALSE(bad.ok());
    EXPECT_NE(bad.error().message.find("[z-a]"), std::string::npos) << bad.error().message;
}

}  // namespace
}  // namespace batchscope::engine
