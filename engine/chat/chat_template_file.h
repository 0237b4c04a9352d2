// A chat template read from a file the user chose (`--chat-template FILE`, the GUI's model
// panel): read, size-checked and parsed once, so a bad file is refused before it is used.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <cstddef>
#include <string>

#include "engine/core/result.h"

namespace batchscope::engine {

/// Template files larger than this are refused (real chat templates are < 20 KiB).
inline constexpr std::size_t kMaxChatTemplateFileBytes = 1u << 20;

/// The text of a template file and the source to report for it ("file: PATH").
struct ChatTemplateFile {
    std::string path;
    std::string text;
    std::string source;
};

/// Reads and parses `path`. Errors name the file: NotFound (cannot be read), InvalidArgument
/// (empty, or over kMaxChatTemplateFileBytes), InvalidFormat ("PATH: <parse error>").
/// Any thread; touches nothing but the file.
Result<ChatTemplateFile> loadChatTemplateFile(const std::string& path);

}  // namespace batchscope::engine
