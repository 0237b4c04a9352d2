// SPDX-License-Identifier: GPL-3.0-or-later
// Writes the random model a test uses to a file, for tools/family_reference.py (not a test):
//   batchscope_random_gguf <shape> <architecture> <seed> <out.gguf> [F32|F16]
// Weights are F32 (or F16); the same arguments always give the same bytes.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "engine/model/cpu/random_llama_gguf.h"

using namespace batchscope::engine;

int main(int argc, char** argv) {
    if (argc != 5 && !(argc == 6 && (std::string(argv[5]) == "F32" || std::string(argv[5]) == "F16"))) {
        std::fprintf(stderr, "usage: %s <tiny|small|medium|tinyllama> <llama|llama3|qwen2|qwen3|phi3|gemma2|gemma3> <seed> <out.gguf> [F32|F16]\n", argv[0]);
        return 2;
    }
    const GgmlType type = argc == 6 && std::string(argv[5]) == "F16" ? GgmlType::F16 : GgmlType::F32;
    const auto shape = cpu::llamaShapeByName(argv[1], argv[2]);
    if (!shape) {
        std::fprintf(stderr, "unknown shape '%s' or architecture '%s'\n", argv[1], argv[2]);
        return 2;
    }
    auto bytes = cpu::makeRandomLlamaGguf(*shape, type, std::strtoull(argv[3], nullptr, 10));
    if (!bytes) {
        std::fprintf(stderr, "%s\n", bytes.error().message.c_str());
        return 1;
    }
    std::ofstream out(argv[4], std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes->data()), static_cast<std::streamsize>(bytes->size()));
    return out ? 0 : 1;
}
