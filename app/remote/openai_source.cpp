// SPDX-License-Identifier: GPL-3.0-or-later
#include "app/remote/openai_source.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkReply>

namespace batchscope::app::remote {
namespace {
constexpr double kRecentMs = 2000;  // finished requests stay in snapshots this long (as the engine's)

int httpStatus(QNetworkReply* reply) {
    return reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
}

/// OpenAI's {"error": {"message"}} or vLLM's {"object": "error", "message"}; else the raw text.
std::string errorText(const QByteArray& body, int status) {
    const QJsonObject o = QJsonDocument::fromJson(body).object();
    QString message = o.value(QLatin1String("error")).toObject().value(QLatin1String("message")).toString();
    if (message.isEmpty()) message = o.value(QLatin1String("message")).toString();
    if (message.isEmpty()) message = QString::fromUtf8(body.left(200)).trimmed();
    return QStringLiteral("HTTP %1: %2").arg(status).arg(message).toStdString();
}
}  // namespace

OpenAiSource::OpenAiSource(const QUrl& base, const QString& token, QObject* parent)
    : RemoteSource(base, token, parent) {
    m_scrapeTimer.setInterval(1000);
    connect(&m_scrapeTimer, &QTimer::timeout, this, &OpenAiSource::scrape);
    m_snapshotTimer.setInterval(100);
    connect(&m_snapshotTimer, &QTimer::timeout, this, &OpenAiSource::publishSnapshot);
    m_clock.start();
}

OpenAiSource::~OpenAiSource() {
    endConnecting();
    for (auto& [id, a] : m_active)
        if (a.reply) {
            a.reply->disconnect(this);
            a.reply->abort();
            a.reply->deleteLater();
        }
    if (m_scrapeReply) {
        m_scrapeReply->disconnect(this);
        m_scrapeReply->abort();
        m_scrapeReply->deleteLater();
    }
}

QString OpenAiSource::displayName() const {
    const QUrl& u = url();
    return QStringLiteral("openai @ %1:%2").arg(u.host()).arg(u.port(u.scheme() == QLatin1String("https") ? 443 : 80));
}

QList<std::pair<SourcePanel, QString>> OpenAiSource::unavailablePanels() const {
    return {{SourcePanel::BatchComposition,
             tr("An OpenAI-compatible server's /metrics has no per-step batch composition (which "
                "requests ran in each step); running and waiting requests over time are in Server metrics.")},
            {SourcePanel::KvMemory,
             tr("The server reports KV-cache usage as a fraction, not as used / cached / free blocks: "
                "see the KV cache usage chart in Server metrics.")},
            {SourcePanel::KvBlockMap,
             tr("An OpenAI-compatible server does not expose its KV block table, so no block map can be drawn.")},
            {SourcePanel::Latency,
             tr("The server exports latency histograms (buckets), not samples: the TTFT, inter-token and "
                "end-to-end percentiles computed from its buckets are in Server metrics.")},
            {SourcePanel::Scheduler,
             tr("The OpenAI API has no way to read or change the server's scheduler settings.")}};
}

QNetworkRequest OpenAiSource::makeRequest(const QString& path) const {
    QString base = url().toString();
    while (base.endsWith(QLatin1Char('/'))) base.chop(1);
    QNetworkRequest request(QUrl(base + path));
    if (!m_token.isEmpty()) request.setRawHeader("Authorization", "Bearer " + m_token.toUtf8());
    if (url().scheme() == QLatin1String("https")) request.setSslConfiguration(sslConfiguration());
    return request;
}

QNetworkReply* OpenAiSource::watch(QNetworkReply* reply) {
    connect(reply, &QNetworkReply::sslErrors, this, [this, reply](const QList<QSslError>& errors) {
        if (acceptSslErrors(errors)) reply->ignoreSslErrors(errors);
    });
    return reply;
}

void OpenAiSource::reconnect() {
    if (m_modelName.isEmpty()) fetchModels();
    scrape();
}

void OpenAiSource::start() {
    beginConnecting();
    m_snapshotTimer.start();
    fetchModels();
    scrape();
}

void OpenAiSource::stop() {
    endConnecting();
    m_scrapeTimer.stop();
    m_snapshotTimer.stop();
    std::vector<engine::RequestId> ids;
    for (const auto& [id, a] : m_active) ids.push_back(id);
    for (engine::RequestId id : ids) cancel(id);
    setState(ConnectionState::Stopped, tr("Disconnected"));
}

void OpenAiSource::fetchModels() {
    QNetworkRequest request = makeRequest(QStringLiteral("/v1/models"));
    request.setTransferTimeout(5000);
    QNetworkReply* reply = watch(m_nam.get(request));
    connect(reply, &QNetworkReply::finished, this, [this, reply] {
        reply->deleteLater();
        if (reply->error() != QNetworkReply::NoError) return;  // retried after a reconnect
        const QJsonArray data = QJsonDocument::fromJson(reply->readAll()).object().value(QLatin1String("data")).toArray();
        if (data.isEmpty()) return;
        m_modelName = data.first().toObject().value(QLatin1String("id")).toString();
        engine::ModelInfo info;
        info.name = m_modelName.toStdString();
        info.backend = "remote (OpenAI-compatible API)";
        info.path = url().toString().toStdString();
        emit modelChanged(info);
    });
}

void OpenAiSource::scrape() {
    if (isStopped() || m_scrapeReply) return;
    QNetworkRequest request = makeRequest(QStringLiteral("/metrics"));
    request.setTransferTimeout(5000);
    m_scrapeReply = watch(m_nam.get(request));
    QNetworkReply* reply = m_scrapeReply;
    connect(reply, &QNetworkReply::finished, this, [this, reply] { onScrapeFinished(reply); });
}

void OpenAiSource::onScrapeFinished(QNetworkReply* reply) {
    reply->deleteLater();
    m_scrapeReply = nullptr;
    if (isStopped()) return;
    const int status = httpStatus(reply);
    const QString where = url().toString();
    if (status == 401 || status == 403) {
        m_scrapeTimer.stop();
        setState(ConnectionState::Unauthorized,
                 tr("%1 refused the access token (HTTP %2); not retrying").arg(where).arg(status));
        return;
    }
    if (reply->error() != QNetworkReply::NoError && status != 404) {
        m_scrapeTimer.stop();
        if (const QString tls = takeTlsFailure(); !tls.isEmpty()) {
            failUntrusted(tls);
            return;
        }
        scheduleReconnect(reply->errorString());
        return;
    }
    connectionUp();
    if (!m_scrapeTimer.isActive()) m_scrapeTimer.start();
    if (status == 404) {
        setState(ConnectionState::Connected,
                 tr("Connected to %1, which has no /metrics (llama.cpp's server needs --metrics)").arg(where));
        return;
    }
    const QByteArray body = reply->readAll();
    auto sample = m_reader.addScrape(std::string_view(body.constData(), size_t(body.size())), nowMs() / 1000.0);
    if (!sample) {
        setState(ConnectionState::Connected, tr("Connected to %1, but its /metrics is not valid Prometheus text: %2")
                                                 .arg(where, QString::fromStdString(sample.error().message)));
        return;
    }
    m_lastMetrics = sample.value();
    const QString flavour = QString::fromStdString(m_reader.flavour());
    setState(ConnectionState::Connected,
             flavour.isEmpty() ? tr("Connected to %1 (no known metric names in /metrics)").arg(where)
                               : tr("Connected to %1 (%2 metrics)").arg(where, flavour));
    emit serverMetrics(m_lastMetrics);
}

void OpenAiSource::submit(const QString& prompt, const engine::GenerationOptions& options, int count) {
    if (isStopped() || state() == ConnectionState::Unauthorized || state() == ConnectionState::CertificateError) {
        emit submitted({}, tr("not connected to %1").arg(url().toString()));
        return;
    }
    QList<engine::RequestId> ids;
    for (int i = 0; i < std::max(1, count); ++i) {
        QJsonObject body{{"prompt", prompt},
                         {"max_tokens", options.maxTokens},
                         {"temperature", double(options.sampling.temperature)},
                         {"top_p", double(options.sampling.topP)},
                         {"seed", double(options.sampling.seed + std::uint64_t(i))},
                         {"stream", true},
                         {"stream_options", QJsonObject{{"include_usage", true}}}};
        if (!m_modelName.isEmpty()) body.insert(QStringLiteral("model"), m_modelName);
        QJsonArray stops;
        for (const std::string& s : options.stopStrings) stops.append(QString::fromStdString(s));
        if (!stops.isEmpty()) body.insert(QStringLiteral("stop"), stops);
        if (options.ignoreEos) body.insert(QStringLiteral("ignore_eos"), true);  // vLLM extension
        QNetworkRequest request = makeRequest(QStringLiteral("/v1/completions"));
        request.setHeader(QNetworkRequest::ContentTypeHeader, QStringLiteral("application/json"));
        request.setRawHeader("Accept", "text/event-stream");
        const engine::RequestId id = m_nextId++;
        Active& a = m_active[id];
        a.snap.id = id;
        a.snap.state = engine::RequestState::Queued;
        a.snap.priority = options.priority;
        a.snap.promptPreview = prompt.left(80).toStdString();
        a.snap.maxTokens = options.maxTokens;
        a.snap.arrivalMs = nowMs();
        a.snap.events.push_back({engine::RequestEvent::Kind::Queued, a.snap.arrivalMs, 0});
        a.reply = watch(m_nam.post(request, QJsonDocument(body).toJson(QJsonDocument::Compact)));
        connect(a.reply, &QNetworkReply::readyRead, this, [this, id] { onStreamData(id); });
        connect(a.reply, &QNetworkReply::finished, this, [this, id] { onStreamFinished(id); });
        ids.append(id);
    }
    emit submitted(ids, QString());
}

void OpenAiSource::cancel(engine::RequestId id) {
    const auto it = m_active.find(id);
    if (it == m_active.end() || !it->second.reply) {
        emit notice(tr("Request #%1 is no longer running").arg(id));
        return;
    }
    it->second.cancelled = true;
    it->second.reply->abort();  // closes the stream; finished() follows
}

void OpenAiSource::setPriority(engine::RequestId id, engine::Priority) {
    emit notice(tr("Request #%1: the OpenAI API cannot change a request's priority after it was sent").arg(id));
}

void OpenAiSource::onStreamData(engine::RequestId id) {
    const auto it = m_active.find(id);
    if (it == m_active.end() || !it->second.reply) return;
    Active& a = it->second;
    if (httpStatus(a.reply) != 200) return;  // an error body: read in onStreamFinished
    const QByteArray bytes = a.reply->readAll();
    const int before = a.snap.generatedTokens;
    const std::string textBefore = a.text;
    for (const SseParser::Event& e : a.parser.feed(std::string_view(bytes.constData(), size_t(bytes.size()))))
        handleEvent(a, e.data);
    if (a.parser.failed()) {
        a.error = a.parser.error();
        a.reply->abort();
        return;
    }
    if (a.snap.generatedTokens > before || a.text.size() > textBefore.size()) {
        engine::TokenEvent t;
        t.id = id;
        t.index = before;
        t.textDelta = a.text.substr(textBefore.size());
        emit tokensGenerated({t});
    }
}

void OpenAiSource::handleEvent(Active& a, const std::string& data) {
    if (data == "[DONE]") {
        a.done = true;
        return;
    }
    const QJsonObject o = QJsonDocument::fromJson(QByteArray::fromStdString(data)).object();
    if (o.contains(QLatin1String("error"))) {
        a.error = errorText(QByteArray::fromStdString(data), 200);
        return;
    }
    const QJsonArray choices = o.value(QLatin1String("choices")).toArray();
    const double now = nowMs();
    if (!choices.isEmpty()) {
        const QJsonObject c = choices.first().toObject();
        a.text += c.value(QLatin1String("text")).toString().toStdString();
        ++a.snap.generatedTokens;  // one chunk per token (vLLM, SGLang, llama.cpp)
        if (a.firstTokenMs < 0) {
            a.firstTokenMs = now;
            a.snap.timeToFirstTokenMs = now - a.snap.arrivalMs;
            a.snap.queueMs = now - a.snap.arrivalMs;
            a.snap.state = engine::RequestState::Decoding;
            a.snap.events.push_back({engine::RequestEvent::Kind::FirstToken, now, 0});
        }
        if (c.value(QLatin1String("finish_reason")).isString())
            a.finishReason = c.value(QLatin1String("finish_reason")).toString().toStdString();
    }
    const QJsonObject usage = o.value(QLatin1String("usage")).toObject();
    if (!usage.isEmpty()) {
        a.snap.promptTokens = usage.value(QLatin1String("prompt_tokens")).toInt();
        a.snap.generatedTokens = usage.value(QLatin1String("completion_tokens")).toInt();
    }
    if (a.firstTokenMs >= 0 && now > a.firstTokenMs && a.snap.generatedTokens > 1)
        a.snap.tokensPerSecond = (a.snap.generatedTokens - 1) * 1000.0 / (now - a.firstTokenMs);
}

void OpenAiSource::onStreamFinished(engine::RequestId id) {
    const auto it = m_active.find(id);
    if (it == m_active.end()) return;
    Active& a = it->second;
    QNetworkReply* reply = a.reply;
    const int status = reply ? httpStatus(reply) : 0;
    if (reply) {
        if (status != 200 && a.error.empty() && !a.cancelled && status > 0) a.error = errorText(reply->readAll(), status);
        if (a.error.empty() && !a.cancelled && !a.done && reply->error() != QNetworkReply::NoError)
            a.error = tr("stream ended early: %1").arg(reply->errorString()).toStdString();
        reply->deleteLater();
    }
    if (a.error.empty() && !a.cancelled && !a.done) a.error = "the stream ended without data: [DONE]";
    const double now = nowMs();
    engine::GenerationResult r;
    r.id = id;
    r.text = a.text;
    if (a.cancelled) {
        r.finishReason = engine::FinishReason::Cancelled;
        a.snap.state = engine::RequestState::Cancelled;
    } else if (!a.error.empty()) {
        r.finishReason = engine::FinishReason::Error;
        r.errorMessage = a.error;
        a.snap.state = engine::RequestState::Failed;
        a.snap.errorMessage = a.error;
    } else {
        r.finishReason = a.finishReason == "length" ? engine::FinishReason::MaxTokens : engine::FinishReason::Eos;
        a.snap.state = engine::RequestState::Finished;
    }
    a.snap.finishReason = r.finishReason;
    a.snap.events.push_back({engine::RequestEvent::Kind::Finished, now, 0});
    r.usage.promptTokens = a.snap.promptTokens;
    r.usage.completionTokens = a.snap.generatedTokens;
    r.timings.queueMs = a.snap.queueMs;
    r.timings.timeToFirstTokenMs = a.snap.timeToFirstTokenMs.value_or(0);
    r.timings.totalMs = now - a.snap.arrivalMs;
    r.timings.tokensPerSecond = a.snap.tokensPerSecond;
    m_recent.push_back(a.snap);
    m_active.erase(it);
    emit requestFinished(r);
}

void OpenAiSource::publishSnapshot() {
    const double now = nowMs();
    while (!m_recent.empty() && m_recent.front().events.back().timeMs < now - kRecentMs) m_recent.pop_front();
    auto snap = std::make_shared<engine::SchedulerSnapshot>();
    snap->timeMs = now;
    snap->running = true;
    snap->runningCount = int(m_lastMetrics.running.value_or(0));
    snap->queueDepth = int(m_lastMetrics.waiting.value_or(0));
    snap->promptTokensPerSecond = m_lastMetrics.promptTokensPerSecond.value_or(0);
    snap->generatedTokensPerSecond = m_lastMetrics.generationTokensPerSecond.value_or(0);
    snap->batchStats.preemptions = std::int64_t(m_lastMetrics.preemptionsTotal.value_or(0));
    for (const auto& [id, a] : m_active) {
        engine::RequestSnapshot r = a.snap;
        if (r.state == engine::RequestState::Queued) r.queueMs = now - r.arrivalMs;
        snap->requests.push_back(std::move(r));
    }
    for (const engine::RequestSnapshot& r : m_recent) snap->requests.push_back(r);
    snap->model.name = m_modelName.toStdString();
    emit snapshotUpdated(std::move(snap));
}

}  // namespace batchscope::app::remote
