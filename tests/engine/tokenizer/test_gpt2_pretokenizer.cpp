// The GPT-2 pre-tokenizer (PreTokenizerType::Gpt2) on hand-picked cases, and the UTF-8 helpers.
// SPDX-License-Identifier: GPL-3.0-or-later
#include <gtest/gtest.h>

#include "engine/tokenizer/pre_tokenizer.h"
#include "engine/tokenizer/unicode_data.h"

namespace batchscope::engine {
namespace {

std::vector<std::string> split(std::string_view text) {
    static const PreTokenizer pre = PreTokenizer::create(PreTokenizerType::Gpt2).value();
    std::vector<std::string> out;
    for (auto piece : pre.split(text)) out.emplace_back(piece);
    return out;
}

using V = std::vector<std::string>;

TEST(Gpt2PreTokenizer, WordsKeepTheirLeadingSpace) {
    EXPECT_EQ(split("Hello world"), (V{"Hello", " world"}));
    EXPECT_EQ(split(" Hello, world!"), (V{" Hello", ",", " world", "!"}));
}

TEST(Gpt2PreTokenizer, Contractions) {
    EXPECT_EQ(split("y'all can't I'm we've they'll he'd it's you're"),
              (V{"y", "'", "all", " can", "'t", " I", "'m", " we", "'ve", " they", "'ll", " he",
                 "'d", " it", "'s", " you", "'re"}));
    EXPECT_EQ(split("'"), (V{"'"}));
    EXPECT_EQ(split("'S"), (V{"'", "S"})) << "contractions are case-sensitive";
}

TEST(Gpt2PreTokenizer, NumbersLettersAndSymbolsSplit) {
    EXPECT_EQ(split("w048 7tuijk"), (V{"w", "048", " 7", "tuijk"}));
    EXPECT_EQ(split("a+=b"), (V{"a", "+=", "b"}));
    EXPECT_EQ(split("3.14"), (V{"3", ".", "14"}));
}

TEST(Gpt2PreTokenizer, WhitespaceRunsLeaveTheLastSpaceToTheNextWord) {
    EXPECT_EQ(split("a   b"), (V{"a", "  ", " b"}));
    EXPECT_EQ(split("a\n\n b"), (V{"a", "\n\n", " b"}));
    EXPECT_EQ(split("a   "), (V{"a", "   "})) << "trailing whitespace is one piece";
    EXPECT_EQ(split("\t\n"), (V{"\t\n"}));
    EXPECT_EQ(split(" "), (V{" "}));
    EXPECT_TRUE(split("").empty());
}

TEST(Gpt2PreTokenizer, UnicodeLettersAndNumbers) {
    // Cyrillic letters, Devanagari digits (Nd), CJK ideographs are letters.
    EXPECT_EQ(split("\xd0\xbf\xd1\x80\xd0\xb8 \xe0\xa5\xa7\xe0\xa5\xa8"),
              (V{"\xd0\xbf\xd1\x80\xd0\xb8", " \xe0\xa5\xa7\xe0\xa5\xa8"}));
    EXPECT_EQ(split("\xe6\x88\x91\xe6\x83\xb3" "apple"), (V{"\xe6\x88\x91\xe6\x83\xb3" "apple"}));
    // U+00A0 NO-BREAK SPACE is whitespace, U+2581 is a symbol.
    EXPECT_EQ(split("a\xc2\xa0" "b"), (V{"a", "\xc2\xa0", "b"}));
}

TEST(Gpt2PreTokenizer, InvalidUtf8IsKeptByteForByte) {
    const std::string text = "ab\xff\xfe cd\xc3";
    std::string joined;
    for (const auto& p : split(text)) joined += p;
    EXPECT_EQ(joined, text);
    EXPECT_EQ(split("ab\xff\xfe"), (V{"ab", "\xff\xfe"}));
}

TEST(Gpt2PreTokenizer, NumberCategoryIncludesNoAndNl) {
    // "½" and "²" are No, "Ⅷ" Nl: all \p{N}, so they join a number run, not a symbol run.
    EXPECT_EQ(split("ied 4 \xc2\xbd months"), (V{"ied", " 4", " \xc2\xbd", " months"}));
    EXPECT_EQ(split("x\xc2\xb2+1"), (V{"x", "\xc2\xb2", "+", "1"}));
    EXPECT_EQ(split("\xe2\x85\xa7 " "\xf0\x9f\x98\x80"), (V{"\xe2\x85\xa7", " \xf0\x9f\x98\x80"}));
}

TEST(Utf8, DecodeUtf8IsStrict) {
    using namespace unicode;
    auto units = decodeUtf8("a\xc3\xa9\xe2\x96\x81\xf0\x9f\x98\x80");
    ASSERT_EQ(units.size(), 4u);
    EXPECT_EQ(units[1].cp, 0xE9u);
    EXPECT_EQ(units[2].cp, 0x2581u);
    EXPECT_EQ(units[3].cp, 0x1F600u);
    EXPECT_EQ(units[3].offset, 6u);
    for (std::string_view bad : {"\xc0\x80", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe2\x96", "\x80"}) {
        auto u = decodeUtf8(bad);
        ASSERT_FALSE(u.empty());
        EXPECT_EQ(u[0].cp, 0xFFFDu);
        EXPECT_EQ(u[0].length, 1u);
        EXPECT_EQ(u.size(), bad.size()) << "every byte of an invalid sequence is its own unit";
    }
    std::string s;
    appendUtf8(s, 0x1F600);
    appendUtf8(s, 0x120);
    EXPECT_EQ(s, "\xf0\x9f\x98\x80\xc4\xa0");
}

}  // namespace
}  // namespace batchscope::engine
