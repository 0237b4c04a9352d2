// `batchscope load`: drives a running server over the WebSocket API with a workload's arrivals
// (open loop: requests are sent at their time-scaled arrival, whatever the server's pace),
// synthetic prompts of each request's prompt length and max_tokens = its output length, and
// measures what a client sees.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <QMap>
#include <QString>
#include <QUrl>
#include <vector>

#include "engine/metrics/scheduler_snapshot.h"
#include "engine/trace/workload.h"

namespace batchscope::app::api {

struct TraceLoadConfig {
    double speed = 1.0;      ///< arrival times are divided by it (2 = twice as fast)
    int connections = 8;     ///< WebSocket connections; requests go to the least busy one
    /// Cap lengths so prompt + output fit the model's context (welcome.limits.context_length):
    /// the output is cut to at most half the context, then the prompt to the rest. Capped
    /// requests are counted. Off: such requests go as they are (and end early or fail).
    bool capToContext = true;
    double timeoutSeconds = 0;  ///< whole run; 0 = the last scaled arrival + 300 s
};

/// Latencies in milliseconds on the client's monotonic clock, measured from the moment the
/// `generate` was sent. Plain value.
struct TraceLoadResult {
    int requests = 0;         ///< in the workload
    int sent = 0;
    int finished = 0;         ///< `done` with eos, max_tokens, stop_string or max_length
    int cancelled = 0;        ///< `done` with cancelled (the workload's cancel_after_seconds)
    int failed = 0;           ///< error replies, error/timeout finishes, lost connections, no reply
    QMap<QString, int> failures;  ///< failed requests by error code or finish reason
    int capped = 0;           ///< lengths cut to fit the context
    int promptExact = 0;      ///< accepted requests whose usage.prompt_tokens equals the target
    int promptChecked = 0;    ///< requests with a `done` carrying usage (the denominator)
    int contextLength = 0;    ///< from the server's welcome
    QString wordSet;          ///< the calibrated prompt words, e.g. "' the', ' of', ..."
    double scheduleSeconds = 0;  ///< last scaled arrival (the run's intended length)
    double wallSeconds = 0;      ///< first send to last reply
    double achievedRate = 0;     ///< sent / (last send - first send), requests/s
    double outputTokensPerSecond = 0;
    engine::LatencySummary ttftMs;       ///< send -> first `token` frame
    engine::LatencySummary endToEndMs;   ///< send -> `done`
    engine::LatencySummary sendLagMs;    ///< actual send - scheduled arrival (client-side delay)
    /// Scheduled arrival -> first token: TTFT plus the send lag, what the trace's user would
    /// have waited when the client had to hold requests back (every connection full).
    engine::LatencySummary ttftFromArrivalMs;
    QString error;            ///< non-empty when the run could not start or did not finish
};

/// Runs the workload against the server at `url` (bearer `token`) on the calling thread's
/// event loop and returns when every request has its reply or the timeout passed.
TraceLoadResult runTraceLoad(const QUrl& url, const QString& token, const std::vector<engine::WorkloadRequest>& workload,
                             const TraceLoadConfig& config);

}  // namespace batchscope::app::api
