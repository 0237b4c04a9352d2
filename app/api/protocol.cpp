// SPDX-License-Identifier: GPL-3.0-or-later
#include "app/api/protocol.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSet>
#include <cmath>
#include <initializer_list>

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
};

constexpr const char* kTopicNames[] = {"steps", "requests", "metrics"};

/// Reads typed fields from one message object; the first failure is kept and later reads
/// become no-ops, so decoders read straight through and check `failed()` once.
class FieldReader {
public:
    explicit FieldReader(const QJsonObject& object) : m_object(object) {}

    bool failed() const { return m_error.has_value(); }
    const std::optional<ApiError>& error() const { return m_error; }
    void fail(ApiErrorCode code, const QString& message) {
        if (!m_error) m_error = ApiError{code, message};
    }
    void invalid(const QString& field, const QString& what) {
        fail(ApiErrorCode::InvalidRequest, field + QStringLiteral(": ") + what);
    }

    /// Rejects any field not in `allowed` (plus "type" and "id"), naming it.
    void onlyFields(const QString& type, std::initializer_list<const char*> allowed) {
        for (auto it = m_object.begin(); it != m_object.end() && !failed(); ++it) {
            const QString key = it.key();
            if (key == QLatin1String("type") || key == QLatin1String("id")) continue;
            bool known = false;
            for (const char* name : allowed) known = known || key == QLatin1String(name);
            if (!known)
                invalid(key.left(64), QStringLiteral("unknown field in '%1'").arg(type));
        }
    }

    bool has(const char* key) const { return m_object.contains(QLatin1String(key)); }

    /// A string of at most maxBytes UTF-8 bytes. Returns false when absent or invalid.
    bool string(const char* key, qsizetype maxBytes, QString* out, bool required,
                ApiErrorCode tooLongCode = ApiErrorCode::InvalidRequest) {
        if (failed()) return false;
        const QJsonValue v = m_object.value(QLatin1String(key));
        if (v.isUndefined()) {
            if (required) invalid(key, QStringLiteral("required string is missing"));
            return false;
        }
        if (!v.isString()) return typeError(key, "a string", v);
        const QString s = v.toString();
        // A UTF-16 unit encodes to at most 3 UTF-8 bytes: skip the conversion when short.
        const qsizetype bytes = s.size() * 3 <= maxBytes ? s.size() : s.toUtf8().size();
        if (bytes > maxBytes) {
            fail(tooLongCode, QStringLiteral("%1: %2 bytes exceeds the limit of %3")
                                  .arg(QLatin1String(key)).arg(bytes).arg(maxBytes));
            return false;
        }
        *out = s;
        return true;
    }

    /// An integer-valued finite number in [min, max]. Returns false when absent or invalid.
    bool integer(const char* key, double min, double max, double* out, bool required) {
        if (failed()) return false;
        const QJsonValue v = m_object.value(QLatin1String(key));
        if (v.isUndefined()) {
            if (required) invalid(key, QStringLiteral("required integer is missing"));
            return false;
        }
        if (!v.isDouble()) return typeError(key, "an integer", v);
        const double d = v.toDouble();
        if (!std::isfinite(d) || std::floor(d) != d) {
            invalid(key, QStringLiteral("expected an integer, got %1").arg(d));
            return false;
        }
        return inRange(key, d, min, max, out);
    }

    /// A finite number in [min, max]; minExclusive makes the lower bound exclusive.
    bool number(const char* key, double min, double max, double* out, bool minExclusive = false) {
        if (failed()) return false;
        const QJsonValue v = m_object.value(QLatin1String(key));
        if (v.isUndefined()) return false;
        if (!v.isDouble()) return typeError(key, "a number", v);
        const double d = v.toDouble();
        if (!std::isfinite(d)) {
            invalid(key, QStringLiteral("must be a finite number"));
            return false;
        }
        if (minExclusive && d <= min) {
            invalid(key, QStringLiteral("must be greater than %1, got %2").arg(min).arg(d));
            return false;
        }
        return inRange(key, d, min, max, out);
    }

    bool boolean(const char* key, bool* out) {
        if (failed()) return false;
        const QJsonValue v = m_object.value(QLatin1String(key));
        if (v.isUndefined()) return false;
        if (!v.isBool()) return typeError(key, "a boolean", v);
        *out = v.toBool();
        return true;
    }

