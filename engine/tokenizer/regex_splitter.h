// One pre-tokenizer regular expression (PCRE2, UTF-8 with Unicode properties), used to split
// text into the pieces byte-level BPE merges within.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/core/result.h"

namespace batchscope::engine {

/// A compiled pattern (PCRE2 in UTF + UCP mode, JIT-compiled where the platform allows) that
/// splits text the way HuggingFace's `Split(pattern, behavior="isolated")` and llama.cpp's
/// unicode_regex_split do: every match is a piece and so is every non-empty gap between
/// matches, so the pieces always tile the input exactly.
///
/// `\s` in a pattern is rewritten to the Unicode White_Space set ([\t-\r\x{85}\p{Z}]) before
/// compiling: PCRE2's own `\s` also matches U+180E, which Python's `regex`, Oniguruma and the
/// tokenizers the models were trained with do not.
///
/// Invalid UTF-8 is accepted (PCRE2_MATCH_INVALID_UTF): an invalid byte never matches, so it
/// ends up in a gap piece. Immutable after compile(); split() may be called from any thread
/// concurrently (each thread keeps its own match data).
class RegexSplitter {
public:
    /// InvalidArgument naming the pattern and PCRE2's message when it does not compile.
    static Result<RegexSplitter> compile(std::string_view pattern);

    /// Appends the pieces of `text` (views into it, in order) to `out`. Linear in the text for
    /// the pre-tokenizer patterns (no nested quantifiers). Should PCRE2 report an error (it
    /// does not for these patterns; e.g. a resource limit), the rest of `text` is one piece.
    void split(std::string_view text, std::vector<std::string_view>& out) const;

    /// The pattern as given to compile().
    const std::string& pattern() const { return m_pattern; }

    /// Whether PCRE2's JIT compiler is in use (false on platforms without JIT support).
    bool jit() const { return m_jit; }

    /// `pattern` with `\s` / `\S` replaced by explicit White_Space classes (see above).
    static std::string rewriteWhitespaceClasses(std::string_view pattern);

private:
    struct Code;
    std::string m_pattern;
    std::shared_ptr<const Code> m_code;  ///< shared, read-only: copies share one compiled pattern
    bool m_jit = false;
};

}  // namespace batchscope::engine
