// Any OpenAI-compatible inference server with Prometheus metrics (vLLM, SGLang, TGI, llama.cpp's
// server with --metrics): GET /metrics scraped periodically into the Server metrics panel, and
// the composer's prompts sent as streaming POST /v1/completions whose server-sent events feed
// the request table and the output pane.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <QElapsedTimer>
#include <QNetworkAccessManager>
#include <QPointer>
#include <QTimer>
#include <QUrl>
#include <deque>
#include <map>

#include "app/remote/server_metrics_reader.h"
#include "app/remote/remote_source.h"
#include "app/remote/sse_parser.h"

class QNetworkReply;

namespace batchscope::app::remote {

/// GUI thread only; all I/O is asynchronous (QNetworkAccessManager). Request ids are this
/// window's own (1, 2, ...): the server's ids are not exposed by the OpenAI API. Cancel aborts
/// the reply, which closes the stream (vLLM and the others abort the request on disconnect).
/// A scrape that fails (refused, timeout, server gone) switches to Reconnecting and retries
/// with exponential backoff; HTTP 401/403 is Unauthorized (not retried).
class OpenAiSource : public RemoteSource {
    Q_OBJECT
public:
    /// `base`: the server's root, e.g. http://10.0.0.5:8000 (paths /metrics, /v1/... are added).
    OpenAiSource(const QUrl& base, const QString& token, QObject* parent = nullptr);
    ~OpenAiSource() override;

    QString displayName() const override;
    QString kindName() const override { return QStringLiteral("openai"); }
    QList<std::pair<SourcePanel, QString>> unavailablePanels() const override;

    void start() override;
    void stop() override;
    void submit(const QString& prompt, const engine::GenerationOptions& options, int count) override;
    void cancel(engine::RequestId id) override;
    void setPriority(engine::RequestId id, engine::Priority priority) override;

    void setScrapeIntervalMs(int ms) { m_scrapeTimer.setInterval(ms); }
    const ServerMetricsReader& metricsReader() const { return m_reader; }
    QString modelName() const { return m_modelName; }
    int activeRequestCount() const { return int(m_active.size()); }

protected:
    void reconnect() override;

private:
    struct Active {
        QPointer<QNetworkReply> reply;
        engine::RequestSnapshot snap;
        SseParser parser;
        std::string text;
        std::string finishReason;  ///< the server's, e.g. "stop", "length"
        std::string error;
        bool done = false;         ///< `data: [DONE]` seen
        bool cancelled = false;
        double firstTokenMs = -1;
    };

    void scrape();
    void onScrapeFinished(QNetworkReply* reply);
    void fetchModels();
    void onStreamData(engine::RequestId id);
    void onStreamFinished(engine::RequestId id);
    void handleEvent(Active& a, const std::string& data);
    void publishSnapshot();
    double nowMs() const { return double(m_clock.nsecsElapsed()) / 1e6; }
    QNetworkRequest makeRequest(const QString& path) const;
    /// Hooks the reply's certificate errors to the TLS trust (RemoteSource::acceptSslErrors).
    QNetworkReply* watch(QNetworkReply* reply);

    QNetworkAccessManager m_nam;
    QTimer m_scrapeTimer, m_snapshotTimer;
    QElapsedTimer m_clock;
    ServerMetricsReader m_reader;
    QPointer<QNetworkReply> m_scrapeReply;
    QString m_modelName;
    engine::RequestId m_nextId = 1;
    std::map<engine::RequestId, Active> m_active;
    std::deque<engine::RequestSnapshot> m_recent;  ///< finished in the last 2 s
    ui::ServerMetricsSample m_lastMetrics;
};

}  // namespace batchscope::app::remote
