// SPDX-License-Identifier: GPL-3.0-or-later
#include "app/api/api_load_bench.h"

#include <QElapsedTimer>
#include <QEventLoop>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkRequest>
#include <QTimer>
#include <QWebSocket>
#include <algorithm>
#include <memory>
#include <vector>

#include "engine/metrics/percentile.h"

namespace batchscope::app::api {
namespace {

struct Sample {
    double socketTtftMs = -1;
    double engineTtftMs = 0;
    double endToEndMs = 0;
    int tokens = 0;
};

/// One closed-loop client: sends a generate, waits for done, sends the next.
class LoadClient : public QObject {
public:
    LoadClient(const ApiLoadBenchConfig& config, const QElapsedTimer& clock, std::function<void()> onIdle)
        : m_config(config), m_clock(clock), m_onIdle(std::move(onIdle)) {
        connect(&m_socket, &QWebSocket::connected, this, [this] { sendNext(); });
        connect(&m_socket, &QWebSocket::textMessageReceived, this, &LoadClient::onMessage);
        connect(&m_socket, &QWebSocket::disconnected, this, &LoadClient::failRest);
        connect(&m_socket, qOverload<QAbstractSocket::SocketError>(&QWebSocket::error), this, &LoadClient::failRest);
    }
    void start(const QUrl& url, const QString& token) {
        QNetworkRequest request(url);
        request.setRawHeader("Authorization", "Bearer " + token.toUtf8());
        m_socket.open(request);
    }
    bool done() const { return m_finished >= m_config.requestsPerClient; }
    int failed() const { return m_failed; }
    const std::vector<Sample>& samples() const { return m_samples; }

private:
    double now() const { return double(m_clock.nsecsElapsed()) / 1e6; }

    void sendNext() {
        if (m_sent >= m_config.requestsPerClient) return;
        const QJsonObject generate{{"type", "generate"}, {"id", m_sent},
                                   {"prompt", m_config.prompt}, {"max_tokens", m_config.maxTokens},
                                   {"ignore_eos", m_config.ignoreEos}, {"temperature", 0}};
        ++m_sent;
        m_waiting = true;
        m_current = Sample{};
        m_sentAt = now();
        m_socket.sendTextMessage(QString::fromUtf8(QJsonDocument(generate).toJson(QJsonDocument::Compact)));
    }

    void onMessage(const QString& text) {
        const QJsonObject m = QJsonDocument::fromJson(text.toUtf8()).object();
        const QString type = m.value(QLatin1String("type")).toString();
        if (type == QLatin1String("token")) {
            if (m_current.socketTtftMs < 0) m_current.socketTtftMs = now() - m_sentAt;
        } else if (type == QLatin1String("done")) {
            m_current.endToEndMs = now() - m_sentAt;
            m_current.engineTtftMs = m.value("timings").toObject().value("ttft_ms").toDouble();
            m_current.tokens = m.value("usage").toObject().value("completion_tokens").toInt();
            if (m.value("finish_reason").toString() == QLatin1String("error") || m_current.socketTtftMs < 0)
                ++m_failed;
            else
                m_samples.push_back(m_current);
            completeOne();
        } else if (type == QLatin1String("error")) {
            ++m_failed;
            completeOne();
        }
    }

    /// The connection is gone (or never came): every request not finished counts as failed.
    void failRest() {
        if (done()) return;
        m_failed += m_config.requestsPerClient - m_finished;
        m_finished = m_config.requestsPerClient;
        m_onIdle();
    }

    void completeOne() {
        m_waiting = false;
        ++m_finished;
        if (!done()) sendNext();
        finishIfDone();
    }
    void finishIfDone() {
        if (done()) m_onIdle();
    }

    const ApiLoadBenchConfig& m_config;
    const QElapsedTimer& m_clock;
    std::function<void()> m_onIdle;
    QWebSocket m_socket;
    int m_sent = 0, m_finished = 0, m_failed = 0;
    bool m_waiting = false;
    double m_sentAt = 0;
    Sample m_current;
    std::vector<Sample> m_samples;
};

engine::LatencySummary summarize(std::vector<double> values) { return engine::summarizeSamples(std::move(values)); }

}  // namespace

ApiLoadBenchResult runApiLoadBench(const QUrl& url, const QString& token, const ApiLoadBenchConfig& config) {
    ApiLoadBenchResult result;
    result.clients = config.clients;
    result.requests = config.clients * config.requestsPerClient;
    QElapsedTimer clock;
    clock.start();
    QEventLoop loop;
    int idle = 0;
    std::vector<std::unique_ptr<LoadClient>> clients;
    for (int i = 0; i < config.clients; ++i)
        clients.push_back(std::make_unique<LoadClient>(config, clock, [&] {
            if (++idle == config.clients) loop.quit();
        }));
    for (auto& c : clients) c->start(url, token);
    QTimer::singleShot(config.timeoutMs, &loop, &QEventLoop::quit);
    if (config.clients > 0) loop.exec();
    result.wallSeconds = double(clock.nsecsElapsed()) / 1e9;
    if (idle < config.clients) result.error = QStringLiteral("timed out after %1 ms").arg(config.timeoutMs);

    std::vector<double> socketTtft, engineTtft, added, endToEnd;
    double tokens = 0;
    for (const auto& c : clients) {
        result.failed += c->failed();
        for (const Sample& s : c->samples()) {
            ++result.completed;
            tokens += s.tokens;
            socketTtft.push_back(s.socketTtftMs);
            engineTtft.push_back(s.engineTtftMs);
            added.push_back(s.socketTtftMs - s.engineTtftMs);
            endToEnd.push_back(s.endToEndMs);
        }
    }
    // After a timeout, requests never answered count as failed too.
    result.failed = std::max(result.failed, result.requests - result.completed);
    result.requestsPerSecond = result.wallSeconds > 0 ? result.completed / result.wallSeconds : 0;
    result.tokensPerSecond = result.wallSeconds > 0 ? tokens / result.wallSeconds : 0;
    result.socketTtftMs = summarize(socketTtft);
    result.engineTtftMs = summarize(engineTtft);
    result.addedTtftMs = summarize(added);
    result.socketEndToEndMs = summarize(endToEnd);
    return result;
}

}  // namespace batchscope::app::api
