// The GPT-2 pre-tokenizer: splits text into the words byte-level BPE merges within.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <string_view>
#include <vector>

namespace batchscope::engine {

/// Splits UTF-8 `text` as the regex
///   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
/// does, implemented by hand over code points (as llama.cpp's unicode_regex_split_custom_gpt2).
/// The pieces are views into `text` and concatenate to it exactly; invalid UTF-8 bytes are
/// single code points U+FFFD for classification. Linear time. Thread-safe.
std::vector<std::string_view> gpt2PreTokenize(std::string_view text);

}  // namespace batchscope::engine
