// The WebSocket API's wire protocol "batchscope.v1": strict decoding of client messages into
// typed values, and the stable error codes. Pure functions over JSON text; no sockets, no engine.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <QByteArray>
#include <QJsonValue>
#include <QString>
#include <QStringList>
#include <cstdint>
#include <optional>
#include <vector>

#include "engine/chat/chat_template.h"
#include "engine/core/ids.h"
#include "engine/core/result.h"
#include "engine/core/types.h"
#include "engine/scheduling/generation.h"

namespace batchscope::app::api {

inline constexpr char kProtocolVersion[] = "batchscope.v1";

/// Largest integer a JSON number carries exactly (2^53 - 1); ids and seeds stay below it.
inline constexpr double kMaxSafeInteger = 9007199254740991.0;

/// Error codes sent in `{"type":"error","code":...}`. Stable: clients switch on the names.
enum class ApiErrorCode {
    InvalidJson,     ///< the frame is not JSON
    InvalidRequest,  ///< valid JSON, but a field is missing, mistyped, out of range or unknown
    UnknownType,     ///< `type` names no message of this protocol
    Unauthorized,    ///< no or wrong access token (the connection is closed)
    NotFound,        ///< the request id is unknown, finished, or not this connection's
    QueueFull,       ///< too many requests in flight (connection, server or engine queue)
    PromptTooLong,   ///< the prompt does not fit the model's context
    RateLimited,     ///< the connection sends messages faster than its rate limit
    Internal,        ///< a server-side failure (no engine loaded, an engine error)
};

QString apiErrorCodeName(ApiErrorCode code);
/// Maps an engine error (from EngineBridge::submit and friends) to the API's code.
ApiErrorCode apiErrorFromEngine(engine::ErrorCode code);

struct ApiError {
    ApiErrorCode code = ApiErrorCode::Internal;
    QString message;  ///< human-readable; for InvalidRequest it names the offending field
};

enum class MessageType {
    Hello, Generate, Cancel, SetPriority, ListRequests, GetStats, GetModel, Ping, Subscribe,
    Unsubscribe, Chat,
};
QString messageTypeName(MessageType type);

/// Telemetry topics, as bit flags.
enum Topic : int { TopicSteps = 1, TopicRequests = 2, TopicMetrics = 4, TopicKvBlocks = 8 };
inline constexpr int kTopicCount = 4;
inline constexpr int kAllTopics = TopicSteps | TopicRequests | TopicMetrics | TopicKvBlocks;
QStringList topicNames(int topics);

struct HelloMessage {
    QString token;      ///< empty when the client authenticated with the Authorization header
    QString protocol;   ///< must equal kProtocolVersion (checked by the decoder)
    QString client;     ///< free-form client name, for logs
};

/// generate and chat (chat: `messages` instead of `prompt`, rendered by the model's template).
struct GenerateMessage {
    QString prompt;
    bool chat = false;
    std::vector<engine::ChatMessage> messages;  ///< chat only; validated roles, non-empty
    engine::GenerationOptions options;  ///< seed is set only when the client gave one
    bool seedGiven = false;
    bool stream = true;                 ///< send `token` events (false: only `done`)
};

struct SubscribeMessage {
    int topics = 0;           ///< Topic flags; for unsubscribe, 0 means all
    int intervalMs = 1000;    ///< period of `metrics` events
};

/// One decoded client message. Only the member matching `type` is meaningful.
struct ClientMessage {
    MessageType type = MessageType::Ping;
    QJsonValue id{QJsonValue::Undefined};  ///< the client's id (string or integer), or Undefined
    HelloMessage hello;
    GenerateMessage generate;
    engine::RequestId requestId = engine::kInvalidRequestId;  ///< cancel, set_priority
    engine::Priority priority = engine::Priority::Normal;     ///< set_priority
    SubscribeMessage subscribe;                                ///< subscribe, unsubscribe
};

/// Bounds the decoder enforces. contextLength bounds max_tokens (0: only the hard cap).
struct DecodeLimits {
    std::int32_t contextLength = 0;
    qsizetype maxPromptBytes = 1 << 20;  ///< UTF-8 bytes; longer prompts (chat: all contents) -> prompt_too_long
    int maxChatMessages = 1024;          ///< chat; more -> invalid_request
    int maxStopStrings = 8;
    int maxStopStringBytes = 256;
    int maxIdChars = 128;
    int maxTokenChars = 512;             ///< hello.token
    int maxClientNameChars = 128;
    int minMetricsIntervalMs = 50;
    int maxMetricsIntervalMs = 60000;
};

/// The outcome of decoding one frame. `id` is the client's id whenever it could be read,
/// also on errors, so error replies can carry it.
struct DecodeResult {
    ClientMessage message;
    std::optional<ApiError> error;
    QJsonValue id{QJsonValue::Undefined};
    bool ok() const { return !error.has_value(); }
};

/// Decodes and validates one text frame (UTF-8 JSON). Never throws; every rejection says why.
DecodeResult decodeClientMessage(const QByteArray& frame, const DecodeLimits& limits);

/// Compares two secrets in time independent of where they differ (length leaks only).
bool constantTimeEquals(const QByteArray& a, const QByteArray& b);

}  // namespace batchscope::app::api
