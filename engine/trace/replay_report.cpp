// SPDX-License-Identifier: GPL-3.0-or-later
#include "engine/trace/replay_report.h"

#include <charconv>
#include <cstdio>
#include <functional>

#include <nlohmann/json.hpp>

namespace batchscope::engine {

namespace {

std::optional<std::int64_t> parseInt(std::string_view v, std::int64_t lo, std::int64_t hi) {
    std::int64_t out = 0;
    auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
    if (ec != std::errc() || ptr != v.data() + v.size() || out < lo || out > hi) return std::nullopt;
    return out;
}

std::optional<bool> parseBool(std::string_view v) {
    if (v == "on" || v == "true" || v == "1" || v == "yes") return true;
    if (v == "off" || v == "false" || v == "0" || v == "no") return false;
    return std::nullopt;
}

Status applyOne(std::string_view key, std::string_view value, RecordedSetup& s) {
    const auto bad = [&](const std::string& allowed) {
        return makeError(ErrorCode::InvalidArgument, "--set " + std::string(key) + ": '" + std::string(value) +
                         "' is not " + allowed);
    };
    const auto integer = [&](std::int64_t lo, std::int64_t hi, auto&& assign) -> Status {
        auto v = parseInt(value, lo, hi);
        if (!v) return bad("an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
        assign(*v);
        return Ok{};
    };
    if (key == "max_batch_size") return integer(1, 65536, [&](std::int64_t v) { s.settings.maxBatchSize = std::int32_t(v); });
    if (key == "token_budget") return integer(1, 1 << 20, [&](std::int64_t v) { s.settings.tokenBudget = std::int32_t(v); });
    if (key == "kv_blocks") return integer(1, 1 << 22, [&](std::int64_t v) { s.numKvBlocks = std::int32_t(v); });
    if (key == "min_batch_size") return integer(1, 65536, [&](std::int64_t v) { s.minBatchSize = std::int32_t(v); });
    if (key == "aging_ms") return integer(0, 86400000, [&](std::int64_t v) { s.settings.agingIntervalMs = v; });
    if (key == "prefix_caching") {
        auto v = parseBool(value);
        if (!v) return bad("on or off");
        s.settings.prefixCaching = *v;
        return Ok{};
    }
    if (key == "policy") {
        if (value == "fcfs") s.settings.queuePolicy = QueuePolicy::Fcfs;
        else if (value == "priority") s.settings.queuePolicy = QueuePolicy::Priority;
        else return bad("fcfs or priority");
        return Ok{};
    }
    if (key == "memory_policy") {
        if (value == "preempt") s.settings.memoryPolicy = MemoryPolicy::Preempt;
        else if (value == "reserve") s.settings.memoryPolicy = MemoryPolicy::Reserve;
        else return bad("preempt or reserve");
        return Ok{};
    }
    return makeError(ErrorCode::InvalidArgument, "--set: unknown setting '" + std::string(key) + "' (known: " +
                     replaySettingKeys() + ")");
}

}  // namespace

std::string replaySettingKeys() {
    return "max_batch_size=N, token_budget=N, kv_blocks=N, min_batch_size=N, aging_ms=N, prefix_caching=on|off, "
           "policy=fcfs|priority, memory_policy=preempt|reserve";
}

Result<ReplayVariant> parseReplayVariant(std::string_view assignments, const RecordedSetup& base) {
    ReplayVariant v{std::string(assignments), base};
    if (assignments.empty()) return makeError(ErrorCode::InvalidArgument, "--set needs key=value (known: " + replaySettingKeys() + ")");
    std::size_t pos = 0;
    while (pos <= assignments.size()) {
        const std::size_t end = std::min(assignments.find(',', pos), assignments.size());
        const std::string_view part = assignments.substr(pos, end - pos);
        const std::size_t eq = part.find('=');
        if (eq == std::string_view::npos || eq == 0)
            return makeError(ErrorCode::InvalidArgument, "--set: '" + std::string(part) + "' is not key=value (known: " +
                             replaySettingKeys() + ")");
        if (Status st = applyOne(part.substr(0, eq), part.substr(eq + 1), v.setup); !st) return st.error();
        pos = end + 1;
    }
    return v;
}

namespace {
struct Row {
    const char* label;
    std::function<double(const ReplayColumn&)> get;
    const char* format;
};

std::vector<Row> rows() {
    return {
        {"requests completed", [](const ReplayColumn& c) { return double(c.summary.completed); }, "%.0f"},
        {"TTFT p50 ms", [](const ReplayColumn& c) { return c.summary.ttft.p50; }, "%.2f"},
        {"TTFT p90 ms", [](const ReplayColumn& c) { return c.summary.ttft.p90; }, "%.2f"},
        {"TTFT p99 ms", [](const ReplayColumn& c) { return c.summary.ttft.p99; }, "%.2f"},
        {"TPOT p50 ms", [](const ReplayColumn& c) { return c.summary.tpot.p50; }, "%.3f"},
        {"TPOT p90 ms", [](const ReplayColumn& c) { return c.summary.tpot.p90; }, "%.3f"},
        {"TPOT p99 ms", [](const ReplayColumn& c) { return c.summary.tpot.p99; }, "%.3f"},
        {"end-to-end p50 ms", [](const ReplayColumn& c) { return c.summary.endToEnd.p50; }, "%.1f"},
        {"end-to-end p90 ms", [](const ReplayColumn& c) { return c.summary.endToEnd.p90; }, "%.1f"},
        {"end-to-end p99 ms", [](const ReplayColumn& c) { return c.summary.endToEnd.p99; }, "%.1f"},
        {"queue time p50 ms", [](const ReplayColumn& c) { return c.summary.queue.p50; }, "%.2f"},
        {"queue time p99 ms", [](const ReplayColumn& c) { return c.summary.queue.p99; }, "%.2f"},
        {"throughput tokens/s", [](const ReplayColumn& c) { return c.summary.generatedTokensPerSecond; }, "%.1f"},
        {"requests/s", [](const ReplayColumn& c) { return c.summary.requestsPerSecond; }, "%.2f"},
        {"preemptions", [](const ReplayColumn& c) { return double(c.summary.preemptions); }, "%.0f"},
        {"prefix hit rate %", [](const ReplayColumn& c) { return 100.0 * c.summary.prefixHitRate; }, "%.1f"},
        {"steps", [](const ReplayColumn& c) { return double(c.summary.steps); }, "%.0f"},
    };
}
}  // namespace

std::string formatReplayTable(const ReplayReport& r) {
    std::string out;
    char buf[256];
    std::snprintf(buf, sizeof buf, "trace %s: %lld requests replayed", r.tracePath.c_str(), static_cast<long long>(r.requests));
    out += buf;
    if (r.leftOut > 0) out += " (" + std::to_string(r.leftOut) + " unfinished in the trace left out)";
    out += "\nstep cost model: " + r.cost.describe() + "\n";
    std::snprintf(buf, sizeof buf, "  fitted on %lld steps: R^2 %.4f, mean absolute error %.2f %%\n\n",
                  static_cast<long long>(r.cost.samples()), r.cost.r2(), r.cost.mape());
    out += buf;
    std::snprintf(buf, sizeof buf, "%-22s", "");
    out += buf;
    for (const auto& c : r.columns) {
        std::snprintf(buf, sizeof buf, " %18.18s", c.name.c_str());
        out += buf;
    }
    out += "\n";
    for (const Row& row : rows()) {
        std::snprintf(buf, sizeof buf, "%-22s", row.label);
        out += buf;
        for (const auto& c : r.columns) {
            char v[64];
            std::snprintf(v, sizeof v, row.format, row.get(c));
            std::snprintf(buf, sizeof buf, " %18s", v);
            out += buf;
        }
        out += "\n";
    }
    for (const auto& c : r.columns) {
        if (c.rejected > 0) out += c.name + ": " + std::to_string(c.rejected) + " requests refused (prompt too long for the setup)\n";
        if (c.wallSeconds > 0) {
            std::snprintf(buf, sizeof buf, "%s: replayed in %.2f s\n", c.name.c_str(), c.wallSeconds);
            out += buf;
        }
    }
    return out;
}

std::string formatReplayJson(const ReplayReport& r) {
    using nlohmann::json;
    const auto lat = [](const LatencyPercentiles& p) {
        return json{{"count", p.count}, {"mean", p.mean}, {"p50", p.p50}, {"p90", p.p90}, {"p99", p.p99}};
    };
    json runs = json::array();
    for (const auto& c : r.columns) {
        const RunSummary& s = c.summary;
        runs.push_back(json{{"name", c.name}, {"requests", s.requests}, {"completed", s.completed},
                            {"cancelled", s.cancelled}, {"failed", s.failed}, {"rejected", c.rejected},
                            {"ttft_ms", lat(s.ttft)}, {"tpot_ms", lat(s.tpot)}, {"end_to_end_ms", lat(s.endToEnd)},
                            {"queue_ms", lat(s.queue)}, {"duration_s", s.durationSeconds},
                            {"generated_tokens", s.generatedTokens},
                            {"throughput_tokens_per_s", s.generatedTokensPerSecond},
                            {"requests_per_s", s.requestsPerSecond}, {"preemptions", s.preemptions},
                            {"prefix_hit_rate", s.prefixHitRate}, {"steps", s.steps},
                            {"replay_wall_s", c.wallSeconds}});
    }
    const auto terms = [](const StepCostModel::Coefficients& k) {
        return json{{"intercept_ms", k[0]}, {"ms_per_prefill_token", k[1]}, {"ms_per_decode_token", k[2]},
                    {"ms_per_sequence", k[3]}, {"ms_per_attended_token_pair", k[4]}};
    };
    // The top-level terms are the prefilling steps' (all steps' when not split).
    json cost = terms(r.cost.coefficients());
    cost["decode_only_steps"] = terms(r.cost.decodeCoefficients());
    cost["r2"] = r.cost.r2();
    cost["mape_percent"] = r.cost.mape();
    cost["steps"] = r.cost.samples();
    json out{{"trace", r.tracePath}, {"requests", r.requests}, {"left_out", r.leftOut}, {"cost_model", cost},
             {"runs", runs}};
    return out.dump(2) + "\n";
}

}  // namespace batchscope::engine
