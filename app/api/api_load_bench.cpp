// SPDX-License-Identifier: GPL-3.0-or-later
#include "app/api/api_load_bench.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkRequest>
#include <QThread>
#include <QTimer>
#include <QWebSocket>
#include <algorithm>
#include <atomic>
#include <functional>
#include <memory>
#include <vector>

#include "app/api/load_start_line.h"
#include "engine/metrics/percentile.h"

namespace batchscope::app::api {
namespace {

struct Sample {
    double socketTtftMs = -1;
    double engineTtftMs = 0;
    double endToEndMs = 0;
    int tokens = 0;
};

/// What one client thread hands back (read by the calling thread after joining it).
struct ClientOutcome {
    std::vector<Sample> samples;
    int failed = 0;
    int finished = 0;
    double startedAt = -1;   ///< ms on the shared clock: first request sent
    double finishedAt = -1;  ///< ms: last request answered
};

/// One closed-loop client on its own thread: connects, waits at the start line for the
/// others, then sends a generate, waits for done, sends the next.
class LoadClient : public QObject {
public:
    LoadClient(const ApiLoadBenchConfig& config, const QElapsedTimer& clock, LoadStartLine& startLine,
               std::function<void()> onIdle)
        : m_config(config), m_clock(clock), m_startLine(startLine), m_onIdle(std::move(onIdle)) {
        connect(&m_socket, &QWebSocket::connected, this, &LoadClient::onConnected);
        connect(&m_socket, &QWebSocket::textMessageReceived, this, &LoadClient::onMessage);
        connect(&m_socket, &QWebSocket::disconnected, this, &LoadClient::failRest);
        connect(&m_socket, qOverload<QAbstractSocket::SocketError>(&QWebSocket::error), this, &LoadClient::failRest);
    }
    void start(const QUrl& url, const QString& token) {
        QNetworkRequest request(url);
        request.setRawHeader("Authorization", "Bearer " + token.toUtf8());
        m_socket.open(request);
    }
    bool done() const { return m_out.finished >= m_config.requestsPerClient; }
    ClientOutcome takeOutcome() {
        arrive();  // never connected (timed out): the others must not wait for this one
        m_out.failed = std::max(m_out.failed, m_config.requestsPerClient - int(m_out.samples.size()));
        return std::move(m_out);
    }

private:
    double now() const { return double(m_clock.nsecsElapsed()) / 1e6; }

    void arrive() {
        if (std::exchange(m_arrived, true)) return;
        m_startLine.arrive();
    }
    void onConnected() {
        m_arrived = true;
        // Blocks only this client's thread; incoming frames wait in the socket meanwhile.
        m_startLine.arriveAndWait(std::chrono::milliseconds(m_config.timeoutMs));
        m_out.startedAt = now();
        sendNext();
    }

    void sendNext() {
        if (m_sent >= m_config.requestsPerClient) return;
        const QJsonObject generate{{"type", "generate"}, {"id", m_sent},
                                   {"prompt", m_config.prompt}, {"max_tokens", m_config.maxTokens},
                                   {"ignore_eos", m_config.ignoreEos}, {"temperature", 0}};
        ++m_sent;
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
                ++m_out.failed;
            else
                m_out.samples.push_back(m_current);
            completeOne();
        } else if (type == QLatin1String("error")) {
            ++m_out.failed;
            completeOne();
        }
    }

    /// The connection is gone (or never came): every request not finished counts as failed.
    void failRest() {
        arrive();
        if (done()) return;
        m_out.failed += m_config.requestsPerClient - m_out.finished;
        m_out.finished = m_config.requestsPerClient;
        m_onIdle();
    }

    void completeOne() {
        ++m_out.finished;
        if (!done()) {
            sendNext();
            return;
        }
        m_out.finishedAt = now();
        m_onIdle();
    }

    const ApiLoadBenchConfig& m_config;
    const QElapsedTimer& m_clock;
    LoadStartLine& m_startLine;
    std::function<void()> m_onIdle;
    QWebSocket m_socket;
    bool m_arrived = false;
    int m_sent = 0;
    double m_sentAt = 0;
    Sample m_current;
    ClientOutcome m_out;
};

/// The body of a client thread: its own event loop until its requests are done or the run's
/// timeout passes.
ClientOutcome runClient(const QUrl& url, const QString& token, const ApiLoadBenchConfig& config,
                        const QElapsedTimer& clock, LoadStartLine& startLine) {
    QEventLoop loop;
    LoadClient client(config, clock, startLine, [&loop] { loop.quit(); });
    client.start(url, token);
    QTimer::singleShot(config.timeoutMs, &loop, &QEventLoop::quit);
    loop.exec();
    return client.takeOutcome();
}

engine::LatencySummary summarize(std::vector<double> values) { return engine::summarizeSamples(std::move(values)); }

}  // namespace

ApiLoadBenchResult runApiLoadBench(const QUrl& url, const QString& token, const ApiLoadBenchConfig& config) {
    ApiLoadBenchResult result;
    result.clients = config.clients;
    result.requests = config.clients * config.requestsPerClient;
    QElapsedTimer clock;
    clock.start();
    LoadStartLine startLine(config.clients);
    std::vector<ClientOutcome> outcomes(std::size_t(std::max(0, config.clients)));
    std::atomic<int> running{config.clients};
    QEventLoop loop;  // the server may live on this thread: keep its events turning
    std::vector<std::unique_ptr<QThread>> threads;
    for (int i = 0; i < config.clients; ++i) {
        threads.emplace_back(QThread::create([&, i] {
            outcomes[std::size_t(i)] = runClient(url, token, config, clock, startLine);
            if (--running == 0) QMetaObject::invokeMethod(&loop, "quit", Qt::QueuedConnection);
        }));
        threads.back()->start();
    }
    QTimer::singleShot(config.timeoutMs, &loop, &QEventLoop::quit);
    if (config.clients > 0) loop.exec();
    if (running.load() > 0) result.error = QStringLiteral("timed out after %1 ms").arg(config.timeoutMs);
    // Every client's loop ends at the same timeout; keep serving until they have.
    while (running.load() > 0) QCoreApplication::processEvents(QEventLoop::AllEvents, 10);
    for (auto& t : threads) t->wait();
    const double endedAt = double(clock.nsecsElapsed()) / 1e6;

    // Timed from the start line (the first request sent) to the last request answered.
    double firstStart = -1, lastFinish = -1;
    std::vector<double> socketTtft, engineTtft, added, endToEnd;
    double tokens = 0;
    for (const ClientOutcome& c : outcomes) {
        result.failed += c.failed;
        if (c.startedAt >= 0) firstStart = firstStart < 0 ? c.startedAt : std::min(firstStart, c.startedAt);
        lastFinish = std::max(lastFinish, c.finishedAt);
        for (const Sample& s : c.samples) {
            ++result.completed;
            tokens += s.tokens;
            socketTtft.push_back(s.socketTtftMs);
            engineTtft.push_back(s.engineTtftMs);
            added.push_back(s.socketTtftMs - s.engineTtftMs);
            endToEnd.push_back(s.endToEndMs);
        }
    }
    if (firstStart < 0) firstStart = 0;
    if (lastFinish < firstStart || result.completed < result.requests) lastFinish = endedAt;
    result.wallSeconds = (lastFinish - firstStart) / 1e3;
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
