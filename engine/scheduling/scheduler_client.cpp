// SPDX-License-Identifier: GPL-3.0-or-later
#include "engine/scheduling/scheduler_client.h"

#include <memory>

namespace batchscope::engine {

SchedulerClient::SchedulerClient(ContinuousBatchScheduler& scheduler, const Tokenizer& tokenizer,
                                 const SchedulerClientConfiguration& config)
    : m_scheduler(scheduler), m_tokenizer(tokenizer), m_config(config) {}

GenerationOptions SchedulerClient::normalize(GenerationOptions options) const {
    if (options.maxTokens <= 0) options.maxTokens = m_config.defaultMaxTokens;
    return options;
}

Result<RequestId> SchedulerClient::generateStreaming(const std::string& prompt, GenerationOptions options,
                                                     RequestCallbacks callbacks) {
    options = normalize(std::move(options));
    return m_scheduler.submit(m_tokenizer.encode(prompt, options.addBos), prompt, options, std::move(callbacks));
}

Result<RequestId> SchedulerClient::generateStreamingTokens(std::vector<TokenId> promptTokens, const std::string& promptText,
                                                          GenerationOptions options, RequestCallbacks callbacks) {
    return m_scheduler.submit(std::move(promptTokens), promptText, normalize(std::move(options)), std::move(callbacks));
}

std::future<GenerationResult> SchedulerClient::generate(const std::string& prompt, GenerationOptions options) {
    auto promise = std::make_shared<std::promise<GenerationResult>>();
    auto future = promise->get_future();
    RequestCallbacks cb;
    cb.onFinished = [promise](const GenerationResult& r) { promise->set_value(r); };
    auto submitted = generateStreaming(prompt, std::move(options), std::move(cb));
    if (!submitted) promise->set_exception(std::make_exception_ptr(SubmissionError(submitted.error())));
    return future;
}

std::future<std::string> SchedulerClient::generateText(const std::string& prompt, std::int32_t maxTokens,
                                                       Priority priority, std::stop_token stop) {
    GenerationOptions options;
    options.maxTokens = maxTokens;
    options.priority = priority;
    options.stopToken = std::move(stop);
    return generateText(prompt, std::move(options));
}

std::future<std::string> SchedulerClient::generateText(const std::string& prompt, GenerationOptions options) {
    auto promise = std::make_shared<std::promise<std::string>>();
    auto future = promise->get_future();
    RequestCallbacks cb;
    cb.onFinished = [promise](const GenerationResult& r) {
        switch (r.finishReason) {
        case FinishReason::Cancelled:
            promise->set_exception(std::make_exception_ptr(RequestCancelledError("request " + std::to_string(r.id) + " was cancelled")));
            break;
        case FinishReason::Error:
            promise->set_exception(std::make_exception_ptr(RequestFailedError(r.errorMessage)));
            break;
        case FinishReason::Timeout:
            promise->set_exception(std::make_exception_ptr(RequestTimeoutError("request " + std::to_string(r.id) + " timed out")));
            break;
        default: promise->set_value(r.text);
        }
    };
    auto submitted = generateStreaming(prompt, std::move(options), std::move(cb));
    if (!submitted) promise->set_exception(std::make_exception_ptr(SubmissionError(submitted.error())));
    return future;
}

}  // namespace batchscope::engine
