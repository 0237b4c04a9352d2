// SPDX-License-Identifier: GPL-3.0-or-later
// Stand-alone tokenizer measurements (not a test), see docs/gguf.md:
//   batchscope_tokenizer_bench [repeats]
// 1. Pre-tokenizer split rate (MB per thread-CPU-second) of every pre-tokenizer on the vocab
//    test inputs, as a ratio to the GPT-2 one run in the same process; 2. whole encode() rate for each vocabulary in ../shared/testdata/vocab;
//    3. load time and heap of a synthetic 262144-token SentencePiece vocabulary (Gemma's size).
// Rates are medians of `repeats` runs (default 5), timed on the thread's CPU clock, so they stay
// meaningful on a loaded machine.
#include <malloc.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "engine/model/gguf_file.h"
#include "engine/tokenizer/pre_tokenizer.h"
#include "engine/tokenizer/tokenizer_factory.h"
#include "tests/engine/tokenizer/synthetic_vocab.h"

using namespace batchscope::engine;

namespace {

double threadCpuSeconds() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

std::filesystem::path sourceDir() {
    const char* env = std::getenv("BATCHSCOPE_SOURCE_DIR");
    return env != nullptr ? env : BATCHSCOPE_SOURCE_DIR;
}

std::string readAll(const std::filesystem::path& p) {
    std::ifstream f(p, std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

// Median seconds of `repeats` runs of fn.
double medianSeconds(int repeats, const std::function<void()>& fn) {
    std::vector<double> t;
    for (int r = 0; r < repeats; ++r) {
        const double start = threadCpuSeconds();
        fn();
        t.push_back(threadCpuSeconds() - start);
    }
    std::sort(t.begin(), t.end());
    return t[t.size() / 2];
}

// ~1 MB of the vocab test inputs and the multilingual corpus, repeated.
std::string benchText() {
    std::string unit;
    const auto vocabDir = sourceDir() / ".." / "shared" / "testdata" / "vocab";
    for (const char* name : {"ggml-vocab-gpt-2.gguf.inp", "ggml-vocab-llama-spm.gguf.inp"}) {
        std::string inp = readAll(vocabDir / name);
        for (std::size_t p; (p = inp.find("\n__ggml_vocab_test__\n")) != std::string::npos;) inp.replace(p, 21, "\n");
        unit += inp;
    }
    std::string corpus = readAll(sourceDir() / "tests" / "engine" / "tokenizer" / "data" / "pretokenizer_corpus.txt");
    for (std::size_t p; (p = corpus.find("\n__ggml_vocab_test__\n")) != std::string::npos;) corpus.replace(p, 21, "\n");
    unit += corpus;
    std::string text;
    while (text.size() < (1u << 20)) text += unit;
    return text;
}

void benchPreTokenizers(const std::string& text, int repeats) {
    const double mb = static_cast<double>(text.size()) / 1e6;
    std::size_t sink = 0;
    auto gpt2 = PreTokenizer::create(PreTokenizerType::Gpt2);
    if (!gpt2.ok()) return;
    const double base = medianSeconds(repeats, [&] { sink += gpt2->split(text).size(); });
    std::printf("pre-tokenizer split, %.2f MB of vocab inputs + corpus, median of %d:\n", mb, repeats);
    std::printf("  %-16s %8.1f MB/s  (baseline)\n", "gpt-2", mb / base);
    for (const char* name : {"llama3", "qwen2", "smollm", "falcon", "deepseek-llm", "deepseek-coder",
                             "default", "bloom"}) {
        auto pre = PreTokenizer::create(findPreTokenizer(name)->type);
        if (!pre.ok()) continue;
        const double s = medianSeconds(repeats, [&] { sink += pre->split(text).size(); });
        std::printf("  %-16s %8.1f MB/s  x%.2f of baseline\n", name, mb / s, base / s);
    }
    if (sink == 42) std::printf(" ");
}

void benchEncode(const std::string& text, int repeats) {
    const auto vocabDir = sourceDir() / ".." / "shared" / "testdata" / "vocab";
    const double mb = static_cast<double>(text.size()) / 1e6;
    std::printf("encode(), same text:\n");
    for (const char* name : {"gpt-2", "deepseek-llm", "falcon", "mpt", "llama-spm"}) {
        const auto path = vocabDir / (std::string("ggml-vocab-") + name + ".gguf");
        auto file = GgufFile::open(path.string());
        if (!file.ok()) {
            std::printf("  %-16s skipped: %s\n", name, file.error().message.c_str());
            continue;
        }
        auto tok = createTokenizerFromGguf(*file.value());
        if (!tok.ok()) continue;
        std::size_t tokens = 0;
        const double s = medianSeconds(repeats, [&] { tokens = tok.value()->encode(text, false).size(); });
        std::printf("  %-16s %8.1f MB/s  %zu tokens\n", name, mb / s, tokens);
    }
}

void benchLargeVocab(int repeats) {
    const int size = 262144;
    auto bytes = testing::syntheticSpmVocab(size).serialize();
    if (!bytes.ok()) return;
    const double fileMb = static_cast<double>(bytes.value().size()) / 1e6;
    std::vector<double> parse, create;
    std::size_t heap = 0;
    for (int r = 0; r < repeats; ++r) {
        const std::size_t before = mallinfo2().uordblks;
        const auto t0 = std::chrono::steady_clock::now();
        auto file = GgufFile::fromBytes(bytes.value());
        const auto t1 = std::chrono::steady_clock::now();
        const std::size_t afterFile = mallinfo2().uordblks;
        auto tok = createTokenizerFromGguf(*file.value());
        const auto t2 = std::chrono::steady_clock::now();
        if (!tok.ok()) return;
        heap = mallinfo2().uordblks - afterFile;
        (void)before;
        parse.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
        create.push_back(std::chrono::duration<double, std::milli>(t2 - t1).count());
    }
    std::sort(parse.begin(), parse.end());
    std::sort(create.begin(), create.end());
    std::printf("synthetic %d-token SentencePiece vocabulary (%.1f MB of GGUF metadata), median of %d:\n",
                size, fileMb, repeats);
    std::printf("  GGUF parse %.1f ms, tokenizer construction %.1f ms, tokenizer heap %.1f MB\n",
                parse[parse.size() / 2], create[create.size() / 2], static_cast<double>(heap) / 1e6);
}

}  // namespace

int main(int argc, char** argv) {
    const int repeats = argc > 1 ? std::max(1, std::atoi(argv[1])) : 5;
    const std::string text = benchText();
    benchPreTokenizers(text, repeats);
    benchEncode(text, repeats);
    benchLargeVocab(repeats);
    return 0;
}
