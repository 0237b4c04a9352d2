// Playback of a recorded trace: rebuilds the SchedulerSnapshot the live UI consumes at any
// time of the recorded run, forwards or backwards, from an index built when the trace opens.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/core/result.h"
#include "engine/metrics/scheduler_snapshot.h"
#include "engine/trace/trace_reader.h"

namespace batchscope::engine {

/// What snapshotAt() builds. Times are ms since the recording scheduler's epoch (the trace's).
struct PlaybackQuery {
    double timeMs = 0;
    /// Steps with an index above this one (and ended by timeMs) go into snapshot.steps, the last
    /// maxSteps of them: a player passes the last index it has shown (-1: from the start).
    std::int64_t afterStep = -1;
    std::int32_t maxSteps = 4000;
    /// Finished requests included: those that finished after finishedAfterMs (the previous
    /// frame's time; so none is skipped at 100x), at most maxFinished of the latest.
    double finishedAfterMs = -1e300;
    std::int32_t maxFinished = 256;
    /// Besides those, up to this many of the latest earlier-finished requests (to refill a
    /// request table after a scrub). 0 in ordinary frames.
    std::int32_t history = 0;
    std::int32_t maxQueued = 256;   ///< queued requests listed (queueDepth counts all)
};

/// One point of the time-series charts at a time.
struct PlaybackSample {
    double timeMs = 0;
    std::int32_t kvUsed = 0, kvCached = 0, kvFree = 0, queueDepth = 0;
    double promptTokensPerSecond = 0, generatedTokensPerSecond = 0;   ///< over the last second
};

/// A recorded run opened for playback. Immutable after open(); every query is const and may
/// run on any thread (the app calls it on the GUI thread).
///
/// Reconstruction at time t: the state after every step that *ended* by t (step k ends at
/// start + duration; finishes and first tokens happen at a step's end). A request is queued
/// from its arrival until the start of the step that first scheduled it, running until its
/// finish, preempted from a recorded preemption until the next step that runs it. Its
/// generated tokens and KV context come from the recorded per-step sequence rows. The index:
/// keyframes every kKeyframeSteps steps hold the progress of every started, unfinished request,
/// so a query replays at most that many steps' rows, wherever t lies (scrubbing backwards
/// costs what scrubbing forwards does). What a trace does not hold is approximated and says
/// so in docs/replay.md: the block map (counts are exact; blocks are laid out by request,
/// as the trace has no block ids), prefill chunks in the timeline, and the settings (the
/// recorded initial ones).
class TracePlayback {
public:
    static constexpr std::int64_t kKeyframeSteps = 128;
    static constexpr std::size_t kAliveBlock = 256;
    static constexpr std::size_t kFinishReasons = std::size_t(FinishReason::Error) + 1;

    /// Reads `path` (readTrace's errors: NotFound, InvalidFormat naming the problem) plus the
    /// per-step sequence rows and preemptions, and builds the index.
    static Result<TracePlayback> open(const std::string& path);

    const RecordedTrace& trace() const { return m_trace; }
    const std::string& path() const { return m_path; }
    /// The span to scrub: the first arrival (or step) to the last finish (or step end).
    double startMs() const { return m_startMs; }
    double endMs() const { return m_endMs; }
    /// Index of the last step that ended by t; -1 if none.
    std::int64_t lastStepEndedBy(double timeMs) const;
    /// Sequence rows stored (the size of the index's largest part).
    std::size_t sequenceRows() const { return m_entries.size(); }

    SchedulerSnapshot snapshotAt(const PlaybackQuery& query) const;
    PlaybackSample sampleAt(double timeMs) const;
    /// The step as the live engine reported it (entries with request ids).
    StepRecord stepRecord(std::size_t index) const;

    struct Entry {   ///< one sequence in one step
        std::uint32_t request;   ///< index into trace().requests
        std::int32_t prefill, decode, context;
    };
    struct Progress {   ///< a started request's progress after some step
        std::uint32_t request;
        std::int32_t generated = 0, context = 0;
        std::int64_t lastStep = -1;   ///< the last step that ran it
    };

private:
    struct Preemption {
        std::int64_t step;          ///< preempted while scheduling this step
        double timeMs;
        double resumedMs = -1;      ///< start of the next step that ran it; < 0: never
    };
    Status loadSequenceRows(const std::string& path);
    Status loadPreemptions(const std::string& path);
    void buildIndex();
    void buildStepSums();
    void buildKeyframes();
    void buildFinishIndex();
    /// Applies step `step`'s sequence rows to `progress`.
    void advance(std::unordered_map<std::uint32_t, Progress>& progress, std::size_t step) const;
    /// Progress of every started request after step k (unordered), from the keyframe before it.
    std::unordered_map<std::uint32_t, Progress> progressAfter(std::int64_t k) const;
    RequestSnapshot describe(std::uint32_t request, double t, std::int64_t k, const Progress* progress) const;
    void fillStatistics(SchedulerSnapshot& s, double t, std::int64_t k) const;
    void fillBlocks(SchedulerSnapshot& s, std::int64_t k) const;

    std::string m_path;
    RecordedTrace m_trace;
    double m_startMs = 0, m_endMs = 0;
    std::unordered_map<std::uint64_t, std::uint32_t> m_byId;
    std::vector<Entry> m_entries;                    ///< every step's sequences, in step order
    std::vector<std::size_t> m_stepOffsets;          ///< step i's entries: [off[i], off[i+1])
    std::vector<double> m_stepEnd;                   ///< start + duration, non-decreasing
    std::vector<double> m_cumPrompt, m_cumGenerated; ///< prefix sums over steps (size steps + 1)
    std::vector<std::int64_t> m_cumPreempted, m_cumSequences;
    std::vector<std::vector<Progress>> m_keyframes;  ///< [f]: after steps [0, f * kKeyframeSteps)
    std::vector<std::vector<Preemption>> m_preemptions;   ///< per request
    std::vector<std::uint32_t> m_byFinish;           ///< finished requests by finish time
    /// Over m_byFinish's first n (size + 1 each): prompt and cached prompt tokens, and the
    /// count of each finish reason, so statistics cost O(window), not O(requests).
    std::vector<double> m_cumFinishedPrompt, m_cumFinishedCached;
    std::vector<std::array<std::int32_t, kFinishReasons>> m_cumReasons;
    /// Latest finish (+inf if any is unfinished) of each kAliveBlock requests by arrival: a
    /// snapshot skips the blocks that finished entirely before its time.
    std::vector<double> m_blockLastFinish;
};

}  // namespace batchscope::engine
