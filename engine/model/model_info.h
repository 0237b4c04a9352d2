// Descriptive information about the loaded model, for the UI, the API and logs.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <cstdint>
#include <map>
#include <string>

namespace batchscope::engine {

/// Plain value; every field is informational (the runtime does not read it back).
struct ModelInfo {
    std::string name;              ///< general.name, or the file's base name
    std::string path;              ///< file path ("" for simulated models)
    std::string architecture;      ///< "llama", or "simulated"
    std::string backend;           ///< "cpu", "cuda", "simulated"
    std::uint64_t parameterCount = 0;
    std::uint64_t fileSizeBytes = 0;
    std::uint64_t weightBytes = 0;   ///< bytes of weights resident (mapped or uploaded)
    std::uint64_t kvCacheBytes = 0;  ///< bytes of the KV block pool
    std::string kvCacheType;         ///< KV element type, "F32" or "F16" ("" when not applicable)
    std::int32_t contextLength = 0;  ///< tokens
    std::int32_t vocabSize = 0;
    std::int32_t embeddingDim = 0;
    std::int32_t layerCount = 0;
    std::int32_t headCount = 0;
    std::int32_t kvHeadCount = 0;
    std::int32_t feedForwardDim = 0;
    std::string tokenizerKind;       ///< "llama", "gpt2", "byte"
    std::map<std::string, int> tensorTypeCounts;  ///< e.g. {"F16": 57, "F32": 17}
    std::string fileType;  ///< preset named by general.file_type ("Q4_K_M", "F16"); "" when absent
};

}  // namespace batchscope::engine
