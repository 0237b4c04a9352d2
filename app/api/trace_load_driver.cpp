// SPDX-License-Identifier: GPL-3.0-or-later
#include "app/api/trace_load_driver.h"

#include <QElapsedTimer>
#include <QEventLoop>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkRequest>
#include <QTimer>
#include <QWebSocket>
#include <algorithm>
#include <deque>
#include <memory>
#include <optional>

#include "engine/metrics/percentile.h"
#include "engine/trace/synthetic_prompt.h"

namespace batchscope::app::api {
namespace {

struct Slot {
    engine::WorkloadRequest request;  ///< lengths already capped to the context
    double scheduledMs = 0, sentMs = -1, firstTokenMs = -1, doneMs = -1;
    int connection = -1;
    qint64 requestId = -1;
    bool complete = false;
};

struct Connection {
    std::unique_ptr<QWebSocket> socket;
    bool welcomed = false;
    bool lost = false;
    int inFlight = 0;
};

/// The run's state machine: connect (hello/welcome on every connection), calibrate the prompt
/// words on connection 0, then send each request at its time. Lives on one thread.
class TraceLoadDriver : public QObject {
public:
    TraceLoadDriver(const std::vector<engine::WorkloadRequest>& workload, const TraceLoadConfig& config,
                    TraceLoadResult& result)
        : m_workload(workload), m_config(config), m_result(result) {
        m_sendTimer.setSingleShot(true);
        m_sendTimer.setTimerType(Qt::PreciseTimer);
        connect(&m_sendTimer, &QTimer::timeout, this, [this] { pump(); });
    }

    void run(const QUrl& url, const QString& token) {
        m_clock.start();
        m_result.requests = int(m_workload.size());
        const int n = std::max(1, m_config.connections);
        for (int i = 0; i < n; ++i) {
            m_connections.push_back(Connection{std::make_unique<QWebSocket>(), false, false, 0});
            QWebSocket* s = m_connections.back().socket.get();
            connect(s, &QWebSocket::connected, this, [this, s] { sendOn(*s, {{"type", "hello"}, {"id", "hello"},
                                                                       {"protocol", "batchscope.v1"}, {"client", "batchscope-load"}}); });
            connect(s, &QWebSocket::textMessageReceived, this, [this, i](const QString& text) { onMessage(i, text); });
            connect(s, &QWebSocket::disconnected, this, [this, i] { onLost(i); });
            connect(s, qOverload<QAbstractSocket::SocketError>(&QWebSocket::error), this, [this, i] { onLost(i); });
            QNetworkRequest request(url);
            request.setRawHeader("Authorization", "Bearer " + token.toUtf8());
            s->open(request);
        }
        QTimer::singleShot(10000, this, [this] {
            if (!m_started && m_result.error.isEmpty()) fail(QStringLiteral("no welcome from the server within 10 s"));
        });
        const double lastArrival = m_workload.empty() ? 0 : m_workload.back().arrivalSeconds / m_config.speed;
        const double timeout = m_config.timeoutSeconds > 0 ? m_config.timeoutSeconds : lastArrival + 300;
        QTimer::singleShot(int(std::min(timeout * 1000, 2e9)), this, [this, timeout] { onTimeout(timeout); });
        if (!m_workload.empty()) m_loop.exec();
        for (auto& c : m_connections) c.socket->abort();
    }

private:
    double now() const { return double(m_clock.nsecsElapsed()) / 1e6; }

    static void sendOn(QWebSocket& s, const QJsonObject& m) {
        s.sendTextMessage(QString::fromUtf8(QJsonDocument(m).toJson(QJsonDocument::Compact)));
    }

    void fail(const QString& error) {
        m_result.error = error;
        finish();
    }

