// `batchscope chat-template`: a conversation (JSON file) rendered with a model's chat template
// or a template file, printed exactly, for scripting and for checking a template.
// SPDX-License-Identifier: GPL-3.0-or-later
#include <iostream>
#include <nlohmann/json.hpp>

#include "app/cli/cli_common.h"
#include "engine/chat/chat_format.h"
#include "engine/chat/chat_prompt.h"
#include "engine/chat/chat_template_file.h"
#include "engine/model/gguf_file.h"
#include "engine/tokenizer/tokenizer_factory.h"

namespace batchscope::app {

std::optional<std::string> readTextFile(const std::string& path);

namespace {

// [{"role": ..., "content": ...}, ...]; nullopt after printing what was wrong.
std::optional<std::vector<engine::ChatMessage>> parseMessages(const std::string& path, const std::string& text) {
    auto json = nlohmann::json::parse(text, nullptr, false);
    if (json.is_discarded() || !json.is_array()) {
        std::cerr << "error: " << path << ": expected a JSON array of {\"role\", \"content\"} objects\n";
        return std::nullopt;
    }
    std::vector<engine::ChatMessage> messages;
    for (std::size_t i = 0; i < json.size(); ++i) {
        const auto& m = json[i];
        if (!m.is_object() || !m.contains("role") || !m["role"].is_string() || !m.contains("content") ||
            !m["content"].is_string()) {
            std::cerr << "error: " << path << ": element " << i << " needs string fields \"role\" and \"content\"\n";
            return std::nullopt;
        }
        messages.push_back({m["role"].get<std::string>(), m["content"].get<std::string>()});
    }
    return messages;
}

}  // namespace

int runChatTemplate(const QStringList& args) {
    QCommandLineParser parser;
    parser.addOptions({
        {"model", "GGUF file whose chat template (and BOS/EOS) to use.", "file"},
        {"template", "Jinja chat template file (BOS/EOS are <BOS>/<EOS> unless --model is given).", "file"},
        {"messages", "JSON file: an array of {\"role\", \"content\"} objects (required).", "file"},
        {"no-generation-prompt", "Do not end with the assistant's turn header."},
    });
    if (int rc = parseOrExit(parser, args, "Print a conversation rendered with a chat template."); rc >= 0) return rc;
    if (!parser.isSet("messages") || (!parser.isSet("model") && !parser.isSet("template"))) {
        std::cerr << "error: --messages and one of --model or --template are required\n";
        return 2;
    }
    const std::string messagesPath = parser.value("messages").toStdString();
    auto messagesText = readTextFile(messagesPath);
    if (!messagesText) return 1;
    auto messages = parseMessages(messagesPath, *messagesText);
    if (!messages) return 2;

    engine::ModelInfo info;
    info.bosToken = "<BOS>";
    info.eosToken = "<EOS>";
    if (parser.isSet("model")) {
        const std::string path = parser.value("model").toStdString();
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
        const engine::Tokenizer& tok = *tokenizer.value();
        info.bosToken = tok.bosId() ? tok.tokenPiece(*tok.bosId()) : "";
        info.eosToken = tok.eosId() ? tok.tokenPiece(*tok.eosId()) : "";
        engine::ChatModelHints hints{file.value()->getString("general.name").value_or(path),
                                     [&tok](std::string_view p) { return tok.pieceId(p).has_value(); }};
        auto resolved = engine::resolveChatTemplate(file.value()->getString("tokenizer.chat_template"), hints);
        info.chatTemplate = resolved.text;
        info.chatTemplateSource = resolved.source;
    }
    if (parser.isSet("template")) {
        auto file = engine::loadChatTemplateFile(parser.value("template").toStdString());
        if (!file) {
            std::cerr << "error: --template: " << file.error().message << "\n";
            return 1;
        }
        info.chatTemplate = file->text;
        info.chatTemplateSource = file->source;
    }
    std::cerr << "[chat template: " << info.chatTemplateSource << "]\n";
    if (auto valid = engine::validateChatMessages(*messages); !valid) {
        std::cerr << "error: " << valid.error().message << "\n";
        return 2;
    }
    auto tmpl = engine::ChatTemplate::parse(info.chatTemplate);
    if (!tmpl) {
        std::cerr << "error: " << tmpl.error().message << "\n";
        return 1;
    }
    engine::ChatTemplateOptions options;
    options.addGenerationPrompt = !parser.isSet("no-generation-prompt");
    options.bosToken = info.bosToken;
    options.eosToken = info.eosToken;
    auto rendered = tmpl->apply(*messages, options);
    if (!rendered) {
        std::cerr << "error: " << rendered.error().message << "\n";
        return 1;
    }
    std::cout << rendered->text << std::flush;
    return 0;
}

}  // namespace batchscope::app
