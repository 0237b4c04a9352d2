// SPDX-License-Identifier: GPL-3.0-or-later
#include "app/remote/batchscope_source.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QNetworkRequest>

#include "app/remote/remote_decode.h"

namespace batchscope::app::remote {

QString connectionStateName(ConnectionState state) {
    switch (state) {
    case ConnectionState::Local: return QStringLiteral("local");
    case ConnectionState::Connecting: return QStringLiteral("connecting");
    case ConnectionState::Connected: return QStringLiteral("connected");
    case ConnectionState::Reconnecting: return QStringLiteral("reconnecting");
    case ConnectionState::Unauthorized: return QStringLiteral("unauthorized");
    case ConnectionState::CertificateError: return QStringLiteral("untrusted certificate");
    case ConnectionState::Stopped: return QStringLiteral("stopped");
    }
    return {};
}

BatchscopeSource::BatchscopeSource(const QUrl& url, const QString& token, QObject* parent)
    : RemoteSource(url, token, parent) {
    m_pollTimer.setInterval(100);  // list_requests: at most one in flight
    connect(&m_pollTimer, &QTimer::timeout, this, [this] {
        if (m_listPending || m_socket.state() != QAbstractSocket::ConnectedState) return;
        m_listPending = true;
        send({{"type", "list_requests"}, {"id", "list"}});
    });
    m_tokenFlush.setSingleShot(true);
    m_tokenFlush.setInterval(0);
    connect(&m_tokenFlush, &QTimer::timeout, this, &BatchscopeSource::flushTokens);
    connect(&m_socket, &QWebSocket::connected, this, &BatchscopeSource::onConnected);
    connect(&m_socket, &QWebSocket::disconnected, this, &BatchscopeSource::onDisconnected);
    connect(&m_socket, &QWebSocket::textMessageReceived, this, &BatchscopeSource::onMessage);
    connect(&m_socket, QOverload<QAbstractSocket::SocketError>::of(&QWebSocket::error), this,
            [this](QAbstractSocket::SocketError) {
                if (m_socket.state() == QAbstractSocket::UnconnectedState) onDisconnected();
            });
    connect(&m_socket, &QWebSocket::sslErrors, this, [this](const QList<QSslError>& errors) {
        if (acceptSslErrors(errors)) m_socket.ignoreSslErrors(errors);
    });
}

BatchscopeSource::~BatchscopeSource() {
    endConnecting();
    m_socket.disconnect(this);
    m_socket.abort();
}

QString BatchscopeSource::displayName() const {
    return QStringLiteral("batchscope @ %1:%2").arg(url().host()).arg(url().port());
}

QList<std::pair<SourcePanel, QString>> BatchscopeSource::unavailablePanels() const {
    return {{SourcePanel::Latency,
             tr("The WebSocket API sends latency percentiles, not the individual samples these "
                "histograms need: see the latency chart in the Server metrics panel.")},
            {SourcePanel::Scheduler,
             tr("The WebSocket API has no message to change a server's scheduler settings; "
                "start `batchscope serve` with the settings you want.")}};
}

void BatchscopeSource::start() {
    m_unauthorized = false;
    beginConnecting();
    openSocket();
}

void BatchscopeSource::stop() {
    endConnecting();
    m_pollTimer.stop();
    m_socket.close();
    failInFlight(tr("disconnected"));
    setState(ConnectionState::Stopped, tr("Disconnected"));
}

void BatchscopeSource::openSocket() {
    if (isStopped()) return;
    QNetworkRequest request(url());
    request.setRawHeader("Authorization", "Bearer " + m_token.toUtf8());
    if (url().scheme() == QLatin1String("wss")) m_socket.setSslConfiguration(sslConfiguration());
    m_listPending = false;
    m_socket.open(request);
}

void BatchscopeSource::send(const QJsonObject& message) {
    m_socket.sendTextMessage(QString::fromUtf8(QJsonDocument(message).toJson(QJsonDocument::Compact)));
}

void BatchscopeSource::onConnected() {
    connectionUp();
    m_lastMetricsTime = -1;
    setState(ConnectionState::Connected, tr("Connected to %1").arg(url().toString()));
    send({{"type", "get_model"}, {"id", "model"}});
    QJsonArray topics{"steps", "metrics"};
    if (!m_blocksRefused) topics.append(QStringLiteral("kv_blocks"));
    send({{"type", "subscribe"}, {"id", "sub"}, {"topics", topics}, {"interval_ms", 500}});
    m_pollTimer.start();
}

void BatchscopeSource::onDisconnected() {
    m_pollTimer.stop();
    if (m_socket.closeCode() == QWebSocketProtocol::CloseCodePolicyViolated &&
        m_socket.closeReason() == QLatin1String("unauthorized"))
        m_unauthorized = true;
    failInFlight(tr("connection to the server lost"));
    if (isStopped()) return;
    if (m_unauthorized) {
        setState(ConnectionState::Unauthorized,
                 tr("%1 refused the access token (unauthorized); not retrying").arg(url().toString()));
        return;
    }
    if (const QString tls = takeTlsFailure(); !tls.isEmpty()) {
        failUntrusted(tls);
        return;
    }
    const QString error = m_socket.errorString();
    scheduleReconnect(error.isEmpty() ? tr("connection closed") : error);
}

void BatchscopeSource::failInFlight(const QString& why) {
    for (auto it = m_batches.begin(); it != m_batches.end(); ++it)
        emit submitted(it->ids, it->error.isEmpty() ? why : it->error);
    m_batches.clear();
    m_pendingCopies.clear();
    const QSet<engine::RequestId> own = std::exchange(m_own, {});
    for (engine::RequestId id : own) {
        engine::GenerationResult r;
        r.id = id;
        r.finishReason = engine::FinishReason::Error;
        r.errorMessage = why.toStdString();
        emit requestFinished(r);
    }
}

void BatchscopeSource::submit(const QString& prompt, const engine::GenerationOptions& options, int count) {
    if (m_socket.state() != QAbstractSocket::ConnectedState) {
        emit submitted({}, tr("not connected to %1").arg(url().toString()));
        return;
    }
    const int batch = m_nextBatch++;
    m_batches.insert(batch, Batch{{}, {}, std::max(1, count)});
    for (int i = 0; i < std::max(1, count); ++i) {
        const QString id = QStringLiteral("g%1").arg(m_nextMessageId++);
        m_pendingCopies.insert(id, PendingCopy{batch});
        QJsonArray stops;
        for (const std::string& s : options.stopStrings) stops.append(QString::fromStdString(s));
        QJsonObject m{{"type", "generate"},
                      {"id", id},
                      {"prompt", prompt},
                      {"max_tokens", options.maxTokens},
                      {"priority", QString::fromUtf8(engine::priorityName(options.priority).data())},
                      {"temperature", double(options.sampling.temperature)},
                      {"top_p", double(options.sampling.topP)},
                      {"seed", double(options.sampling.seed + std::uint64_t(i))},
                      {"ignore_eos", options.ignoreEos}};
        if (!stops.isEmpty()) m.insert(QStringLiteral("stop"), stops);
        send(m);
    }
}

void BatchscopeSource::cancel(engine::RequestId id) {
    if (!m_own.contains(id)) {
        emit notice(tr("Request #%1 was not submitted from this window: the server lets a "
                       "connection cancel only its own requests").arg(id));
        return;
    }
    send({{"type", "cancel"}, {"id", QStringLiteral("c%1").arg(id)}, {"request_id", qint64(id)}});
}

void BatchscopeSource::setPriority(engine::RequestId id, engine::Priority priority) {
    if (!m_own.contains(id)) {
        emit notice(tr("Request #%1 was not submitted from this window: the server lets a "
                       "connection reprioritise only its own requests").arg(id));
        return;
    }
    send({{"type", "set_priority"}, {"id", QStringLiteral("p%1").arg(id)}, {"request_id", qint64(id)},
          {"priority", QString::fromUtf8(engine::priorityName(priority).data())}});
}

void BatchscopeSource::onMessage(const QString& text) {
    const QJsonObject o = QJsonDocument::fromJson(text.toUtf8()).object();
    const QString type = o.value(QLatin1String("type")).toString();
    if (type == QLatin1String("requests")) {
        onRequests(o);
    } else if (type == QLatin1String("steps")) {
        for (const QJsonValue& v : o.value(QLatin1String("steps")).toArray())
            m_steps.push_back(stepFromJson(v.toObject()));
        if (m_steps.size() > 4000) m_steps.erase(m_steps.begin(), m_steps.end() - 4000);
    } else if (type == QLatin1String("metrics")) {
        applyStatsJson(o, m_stats);
        const double t = o.value(QLatin1String("time_ms")).toDouble() / 1000.0;
        double preemptionRate = 0;
        if (m_lastMetricsTime >= 0 && t > m_lastMetricsTime)
            preemptionRate = double(std::max<std::int64_t>(0, m_stats.batchStats.preemptions - m_lastPreemptions)) /
                             (t - m_lastMetricsTime);
        m_lastMetricsTime = t;
        m_lastPreemptions = m_stats.batchStats.preemptions;
        emit serverMetrics(metricsSampleFromStats(m_stats, t, preemptionRate));
    } else if (type == QLatin1String("kv_blocks")) {
        m_blocks = blocksFromJson(o);
        m_blockSize = o.value(QLatin1String("block_size")).toInt(16);
    } else if (type == QLatin1String("token")) {
        engine::TokenEvent e;
        e.id = engine::RequestId(o.value(QLatin1String("request_id")).toInteger());
        e.token = engine::TokenId(o.value(QLatin1String("token_id")).toInt());
        e.index = o.value(QLatin1String("index")).toInt();
        e.textDelta = o.value(QLatin1String("text")).toString().toStdString();
        m_tokens.append(e);
        if (!m_tokenFlush.isActive()) m_tokenFlush.start();
    } else if (type == QLatin1String("done")) {
        onDone(o);
    } else if (type == QLatin1String("accepted")) {
        onAccepted(o);
    } else if (type == QLatin1String("model")) {
        m_model = modelFromJson(o.value(QLatin1String("model")).toObject());
        emit modelChanged(m_model);
    } else if (type == QLatin1String("error")) {
        onError(o);
    }
}

void BatchscopeSource::onRequests(const QJsonObject& o) {
    m_listPending = false;
    auto snap = std::make_shared<engine::SchedulerSnapshot>(m_stats);
    snap->timeMs = o.value(QLatin1String("time_ms")).toDouble();
    snap->queueDepth = o.value(QLatin1String("queue_depth")).toInt();
    snap->runningCount = o.value(QLatin1String("running")).toInt();
    snap->model = m_model;
    snap->blocks = m_blocks;
    snap->blockSize = m_blockSize;
    for (const QJsonValue& v : o.value(QLatin1String("requests")).toArray())
        snap->requests.push_back(requestFromJson(v.toObject()));
    snap->steps = std::move(m_steps);
    m_steps.clear();
    if (!snap->steps.empty()) {
        const engine::StepRecord& last = snap->steps.back();
        snap->settings.maxBatchSize = last.maxBatchSize;
        snap->settings.tokenBudget = last.tokenBudget;
    }
    flushTokens();  // tokens before the states that follow them
    emit snapshotUpdated(std::move(snap));
}

void BatchscopeSource::flushTokens() {
    m_tokenFlush.stop();
    if (m_tokens.isEmpty()) return;
    emit tokensGenerated(m_tokens);
    m_tokens.clear();
}

void BatchscopeSource::onAccepted(const QJsonObject& o) {
    const QString id = o.value(QLatin1String("id")).toString();
    const auto it = m_pendingCopies.find(id);
    if (it == m_pendingCopies.end()) return;
    const int batch = it->batch;
    m_pendingCopies.erase(it);
    const auto rid = engine::RequestId(o.value(QLatin1String("request_id")).toInteger());
    m_own.insert(rid);
    Batch& b = m_batches[batch];
    b.ids.append(rid);
    if (--b.left == 0) finishSubmitBatch(batch);
}

void BatchscopeSource::finishSubmitBatch(int batch) {
    const Batch b = m_batches.take(batch);
    emit submitted(b.ids, b.error);
}

void BatchscopeSource::onError(const QJsonObject& o) {
    const QString code = o.value(QLatin1String("code")).toString();
    const QString message = o.value(QLatin1String("message")).toString();
    const QString id = o.value(QLatin1String("id")).toString();
    if (code == QLatin1String("unauthorized")) {
        m_unauthorized = true;
        return;  // the server closes the connection next (onDisconnected reports it)
    }
    const auto it = m_pendingCopies.find(id);
    if (it != m_pendingCopies.end()) {
        const int batch = it->batch;
        m_pendingCopies.erase(it);
        Batch& b = m_batches[batch];
        b.error = QStringLiteral("%1: %2").arg(code, message);
        if (--b.left == 0) finishSubmitBatch(batch);
        return;
    }
    if (id == QLatin1String("list")) m_listPending = false;
    if (id == QLatin1String("sub") && !m_blocksRefused) {  // a server older than the kv_blocks topic
        m_blocksRefused = true;
        send({{"type", "subscribe"}, {"id", "sub"}, {"topics", QJsonArray{"steps", "metrics"}}, {"interval_ms", 500}});
        emit panelUnavailable(SourcePanel::KvBlockMap,
                              tr("This server's WebSocket API has no kv_blocks topic (a Batchscope older than "
                                 "this window), so its block map cannot be drawn."));
        return;
    }
    emit notice(tr("Server error (%1): %2").arg(code, message));
}

void BatchscopeSource::onDone(const QJsonObject& o) {
    flushTokens();
    engine::GenerationResult r = resultFromDone(o);
    m_own.remove(r.id);
    emit requestFinished(r);
}

}  // namespace batchscope::app::remote