    void onMessage(int conn, const QString& text) {
        const QJsonObject m = QJsonDocument::fromJson(text.toUtf8()).object();
        const QString type = m.value(QLatin1String("type")).toString();
        const QJsonValue id = m.value(QLatin1String("id"));
        if (type == QLatin1String("welcome")) return onWelcome(conn, m);
        if (id.isString() && id.toString().startsWith(QLatin1String("cal:"))) return onCalibration(conn, id.toString(), m);
        if (!id.isDouble()) {
            if (type == QLatin1String("error") && !m_started)
                fail(QStringLiteral("the server refused the connection: ") + m.value("message").toString());
            return;  // cancel replies ("x:N"), telemetry
        }
        const int i = id.toInt(-1);
        if (i < 0 || i >= int(m_slots.size()) || m_slots[std::size_t(i)].complete) return;
        Slot& slot = m_slots[std::size_t(i)];
        if (type == QLatin1String("accepted")) {
            slot.requestId = qint64(m.value("request_id").toDouble());
            if (slot.request.cancelAfterSeconds) scheduleCancel(i);
        } else if (type == QLatin1String("token")) {
            if (slot.firstTokenMs < 0) slot.firstTokenMs = now();
        } else if (type == QLatin1String("done")) {
            onDone(i, m);
        } else if (type == QLatin1String("error")) {
            ++m_result.failures[m.value("code").toString()];
            ++m_result.failed;
            complete(i);
        }
    }

    void onWelcome(int conn, const QJsonObject& m) {
        const QJsonObject limits = m.value("limits").toObject();
        m_result.contextLength = limits.value("context_length").toInt();
        m_maxPerConnection = std::max(1, limits.value("max_requests_per_connection").toInt(64));
        m_connections[std::size_t(conn)].welcomed = true;
        if (std::all_of(m_connections.begin(), m_connections.end(), [](const Connection& c) { return c.welcomed; }))
            calibrate();
    }

    /// Sends the current calibration stage's probes (max_tokens 1, not streamed), spread over
    /// the connections within their in-flight limit; the rest follow as replies come.
    void calibrate() {
        m_probeQueue.clear();
        for (auto& p : m_calibration.probes()) m_probeQueue.push_back(std::move(p));
        for (int c = 0; c < int(m_connections.size()); ++c)
            for (int k = 0; k < m_maxPerConnection && !m_probeQueue.empty(); ++k) sendProbe(c);
    }

    void sendProbe(int conn) {
        if (m_probeQueue.empty() || m_connections[std::size_t(conn)].lost) return;
        const auto probe = std::move(m_probeQueue.front());
        m_probeQueue.pop_front();
        sendOn(*m_connections[std::size_t(conn)].socket,
               {{"type", "generate"}, {"id", QString::fromStdString("cal:" + probe.id)}, {"max_tokens", 1},
                {"stream", false}, {"prompt", QString::fromStdString(probe.prompt)}});
    }

    void onCalibration(int conn, const QString& id, const QJsonObject& m) {
        if (m.value("type").toString() == QLatin1String("error"))
            return fail(QStringLiteral("calibration request failed: ") + m.value("message").toString());
        if (m.value("type").toString() != QLatin1String("done")) return;
        const int stage = m_calibration.stageIndex();
        m_calibration.record(id.mid(4).toStdString(), m.value("usage").toObject().value("prompt_tokens").toInt());
        if (m_calibration.done()) {
            m_builder.emplace(m_calibration.builder());
            QStringList names;
            for (const auto& w : m_builder->words()) names << "'" + QString::fromStdString(w) + "'";
            m_result.wordSet = names.join(", ") + QStringLiteral(" + %1").arg(m_builder->offset()) +
                               (m_calibration.exact() ? QString() : QStringLiteral(", approximate: no word set was exact"));
            return start();
        }
        if (m_calibration.stageIndex() != stage) return calibrate();  // the next stage's probes
        sendProbe(conn);
    }

    void start() {
        m_started = true;
        const double t0 = now();
        for (const auto& r : m_workload) {
            Slot s;
            s.request = r;
            s.scheduledMs = t0 + r.arrivalSeconds * 1000 / m_config.speed;
            capToContext(s.request);
            m_slots.push_back(std::move(s));
        }
        m_result.scheduleSeconds = m_workload.back().arrivalSeconds / m_config.speed;
        pump();
    }

