// Internal: the GGUF byte-level parser behind GgufFile::open/fromBytes. Not a public API.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "engine/core/result.h"
#include "engine/model/gguf_file.h"
#include "engine/model/mapped_file.h"

namespace batchscope::engine {

/// What the parser extracts; moved into the GgufFile.
struct GgufParseOutput {
    std::uint32_t version = 0;
    std::uint64_t alignment = 32;
    std::uint64_t dataOffset = 0;
    std::vector<std::pair<std::string, GgufValue>> kv;
    std::vector<GgufTensorInfo> tensors;
};

/// Parses and validates a whole file into a GgufFile. Single use, single thread.
class GgufParser {
public:
    static Result<std::unique_ptr<GgufFile>> parse(std::unique_ptr<MappedFile> file);
};

}  // namespace batchscope::engine
