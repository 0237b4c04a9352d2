// SPDX-License-Identifier: GPL-3.0-or-later
#include "app/api/http_load_bench.h"

#include <httplib.h>

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QHash>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTimer>
#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

#include "app/api/load_start_line.h"
#include "engine/metrics/percentile.h"

namespace batchscope::app::api {
namespace {

struct HttpSample {
    engine::RequestId id = engine::kInvalidRequestId;
    double clientTtftMs = -1;  ///< request sent -> first chunk with text received
    double endToEndMs = 0;     ///< request sent -> "data: [DONE]" received
    int tokens = 0;            ///< usage.completion_tokens of the usage chunk
};

/// Reads one streamed response: the request id, the first text, the usage, [DONE].
class SseReader {
public:
    SseReader(const QElapsedTimer& clock, double sentAt, HttpSample& sample)
        : m_clock(clock), m_sentAt(sentAt), m_sample(sample) {}
    bool feed(const char* data, std::size_t size) {
        m_buffer.append(data, qsizetype(size));
        qsizetype end;
        while ((end = m_buffer.indexOf("\n\n")) >= 0) {
            event(m_buffer.left(end));
            m_buffer.remove(0, end + 2);
        }
        return true;
    }
    bool done() const { return m_done; }

private:
    double now() const { return double(m_clock.nsecsElapsed()) / 1e6; }
    void event(const QByteArray& e) {
        if (!e.startsWith("data: ")) return;  // keep-alive comments
        if (e == "data: [DONE]") {
            m_done = true;
            m_sample.endToEndMs = now() - m_sentAt;
            return;
        }
        const QJsonObject o = QJsonDocument::fromJson(e.mid(6)).object();
        if (m_sample.id == engine::kInvalidRequestId)
            m_sample.id = o.value("id").toString().section('-', 1).toULongLong();
        const QJsonArray choices = o.value("choices").toArray();
        if (m_sample.clientTtftMs < 0 && !choices.isEmpty() && !choices.at(0).toObject().value("text").toString().isEmpty())
            m_sample.clientTtftMs = now() - m_sentAt;
        if (o.contains("usage")) m_sample.tokens = o.value("usage").toObject().value("completion_tokens").toInt();
    }

