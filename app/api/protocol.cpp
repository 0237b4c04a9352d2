// SPDX-License-Identifier: GPL-3.0-or-later
#include "app/api/protocol.h"

#include "app/api/field_reader.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <cmath>

namespace batchscope::app::api {

QString apiErrorCodeName(ApiErrorCode code) {
    switch (code) {
    case ApiErrorCode::InvalidJson: return QStringLiteral("invalid_json");
    case ApiErrorCode::InvalidRequest: return QStringLiteral("invalid_request");
    case ApiErrorCode::UnknownType: return QStringLiteral("unknown_type");
    case ApiErrorCode::Unauthorized: return QStringLiteral("unauthorized");
    case ApiErrorCode::NotFound: return QStringLiteral("not_found");
    case ApiErrorCode::QueueFull: return QStringLiteral("queue_full");
    case ApiErrorCode::PromptTooLong: return QStringLiteral("prompt_too_long");
    case ApiErrorCode::RateLimited: return QStringLiteral("rate_limited");
    case ApiErrorCode::Internal: return QStringLiteral("internal");
    }
    return QStringLiteral("internal");
}

ApiErrorCode apiErrorFromEngine(engine::ErrorCode code) {
    switch (code) {
    case engine::ErrorCode::InvalidArgument: return ApiErrorCode::InvalidRequest;
    case engine::ErrorCode::QueueFull: return ApiErrorCode::QueueFull;
    case engine::ErrorCode::PromptTooLong: return ApiErrorCode::PromptTooLong;
    case engine::ErrorCode::NotFound: return ApiErrorCode::NotFound;
    case engine::ErrorCode::InvalidFormat: return ApiErrorCode::InvalidRequest;
    case engine::ErrorCode::Unsupported: return ApiErrorCode::InvalidRequest;
    case engine::ErrorCode::Cancelled: return ApiErrorCode::Internal;
    case engine::ErrorCode::Internal: return ApiErrorCode::Internal;
    }
    return ApiErrorCode::Internal;
}

namespace {

using detail::FieldReader;

struct TypeEntry {
    const char* name;
    MessageType type;
};
constexpr TypeEntry kTypes[] = {
    {"hello", MessageType::Hello},          {"generate", MessageType::Generate},
    {"cancel", MessageType::Cancel},        {"set_priority", MessageType::SetPriority},
    {"list_requests", MessageType::ListRequests}, {"get_stats", MessageType::GetStats},
    {"get_model", MessageType::GetModel},   {"ping", MessageType::Ping},
    {"subscribe", MessageType::Subscribe},  {"unsubscribe", MessageType::Unsubscribe},
    {"chat", MessageType::Chat},
};

constexpr const char* kTopicNames[] = {"steps", "requests", "metrics", "kv_blocks"};

void decodeHello(FieldReader& r, const DecodeLimits& limits, ClientMessage& m) {
    r.onlyFields(QStringLiteral("hello"), {"token", "protocol", "client"});
    r.string("token", limits.maxTokenChars, &m.hello.token, false);
    r.string("protocol", 64, &m.hello.protocol, true);
    r.string("client", limits.maxClientNameChars, &m.hello.client, false);
    if (!r.failed() && m.hello.protocol != QLatin1String(kProtocolVersion))
        r.invalid(QStringLiteral("protocol"),
                  QStringLiteral("unsupported version '%1'; this server speaks %2")
                      .arg(m.hello.protocol.left(64), QLatin1String(kProtocolVersion)));
}

void decodeSampling(FieldReader& r, engine::SamplingParams& s) {
    double d = 0;
    if (r.number("temperature", 0.0, 10.0, &d)) s.temperature = float(d);
    if (r.number("top_p", 0.0, 1.0, &d, true)) s.topP = float(d);
    if (r.integer("top_k", 0, 1'000'000, &d, false)) s.topK = std::int32_t(d);
    if (r.number("min_p", 0.0, 1.0, &d)) s.minP = float(d);
    if (r.number("repetition_penalty", 0.0, 10.0, &d, true)) s.repetitionPenalty = float(d);
}

void decodeGenerationFields(FieldReader& r, const DecodeLimits& limits, GenerateMessage& g);

void decodeGenerate(FieldReader& r, const DecodeLimits& limits, ClientMessage& m) {
    r.onlyFields(QStringLiteral("generate"),
                 {"prompt", "max_tokens", "priority", "temperature", "top_p", "top_k", "min_p",
                  "repetition_penalty", "stop", "seed", "timeout_ms", "stream", "ignore_eos"});
    GenerateMessage& g = m.generate;
    r.string("prompt", limits.maxPromptBytes, &g.prompt, true, ApiErrorCode::PromptTooLong);
    if (!r.failed() && g.prompt.isEmpty()) r.invalid(QStringLiteral("prompt"), QStringLiteral("must not be empty"));
    decodeGenerationFields(r, limits, g);
}

// messages: [{"role": "system"|"user"|"assistant"|"tool", "content": string}, ...]
void decodeMessages(FieldReader& r, const QJsonObject& object, const DecodeLimits& limits, GenerateMessage& g) {
    const QJsonValue v = object.value(QLatin1String("messages"));
    if (v.isUndefined()) return r.invalid(QStringLiteral("messages"), QStringLiteral("required array is missing"));
    if (!v.isArray()) return r.invalid(QStringLiteral("messages"), QStringLiteral("expected an array"));
    const QJsonArray array = v.toArray();
    if (array.isEmpty()) return r.invalid(QStringLiteral("messages"), QStringLiteral("must not be empty"));
    if (array.size() > limits.maxChatMessages) {
        return r.invalid(QStringLiteral("messages"), QStringLiteral("at most %1 messages").arg(limits.maxChatMessages));
    }
    qsizetype bytes = 0;
    for (qsizetype i = 0; i < array.size(); ++i) {
        const QString field = QStringLiteral("messages[%1]").arg(i);
        const QJsonObject m = array.at(i).toObject();
        if (!array.at(i).isObject() || m.size() != 2 || !m.value(QLatin1String("role")).isString() ||
            !m.value(QLatin1String("content")).isString()) {
            return r.invalid(field, QStringLiteral("expected an object with string fields role and content (only)"));
        }
        const QString role = m.value(QLatin1String("role")).toString();
        if (role != QLatin1String("system") && role != QLatin1String("user") && role != QLatin1String("assistant") &&
            role != QLatin1String("tool")) {
            return r.invalid(field + QStringLiteral(".role"),
                             QStringLiteral("unknown role '%1' (system, user, assistant, tool)").arg(role.left(32)));
        }
        const QByteArray content = m.value(QLatin1String("content")).toString().toUtf8();
        bytes += content.size();
        if (bytes > limits.maxPromptBytes) {
            return r.fail(ApiErrorCode::PromptTooLong,
                          QStringLiteral("messages: the contents exceed %1 bytes").arg(limits.maxPromptBytes));
        }
        g.messages.push_back({role.toStdString(), content.toStdString()});
    }
}

void decodeChat(FieldReader& r, const QJsonObject& object, const DecodeLimits& limits, ClientMessage& m) {
    r.onlyFields(QStringLiteral("chat"),
                 {"messages", "max_tokens", "priority", "temperature", "top_p", "top_k", "min_p",
                  "repetition_penalty", "stop", "seed", "timeout_ms", "stream", "ignore_eos"});
    GenerateMessage& g = m.generate;
    g.chat = true;
    if (!r.failed()) decodeMessages(r, object, limits, g);
    decodeGenerationFields(r, limits, g);
}

void decodeGenerationFields(FieldReader& r, const DecodeLimits& limits, GenerateMessage& g) {
    double d = 0;
    const double maxTokens = limits.contextLength > 0 ? limits.contextLength : 1'000'000;
    if (r.integer("max_tokens", 1, maxTokens, &d, false)) g.options.maxTokens = std::int32_t(d);
    r.priority("priority", &g.options.priority, false);
    decodeSampling(r, g.options.sampling);
    QStringList stops;
    if (r.stringList("stop", limits.maxStopStrings, limits.maxStopStringBytes, &stops))
        for (const QString& s : stops) g.options.stopStrings.push_back(s.toStdString());
    if (r.integer("seed", 0, kMaxSafeInteger, &d, false)) {
        g.options.sampling.seed = std::uint64_t(d);
        g.seedGiven = true;
    }
    if (r.integer("timeout_ms", 1, 86'400'000, &d, false))
        g.options.timeout = std::chrono::milliseconds(std::int64_t(d));
    r.boolean("stream", &g.stream);
    r.boolean("ignore_eos", &g.options.ignoreEos);
}

void decodeRequestRef(FieldReader& r, ClientMessage& m, bool withPriority) {
    if (withPriority) r.onlyFields(QStringLiteral("set_priority"), {"request_id", "priority"});
    else r.onlyFields(QStringLiteral("cancel"), {"request_id"});
    double d = 0;
    if (r.integer("request_id", 1, kMaxSafeInteger, &d, true)) m.requestId = engine::RequestId(d);
    if (withPriority) r.priority("priority", &m.priority, true);
}

void decodeSubscribe(FieldReader& r, const DecodeLimits& limits, ClientMessage& m, bool subscribe) {
    const QString type = subscribe ? QStringLiteral("subscribe") : QStringLiteral("unsubscribe");
    if (subscribe) r.onlyFields(type, {"topics", "interval_ms"});
    else r.onlyFields(type, {"topics"});
    QStringList topics;
    const bool given = r.stringList("topics", kTopicCount, 16, &topics);
    if (subscribe && !given && !r.failed()) r.invalid(QStringLiteral("topics"), QStringLiteral("required array is missing"));
    for (const QString& t : topics) {
        int flag = 0;
        for (int i = 0; i < kTopicCount; ++i)
            if (t == QLatin1String(kTopicNames[i])) flag = 1 << i;
        if (flag == 0) {
            r.invalid(QStringLiteral("topics"),
                      QStringLiteral("unknown topic '%1' (steps, requests, metrics, kv_blocks)").arg(t));
            return;
        }
        m.subscribe.topics |= flag;
    }
    if (subscribe && given && topics.isEmpty()) r.invalid(QStringLiteral("topics"), QStringLiteral("must not be empty"));
    double d = 0;
    if (subscribe && r.integer("interval_ms", limits.minMetricsIntervalMs,
                               limits.maxMetricsIntervalMs, &d, false))
        m.subscribe.intervalMs = int(d);
}

/// Reads the optional client id; an invalid one is an error and is not echoed.
std::optional<ApiError> readId(const QJsonObject& object, const DecodeLimits& limits, QJsonValue* id) {
    const QJsonValue v = object.value(QLatin1String("id"));
    if (v.isUndefined()) return std::nullopt;
    if (v.isString() && v.toString().size() <= limits.maxIdChars) {
        *id = v;
        return std::nullopt;
    }
    if (v.isDouble()) {
        const double d = v.toDouble();
        if (std::isfinite(d) && std::floor(d) == d && std::fabs(d) <= kMaxSafeInteger) {
            *id = v;
            return std::nullopt;
        }
    }
    return ApiError{ApiErrorCode::InvalidRequest,
                    QStringLiteral("id: expected a string of at most %1 characters or an integer")
                        .arg(limits.maxIdChars)};
}

}  // namespace

QString messageTypeName(MessageType type) {
    for (const auto& e : kTypes)
        if (e.type == type) return QLatin1String(e.name);
    return QStringLiteral("unknown");
}

QStringList topicNames(int topics) {
    QStringList names;
    for (int i = 0; i < kTopicCount; ++i)
        if (topics & (1 << i)) names << QLatin1String(kTopicNames[i]);
    return names;
}

DecodeResult decodeClientMessage(const QByteArray& frame, const DecodeLimits& limits) {
    DecodeResult out;
    QJsonParseError parseError;
    const QJsonDocument doc = QJsonDocument::fromJson(frame, &parseError);
    if (parseError.error != QJsonParseError::NoError) {
        out.error = ApiError{ApiErrorCode::InvalidJson,
                             QStringLiteral("not valid JSON at offset %1: %2")
                                 .arg(parseError.offset).arg(parseError.errorString())};
        return out;
    }
    if (!doc.isObject()) {
        out.error = ApiError{ApiErrorCode::InvalidRequest,
                             QStringLiteral("message: expected a JSON object")};
        return out;
    }
    const QJsonObject object = doc.object();
    if (auto idError = readId(object, limits, &out.id)) {
        out.error = idError;
        return out;
    }
    out.message.id = out.id;
    const QJsonValue type = object.value(QLatin1String("type"));
    if (!type.isString()) {
        out.error = ApiError{ApiErrorCode::InvalidRequest,
                             type.isUndefined() ? QStringLiteral("type: required string is missing")
                                                : QStringLiteral("type: expected a string")};
        return out;
    }
    const QString typeName = type.toString();
    std::optional<MessageType> messageType;
    for (const auto& e : kTypes)
        if (typeName == QLatin1String(e.name)) messageType = e.type;
    if (!messageType) {
        out.error = ApiError{ApiErrorCode::UnknownType,
                             QStringLiteral("type: unknown message type '%1'").arg(typeName.left(64))};
        return out;
    }
    ClientMessage& m = out.message;
    m.type = *messageType;
    FieldReader r(object);
    switch (m.type) {
    case MessageType::Hello: decodeHello(r, limits, m); break;
    case MessageType::Generate: decodeGenerate(r, limits, m); break;
    case MessageType::Chat: decodeChat(r, object, limits, m); break;
    case MessageType::Cancel: decodeRequestRef(r, m, false); break;
    case MessageType::SetPriority: decodeRequestRef(r, m, true); break;
    case MessageType::Subscribe: decodeSubscribe(r, limits, m, true); break;
    case MessageType::Unsubscribe: decodeSubscribe(r, limits, m, false); break;
    case MessageType::ListRequests:
    case MessageType::GetStats:
    case MessageType::GetModel:
    case MessageType::Ping: r.onlyFields(typeName, {}); break;
    }
    out.error = r.error();
    return out;
}

bool constantTimeEquals(const QByteArray& a, const QByteArray& b) {
    // Walk the longer input fully; a length mismatch still costs the same loop.
    const qsizetype n = std::max(a.size(), b.size());
    unsigned diff = a.size() == b.size() ? 0u : 1u;
    for (qsizetype i = 0; i < n; ++i) {
        const unsigned x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0u;
        const unsigned y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0u;
        diff |= x ^ y;
    }
    return diff == 0;
}

}  // namespace batchscope::app::api
