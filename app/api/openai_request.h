// OpenAI-compatible request parsing and response encoding for the HTTP API (/v1/completions).
// Pure functions on JSON values; no I/O, no engine calls. Thread-safe (reentrant).
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <QByteArray>
#include <QJsonObject>
#include <QString>
#include <optional>
#include <variant>

#include "engine/chat/chat_template.h"
#include "engine/scheduling/generation.h"
#include <vector>

namespace batchscope::app::api {

/// An error in OpenAI's shape: {"error": {"message", "type", "param", "code"}} with its HTTP status.
struct OpenAiError {
    int status = 400;
    QString message;
    QString type = QStringLiteral("invalid_request_error");
    QString param;  ///< empty -> null
    QString code;   ///< empty -> null
    QByteArray toJson() const;
};

/// A parsed /v1/completions or /v1/chat/completions request.
struct CompletionRequest {
    bool chat = false;            ///< /v1/chat/completions: messages instead of prompt
    QString prompt;
    std::vector<engine::ChatMessage> messages;
    QString model;                ///< as the client named it ("" when absent)
    engine::GenerationOptions options;
    bool stream = false;
    bool includeUsage = false;    ///< stream_options.include_usage
};

/// Limits the parser checks against.
struct CompletionLimits {
    std::int32_t contextLength = 0;   ///< 0: unknown (no max_tokens bound beyond kMaxTokens)
    QString modelName;                ///< the served model; another "model" gets 404
};

/// Parses a /v1/completions body (chat: a /v1/chat/completions body). Every key is checked:
/// unsupported parameters (n > 1, logprobs, echo, suffix, penalties, tools, ...) and unknown
/// keys are refused, never ignored.
std::variant<CompletionRequest, OpenAiError> parseCompletionRequest(const QByteArray& body,
                                                                   const CompletionLimits& limits,
                                                                   bool chat = false);

/// "stop" or "length" for a finished result; nullopt for outcomes that are errors
/// (cancelled, timeout, model error).
std::optional<QString> openAiFinishReason(engine::FinishReason reason);

/// The non-streaming response object.
QJsonObject completionResponse(const QString& id, qint64 created, const QString& model,
                               const engine::GenerationResult& result, bool chat = false);
/// One streaming chunk: text delta and finish reason (empty -> null). Chat chunks carry
/// delta.content, and delta.role on the first (withRole).
QJsonObject completionChunk(const QString& id, qint64 created, const QString& model,
                            const QString& text, const QString& finishReason, bool chat = false,
                            bool withRole = false);
/// The final usage-only chunk of stream_options.include_usage (choices: []).
QJsonObject usageChunk(const QString& id, qint64 created, const QString& model,
                       const engine::Usage& usage, bool chat = false);
/// One server-sent event: "data: <compact json>\n\n".
QByteArray sseEvent(const QJsonObject& object);

/// vLLM's priority extension: an integer, lower is served earlier (vLLM's convention).
/// <= -2 critical, -1 high, 0 normal, >= 1 low.
engine::Priority priorityFromOpenAi(qint64 value);

}  // namespace batchscope::app::api
