// Lexer of the Jinja subset used by chat templates. Applies Jinja's whitespace rules while
// tokenizing: `{%-`/`-%}` stripping, trim_blocks and lstrip_blocks (both on, as Hugging Face's
// apply_chat_template sets them), and drops one trailing newline (keep_trailing_newline off).
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace batchscope::engine::jinja {

struct Token {
    enum class Kind { Text, VarBegin, VarEnd, BlockBegin, BlockEnd, Name, String, Int, Float, Op, Eof };
    Kind kind = Kind::Eof;
    std::string text;  ///< Text: the literal; Name/Op: the spelling; String: the decoded value
    std::int64_t intValue = 0;
    double floatValue = 0.0;
    int line = 1;
};

/// Splits `source` into tokens. Throws TemplateError (with the line) on malformed input:
/// an unclosed tag, string or comment, an unknown character, unbalanced brackets.
std::vector<Token> tokenize(std::string_view source);

}  // namespace batchscope::engine::jinja
