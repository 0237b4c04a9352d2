// SPDX-License-Identifier: GPL-3.0-or-later
#include "app/cli/cli_common.h"

#include <cstdio>
#include <iostream>

#include "engine/chat/chat_template_file.h"

namespace batchscope::app {

QCommandLineOption kvTypeOption() {
    return {"kv-type", "KV-cache element type on the CPU: auto, f32 or f16 (default auto: F32 for F32 "
                       "models, F16 for 16-bit and quantised ones).", "type", "auto"};
}

void addExecutorOptions(QCommandLineParser& parser) {
    parser.addOptions({
        {"device", "cpu, cuda or auto (default auto).", "device", "auto"},
        {"threads", "CPU threads (default: all cores).", "n", "0"},
        kvTypeOption(),
    });
}

void addEngineOptions(QCommandLineParser& parser) {
    parser.addOption({"model", "GGUF model file (default: the bundled demo model; 'simulated' for no model).", "file"});
    addExecutorOptions(parser);
    parser.addOptions({
        {"max-batch-size", "Sequences per step (default 32).", "n", "32"},
        {"token-budget", "Tokens per step, prefill + decode (default 512).", "n", "512"},
        {"kv-memory-mb", "KV-cache memory in MiB (default 256).", "mib", "256"},
        {"block-size", "Tokens per KV block (default 16).", "n", "16"},
        {"queue-capacity", "Waiting requests at most (default 1024).", "n", "1024"},
    });
    parser.addOption(chatTemplateOption());
}

QCommandLineOption chatTemplateOption() {
    return {"chat-template", "Use this Jinja chat template file instead of the model's own.", "file"};
}

std::optional<engine::ChatTemplateFile> chatTemplateFile(const QCommandLineParser& parser, bool* failed) {
    *failed = false;
    if (!parser.isSet("chat-template")) return std::nullopt;
    auto file = engine::loadChatTemplateFile(parser.value("chat-template").toStdString());
    if (!file) {
        std::cerr << "error: --chat-template: " << file.error().message << "\n";
        *failed = true;
        return std::nullopt;
    }
    return std::move(file).value();
}

std::optional<long long> positiveInt(const QCommandLineParser& parser, const QString& name,
                                     long long minValue, long long maxValue) {
    bool ok = false;
    const long long v = parser.value(name).toLongLong(&ok);
    if (!ok || v < minValue || v > maxValue) {
        std::cerr << "error: --" << name.toStdString() << " must be an integer in [" << minValue << ", "
                  << maxValue << "] (got '" << parser.value(name).toStdString() << "')\n";
        return std::nullopt;
    }
    return v;
}

std::optional<engine::KvCacheType> kvCacheType(const QCommandLineParser& parser) {
    const QString v = parser.value("kv-type").toLower();
    if (v == "auto") return engine::KvCacheType::Auto;
    if (v == "f32") return engine::KvCacheType::F32;
    if (v == "f16") return engine::KvCacheType::F16;
    std::cerr << "error: --kv-type must be auto, f32 or f16 (got '" << parser.value("kv-type").toStdString() << "')\n";
    return std::nullopt;
}

std::optional<engine::ExecutorOptions> executorOptions(const QCommandLineParser& parser) {
    engine::ExecutorOptions o;
    o.modelPath = parser.value("model").toStdString();
    const QString device = parser.value("device");
    if (device == "cpu") o.device = engine::DeviceKind::Cpu;
    else if (device == "cuda") o.device = engine::DeviceKind::Cuda;
    else if (device == "auto") o.device = engine::DeviceKind::Auto;
    else {
        std::cerr << "error: --device must be cpu, cuda or auto (got '" << device.toStdString() << "')\n";
        return std::nullopt;
    }
    auto threads = positiveInt(parser, "threads", 0, 1024);
    if (!threads) return std::nullopt;
    o.threads = int(*threads);
    auto kv = kvCacheType(parser);
    if (!kv) return std::nullopt;
    o.kvCache = *kv;
    return o;
}

std::optional<engine::EngineConfig> engineConfig(const QCommandLineParser& parser) {
    engine::EngineConfig c;
    auto batch = positiveInt(parser, "max-batch-size", 1, 4096);
    auto budget = positiveInt(parser, "token-budget", 1, 1 << 20);
    auto kv = positiveInt(parser, "kv-memory-mb", 1, 1 << 20);
    auto block = positiveInt(parser, "block-size", 1, 1024);
    auto queue = positiveInt(parser, "queue-capacity", 1, 1 << 20);
    if (!batch || !budget || !kv || !block || !queue) return std::nullopt;
    c.settings.maxBatchSize = std::int32_t(*batch);
    c.settings.tokenBudget = std::int32_t(*budget);
    c.kvMemoryBytes = *kv << 20;
    c.blockSize = std::int32_t(*block);
    c.queueCapacity = std::int32_t(*queue);
    return c;
}

int parseOrExit(QCommandLineParser& parser, const QStringList& args, const QString& usage, int positionals) {
    parser.setApplicationDescription(usage);
    const auto help = parser.addHelpOption();
    if (!parser.parse(QStringList{"batchscope"} + args)) {
        std::cerr << "error: " << parser.errorText().toStdString() << "\n\n" << parser.helpText().toStdString();
        return 2;
    }
    if (parser.isSet(help)) {
        std::cout << parser.helpText().toStdString();
        return 0;
    }
    const QStringList given = parser.positionalArguments();
    if (given.size() > positionals) {
        std::cerr << "error: unexpected argument '" << given.value(positionals).toStdString() << "'\n\n"
                  << parser.helpText().toStdString();
        return 2;
    }
    if (given.size() < positionals) {
        std::cerr << "error: expected " << positionals << " argument" << (positionals == 1 ? "" : "s") << ", got "
                  << given.size() << "\n\n" << parser.helpText().toStdString();
        return 2;
    }
    return -1;
}

std::unique_ptr<engine::Engine> buildEngine(const QCommandLineParser& parser, bool quiet) {
    auto exec = executorOptions(parser);
    auto config = engineConfig(parser);
    if (!exec || !config) return nullptr;
    // A bad template file is refused before the (possibly long) model load.
    bool templateFailed = false;
    const auto chatTemplate = chatTemplateFile(parser, &templateFailed);
    if (templateFailed) return nullptr;
    int lastPercent = -1;
    auto progress = [&](double fraction, const std::string& stage) {
        const int percent = int(fraction * 100) / 10 * 10;  // a line per 10 %, not per tensor
        if (quiet || percent == lastPercent) return;
        lastPercent = percent;
        std::fprintf(stderr, "\rloading model: %3d%% (%s)   ", percent, stage.c_str());
        if (percent >= 100) std::fputc('\n', stderr);
    };
    auto executor = engine::createExecutor(*exec, progress);
    if (!executor) {
        std::cerr << "error: " << executor.error().message << "\n";
        return nullptr;
    }
    auto engine = engine::Engine::create(*config, std::move(executor.value()));
    if (!engine) {
        std::cerr << "error: " << engine.error().message << "\n";
        return nullptr;
    }
    if (chatTemplate) {
        if (auto set = engine.value()->setChatTemplate(chatTemplate->text, chatTemplate->source); !set) {
            std::cerr << "error: --chat-template: " << set.error().message << "\n";
            return nullptr;
        }
    }
    return std::move(engine.value());
}

std::unique_ptr<engine::Engine> simulatedLoadEngine() {
    engine::ExecutorOptions eo;
    eo.modelPath = "simulated";
    auto exec = engine::createExecutor(eo);
    if (!exec) {
        std::cerr << "error: " << exec.error().message << "\n";
        return nullptr;
    }
    engine::EngineConfig config;
    config.settings.maxBatchSize = 256;
    config.queueCapacity = 4096;
    auto eng = engine::Engine::create(config, std::move(exec.value()));
    if (!eng) {
        std::cerr << "error: " << eng.error().message << "\n";
        return nullptr;
    }
    return std::move(eng.value());
}

}  // namespace batchscope::app
