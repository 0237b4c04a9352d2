// `batchscope chat`: one chat turn (optional system message + a user message) rendered with
// the model's chat template; the answer streamed to stdout, a summary line on stderr.
// SPDX-License-Identifier: GPL-3.0-or-later
#include <fstream>
#include <iostream>
#include <sstream>

#include "app/cli/cli_common.h"

namespace batchscope::app {

std::optional<std::string> readTextFile(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    if (!f) {
        std::cerr << "error: cannot read " << path << "\n";
        return std::nullopt;
    }
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

int runChat(const QStringList& args) {
    QCommandLineParser parser;
    addEngineOptions(parser);
    parser.addOptions({
        {"message", "The user's message (required).", "text"},
        {"system", "A system message before it.", "text"},
    });
    addGenerationOptions(parser);
    if (int rc = parseOrExit(parser, args, "Run one chat turn with the model's chat template and print the answer.");
        rc >= 0) {
        return rc;
    }
    if (!parser.isSet("message") || parser.value("message").isEmpty()) {
        std::cerr << "error: --message is required and must not be empty\n";
        return 2;
    }
    auto options = generationOptions(parser);
    if (!options) return 2;
    auto engine = buildEngine(parser);  // applies --chat-template
    if (!engine) return 1;
    std::cerr << "[chat template: " << engine->modelInfo().chatTemplateSource << "]\n";
    std::vector<engine::ChatMessage> messages;
    if (parser.isSet("system")) messages.push_back({"system", parser.value("system").toStdString()});
    messages.push_back({"user", parser.value("message").toStdString()});
    return runToCompletion(*engine, [&](engine::RequestCallbacks callbacks) {
        return engine->submitChat(messages, *options, std::move(callbacks));
    });
}

}  // namespace batchscope::app
