// `batchscope generate`: one prompt, streamed to stdout, a summary line on stderr.
// SPDX-License-Identifier: GPL-3.0-or-later
#include <iostream>

#include "app/cli/cli_common.h"

namespace batchscope::app {

int runGenerate(const QStringList& args) {
    QCommandLineParser parser;
    addEngineOptions(parser);
    parser.addOption({"prompt", "The prompt text (required).", "text"});
    addGenerationOptions(parser);
    if (int rc = parseOrExit(parser, args, "Run one prompt and print the completion."); rc >= 0) return rc;
    if (!parser.isSet("prompt") || parser.value("prompt").isEmpty()) {
        std::cerr << "error: --prompt is required and must not be empty\n";
        return 2;
    }
    auto options = generationOptions(parser);
    if (!options) return 2;
    auto engine = buildEngine(parser);
    if (!engine) return 1;
    return runToCompletion(*engine, [&](engine::RequestCallbacks callbacks) {
        return engine->submit(parser.value("prompt").toStdString(), *options, std::move(callbacks));
    });
}

}  // namespace batchscope::app
