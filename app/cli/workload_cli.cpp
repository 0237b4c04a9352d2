// SPDX-License-Identifier: GPL-3.0-or-later
#include "app/cli/workload_cli.h"

#include <cmath>
#include <cstdio>
#include <iostream>

#include "engine/metrics/percentile.h"

namespace batchscope::app {

std::optional<engine::ImportedTrace> readWorkload(const QString& path, const QString& formatName, long long limit) {
    const auto format = engine::traceFormatFromName(formatName.toStdString());
    if (!format) {
        std::cerr << "error: --format must be auto, azure, burstgpt or csv (got '" << formatName.toStdString() << "')\n";
        return std::nullopt;
    }
    auto trace = engine::importTrace(path.toStdString(), engine::TraceImportOptions{*format, limit});
    if (!trace) {
        std::cerr << "error: " << trace.error().message << "\n";
        return std::nullopt;
    }
    if (trace->skippedZeroTokens > 0)
        std::cerr << "note: left out " << trace->skippedZeroTokens << " of " << trace->rows
                  << " rows with 0 prompt or output tokens (failed requests in the trace)\n";
    return std::move(trace.value());
}

std::string describeWorkload(const std::vector<engine::WorkloadRequest>& requests) {
    std::vector<double> prompt, output;
    for (const auto& r : requests) {
        prompt.push_back(r.promptTokens);
        output.push_back(r.outputTokens);
    }
    const auto p = engine::summarizeSamples(prompt), o = engine::summarizeSamples(output);
    const double span = requests.empty() ? 0 : requests.back().arrivalSeconds;
    char buf[512];
    std::snprintf(buf, sizeof buf,
                  "%zu requests over %.3f s (%.3f requests/s)\n"
                  "prompt tokens: mean %.1f, p50 %.0f, p99 %.0f, max %.0f\n"
                  "output tokens: mean %.1f, p50 %.0f, p99 %.0f, max %.0f\n",
                  requests.size(), span, span > 0 ? double(requests.size() - 1) / span : 0.0, p.mean, p.p50, p.p99,
                  p.max, o.mean, o.p50, o.p99, o.max);
    return buf;
}

std::optional<double> parseSpeed(const QString& text) {
    QString t = text.trimmed();
    if (t.endsWith('x') || t.endsWith('X')) t.chop(1);
    bool ok = false;
    const double v = t.toDouble(&ok);
    if (!ok || !std::isfinite(v) || v <= 0 || v > 1e6) return std::nullopt;
    return v;
}

}  // namespace batchscope::app
