// SPDX-License-Identifier: GPL-3.0-or-later
#include "engine/model/model_quantizer.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <filesystem>
#include <regex>
#include <thread>

#include "engine/model/cpu/quant_types.h"
#include "engine/model/gguf_writer.h"

namespace batchscope::engine {

namespace {

struct PresetInfo {
    QuantPreset preset;
    std::string_view name;
    std::uint32_t fileType;  // llama_ftype
    GgmlType base;           // the type of ordinary matrices
};

constexpr std::array<PresetInfo, 12> kPresets = {{
    {QuantPreset::Q4_0, "Q4_0", 2, GgmlType::Q4_0},       {QuantPreset::Q4_1, "Q4_1", 3, GgmlType::Q4_1},
    {QuantPreset::Q5_0, "Q5_0", 8, GgmlType::Q5_0},       {QuantPreset::Q5_1, "Q5_1", 9, GgmlType::Q5_1},
    {QuantPreset::Q8_0, "Q8_0", 7, GgmlType::Q8_0},       {QuantPreset::Q2_K, "Q2_K", 10, GgmlType::Q2_K},
    {QuantPreset::Q3_K_M, "Q3_K_M", 12, GgmlType::Q3_K},  {QuantPreset::Q4_K_M, "Q4_K_M", 15, GgmlType::Q4_K},
    {QuantPreset::Q5_K_M, "Q5_K_M", 17, GgmlType::Q5_K},  {QuantPreset::Q6_K, "Q6_K", 18, GgmlType::Q6_K},
    {QuantPreset::IQ4_NL, "IQ4_NL", 25, GgmlType::IQ4_NL}, {QuantPreset::IQ4_XS, "IQ4_XS", 30, GgmlType::IQ4_XS},
}};

const PresetInfo& info(QuantPreset p) { return kPresets[static_cast<std::size_t>(p)]; }

// llama_ftype names by value (-1: unused id).
constexpr std::array<std::string_view, 39> kFileTypeNames = {
    "F32",    "F16",     "Q4_0",   "Q4_1",   "",       "",       "",       "Q8_0",  "Q5_0",   "Q5_1",
    "Q2_K",   "Q3_K_S",  "Q3_K_M", "Q3_K_L", "Q4_K_S", "Q4_K_M", "Q5_K_S", "Q5_K_M", "Q6_K",  "IQ2_XXS",
    "IQ2_XS", "Q2_K_S",  "IQ3_XS", "IQ3_XXS", "IQ1_S", "IQ4_NL", "IQ3_S",  "IQ3_M", "IQ2_S",  "IQ2_M",
    "IQ4_XS", "IQ1_M",   "BF16",   "",       "",       "",       "TQ1_0",  "TQ2_0", "MXFP4_MOE"};

bool isFloatType(GgmlType t) { return t == GgmlType::F32 || t == GgmlType::F16 || t == GgmlType::BF16; }

// llama.cpp's use_more_bits: first and last eighth, and every third layer between.
bool useMoreBits(int i, int n) { return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2; }

// Rows not a multiple of 256 cannot hold super-blocks: llama.cpp's fallbacks.
GgmlType fallback(GgmlType t, std::uint64_t cols) {
    if (cols % 256 != 0) {
        switch (t) {
        case GgmlType::Q2_K:
        case GgmlType::Q3_K:
        case GgmlType::IQ4_XS: t = GgmlType::IQ4_NL; break;
        case GgmlType::Q4_K: t = GgmlType::Q5_0; break;
        case GgmlType::Q5_K: t = GgmlType::Q5_1; break;
        case GgmlType::Q6_K: t = GgmlType::Q8_0; break;
        default: break;
        }
    }
    if (cols % static_cast<std::uint64_t>(ggmlTypeBlockSize(t)) != 0) t = GgmlType::F16;
    return t;
}

struct ModelShape {
    int layers = 0;
    int gqa = 1;  // heads / kv heads
    bool hasOutput = false;
};

GgmlType chooseType(const PresetInfo& p, const ModelShape& m, const std::string& name, const GgufTensorInfo& t) {
    if (t.dims.size() < 2) return GgmlType::F32;
    const std::uint64_t cols = t.dims[0];
    const bool isOutput = name == "output.weight" || (!m.hasOutput && name == "token_embd.weight");
    if (isOutput) {
        if (cols % 256 != 0) return GgmlType::Q8_0;
        return p.preset == QuantPreset::Q8_0 ? GgmlType::Q8_0 : GgmlType::Q6_K;
    }
    static const std::regex layerRe(R"(^blk\.(\d+)\.(.+)$)");
    std::smatch match;
    GgmlType type = p.base;
    if (std::regex_match(name, match, layerRe)) {
        const int layer = std::stoi(match[1].str());
        const std::string part = match[2].str();
        const auto preset = p.preset;
        if (part == "attn_v.weight") {
            if (preset == QuantPreset::Q2_K) type = m.gqa >= 4 ? GgmlType::Q4_K : GgmlType::Q3_K;
            else if (preset == QuantPreset::Q3_K_M) type = layer < 2 ? GgmlType::Q5_K : GgmlType::Q4_K;
            else if ((preset == QuantPreset::Q4_K_M || preset == QuantPreset::Q5_K_M) && useMoreBits(layer, m.layers))
                type = GgmlType::Q6_K;
            else if ((preset == QuantPreset::IQ4_NL || preset == QuantPreset::IQ4_XS) && m.gqa >= 4)
                type = GgmlType::Q5_K;
        } else if (part == "ffn_down.weight") {
            if (preset == QuantPreset::Q2_K) type = GgmlType::Q3_K;
            else if (preset == QuantPreset::Q3_K_M) type = layer < m.layers / 16 ? GgmlType::Q5_K : GgmlType::Q4_K;
            else if ((preset == QuantPreset::Q4_K_M || preset == QuantPreset::Q5_K_M) && useMoreBits(layer, m.layers))
                type = GgmlType::Q6_K;
        } else if (part == "attn_output.weight") {
            if (preset == QuantPreset::Q2_K) type = GgmlType::Q3_K;
            else if (preset == QuantPreset::Q3_K_M) type = GgmlType::Q4_K;
        }
    }
    return fallback(type, cols);
}

Result<ModelShape> modelShape(const GgufFile& f) {
    const auto arch = f.getString("general.architecture");
    if (!arch) return makeError(ErrorCode::InvalidArgument, "input has no general.architecture key");
    ModelShape m;
    const auto layers = f.getInt(*arch + ".block_count");
    if (!layers || *layers <= 0) return makeError(ErrorCode::InvalidArgument, "input has no " + *arch + ".block_count key");
    m.layers = static_cast<int>(*layers);
    const auto heads = f.getInt(*arch + ".attention.head_count");
    const auto kvHeads = f.getInt(*arch + ".attention.head_count_kv");
    if (heads && kvHeads && *kvHeads > 0) m.gqa = static_cast<int>(*heads / *kvHeads);
    m.hasOutput = f.findTensor("output.weight") != nullptr;
    return m;
}

// Converts one tensor (float rows) to `to`, rows split over threads.
Status convertTensor(const GgufTensorInfo& t, GgmlType to, int threads, const std::stop_token& stop,
                     std::vector<std::uint8_t>& out) {
    const auto from = cpu::weightTypeFromGgml(t.type);
    const auto dst = cpu::weightTypeFromGgml(to);
    if (!from || !dst) return makeError(ErrorCode::Internal, "tensor '" + t.name + "': no conversion");
    const std::int64_t cols = static_cast<std::int64_t>(t.dims[0]);
    const std::int64_t rows = static_cast<std::int64_t>(t.elementCount()) / cols;
    const std::size_t inRow = cpu::weightRowBytes(*from, cols), outRow = cpu::weightRowBytes(*dst, cols);
    out.resize(outRow * static_cast<std::size_t>(rows));
    const int n = static_cast<int>(std::clamp<std::int64_t>(rows / 16, 1, threads));
    auto work = [&](int k) {
        std::vector<float> buf(static_cast<std::size_t>(cols));
        for (std::int64_t r = rows * k / n; r < rows * (k + 1) / n && !stop.stop_requested(); ++r) {
            cpu::dequantizeRow(*from, t.data + static_cast<std::size_t>(r) * inRow, cols, buf.data());
            cpu::quantizeRow(*dst, buf.data(), cols, reinterpret_cast<std::byte*>(out.data()) + static_cast<std::size_t>(r) * outRow);
        }
    };
    {
        std::vector<std::jthread> pool;
        for (int k = 1; k < n; ++k) pool.emplace_back(work, k);
        work(0);
    }
    if (stop.stop_requested()) return makeError(ErrorCode::Cancelled, "quantisation cancelled");
    return Ok{};
}

// Fills `w` with the input's metadata and one deferred tensor per input tensor.
Status buildWriter(const GgufFile& in, QuantPreset preset, const QuantizeOptions& opt, GgufWriter& w,
                   QuantizeSummary* summary) {
    auto plan = planQuantization(in, preset);
    if (!plan.ok()) return plan.error();
    for (const std::string& key : in.keys()) {
        if (key == "general.file_type" || key == "general.quantization_version") continue;
        w.set(key, *in.find(key));
    }
    w.setUInt32("general.quantization_version", 2);
    w.setUInt32("general.file_type", quantPresetFileType(preset));
    const int threads = opt.threads > 0 ? opt.threads : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
    auto progress = std::make_shared<QuantizeProgress>();
    progress->tensorCount = plan->size();
    for (const auto& t : in.tensors()) progress->bytesTotal += t.sizeBytes;
    for (const TensorQuantChoice& c : *plan) {
        const GgufTensorInfo& t = *in.findTensor(c.name);
        if (summary) ++summary->typeCounts[std::string(ggmlTypeName(c.to))];
        auto produce = [&t, to = c.to, threads, &opt, progress](std::vector<std::uint8_t>& out) -> Status {
            if (opt.stop.stop_requested()) return makeError(ErrorCode::Cancelled, "quantisation cancelled");
            progress->tensor = t.name;
            if (opt.progress) opt.progress(*progress);
            if (auto s = convertTensor(t, to, threads, opt.stop, out); !s) return s;
            ++progress->tensorsDone;
            progress->bytesRead += t.sizeBytes;
            if (opt.progress && progress->tensorsDone == progress->tensorCount) opt.progress(*progress);
            return Ok{};
        };
        if (auto s = w.addTensorDeferred(c.name, t.dims, c.to, std::move(produce)); !s) return s;
    }
    return Ok{};
}

}  // namespace

std::optional<QuantPreset> quantPresetFromName(std::string_view name) {
    std::string upper(name);
    for (char& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    for (const auto& p : kPresets)
        if (p.name == upper) return p.preset;
    return std::nullopt;
}

std::string_view quantPresetName(QuantPreset preset) { return info(preset).name; }

std::string quantPresetList() {
    std::string s;
    for (const auto& p : kPresets) s += (s.empty() ? "" : ", ") + std::string(p.name);
    return s;
}

std::uint32_t quantPresetFileType(QuantPreset preset) { return info(preset).fileType; }

std::string_view fileTypeName(std::int64_t fileType) {
    if (fileType < 0 || fileType >= static_cast<std::int64_t>(kFileTypeNames.size())) return "";
    return kFileTypeNames[static_cast<std::size_t>(fileType)];
}

std::string tensorTypeMixText(const ModelInfo& m) {
    std::vector<std::pair<std::string, int>> counts(m.tensorTypeCounts.begin(), m.tensorTypeCounts.end());
    std::stable_sort(counts.begin(), counts.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
    std::string s;
    for (const auto& [type, n] : counts) s += (s.empty() ? "" : ", ") + std::to_string(n) + " \u00d7 " + type;
    if (s.empty() || m.fileType.empty()) return s;
    return m.fileType + ": " + s;
}

Result<std::vector<TensorQuantChoice>> planQuantization(const GgufFile& in, QuantPreset preset) {
    auto shape = modelShape(in);
    if (!shape.ok()) return shape.error();
    std::vector<TensorQuantChoice> plan;
    for (const auto& t : in.tensors()) {
        if (!isFloatType(t.type))
            return makeError(ErrorCode::InvalidArgument,
                             "input is already quantised: tensor '" + t.name + "' is " + std::string(ggmlTypeName(t.type)) +
                                 "; quantise from an F32, F16 or BF16 file");
        plan.push_back({t.name, t.type, chooseType(info(preset), *shape, t.name, t)});
    }
    return plan;
}

Result<std::vector<std::uint8_t>> quantizeModelBytes(const GgufFile& in, QuantPreset preset, const QuantizeOptions& opt) {
    GgufWriter w;
    if (auto s = buildWriter(in, preset, opt, w, nullptr); !s) return s.error();
    return w.serialize();
}

Result<QuantizeSummary> quantizeModelFile(const std::string& inputPath, const std::string& outputPath, QuantPreset preset,
                                          const QuantizeOptions& opt) {
    auto in = GgufFile::open(inputPath);
    if (!in.ok()) return makeError(in.error().code, "cannot read '" + inputPath + "': " + in.error().message);
    QuantizeSummary summary;
    GgufWriter w;
    if (auto s = buildWriter(**in, preset, opt, w, &summary); !s) return s.error();
    const std::string partial = outputPath + ".partial";
    std::error_code ec;
    if (auto s = w.writeFile(partial); !s) {
        std::filesystem::remove(partial, ec);
        return s.error();
    }
    std::filesystem::rename(partial, outputPath, ec);
    if (ec) {
        std::filesystem::remove(partial, ec);
        return makeError(ErrorCode::Internal, "cannot rename '" + partial + "' to '" + outputPath + "': " + ec.message());
    }
    for (const auto& t : (*in)->tensors()) summary.inputBytes += t.sizeBytes;
    summary.outputBytes = std::filesystem::file_size(outputPath, ec);
    return summary;
}

}  // namespace batchscope::engine