    void capToContext(engine::WorkloadRequest& r) {
        const int ctx = m_result.contextLength;
        if (!m_config.capToContext || ctx < 2 || r.promptTokens + r.outputTokens <= ctx) return;
        r.outputTokens = std::min(r.outputTokens, std::max(1, ctx / 2));
        r.promptTokens = std::min(r.promptTokens, ctx - r.outputTokens);
        ++m_result.capped;
    }

    /// Sends every request that is due while a connection has room; re-arms the timer.
    void pump() {
        while (m_next < m_slots.size() && m_slots[m_next].scheduledMs <= now()) {
            const int conn = leastBusyConnection();
            if (conn < 0) return;  // every connection is full: a reply calls pump() again
            send(m_next++, conn);
        }
        if (m_next < m_slots.size())
            m_sendTimer.start(std::max(0, int(m_slots[m_next].scheduledMs - now())));
    }

    int leastBusyConnection() const {
        int best = -1;
        for (int i = 0; i < int(m_connections.size()); ++i) {
            const Connection& c = m_connections[std::size_t(i)];
            if (c.lost || !c.welcomed || c.inFlight >= m_maxPerConnection) continue;
            if (best < 0 || c.inFlight < m_connections[std::size_t(best)].inFlight) best = i;
        }
        return best;
    }

    void send(std::size_t i, int conn) {
        Slot& s = m_slots[i];
        const auto& r = s.request;
        const std::string prompt = m_builder->build(r.promptTokens, 0x243f6a8885a308d3ULL + i, r.prefixBlockHashes);
        s.connection = conn;
        s.sentMs = now();
        ++m_connections[std::size_t(conn)].inFlight;
        ++m_result.sent;
        sendOn(*m_connections[std::size_t(conn)].socket,
               {{"type", "generate"}, {"id", int(i)}, {"prompt", QString::fromStdString(prompt)},
                {"max_tokens", r.outputTokens}, {"priority", std::clamp(r.priority, 0, 3)}, {"ignore_eos", true},
                {"temperature", 0}, {"stream", true}});
    }

    void scheduleCancel(int i) {
        const Slot& s = m_slots[std::size_t(i)];
        const double at = s.sentMs + *s.request.cancelAfterSeconds * 1000 / m_config.speed;
        QTimer::singleShot(std::max(0, int(at - now())), this, [this, i] {
            const Slot& slot = m_slots[std::size_t(i)];
            Connection& c = m_connections[std::size_t(slot.connection)];
            if (!slot.complete && !c.lost)
                sendOn(*c.socket, {{"type", "cancel"}, {"id", QStringLiteral("x:%1").arg(i)}, {"request_id", slot.requestId}});
        });
    }

    void onDone(int i, const QJsonObject& m) {
        Slot& s = m_slots[std::size_t(i)];
        s.doneMs = now();
        const QString reason = m.value("finish_reason").toString();
        const QJsonObject usage = m.value("usage").toObject();
        ++m_result.promptChecked;
        if (usage.value("prompt_tokens").toInt() == s.request.promptTokens) ++m_result.promptExact;
        m_outputTokens += usage.value("completion_tokens").toDouble();
        if (reason == QLatin1String("cancelled")) {
            ++m_result.cancelled;
        } else if (reason == QLatin1String("error") || reason == QLatin1String("timeout")) {
            ++m_result.failed;
            ++m_result.failures[reason];
        } else {
            ++m_result.finished;
            if (s.firstTokenMs >= 0) {
                m_ttft.push_back(s.firstTokenMs - s.sentMs);
                m_ttftFromArrival.push_back(s.firstTokenMs - s.scheduledMs);
            }
            m_endToEnd.push_back(s.doneMs - s.sentMs);
        }
        complete(i);
    }

    void complete(int i) {
        Slot& s = m_slots[std::size_t(i)];
        s.complete = true;
        if (s.doneMs < 0) s.doneMs = now();
        m_lastReplyMs = std::max(m_lastReplyMs, s.doneMs);
        --m_connections[std::size_t(s.connection)].inFlight;
        if (++m_completed == int(m_slots.size())) return finish();
        pump();
    }

