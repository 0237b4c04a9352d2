// `batchscope workload generate|convert|info`: synthetic workloads and trace files as our
// workload CSV (docs/replay.md, "Importing traces and generating loads").
// SPDX-License-Identifier: GPL-3.0-or-later
#include <cmath>
#include <iostream>

#include "app/cli/cli_common.h"
#include "app/cli/workload_cli.h"
#include "engine/trace/workload_csv.h"
#include "engine/trace/workload_generator.h"

namespace batchscope::app {

namespace {

const char* kWorkloadUsage =
    "usage: batchscope workload generate --rate R [--arrivals poisson|gamma] [--cv C] [--requests N]\n"
    "                                    [--duration S] [--prompt-tokens DIST] [--output-tokens DIST]\n"
    "                                    [--seed S] --out FILE.csv\n"
    "       batchscope workload convert --trace FILE [--format auto|azure|burstgpt|csv] [--limit N] --out FILE.csv\n"
    "       batchscope workload info --trace FILE [--format ...] [--limit N]\n"
    "\n"
    "DIST: fixed:N, uniform:MIN:MAX or lognormal:MEAN:SD (token counts).\n";

std::optional<double> positiveNumber(const QCommandLineParser& parser, const QString& name, double minValue) {
    bool ok = false;
    const double v = parser.value(name).toDouble(&ok);
    if (!ok || !(v >= minValue) || !std::isfinite(v)) {
        std::cerr << "error: --" << name.toStdString() << " must be a number >= " << minValue << " (got '"
                  << parser.value(name).toStdString() << "')\n";
        return std::nullopt;
    }
    return v;
}

std::optional<engine::LengthDistribution> distribution(const QCommandLineParser& parser, const QString& name) {
    auto d = engine::LengthDistribution::parse(parser.value(name).toStdString());
    if (!d) {
        std::cerr << "error: --" << name.toStdString() << ": " << d.error().message << "\n";
        return std::nullopt;
    }
    return d.value();
}

int write(const QCommandLineParser& parser, const std::vector<engine::WorkloadRequest>& requests) {
    if (!parser.isSet("out")) {
        std::cerr << "error: --out FILE.csv is required\n";
        return 2;
    }
    if (auto s = engine::writeWorkloadCsvFile(parser.value("out").toStdString(), requests); !s) {
        std::cerr << "error: " << s.error().message << "\n";
        return 1;
    }
    std::cout << "wrote " << parser.value("out").toStdString() << ": " << describeWorkload(requests);
    return 0;
}

int runGenerateWorkload(const QStringList& args) {
    QCommandLineParser parser;
    parser.addOptions({
        {"arrivals", "poisson or gamma (bursty renewal arrivals; default poisson).", "kind", "poisson"},
        {"rate", "Mean arrivals per second.", "r"},
        {"cv", "Gamma arrivals: coefficient of variation of the gaps (1 = Poisson, >1 bursty; default 2).", "c", "2"},
        {"requests", "Requests to generate (default 100; with --duration, at most this many).", "n", "100"},
        {"duration", "Stop at the first arrival after this many seconds.", "s", "0"},
        {"prompt-tokens", "Prompt length distribution (default lognormal:512:256).", "dist", "lognormal:512:256"},
        {"output-tokens", "Output length distribution (default lognormal:128:96).", "dist", "lognormal:128:96"},
        {"seed", "Random seed (default 1): same seed, same workload.", "n", "1"},
        {"out", "The workload CSV to write.", "file"},
    });
    if (int rc = parseOrExit(parser, args, kWorkloadUsage); rc >= 0) return rc;
    if (!parser.isSet("rate")) {
        std::cerr << "error: --rate is required\n";
        return 2;
    }
    engine::WorkloadGeneratorConfig c;
    const QString kind = parser.value("arrivals");
    if (kind != "poisson" && kind != "gamma") {
        std::cerr << "error: --arrivals must be poisson or gamma (got '" << kind.toStdString() << "')\n";
        return 2;
    }
    c.arrivals.kind = kind == "gamma" ? engine::ArrivalProcess::Kind::Gamma : engine::ArrivalProcess::Kind::Poisson;
    auto rate = positiveNumber(parser, "rate", 1e-9);
    auto cv = positiveNumber(parser, "cv", 1e-9);
    auto duration = positiveNumber(parser, "duration", 0);
    auto requests = positiveInt(parser, "requests", 1, 100'000'000);
    auto seed = positiveInt(parser, "seed", 0, (1LL << 53));
    auto prompt = distribution(parser, "prompt-tokens");
    auto output = distribution(parser, "output-tokens");
    if (!rate || !cv || !duration || !requests || !seed || !prompt || !output) return 2;
    c.arrivals.ratePerSecond = *rate;
    c.arrivals.cv = *cv;
    c.durationSeconds = *duration;
    c.requests = *requests;
    c.seed = std::uint64_t(*seed);
    c.promptTokens = *prompt;
    c.outputTokens = *output;
    auto workload = engine::generateWorkload(c);
    if (!workload) {
        std::cerr << "error: " << workload.error().message << "\n";
        return 2;
    }
    return write(parser, workload.value());
}

void addTraceOptions(QCommandLineParser& parser) {
    parser.addOptions({
        {"trace", "Trace file: Azure LLM inference CSV, BurstGPT CSV or a workload CSV.", "file"},
        {"format", "auto (from the header), azure, burstgpt or csv (default auto).", "name", "auto"},
        {"limit", "Read only the first N requests (default all).", "n", "0"},
    });
}

std::optional<engine::ImportedTrace> traceFromOptions(const QCommandLineParser& parser) {
    if (!parser.isSet("trace")) {
        std::cerr << "error: --trace FILE is required\n";
        return std::nullopt;
    }
    auto limit = positiveInt(parser, "limit", 0, 1LL << 40);
    if (!limit) return std::nullopt;
    return readWorkload(parser.value("trace"), parser.value("format"), *limit);
}

int runConvert(const QStringList& args) {
    QCommandLineParser parser;
    addTraceOptions(parser);
    parser.addOption({"out", "The workload CSV to write.", "file"});
    if (int rc = parseOrExit(parser, args, kWorkloadUsage); rc >= 0) return rc;
    auto trace = traceFromOptions(parser);
    return trace ? write(parser, trace->requests) : 2;
}

int runInfo(const QStringList& args) {
    QCommandLineParser parser;
    addTraceOptions(parser);
    if (int rc = parseOrExit(parser, args, kWorkloadUsage); rc >= 0) return rc;
    auto trace = traceFromOptions(parser);
    if (!trace) return 2;
    std::cout << "format " << engine::traceFormatName(trace->format) << ", " << trace->rows << " rows: "
              << describeWorkload(trace->requests);
    return 0;
}

}  // namespace

int runWorkload(const QStringList& args) {
    const QString verb = args.isEmpty() ? QString() : args.first();
    if (verb == "generate") return runGenerateWorkload(args.mid(1));
    if (verb == "convert") return runConvert(args.mid(1));
    if (verb == "info") return runInfo(args.mid(1));
    if (verb == "--help" || verb == "-h") {
        std::cout << kWorkloadUsage;
        return 0;
    }
    std::cerr << (verb.isEmpty() ? std::string("error: missing subcommand") : "error: unknown subcommand '" + verb.toStdString() + "'")
              << "\n\n" << kWorkloadUsage;
    return 2;
}

}  // namespace batchscope::app
