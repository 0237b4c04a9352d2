// `batchscope bench --chat-template`: time to render a 50-turn conversation with each chat
// template (built-ins, plus the reference templates of ../shared when present), as medians of
// several runs, with a hand-written ChatML formatter in the same process as the baseline.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <string>
#include <vector>

namespace batchscope::engine {

struct ChatTemplateBenchRow {
    std::string name;
    double medianRenderUs = 0;  ///< one render of the conversation, parse excluded
    double parseUs = 0;         ///< median of parsing the template once
    std::size_t promptBytes = 0;
    std::string error;          ///< non-empty when the template failed on the conversation
};

struct ChatTemplateBenchReport {
    int turns = 50;
    int runs = 0;
    double baselineUs = 0;  ///< hand-written ChatML string building, same conversation
    std::vector<ChatTemplateBenchRow> rows;
};

/// `runs` >= 1 runs per template, each the mean of 50 renders; medians across runs.
ChatTemplateBenchReport runChatTemplateBench(int runs);

}  // namespace batchscope::engine
