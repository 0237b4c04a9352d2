// SPDX-License-Identifier: GPL-3.0-or-later
#include "engine/chat/chat_template_bench.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>

#include "engine/chat/chat_format.h"
#include "engine/chat/chat_template.h"

namespace batchscope::engine {
namespace {

constexpr int kRendersPerRun = 50;

std::vector<ChatMessage> conversation(int turns) {
    std::vector<ChatMessage> messages;
    for (int i = 0; i < turns; ++i) {
        bool user = i % 2 == 0;
        messages.push_back({user ? "user" : "assistant",
                            (user ? "Question " : "Answer ") + std::to_string(i) +
                                ": a sentence of ordinary length, with some punctuation, to make the turn realistic."});
    }
    return messages;
}

double medianUs(int runs, const std::function<void()>& once) {
    std::vector<double> samples;
    for (int r = 0; r < runs; ++r) {
        auto start = std::chrono::steady_clock::now();
        for (int i = 0; i < kRendersPerRun; ++i) once();
        std::chrono::duration<double, std::micro> d = std::chrono::steady_clock::now() - start;
        samples.push_back(d.count() / kRendersPerRun);
    }
    std::sort(samples.begin(), samples.end());
    return samples[samples.size() / 2];
}

std::vector<std::pair<std::string, std::string>> templates() {
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& name : builtinChatFormats()) out.emplace_back("built-in " + name, builtinChatTemplate(name).value());
    const char* env = std::getenv("BATCHSCOPE_SOURCE_DIR");
    const std::filesystem::path dir =
        std::filesystem::path(env ? env : BATCHSCOPE_SOURCE_DIR) / ".." / "shared" / "testdata" / "chat-templates";
    std::error_code ec;
    std::vector<std::filesystem::path> files;
    for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
        if (e.path().extension() == ".jinja") files.push_back(e.path());
    }
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
        std::ifstream in(f, std::ios::binary);
        std::stringstream ss;
        ss << in.rdbuf();
        out.emplace_back(f.stem().string(), ss.str());
    }
    return out;
}

}  // namespace

ChatTemplateBenchReport runChatTemplateBench(int runs) {
    ChatTemplateBenchReport report;
    report.runs = std::max(1, runs);
    const auto messages = conversation(report.turns);
    std::size_t sink = 0;
    report.baselineUs = medianUs(report.runs, [&] {
        std::string s;
        for (const auto& m : messages) s += "<|im_start|>" + m.role + "\n" + m.content + "<|im_end|>\n";
        s += "<|im_start|>assistant\n";
        sink += s.size();
    });
    ChatTemplateOptions options;
    options.bosToken = "<s>";
    options.eosToken = "</s>";
    for (const auto& entry : templates()) {
        // Not a structured binding: clang 14 (the fuzz build) cannot capture one in a lambda.
        const auto& name = entry.first;
        const auto& text = entry.second;
        ChatTemplateBenchRow row;
        row.name = name;
        row.parseUs = medianUs(report.runs, [&] { sink += ChatTemplate::parse(text).ok(); });
        auto tmpl = ChatTemplate::parse(text);
        if (!tmpl) {
            row.error = tmpl.error().message;
        } else if (auto first = tmpl->apply(messages, options); !first) {
            row.error = first.error().message;
        } else {
            row.promptBytes = first->text.size();
            row.medianRenderUs = medianUs(report.runs, [&] { sink += tmpl->apply(messages, options)->text.size(); });
        }
        report.rows.push_back(std::move(row));
    }
    if (sink == 0) report.baselineUs += 0;  // keeps the work observable
    return report;
}

}  // namespace batchscope::engine
