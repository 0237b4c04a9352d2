// `batchscope tokenize`: token ids (and pieces) of a text for any GGUF vocabulary.
// SPDX-License-Identifier: GPL-3.0-or-later
#include <iostream>

#include "app/cli/cli_common.h"

namespace batchscope::app {

int runTokenize(const QStringList& args) {
    QCommandLineParser parser;
    parser.addOptions({{"model", "GGUF file (a vocabulary-only file is enough).", "file"},
                       {"text", "Text to tokenize.", "text"},
                       {"no-bos", "Do not prepend BOS."},
                       {"pieces", "Print each token's piece too."}});
    if (int rc = parseOrExit(parser, args, "Print the token ids of a text."); rc >= 0) return rc;
    std::cerr << "error: the GGUF tokenizer is not part of this build yet\n";
    return 1;
}

}  // namespace batchscope::app