    /// An array of strings, each 1..maxBytes UTF-8 bytes, at most maxItems of them.
    bool stringList(const char* key, int maxItems, qsizetype maxBytes, QStringList* out) {
        if (failed()) return false;
        const QJsonValue v = m_object.value(QLatin1String(key));
        if (v.isUndefined()) return false;
        if (!v.isArray()) return typeError(key, "an array of strings", v);
        const QJsonArray array = v.toArray();
        if (array.size() > maxItems) {
            invalid(key, QStringLiteral("at most %1 entries allowed, got %2")
                             .arg(maxItems).arg(array.size()));
            return false;
        }
        QStringList list;
        for (qsizetype i = 0; i < array.size(); ++i) {
            const QString field = QStringLiteral("%1[%2]").arg(QLatin1String(key)).arg(i);
            if (!array.at(i).isString()) {
                invalid(field, QStringLiteral("expected a string"));
                return false;
            }
            const QString s = array.at(i).toString();
            const qsizetype bytes = s.toUtf8().size();
            if (bytes == 0 || bytes > maxBytes) {
                invalid(field, QStringLiteral("must be 1..%1 bytes, got %2").arg(maxBytes).arg(bytes));
                return false;
            }
            list << s;
        }
        *out = list;
        return true;
    }

    /// A priority: a name ("low", "normal", "high", "critical") or its number 0..3.
    bool priority(const char* key, engine::Priority* out, bool required) {
        if (failed()) return false;
        const QJsonValue v = m_object.value(QLatin1String(key));
        if (v.isUndefined()) {
            if (required) invalid(key, QStringLiteral("required priority is missing"));
            return false;
        }
        if (v.isString()) {
            const auto p = engine::parsePriority(v.toString().toStdString());
            if (!p) {
                invalid(key, QStringLiteral("expected one of low, normal, high, critical"));
                return false;
            }
            *out = *p;
            return true;
        }
        double d = 0;
        if (!integer(key, 0, engine::kPriorityCount - 1, &d, true)) return false;
        *out = static_cast<engine::Priority>(static_cast<int>(d));
        return true;
    }

private:
    bool typeError(const char* key, const char* expected, const QJsonValue& got) {
        static const char* names[] = {"null", "boolean", "number", "string", "array", "object"};
        const int t = got.type() == QJsonValue::Null ? 0 : got.type() == QJsonValue::Bool ? 1
                    : got.type() == QJsonValue::Double ? 2 : got.type() == QJsonValue::String ? 3
                    : got.type() == QJsonValue::Array ? 4 : 5;
        invalid(key, QStringLiteral("expected %1, got %2")
                         .arg(QLatin1String(expected), QLatin1String(names[t])));
        return false;
    }
    bool inRange(const char* key, double d, double min, double max, double* out) {
        if (d < min || d > max) {
            invalid(key, QStringLiteral("must be in [%1, %2], got %3")
                             .arg(min, 0, 'g', 17).arg(max, 0, 'g', 17).arg(d, 0, 'g', 17));
            return false;
        }
        *out = d;
        return true;
    }

    QJsonObject m_object;
    std::optional<ApiError> m_error;
};

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

void decodeGenerate(FieldReader& r, const DecodeLimits& limits, ClientMessage& m) {
    r.onlyFields(QStringLiteral("generate"),
                 {"prompt", "max_tokens", "priority", "temperature", "top_p", "top_k", "min_p",
                  "repetition_penalty", "stop", "seed", "timeout_ms", "stream", "ignore_eos"});
    GenerateMessage& g = m.generate;
    r.string("prompt", limits.maxPromptBytes, &g.prompt, true, ApiErrorCode::PromptTooLong);
    if (!r.failed() && g.prompt.isEmpty()) r.invalid(QStringLiteral("prompt"), QStringLiteral("must not be empty"));
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
    const bool given = r.stringList("topics", 3, 16, &topics);
    if (subscribe && !given && !r.failed()) r.invalid(QStringLiteral("topics"), QStringLiteral("required array is missing"));
    for (const QString& t : topics) {
        int flag = 0;
        for (int i = 0; i < 3; ++i)
            if (t == QLatin1String(kTopicNames[i])) flag = 1 << i;
        if (flag == 0) {
            r.invalid(QStringLiteral("topics"),
                      QStringLiteral("unknown topic '%1' (steps, requests, metrics)").arg(t));
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
    for (int i = 0; i < 3; ++i)
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
