// Options shared by the subcommands (model, device, scheduler sizing) and their parsing.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <QCommandLineParser>
#include <QStringList>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "engine/chat/chat_template_file.h"
#include "engine/runtime/engine.h"
#include "engine/runtime/executor_factory.h"

namespace batchscope::app {

/// Adds --model, --device, --threads, --kv-type, --max-batch-size, --token-budget, --kv-memory-mb,
/// --block-size, --queue-capacity, --chat-template to a parser.
void addEngineOptions(QCommandLineParser& parser);
/// Adds only --device, --threads and --kv-type (the gui command, whose window holds the rest).
void addExecutorOptions(QCommandLineParser& parser);
/// The --kv-type option (default auto), for parsers that take it alone (bench).
QCommandLineOption kvTypeOption();
/// --chat-template FILE (in addEngineOptions; the gui command adds it alone).
QCommandLineOption chatTemplateOption();
/// The --chat-template file read and parsed; nullopt when the option is absent, or (with
/// *failed set, after printing the error naming the file) when it cannot be used.
std::optional<engine::ChatTemplateFile> chatTemplateFile(const QCommandLineParser& parser, bool* failed);

/// Reads them back; nullopt (after printing the reason to stderr) for a bad value.
std::optional<engine::ExecutorOptions> executorOptions(const QCommandLineParser& parser);
std::optional<engine::EngineConfig> engineConfig(const QCommandLineParser& parser);
/// --kv-type (auto, f32, f16); nullopt after printing the error.
std::optional<engine::KvCacheType> kvCacheType(const QCommandLineParser& parser);

/// Parses argv (without the subcommand word); prints help/errors. `positionals` is the number
/// of positional arguments the command takes (added with addPositionalArgument); any other
/// count is an error. Returns -1 to continue, else the exit code to return.
int parseOrExit(QCommandLineParser& parser, const QStringList& args, const QString& usage, int positionals = 0);

/// Loads the model (printing progress to stderr) and builds the engine with the --chat-template
/// file if given (checked before the model loads); nullptr after printing the error.
std::unique_ptr<engine::Engine> buildEngine(const QCommandLineParser& parser, bool quiet = false);
/// The engine the API load benchmarks drive (WebSocket and HTTP alike): the simulated executor,
/// 256 sequences per step, 4096 queue slots. nullptr after printing the error.
std::unique_ptr<engine::Engine> simulatedLoadEngine();

/// Parses a positive integer option; nullopt after printing "NAME must be ..." to stderr.
std::optional<long long> positiveInt(const QCommandLineParser& parser, const QString& name,
                                     long long minValue, long long maxValue);

/// --max-tokens, --temperature, --top-p, --seed, --stop (generate and chat).
void addGenerationOptions(QCommandLineParser& parser);
/// Reads them back; nullopt after printing the reason to stderr.
std::optional<engine::GenerationOptions> generationOptions(const QCommandLineParser& parser);
/// Submits one request (through `submit`), streams its text to stdout, prints the summary
/// line to stderr; the process exit code.
int runToCompletion(engine::Engine& engine,
                    const std::function<engine::Result<engine::RequestId>(engine::RequestCallbacks)>& submit);

int runGenerate(const QStringList& args);
int runChat(const QStringList& args);
int runChatTemplate(const QStringList& args);
int runBench(int argc, char** argv, const QStringList& args);
int runServe(int argc, char** argv, const QStringList& args);
int runReplay(const QStringList& args);
/// bench --record-overhead / --replay-speed / --replay-fidelity (replay_bench_command.cpp).
int runReplayBench(const QCommandLineParser& parser, int repetitions);
int runDemo(const QStringList& args);
int runTokenize(const QStringList& args);
int runQuantize(const QStringList& args);
int runGuiCommand(int argc, char** argv, const QStringList& args);
int runGuiBench(int argc, char** argv, int repetitions);
/// `bench --http`: the HTTP API (streaming) and the WebSocket API under the same load, same process.
int runHttpBench(int argc, char** argv, int clients, int rounds);
int runWorkload(const QStringList& args);
int runLoad(int argc, char** argv, const QStringList& args);

}  // namespace batchscope::app
