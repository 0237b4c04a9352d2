// SPDX-License-Identifier: GPL-3.0-or-later
#include "app/api/openai_request.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QRandomGenerator>
#include <QSet>
#include <cmath>

namespace batchscope::app::api {

namespace {

constexpr std::int32_t kMaxTokensCap = 1 << 20;
constexpr std::int32_t kDefaultMaxTokens = 16;  // OpenAI's default for /v1/completions
constexpr int kMaxStopStrings = 4;              // OpenAI's limit

OpenAiError invalid(const QString& param, const QString& message, const QString& code = {}) {
    OpenAiError e;
    e.status = 400;
    e.param = param;
    e.message = message;
    e.code = code;
    return e;
}

OpenAiError unsupported(const QString& param, const QString& why) {
    return invalid(param, QStringLiteral("'%1' is not supported by this server: %2").arg(param, why),
                   QStringLiteral("unsupported_parameter"));
}

std::optional<qint64> integerOf(const QJsonValue& v) {
    if (!v.isDouble()) return std::nullopt;
    const double d = v.toDouble();
    if (!std::isfinite(d) || d != std::floor(d) || std::fabs(d) > 9.0e15) return std::nullopt;
    return qint64(d);
}

// Parameters that exist in OpenAI's API but that this server does not implement; each is
// accepted only at the value that means "off".
std::optional<OpenAiError> checkUnsupported(const QJsonObject& o) {
    if (o.contains("n")) {
        const auto n = integerOf(o.value("n"));
        if (!n || *n != 1) return unsupported("n", "only one choice per request (n = 1)");
    }
    if (o.contains("best_of")) {
        const auto b = integerOf(o.value("best_of"));
        if (!b || *b != 1) return unsupported("best_of", "only best_of = 1");
    }
    if (o.contains("logprobs") && !o.value("logprobs").isNull() && o.value("logprobs") != QJsonValue(false))
        return unsupported("logprobs", "log probabilities are not returned");
    if (o.contains("echo") && o.value("echo") != QJsonValue(false))
        return unsupported("echo", "the prompt is not echoed");
    if (o.contains("suffix") && !o.value("suffix").isNull())
        return unsupported("suffix", "insertion is not supported");
    for (const char* p : {"presence_penalty", "frequency_penalty"})
        if (o.contains(p) && !(o.value(p).isNull() || (o.value(p).isDouble() && o.value(p).toDouble() == 0)))
            return unsupported(p, "only 0 is supported");
    if (o.contains("logit_bias") && !o.value("logit_bias").isNull() &&
        !(o.value("logit_bias").isObject() && o.value("logit_bias").toObject().isEmpty()))
        return unsupported("logit_bias", "logit biases are not supported");
    if (o.contains("top_logprobs") && !o.value("top_logprobs").isNull())
        return unsupported("top_logprobs", "log probabilities are not returned");
    for (const char* p : {"tools", "tool_choice", "functions", "function_call", "response_format", "parallel_tool_calls"})
        if (o.contains(p) && !o.value(p).isNull()) return unsupported(p, "tool calls and structured output are not supported");
    return std::nullopt;
}

std::optional<OpenAiError> parsePrompt(const QJsonObject& o, CompletionRequest& out) {
    const QJsonValue p = o.value("prompt");
    if (p.isString()) {
        out.prompt = p.toString();
    } else if (p.isArray() && p.toArray().size() == 1 && p.toArray().at(0).isString()) {
        out.prompt = p.toArray().at(0).toString();
    } else if (p.isArray() && !p.toArray().isEmpty() && p.toArray().at(0).isString()) {
        return unsupported("prompt", "one prompt per request (batch prompts are not supported)");
    } else if (p.isArray()) {
        return unsupported("prompt", "token-id prompts are not supported; send text");
    } else if (p.isUndefined() || p.isNull()) {
        return invalid("prompt", "'prompt' is required", "missing_required_parameter");
    } else {
        return invalid("prompt", "'prompt' must be a string");
    }
    if (out.prompt.isEmpty()) return invalid("prompt", "'prompt' must not be empty");
    return std::nullopt;
}

std::optional<OpenAiError> parseMessages(const QJsonObject& o, CompletionRequest& out) {
    const QJsonValue v = o.value("messages");
    if (v.isUndefined() || v.isNull())
        return invalid("messages", "'messages' is required", "missing_required_parameter");
    if (!v.isArray() || v.toArray().isEmpty()) return invalid("messages", "'messages' must be a non-empty array");
    const QJsonArray list = v.toArray();
    for (qsizetype i = 0; i < list.size(); ++i) {
        const QString where = QStringLiteral("messages[%1]").arg(i);
        if (!list.at(i).isObject()) return invalid(where, where + " must be an object");
        const QJsonObject m = list.at(i).toObject();
        for (auto it = m.begin(); it != m.end(); ++it)
            if (it.key() != QLatin1String("role") && it.key() != QLatin1String("content"))
                return unsupported(where + '.' + it.key().left(100), "messages carry only role and text content");
        const QString role = m.value("role").toString();
        if (role != QLatin1String("system") && role != QLatin1String("user") && role != QLatin1String("assistant") &&
            role != QLatin1String("developer"))
            return invalid(where + ".role", where + ".role must be system, developer, user or assistant");
        QString content;
        const QJsonValue c = m.value("content");
        if (c.isString()) {
            content = c.toString();
        } else if (c.isArray()) {  // content parts: text only
            for (const QJsonValue& part : c.toArray()) {
                const QJsonObject p = part.toObject();
                if (p.value("type").toString() != QLatin1String("text") || !p.value("text").isString())
                    return unsupported(where + ".content", "only text content parts are supported");
                content += p.value("text").toString();
            }
        } else {
            return invalid(where + ".content", where + ".content must be a string or an array of text parts");
        }
        out.messages.push_back({role == QLatin1String("developer") ? std::string("system") : role.toStdString(),
                                content.toStdString()});
    }
    return std::nullopt;
}

std::optional<OpenAiError> parseMaxTokens(const QJsonObject& o, const CompletionLimits& limits,
                                          CompletionRequest& out) {
    // Chat: OpenAI's default is "until the context ends"; the engine stops at the context.
    out.options.maxTokens = out.chat && limits.contextLength > 0 ? limits.contextLength : kDefaultMaxTokens;
    for (const char* key : {"max_tokens", "max_completion_tokens"}) {
        const QJsonValue v = o.value(key);
        if (v.isUndefined() || v.isNull()) continue;
        const auto n = integerOf(v);
        if (!n || *n < 1) return invalid(key, QStringLiteral("'%1' must be an integer >= 1").arg(key));
        const qint64 cap = limits.contextLength > 0 ? limits.contextLength : kMaxTokensCap;
        if (*n > cap)
            return invalid(key, QStringLiteral("'%1' is %2 but the model's context is %3 tokens")
                                    .arg(key).arg(*n).arg(cap));
        out.options.maxTokens = std::int32_t(*n);
    }
    return std::nullopt;
}

std::optional<OpenAiError> parseSampling(const QJsonObject& o, CompletionRequest& out) {
    engine::SamplingParams& s = out.options.sampling;
    s.temperature = 1.0f;  // OpenAI's defaults; OpenAI has no top_k
    s.topP = 1.0f;
    s.topK = 0;
    s.minP = 0;
    s.seed = QRandomGenerator::global()->generate64();
    if (const QJsonValue v = o.value("temperature"); !v.isUndefined() && !v.isNull()) {
        if (!v.isDouble() || !(v.toDouble() >= 0 && v.toDouble() <= 2))
            return invalid("temperature", "'temperature' must be a number in [0, 2]");
        s.temperature = float(v.toDouble());
    }
    if (const QJsonValue v = o.value("top_p"); !v.isUndefined() && !v.isNull()) {
        if (!v.isDouble() || !(v.toDouble() > 0 && v.toDouble() <= 1))
            return invalid("top_p", "'top_p' must be a number in (0, 1]");
        s.topP = float(v.toDouble());
    }
    if (const QJsonValue v = o.value("seed"); !v.isUndefined() && !v.isNull()) {
        const auto seed = integerOf(v);
        if (!seed) return invalid("seed", "'seed' must be an integer");
        s.seed = std::uint64_t(*seed);
    }
    return std::nullopt;
}

std::optional<OpenAiError> parseStop(const QJsonObject& o, CompletionRequest& out) {
    const QJsonValue v = o.value("stop");
    if (v.isUndefined() || v.isNull()) return std::nullopt;
    QJsonArray list;
    if (v.isString()) list.append(v);
    else if (v.isArray()) list = v.toArray();
    else return invalid("stop", "'stop' must be a string or an array of strings");
    if (list.size() > kMaxStopStrings) return invalid("stop", "'stop' holds at most 4 strings");
    for (const QJsonValue& s : list) {
        if (!s.isString() || s.toString().isEmpty())
            return invalid("stop", "'stop' entries must be non-empty strings");
        out.options.stopStrings.push_back(s.toString().toStdString());
    }
    return std::nullopt;
}

std::optional<OpenAiError> parseStreamAndPriority(const QJsonObject& o, CompletionRequest& out) {
    if (const QJsonValue v = o.value("stream"); !v.isUndefined() && !v.isNull()) {
        if (!v.isBool()) return invalid("stream", "'stream' must be a boolean");
        out.stream = v.toBool();
    }
    if (const QJsonValue v = o.value("stream_options"); !v.isUndefined() && !v.isNull()) {
        if (!v.isObject()) return invalid("stream_options", "'stream_options' must be an object");
        if (!out.stream) return invalid("stream_options", "'stream_options' needs \"stream\": true");
        const QJsonObject so = v.toObject();
        for (auto it = so.begin(); it != so.end(); ++it)
            if (it.key() != QLatin1String("include_usage"))
                return unsupported("stream_options." + it.key(), "unknown stream option");
        const QJsonValue iu = so.value("include_usage");
        if (!iu.isUndefined() && !iu.isBool())
            return invalid("stream_options.include_usage", "'include_usage' must be a boolean");
        out.includeUsage = iu.toBool(false);
    }
    if (const QJsonValue v = o.value("ignore_eos"); !v.isUndefined() && !v.isNull()) {  // vLLM's extension
        if (!v.isBool()) return invalid("ignore_eos", "'ignore_eos' must be a boolean");
        out.options.ignoreEos = v.toBool();
    }
    if (const QJsonValue v = o.value("priority"); !v.isUndefined() && !v.isNull()) {
        const auto p = integerOf(v);
        if (!p) return invalid("priority", "'priority' must be an integer (lower is served earlier)");
        out.options.priority = priorityFromOpenAi(*p);
    }
    return std::nullopt;
}

}  // namespace

QByteArray OpenAiError::toJson() const {
    QJsonObject e{{"message", message}, {"type", type},
                  {"param", param.isEmpty() ? QJsonValue() : QJsonValue(param)},
                  {"code", code.isEmpty() ? QJsonValue() : QJsonValue(code)}};
    return QJsonDocument(QJsonObject{{"error", e}}).toJson(QJsonDocument::Compact);
}

engine::Priority priorityFromOpenAi(qint64 value) {
    if (value <= -2) return engine::Priority::Critical;
    if (value == -1) return engine::Priority::High;
    if (value == 0) return engine::Priority::Normal;
    return engine::Priority::Low;
}

std::variant<CompletionRequest, OpenAiError> parseCompletionRequest(const QByteArray& body,
                                                                   const CompletionLimits& limits,
                                                                   bool chat) {
    QJsonParseError parseError;
    const QJsonDocument doc = QJsonDocument::fromJson(body, &parseError);
    if (parseError.error != QJsonParseError::NoError)
        return invalid({}, QStringLiteral("the body is not valid JSON: %1 at offset %2")
                               .arg(parseError.errorString()).arg(parseError.offset));
    if (!doc.isObject()) return invalid({}, QStringLiteral("the body must be a JSON object"));
    const QJsonObject o = doc.object();
    static const QSet<QString> known = {
        "model", "prompt", "max_tokens", "max_completion_tokens", "temperature", "top_p", "seed",
        "stop", "stream", "stream_options", "priority", "user", "n", "best_of", "logprobs", "echo",
        "suffix", "presence_penalty", "frequency_penalty", "logit_bias", "tools", "tool_choice",
        "functions", "function_call", "response_format", "messages", "top_logprobs",
        "parallel_tool_calls", "ignore_eos"};
    for (auto it = o.begin(); it != o.end(); ++it)
        if (!known.contains(it.key()) || it.key() == QLatin1String(chat ? "prompt" : "messages"))
            return invalid(it.key(), QStringLiteral("unknown parameter '%1'").arg(it.key().left(100)),
                           QStringLiteral("unknown_parameter"));
    if (auto e = checkUnsupported(o)) return *e;
    CompletionRequest out;
    out.chat = chat;
    if (const QJsonValue m = o.value("model"); !m.isUndefined() && !m.isNull()) {
        if (!m.isString()) return invalid("model", "'model' must be a string");
        out.model = m.toString();
        if (!limits.modelName.isEmpty() && out.model != limits.modelName) {
            OpenAiError e = invalid("model", QStringLiteral("the model '%1' does not exist; this server serves '%2'")
                                                 .arg(out.model.left(200), limits.modelName),
                                    QStringLiteral("model_not_found"));
            e.status = 404;
            e.type = QStringLiteral("NotFoundError");
            return e;
        }
    }
    if (o.contains("user") && !o.value("user").isString()) return invalid("user", "'user' must be a string");
    for (auto step : {chat ? parseMessages : parsePrompt, parseSampling, parseStop, parseStreamAndPriority})
        if (auto e = step(o, out)) return *e;
    if (auto e = parseMaxTokens(o, limits, out)) return *e;
    return out;
}

std::optional<QString> openAiFinishReason(engine::FinishReason reason) {
    switch (reason) {
    case engine::FinishReason::Eos:
    case engine::FinishReason::StopString: return QStringLiteral("stop");
    case engine::FinishReason::MaxTokens:
    case engine::FinishReason::MaxLength: return QStringLiteral("length");
    default: return std::nullopt;
    }
}

namespace {
QJsonObject usageObject(const engine::Usage& u) {
    return QJsonObject{{"prompt_tokens", u.promptTokens},
                       {"completion_tokens", u.completionTokens},
                       {"total_tokens", u.promptTokens + u.completionTokens}};
}
QJsonObject envelope(const QString& id, qint64 created, const QString& model, const char* object) {
    return QJsonObject{{"id", id}, {"object", object}, {"created", created}, {"model", model}};
}
}  // namespace

QJsonObject completionResponse(const QString& id, qint64 created, const QString& model,
                               const engine::GenerationResult& result, bool chat) {
    QJsonObject o = envelope(id, created, model, chat ? "chat.completion" : "text_completion");
    const auto reason = openAiFinishReason(result.finishReason);
    QJsonObject choice{{"index", 0}, {"logprobs", QJsonValue()},
                       {"finish_reason", reason ? QJsonValue(*reason) : QJsonValue()}};
    const QString text = QString::fromStdString(result.text);
    if (chat) choice["message"] = QJsonObject{{"role", "assistant"}, {"content", text}};
    else choice["text"] = text;
    o["choices"] = QJsonArray{choice};
    o["usage"] = usageObject(result.usage);
    return o;
}

QJsonObject completionChunk(const QString& id, qint64 created, const QString& model,
                            const QString& text, const QString& finishReason, bool chat, bool withRole) {
    QJsonObject o = envelope(id, created, model, chat ? "chat.completion.chunk" : "text_completion");
    QJsonObject choice{{"index", 0}, {"logprobs", QJsonValue()},
                       {"finish_reason", finishReason.isEmpty() ? QJsonValue() : QJsonValue(finishReason)}};
    if (chat) {
        QJsonObject delta;
        if (withRole) delta["role"] = QStringLiteral("assistant");
        if (!text.isEmpty() || withRole) delta["content"] = text;
        choice["delta"] = delta;
    } else {
        choice["text"] = text;
    }
    o["choices"] = QJsonArray{choice};
    return o;
}

QJsonObject usageChunk(const QString& id, qint64 created, const QString& model, const engine::Usage& usage,
                       bool chat) {
    QJsonObject o = envelope(id, created, model, chat ? "chat.completion.chunk" : "text_completion");
    o["choices"] = QJsonArray{};
    o["usage"] = usageObject(usage);
    return o;
}

QByteArray sseEvent(const QJsonObject& object) {
    return "data: " + QJsonDocument(object).toJson(QJsonDocument::Compact) + "\n\n";
}

}  // namespace batchscope::app::api
