// SPDX-License-Identifier: GPL-3.0-or-later
#include "app/cli/command_line.h"

#include <QStringList>
#include <iostream>

#include "app/cli/cli_common.h"

namespace batchscope::app {

namespace {
const char* kUsage =
    "usage: batchscope [command] [options]\n"
    "\n"
    "Run a language model locally and watch how its requests are scheduled.\n"
    "\n"
    "commands:\n"
    "  gui        open the desktop application (the default)\n"
    "  serve      run the engine and the WebSocket API without a window\n"
    "  generate   run one prompt and print the completion\n"
    "  chat       run one chat turn with the model's chat template and print the answer\n"
    "  chat-template  print a conversation rendered with a chat template\n"
    "  tokenize   print the token ids of a text\n"
    "  quantize   write a quantised copy of a GGUF model (Q4_K_M, Q8_0, ...)\n"
    "  bench      run the benchmarks\n"
    "  replay     re-run a recorded trace under other scheduler settings (what-if)\n"
    "  demo       serve a few generated requests and print the results and metrics\n"
    "  workload   generate a workload, or convert/describe a trace (Azure, BurstGPT, CSV)\n"
    "  load       drive a running 'serve' with a trace's arrivals over the WebSocket API\n"
    "\n"
    "Run 'batchscope COMMAND --help' for a command's options. 'batchscope --version' prints\n"
    "the version.\n";
}  // namespace

int runCommandLine(int argc, char** argv) {
    QStringList args;
    for (int i = 1; i < argc; ++i) args << QString::fromLocal8Bit(argv[i]);
    const QString command = args.isEmpty() ? QString() : args.first();
    if (command == "--version" || command == "-v") {
        std::cout << "batchscope " << BATCHSCOPE_VERSION << "\n";
        return 0;
    }
    if (command == "--help" || command == "-h" || command == "help") {
        std::cout << kUsage;
        return 0;
    }
    const QStringList rest = args.mid(1);
    if (command == "generate") return runGenerate(rest);
    if (command == "chat") return runChat(rest);
    if (command == "chat-template") return runChatTemplate(rest);
    if (command == "bench") return runBench(argc, argv, rest);
    if (command == "serve") return runServe(argc, argv, rest);
    if (command == "tokenize") return runTokenize(rest);
    if (command == "quantize") return runQuantize(rest);
    if (command == "demo") return runDemo(rest);
    if (command == "workload") return runWorkload(rest);
    if (command == "load") return runLoad(argc, argv, rest);
    if (command == "replay") return runReplay(rest);
    if (command == "gui") return runGuiCommand(argc, argv, rest);
    if (command.isEmpty() || command.startsWith('-')) return runGuiCommand(argc, argv, args);
    std::cerr << "error: unknown command '" << command.toStdString() << "'\n\n" << kUsage;
    return 2;
}

}  // namespace batchscope::app