    const QElapsedTimer& m_clock;
    double m_sentAt;
    HttpSample& m_sample;
    QByteArray m_buffer;
    bool m_done = false;
};

/// One closed-loop client on its own thread: a request, its whole stream, the next request.
/// What the client threads share; guarded by `mutex` except the start line (its own lock).
struct SharedOutcome {
    std::mutex mutex;
    std::vector<HttpSample> samples;
    int failed = 0;
    QString firstFailure;
    double firstStart = -1;  ///< ms on the shared clock: the first request sent
    double lastFinish = -1;  ///< ms: the last request answered
};

void runClient(const QUrl& url, const std::string& body, const httplib::Headers& headers, const ApiLoadBenchConfig& config,
               const QElapsedTimer& clock, LoadStartLine& startLine, SharedOutcome& shared) {
    httplib::Client client(url.host().toStdString(), url.port());
    client.set_keep_alive(true);
    client.set_read_timeout(std::chrono::milliseconds(config.timeoutMs));
    client.set_tcp_nodelay(true);
    // Open the keep-alive connection before the first timed request, as the WebSocket bench
    // times its requests on an open socket: TTFT is then a request's, not the TCP connect's
    // (100 clients connecting at once queue in the kernel's accept backlog for tens of ms).
    if (client.Get("/health", headers))
        startLine.arriveAndWait(std::chrono::milliseconds(config.timeoutMs));
    else
        startLine.arrive();  // its requests fail below; the others need not wait for it
    {
        const double startedAt = double(clock.nsecsElapsed()) / 1e6;
        std::lock_guard lock(shared.mutex);
        shared.firstStart = shared.firstStart < 0 ? startedAt : std::min(shared.firstStart, startedAt);
    }
    for (int i = 0; i < config.requestsPerClient; ++i) {
        HttpSample sample;
        httplib::Request request;
        request.method = "POST";
        request.path = "/v1/completions";
        request.headers = headers;
        request.body = body;
        const double sentAt = double(clock.nsecsElapsed()) / 1e6;
        SseReader reader(clock, sentAt, sample);
        request.content_receiver = [&reader](const char* data, std::size_t size, std::uint64_t, std::uint64_t) {
            return reader.feed(data, size);
        };
        httplib::Response response;
        httplib::Error error = httplib::Error::Success;
        const bool ok = client.send(request, response, error) && response.status == 200 && reader.done() &&
                        sample.clientTtftMs >= 0 && sample.id != engine::kInvalidRequestId;
        std::lock_guard lock(shared.mutex);
        shared.lastFinish = std::max(shared.lastFinish, double(clock.nsecsElapsed()) / 1e6);
        if (ok) {
            shared.samples.push_back(sample);
            continue;
        }
        ++shared.failed;
        if (shared.firstFailure.isEmpty())
            shared.firstFailure = QStringLiteral("%1, HTTP %2, %3").arg(QString::fromStdString(httplib::to_string(error)))
                               .arg(response.status).arg(reader.done() ? "stream complete" : "stream incomplete");
    }
}

}  // namespace

ApiLoadBenchResult runHttpLoadBench(const QUrl& url, const QString& token, const ApiLoadBenchConfig& config,
                                    EngineBridge& bridge) {
    ApiLoadBenchResult result;
    result.clients = config.clients;
    result.requests = config.clients * config.requestsPerClient;
    QHash<engine::RequestId, double> engineTtft;  // main thread only
    const auto connection = QObject::connect(&bridge, &EngineBridge::requestFinished, &bridge,
                                             [&](const engine::GenerationResult& r) {
                                                 engineTtft.insert(r.id, r.timings.timeToFirstTokenMs);
                                             });
    const QJsonObject request{{"prompt", config.prompt}, {"max_tokens", config.maxTokens}, {"temperature", 0},
                              {"ignore_eos", config.ignoreEos}, {"stream", true},
                              {"stream_options", QJsonObject{{"include_usage", true}}}};
    const std::string body = QJsonDocument(request).toJson(QJsonDocument::Compact).toStdString();
    const httplib::Headers headers{{"Authorization", "Bearer " + token.toStdString()},
                                   {"Content-Type", "application/json"}};
    SharedOutcome shared;
    LoadStartLine startLine(config.clients);
    std::atomic<int> running{config.clients};
    QEventLoop loop;
    QElapsedTimer clock;
    clock.start();
    std::vector<std::thread> threads;
    for (int i = 0; i < config.clients; ++i)
        threads.emplace_back([&] {
            runClient(url, body, headers, config, clock, startLine, shared);
            if (--running == 0) QMetaObject::invokeMethod(&loop, "quit", Qt::QueuedConnection);
        });
    QTimer::singleShot(config.timeoutMs, &loop, &QEventLoop::quit);
    if (config.clients > 0) loop.exec();
    if (running.load() > 0) result.error = QStringLiteral("timed out after %1 ms").arg(config.timeoutMs);
    // The clients' read timeout equals the run's, so every thread ends soon after a timeout;
    // the event loop keeps turning meanwhile (the server needs it).
    while (running.load() > 0) QCoreApplication::processEvents(QEventLoop::AllEvents, 10);
    const double endedAt = double(clock.nsecsElapsed()) / 1e6;
    for (auto& t : threads) t.join();
    QCoreApplication::processEvents();
    QObject::disconnect(connection);

    std::vector<double> clientTtft, engineTtftMs, added, endToEnd;
    double tokens = 0;
    int failed = shared.failed;
    for (const HttpSample& s : shared.samples) {
        const auto it = engineTtft.constFind(s.id);
        if (it == engineTtft.constEnd()) {
            ++failed;
            continue;
        }
        ++result.completed;
        tokens += s.tokens;
        clientTtft.push_back(s.clientTtftMs);
        engineTtftMs.push_back(*it);
        added.push_back(s.clientTtftMs - *it);
        endToEnd.push_back(s.endToEndMs);
    }
    result.failed = std::max(failed, result.requests - result.completed);
    if (result.failed && result.error.isEmpty() && !shared.firstFailure.isEmpty())
        result.error = QStringLiteral("first failure: ") + shared.firstFailure;
    // Timed from the start line (the first request sent) to the last request answered.
    const double firstStart = std::max(0.0, shared.firstStart);
    const double lastFinish = result.completed < result.requests || shared.lastFinish < firstStart ? endedAt
                                                                                                   : shared.lastFinish;
    result.wallSeconds = (lastFinish - firstStart) / 1e3;
    result.requestsPerSecond = result.wallSeconds > 0 ? result.completed / result.wallSeconds : 0;
    result.tokensPerSecond = result.wallSeconds > 0 ? tokens / result.wallSeconds : 0;
    result.socketTtftMs = engine::summarizeSamples(std::move(clientTtft));
    result.engineTtftMs = engine::summarizeSamples(std::move(engineTtftMs));
    result.addedTtftMs = engine::summarizeSamples(std::move(added));
    result.socketEndToEndMs = engine::summarizeSamples(std::move(endToEnd));
    return result;
}

}  // namespace batchscope::app::api
