// `batchscope tokenize`: token ids (and pieces) of a text for any GGUF vocabulary.
// SPDX-License-Identifier: GPL-3.0-or-later
#include <iostream>

#include "app/cli/cli_common.h"
#include "engine/model/gguf_file.h"
#include "engine/tokenizer/tokenizer_factory.h"

namespace batchscope::app {

int runTokenize(const QStringList& args) {
    QCommandLineParser parser;
    parser.addOptions({{"model", "GGUF file (a vocabulary-only file is enough; default: the demo model).", "file"},
                       {"text", "Text to tokenize (required).", "text"},
                       {"no-bos", "Do not prepend BOS."},
                       {"pieces", "Print each token's piece next to its id."}});
    if (int rc = parseOrExit(parser, args, "Print the token ids of a text."); rc >= 0) return rc;
    if (!parser.isSet("text")) {
        std::cerr << "error: --text is required\n";
        return 2;
    }
    const std::string path = parser.isSet("model") ? parser.value("model").toStdString() : engine::demoModelPath();
    auto file = engine::GgufFile::open(path);
    if (!file) {
        std::cerr << "error: " << file.error().message << "\n";
        return 1;
    }
    auto tokenizer = engine::createTokenizerFromGguf(*file.value());
    if (!tokenizer) {
        std::cerr << "error: " << path << ": " << tokenizer.error().message << "\n";
        return 1;
    }
    const auto ids = tokenizer.value()->encode(parser.value("text").toStdString(), !parser.isSet("no-bos"));
    for (std::size_t i = 0; i < ids.size(); ++i) {
        if (parser.isSet("pieces")) {
            std::cout << ids[i] << "\t" << tokenizer.value()->tokenPiece(ids[i]) << "\n";
        } else {
            std::cout << (i ? " " : "") << ids[i];
        }
    }
    if (!parser.isSet("pieces")) std::cout << "\n";
    return 0;
}

}  // namespace batchscope::app
