// SPDX-License-Identifier: GPL-3.0-or-later
// Opening a trace for playback: the sequence rows, the preemptions and the scrub index.
#include "engine/trace/trace_playback.h"

#include <sqlite3.h>

#include <algorithm>
#include <charconv>
#include <cstring>

#include "engine/trace/sqlite_handles.h"

namespace batchscope::engine {

namespace {

using Db = SqliteDb;
using Stmt = SqliteStmt;

Error badTrace(const std::string& path, const std::string& what) {
    return Error{ErrorCode::InvalidFormat, "'" + path + "' is not a readable Batchscope trace: " + what};
}

/// Parses steps.sequence_rows ("[[id,prefill,decode,context],...]") into `out`; false on
/// anything else.
bool parseSequenceRows(const char* p, const char* end, std::vector<std::int64_t>& out) {
    out.clear();
    int depth = 0;
    while (p < end) {
        const char c = *p;
        if (c == '[') {
            ++depth;
            ++p;
        } else if (c == ']') {
            --depth;
            ++p;
        } else if (c == ',' || c == ' ') {
            ++p;
        } else {
            std::int64_t v = 0;
            auto r = std::from_chars(p, end, v);
            if (r.ec != std::errc() || depth != 2) return false;
            out.push_back(v);
            p = r.ptr;
        }
        if (depth < 0 || depth > 2) return false;
    }
    return depth == 0 && out.size() % 4 == 0;
}

}  // namespace

void TracePlayback::advance(std::unordered_map<std::uint32_t, Progress>& progress, std::size_t step) const {
    for (std::size_t e = m_stepOffsets[step]; e < m_stepOffsets[step + 1]; ++e) {
        const Entry& en = m_entries[e];
        Progress& p = progress.try_emplace(en.request, Progress{en.request}).first->second;
        const std::int32_t prompt = m_trace.requests[en.request].promptTokens;
        p.context = en.context;
        // After the prompt's last chunk the context is the prompt and one token was sampled;
        // each decode adds one of each. A recompute after a preemption never lowers the count.
        if (en.context >= prompt) p.generated = std::max(p.generated, en.context - prompt + 1);
        p.lastStep = std::int64_t(step);
    }
}

Result<TracePlayback> TracePlayback::open(const std::string& path) {
    auto trace = readTrace(path);
    if (!trace) return trace.error();
    TracePlayback p;
    p.m_path = path;
    p.m_trace = std::move(trace.value());
    for (std::uint32_t i = 0; i < p.m_trace.requests.size(); ++i) p.m_byId[p.m_trace.requests[i].id] = i;
    if (Status st = p.loadSequenceRows(path); !st) return st.error();
    if (Status st = p.loadPreemptions(path); !st) return st.error();
    p.buildIndex();
    return p;
}

Status TracePlayback::loadSequenceRows(const std::string& path) {
    Db db;
    if (sqlite3_open_v2(path.c_str(), &db.db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK)
        return badTrace(path, db.db ? sqlite3_errmsg(db.db) : "cannot open");
    Stmt st;
    if (sqlite3_prepare_v2(db.db, "SELECT step, sequence_rows FROM steps ORDER BY step", -1, &st.s, nullptr) != SQLITE_OK)
        return badTrace(path, sqlite3_errmsg(db.db));
    std::vector<std::int64_t> values;
    std::size_t row = 0;
    m_stepOffsets.assign(1, 0);
    while (sqlite3_step(st.s) == SQLITE_ROW) {
        const std::int64_t step = sqlite3_column_int64(st.s, 0);
        if (row >= m_trace.steps.size() || m_trace.steps[row].index != step)
            return badTrace(path, "the steps table changed while it was read (step " + std::to_string(step) + ")");
        const char* text = reinterpret_cast<const char*>(sqlite3_column_text(st.s, 1));
        const int bytes = sqlite3_column_bytes(st.s, 1);
        if (!text || !parseSequenceRows(text, text + bytes, values))
            return badTrace(path, "step " + std::to_string(step) + " has malformed sequence_rows");
        for (std::size_t i = 0; i < values.size(); i += 4) {
            auto it = m_byId.find(std::uint64_t(values[i]));
            if (it == m_byId.end()) continue;   // queued before the recording started
            m_entries.push_back({it->second, std::int32_t(values[i + 1]), std::int32_t(values[i + 2]),
                                 std::int32_t(values[i + 3])});
        }
        m_stepOffsets.push_back(m_entries.size());
        ++row;
    }
    if (row != m_trace.steps.size()) return badTrace(path, "the steps table changed while it was read");
    return Ok{};
}

Status TracePlayback::loadPreemptions(const std::string& path) {
    m_preemptions.assign(m_trace.requests.size(), {});
    Db db;
    if (sqlite3_open_v2(path.c_str(), &db.db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK)
        return badTrace(path, db.db ? sqlite3_errmsg(db.db) : "cannot open");
    Stmt st;
    if (sqlite3_prepare_v2(db.db, "SELECT request_id, time_ms, value FROM request_events WHERE kind = 'preempted' "
                                  "ORDER BY rowid", -1, &st.s, nullptr) != SQLITE_OK)
        return badTrace(path, sqlite3_errmsg(db.db));
    while (sqlite3_step(st.s) == SQLITE_ROW) {
        auto it = m_byId.find(std::uint64_t(sqlite3_column_int64(st.s, 0)));
        if (it == m_byId.end()) continue;
        m_preemptions[it->second].push_back({sqlite3_column_int64(st.s, 2), sqlite3_column_double(st.s, 1), -1});
    }
    return Ok{};
}

void TracePlayback::buildIndex() {
    buildStepSums();
    buildKeyframes();
    buildFinishIndex();
    const auto& steps = m_trace.steps;
    m_startMs = m_trace.requests.empty() ? (steps.empty() ? 0 : steps.front().startMs) : m_trace.requests.front().arrivalMs;
    if (!steps.empty()) m_startMs = std::min(m_startMs, steps.front().startMs);
    m_endMs = steps.empty() ? m_startMs : m_stepEnd.back();
    if (!m_byFinish.empty()) m_endMs = std::max(m_endMs, m_trace.requests[m_byFinish.back()].finishMs);
    if (!m_trace.requests.empty()) m_endMs = std::max(m_endMs, m_trace.requests.back().arrivalMs);
}

void TracePlayback::buildStepSums() {
    const auto& steps = m_trace.steps;
    const std::size_t n = steps.size();
    m_stepEnd.resize(n);
    m_cumPrompt.assign(n + 1, 0);
    m_cumGenerated.assign(n + 1, 0);
    m_cumPreempted.assign(n + 1, 0);
    m_cumSequences.assign(n + 1, 0);
    double lastEnd = -1e300;
    for (std::size_t i = 0; i < n; ++i) {
        lastEnd = std::max(lastEnd, steps[i].startMs + steps[i].durationMs);   // kept monotone for searching
        m_stepEnd[i] = lastEnd;
        m_cumPrompt[i + 1] = m_cumPrompt[i] + steps[i].prefillTokens;
        m_cumGenerated[i + 1] = m_cumGenerated[i] + steps[i].generatedTokens;
        m_cumPreempted[i + 1] = m_cumPreempted[i] + steps[i].preempted;
        m_cumSequences[i + 1] = m_cumSequences[i] + steps[i].sequences;
    }
}

void TracePlayback::buildKeyframes() {
    // One pass over the rows: keyframes of the started, unfinished requests' progress, and the
    // step that resumed each preemption.
    const auto& steps = m_trace.steps;
    std::unordered_map<std::uint32_t, Progress> live;
    std::vector<std::size_t> nextPreemption(m_trace.requests.size(), 0);
    for (std::size_t i = 0; i < steps.size(); ++i) {
        if (i % kKeyframeSteps == 0) {
            std::vector<Progress> frame;
            frame.reserve(live.size());
            const double before = i ? m_stepEnd[i - 1] : -1e300;
            for (auto it = live.begin(); it != live.end();) {
                const RecordedRequest& r = m_trace.requests[it->first];
                if (r.finished && r.finishMs <= before) {
                    it = live.erase(it);
                    continue;
                }
                frame.push_back(it->second);
                ++it;
            }
            m_keyframes.push_back(std::move(frame));
        }
        advance(live, i);
        for (std::size_t e = m_stepOffsets[i]; e < m_stepOffsets[i + 1]; ++e) {
            const std::uint32_t request = m_entries[e].request;
            auto& pre = m_preemptions[request];
            std::size_t& next = nextPreemption[request];
            while (next < pre.size() && pre[next].step < steps[i].index) pre[next++].resumedMs = steps[i].startMs;
        }
    }
}

void TracePlayback::buildFinishIndex() {
    m_byFinish.clear();
    for (std::uint32_t i = 0; i < m_trace.requests.size(); ++i)
        if (m_trace.requests[i].finished) m_byFinish.push_back(i);
    std::stable_sort(m_byFinish.begin(), m_byFinish.end(), [&](std::uint32_t a, std::uint32_t b) {
        return m_trace.requests[a].finishMs < m_trace.requests[b].finishMs;
    });
    m_cumFinishedPrompt.assign(m_byFinish.size() + 1, 0);
    m_cumFinishedCached.assign(m_byFinish.size() + 1, 0);
    m_cumReasons.assign(m_byFinish.size() + 1, {});
    for (std::size_t i = 0; i < m_byFinish.size(); ++i) {
        const RecordedRequest& r = m_trace.requests[m_byFinish[i]];
        m_cumFinishedPrompt[i + 1] = m_cumFinishedPrompt[i] + r.promptTokens;
        m_cumFinishedCached[i + 1] = m_cumFinishedCached[i] + r.cachedPromptTokens;
        m_cumReasons[i + 1] = m_cumReasons[i];
        ++m_cumReasons[i + 1][std::min(std::size_t(r.finishReason), kFinishReasons - 1)];
    }
    m_blockLastFinish.assign((m_trace.requests.size() + kAliveBlock - 1) / kAliveBlock, -1e300);
    for (std::size_t i = 0; i < m_trace.requests.size(); ++i) {
        const RecordedRequest& r = m_trace.requests[i];
        double& last = m_blockLastFinish[i / kAliveBlock];
        last = std::max(last, r.finished ? r.finishMs : 1e300);
    }
}

std::int64_t TracePlayback::lastStepEndedBy(double timeMs) const {
    // start + duration may round a nanosecond past the clock reading the step ended at (both
    // are doubles in ms): a step ending within 1 ns of t has ended.
    const double t = timeMs + 1e-6;
    return std::int64_t(std::upper_bound(m_stepEnd.begin(), m_stepEnd.end(), t) - m_stepEnd.begin()) - 1;
}

std::unordered_map<std::uint32_t, TracePlayback::Progress> TracePlayback::progressAfter(std::int64_t k) const {
    std::unordered_map<std::uint32_t, Progress> out;
    if (k < 0) return out;
    const std::size_t f = std::min(std::size_t((k + 1) / kKeyframeSteps), m_keyframes.size() - 1);
    out.reserve(m_keyframes[f].size() + 64);
    for (const Progress& p : m_keyframes[f]) out.emplace(p.request, p);
    for (std::size_t i = f * std::size_t(kKeyframeSteps); i <= std::size_t(k); ++i) advance(out, i);
    return out;
}

StepRecord TracePlayback::stepRecord(std::size_t i) const {
    const RecordedStep& s = m_trace.steps[i];
    StepRecord r;
    r.index = s.index;
    r.startMs = s.startMs;
    r.durationMs = s.durationMs;
    r.scheduleUs = s.scheduleUs;
    r.prefillTokens = s.prefillTokens;
    r.decodeTokens = s.decodeTokens;
    r.generatedTokens = s.generatedTokens;
    r.kvUsedBlocks = s.kvUsed;
    r.kvCachedBlocks = s.kvCached;
    r.kvFreeBlocks = s.kvFree;
    r.tokenBudget = s.tokenBudget;
    r.maxBatchSize = s.maxBatchSize;
    r.queueDepth = s.queueDepth;
    r.preempted = s.preempted;
    r.failed = s.failed;
    for (std::size_t e = m_stepOffsets[i]; e < m_stepOffsets[i + 1]; ++e) {
        const Entry& en = m_entries[e];
        r.entries.push_back({m_trace.requests[en.request].id, en.prefill, en.decode, en.context});
    }
    return r;
}

PlaybackSample TracePlayback::sampleAt(double t) const {
    PlaybackSample s;
    s.timeMs = t;
    const std::int64_t k = lastStepEndedBy(t);
    if (k < 0) {
        s.kvFree = m_trace.setup.numKvBlocks;
        return s;
    }
    const RecordedStep& st = m_trace.steps[std::size_t(k)];
    s.kvUsed = st.kvUsed;
    s.kvCached = st.kvCached;
    s.kvFree = st.kvFree;
    s.queueDepth = st.queueDepth;
    const std::int64_t j = lastStepEndedBy(t - 1000.0);   // the live engine's "last second"
    s.promptTokensPerSecond = m_cumPrompt[std::size_t(k + 1)] - m_cumPrompt[std::size_t(j + 1)];
    s.generatedTokensPerSecond = m_cumGenerated[std::size_t(k + 1)] - m_cumGenerated[std::size_t(j + 1)];
    return s;
}

}  // namespace batchscope::engine
