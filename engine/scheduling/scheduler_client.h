// The client API over a scheduler (the spec's ContinuousBatchSchedulerClient): text in,
// futures or streams out.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <future>
#include <stdexcept>
#include <string>

#include "engine/core/result.h"
#include "engine/scheduling/continuous_batch_scheduler.h"
#include "engine/scheduling/generation.h"
#include "engine/tokenizer/tokenizer.h"

namespace batchscope::engine {

struct SchedulerClientConfiguration {
    std::int32_t defaultMaxTokens = 32;  ///< used when a call passes maxTokens <= 0
    static SchedulerClientConfiguration Default() { return {}; }
};

/// Thrown by generateText() futures when the request was cancelled.
class RequestCancelledError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};
/// Thrown by generateText() futures when the request failed (finish reason Error); what()
/// names the cause.
class RequestFailedError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};
/// Thrown by generateText() futures when the request's deadline passed.
class RequestTimeoutError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};
/// Thrown by generate()/generateText() futures when the submission itself was refused.
class SubmissionError : public std::runtime_error {
public:
    explicit SubmissionError(Error error) : std::runtime_error(error.message), m_error(std::move(error)) {}
    const Error& error() const { return m_error; }

private:
    Error m_error;
};

/// Thread-safe; tokenizes on the caller's thread. Futures never hang: the scheduler finishes
/// every request (as Cancelled on shutdown).
class SchedulerClient {
public:
    SchedulerClient(ContinuousBatchScheduler& scheduler, const Tokenizer& tokenizer,
                    const SchedulerClientConfiguration& config = {});

    /// The full result; the future holds a SubmissionError if the submission was refused.
    std::future<GenerationResult> generate(const std::string& prompt, GenerationOptions options = {});
    /// The spec's GenerateTextAsync: just the text; throws RequestCancelledError,
    /// RequestFailedError or RequestTimeoutError from the future as appropriate.
    std::future<std::string> generateText(const std::string& prompt, std::int32_t maxTokens = 0,
                                          Priority priority = Priority::Normal, std::stop_token stop = {});
    std::future<std::string> generateText(const std::string& prompt, GenerationOptions options);
    /// Streaming: callbacks run on the engine thread (see RequestCallbacks).
    Result<RequestId> generateStreaming(const std::string& prompt, GenerationOptions options,
                                        RequestCallbacks callbacks);
    /// As generateStreaming, for a prompt already tokenized (chat prompts, whose special
    /// tokens the plain encode would not parse). promptText is for display.
    Result<RequestId> generateStreamingTokens(std::vector<TokenId> promptTokens, const std::string& promptText,
                                              GenerationOptions options, RequestCallbacks callbacks);
    bool cancel(RequestId id) { return m_scheduler.cancel(id); }
    bool setPriority(RequestId id, Priority p) { return m_scheduler.setPriority(id, p); }
    const Tokenizer& tokenizer() const { return m_tokenizer; }

private:
    GenerationOptions normalize(GenerationOptions options) const;

    ContinuousBatchScheduler& m_scheduler;
    const Tokenizer& m_tokenizer;
    SchedulerClientConfiguration m_config;
};

}  // namespace batchscope::engine