    /// A connection closed: its requests in flight are lost; the others carry on.
    void onLost(int conn) {
        if (m_finished) return;
        Connection& c = m_connections[std::size_t(conn)];
        if (c.lost) return;  // both error and disconnected arrive
        c.lost = true;
        if (!m_started) return fail(QStringLiteral("could not connect: ") + c.socket->errorString());
        for (std::size_t i = 0; i < m_next; ++i)
            if (!m_slots[i].complete && m_slots[i].connection == conn) {
                ++m_result.failed;
                ++m_result.failures[QStringLiteral("connection_lost")];
                complete(int(i));
                if (m_finished) return;
            }
        if (leastBusyConnection() < 0 &&
            std::all_of(m_connections.begin(), m_connections.end(), [](const Connection& x) { return x.lost; }))
            failUnanswered(QStringLiteral("connection_lost"), QStringLiteral("every connection to the server was lost"));
    }

    void onTimeout(double seconds) {
        if (m_finished) return;
        failUnanswered(QStringLiteral("no_reply"), QStringLiteral("timed out after %1 s").arg(seconds));
    }

    void failUnanswered(const QString& code, const QString& error) {
        m_result.error = error;
        const int unanswered = int(m_workload.size()) - m_completed;
        m_result.failed += unanswered;
        if (unanswered > 0) m_result.failures[code] += unanswered;
        finish();
    }

    void finish() {
        if (m_finished) return;
        m_finished = true;
        m_sendTimer.stop();
        std::vector<double> lag;
        double firstSend = -1, lastSend = -1;
        for (const Slot& s : m_slots) {
            if (s.sentMs < 0) continue;
            lag.push_back(s.sentMs - s.scheduledMs);
            if (firstSend < 0) firstSend = s.sentMs;
            lastSend = std::max(lastSend, s.sentMs);
        }
        m_result.ttftMs = engine::summarizeSamples(m_ttft);
        m_result.endToEndMs = engine::summarizeSamples(m_endToEnd);
        m_result.sendLagMs = engine::summarizeSamples(lag);
        m_result.ttftFromArrivalMs = engine::summarizeSamples(m_ttftFromArrival);
        if (firstSend >= 0) m_result.wallSeconds = std::max(0.0, (std::max(m_lastReplyMs, lastSend) - firstSend) / 1000);
        if (m_result.sent > 1 && lastSend > firstSend)
            m_result.achievedRate = (m_result.sent - 1) / ((lastSend - firstSend) / 1000);
        if (m_result.wallSeconds > 0) m_result.outputTokensPerSecond = m_outputTokens / m_result.wallSeconds;
        m_loop.quit();
    }

    const std::vector<engine::WorkloadRequest>& m_workload;
    const TraceLoadConfig& m_config;
    TraceLoadResult& m_result;
    QEventLoop m_loop;
    QElapsedTimer m_clock;
    QTimer m_sendTimer;
    std::vector<Connection> m_connections;
    std::vector<Slot> m_slots;
    engine::PromptCalibration m_calibration;
    std::deque<engine::PromptCalibration::Probe> m_probeQueue;
    std::optional<engine::SyntheticPromptBuilder> m_builder;
    std::size_t m_next = 0;
    int m_maxPerConnection = 64, m_completed = 0;
    bool m_started = false, m_finished = false;
    double m_lastReplyMs = 0, m_outputTokens = 0;
    std::vector<double> m_ttft, m_endToEnd, m_ttftFromArrival;
};

}  // namespace

TraceLoadResult runTraceLoad(const QUrl& url, const QString& token, const std::vector<engine::WorkloadRequest>& workload,
                             const TraceLoadConfig& config) {
    TraceLoadResult result;
    if (workload.empty()) {
        result.error = QStringLiteral("the workload has no requests");
        return result;
    }
    if (!(config.speed > 0)) {
        result.error = QStringLiteral("speed must be > 0");
        return result;
    }
    TraceLoadDriver driver(workload, config, result);
    driver.run(url, token);
    return result;
}

}  // namespace batchscope::app::api
