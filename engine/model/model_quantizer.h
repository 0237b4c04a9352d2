// Quantising a GGUF model file to one of llama.cpp's presets (`batchscope quantize`), and the
// preset names of general.file_type for display.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "engine/core/result.h"
#include "engine/model/gguf_file.h"
#include "engine/model/gguf_types.h"
#include "engine/model/model_info.h"

namespace batchscope::engine {

/// The presets `batchscope quantize` writes (llama.cpp's names and general.file_type ids).
enum class QuantPreset { Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K, Q3_K_M, Q4_K_M, Q5_K_M, Q6_K, IQ4_NL, IQ4_XS };

/// Case-insensitive ("q4_k_m" works); nullopt for anything else.
std::optional<QuantPreset> quantPresetFromName(std::string_view name);
std::string_view quantPresetName(QuantPreset preset);
/// "Q4_0, Q4_1, ..." for usage and error messages.
std::string quantPresetList();
/// llama.cpp's llama_ftype value written to general.file_type.
std::uint32_t quantPresetFileType(QuantPreset preset);
/// The preset name of a general.file_type value ("F16", "Q4_K_M", ...); "" when unknown.
std::string_view fileTypeName(std::int64_t fileType);

/// "Q4_K_M: 97 × Q4_K, 25 × Q6_K, 12 × Q5_0, 57 × F32" (most frequent first; without the
/// "NAME: " prefix when info.fileType is empty). "" when there are no tensors.
std::string tensorTypeMixText(const ModelInfo& info);

/// Which type one tensor gets, and why (for docs, tests and --dry-run style listings).
struct TensorQuantChoice {
    std::string name;
    GgmlType from = GgmlType::F32;
    GgmlType to = GgmlType::F32;
};

/// The per-tensor types a preset gives a llama model (llama.cpp's rules, docs/quantize.md):
/// 1-D tensors stay F32; output.weight (or token_embd.weight when tied) is Q6_K (Q8_0 for the
/// Q8_0 preset or rows that are not a multiple of 256); the K presets give attn_v / ffn_down
/// more bits in the first and last eighth of the layers and every third layer between; rows
/// not a multiple of 256 fall back (Q4_K→Q5_0, Q5_K→Q5_1, Q6_K→Q8_0, Q2_K/Q3_K/IQ4_XS→IQ4_NL).
/// InvalidArgument when the input is already quantised or is not a llama model; the message
/// names the tensor or key.
Result<std::vector<TensorQuantChoice>> planQuantization(const GgufFile& input, QuantPreset preset);

struct QuantizeProgress {
    std::size_t tensorsDone = 0, tensorCount = 0;
    std::uint64_t bytesRead = 0, bytesTotal = 0;  ///< input tensor bytes
    std::string tensor;                           ///< the tensor being written
};

struct QuantizeOptions {
    std::function<void(const QuantizeProgress&)> progress;  ///< called per tensor, from the caller's thread
    std::stop_token stop;                                    ///< Cancelled when requested
    int threads = 0;                                         ///< 0: hardware concurrency
};

struct QuantizeSummary {
    std::map<std::string, int> typeCounts;  ///< output tensor types
    std::uint64_t inputBytes = 0, outputBytes = 0;
};

/// Quantises `inputPath` into `outputPath` with `preset`. Writes "<outputPath>.partial" and
/// renames it at the end, so a failure or cancellation never leaves a broken output (the
/// partial file is removed). Output: standard GGUF v3, input metadata kept, general.file_type
/// and general.quantization_version set, tensors in input order. Errors name the file/tensor.
Result<QuantizeSummary> quantizeModelFile(const std::string& inputPath, const std::string& outputPath,
                                          QuantPreset preset, const QuantizeOptions& options = {});

/// The same into memory (tests).
Result<std::vector<std::uint8_t>> quantizeModelBytes(const GgufFile& input, QuantPreset preset,
                                                     const QuantizeOptions& options = {});

}  // namespace batchscope::engine
