// SPDX-License-Identifier: GPL-3.0-or-later
#include "engine/chat/chat_template_file.h"

#include <fstream>
#include <iterator>

#include "engine/chat/chat_template.h"

namespace batchscope::engine {

Result<ChatTemplateFile> loadChatTemplateFile(const std::string& path) {
    if (path.empty()) return makeError(ErrorCode::InvalidArgument, "chat template: no file name given");
    std::ifstream in(path, std::ios::binary);
    if (!in) return makeError(ErrorCode::NotFound, "chat template " + path + ": cannot be read");
    ChatTemplateFile file;
    file.path = path;
    // One byte past the cap tells "too large" from "exactly the cap" without reading it all.
    file.text.resize(kMaxChatTemplateFileBytes + 1);
    in.read(file.text.data(), std::streamsize(file.text.size()));
    if (in.bad()) return makeError(ErrorCode::NotFound, "chat template " + path + ": read error");
    file.text.resize(std::size_t(in.gcount()));
    if (file.text.size() > kMaxChatTemplateFileBytes)
        return makeError(ErrorCode::InvalidArgument, "chat template " + path + ": larger than " +
                                                         std::to_string(kMaxChatTemplateFileBytes >> 10) + " KiB");
    if (file.text.empty()) return makeError(ErrorCode::InvalidArgument, "chat template " + path + ": the file is empty");
    auto parsed = ChatTemplate::parse(file.text);
    if (!parsed) {
        std::string why = parsed.error().message;
        if (why.rfind("chat template: ", 0) == 0) why.erase(0, 15);  // we name it already
        return makeError(ErrorCode::InvalidFormat, "chat template " + path + ": " + why);
    }
    file.source = "file: " + path;
    return file;
}

}  // namespace batchscope::engine
