// SPDX-License-Identifier: GPL-3.0-or-later
#define PCRE2_CODE_UNIT_WIDTH 8
#include "engine/tokenizer/regex_splitter.h"

#include <pcre2.h>

namespace batchscope::engine {

namespace {

constexpr std::string_view kWhiteSpaceSet = "\\t-\\r\\x{85}\\p{Z}";

// Per-thread match state: one match-data block (only group 0 is read, so one pair suffices for
// every pattern) and a JIT stack larger than PCRE2's 32 KiB default. Created on a thread's
// first split(), freed when the thread ends.
struct ThreadMatchState {
    pcre2_match_data* data = pcre2_match_data_create(1, nullptr);
    pcre2_match_context* context = pcre2_match_context_create(nullptr);
    pcre2_jit_stack* stack = pcre2_jit_stack_create(32 * 1024, 1024 * 1024, nullptr);
    ThreadMatchState() {
        if (context != nullptr && stack != nullptr) pcre2_jit_stack_assign(context, nullptr, stack);
    }
    ~ThreadMatchState() {
        pcre2_jit_stack_free(stack);
        pcre2_match_context_free(context);
        pcre2_match_data_free(data);
    }
    ThreadMatchState(const ThreadMatchState&) = delete;
    ThreadMatchState& operator=(const ThreadMatchState&) = delete;
};

ThreadMatchState& threadMatchState() {
    thread_local ThreadMatchState state;
    return state;
}

}  // namespace

struct RegexSplitter::Code {
    pcre2_code* code = nullptr;
    ~Code() { pcre2_code_free(code); }
};

std::string RegexSplitter::rewriteWhitespaceClasses(std::string_view pattern) {
    std::string out;
    out.reserve(pattern.size() + 32);
    bool inClass = false;
    for (std::size_t i = 0; i < pattern.size(); ++i) {
        const char c = pattern[i];
        if (c == '\\' && i + 1 < pattern.size()) {
            const char e = pattern[++i];
            if (e == 's' || e == 'S') {
                // Inside a class only the positive form appears in the published patterns.
                if (inClass) out.append(kWhiteSpaceSet);
                else out.append(e == 's' ? "[" : "[^").append(kWhiteSpaceSet).append("]");
            } else {
                out += c;
                out += e;
            }
            continue;
        }
        if (c == '[' && !inClass) inClass = true;
        else if (c == ']' && inClass) inClass = false;
        out += c;
    }
    return out;
}

Result<RegexSplitter> RegexSplitter::compile(std::string_view pattern) {
    const std::string rewritten = rewriteWhitespaceClasses(pattern);
    int errorCode = 0;
    PCRE2_SIZE errorOffset = 0;
    pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(rewritten.data()), rewritten.size(),
                                     PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF, &errorCode,
                                     &errorOffset, nullptr);
    if (code == nullptr) {
        PCRE2_UCHAR message[256];
        pcre2_get_error_message(errorCode, message, sizeof message);
        return makeError(ErrorCode::InvalidArgument,
                         "pre-tokenizer pattern '" + std::string(pattern) + "' does not compile at offset " +
                             std::to_string(errorOffset) + ": " + reinterpret_cast<const char*>(message));
    }
    RegexSplitter splitter;
    splitter.m_pattern = std::string(pattern);
    auto holder = std::make_shared<Code>();
    holder->code = code;
    splitter.m_jit = pcre2_jit_compile(code, PCRE2_JIT_COMPLETE) == 0;
    splitter.m_code = std::move(holder);
    return splitter;
}

void RegexSplitter::split(std::string_view text, std::vector<std::string_view>& out) const {
    ThreadMatchState& state = threadMatchState();
    if (state.data == nullptr) {  // out of memory creating the match data: one piece
        if (!text.empty()) out.push_back(text);
        return;
    }
    const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
    std::size_t gapStart = 0;  // first byte not yet emitted
    std::size_t pos = 0;
    while (pos < text.size()) {
        const int rc = m_jit ? pcre2_jit_match(m_code->code, subject, text.size(), pos, 0, state.data, state.context)
                             : pcre2_match(m_code->code, subject, text.size(), pos, 0, state.data, state.context);
        if (rc == PCRE2_ERROR_NOMATCH) break;
        if (rc < 0) break;  // an error (not expected for these patterns): the rest is one piece
        const PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(state.data);
        const std::size_t start = ovector[0];
        const std::size_t end = ovector[1];
        if (end <= start) {
            // An empty match (none of the pre-tokenizer patterns can produce one): step one byte
            // so the loop always advances; the byte stays in the current gap.
            pos = start + 1;
            continue;
        }
        if (start > gapStart) out.push_back(text.substr(gapStart, start - gapStart));
        out.push_back(text.substr(start, end - start));
        gapStart = pos = end;
    }
    if (gapStart < text.size()) out.push_back(text.substr(gapStart));
}

}  // namespace batchscope::engine
