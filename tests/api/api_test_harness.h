// Test scaffolding for the live API server: a simulated-executor engine behind a real
// EngineBridge and ApiServer on loopback, and a QWebSocket client that records what it gets.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <QHash>
#include <QJsonDocument>
#include <QJsonObject>
#include <QList>
#include <QNetworkRequest>
#include <QTest>
#include <QWebSocket>
#include <functional>
#include <memory>

#include "app/api/api_server.h"
#include "app/bridge/engine_bridge.h"
#include "engine/model/simulated_executor.h"
#include "engine/runtime/engine.h"

namespace batchscope::app::api::test {

inline const QString kToken = QStringLiteral("0123456789abcdef0123456789abcdef-test");

struct HarnessConfig {
    engine::EngineConfig engine;
    engine::SimulatedExecutorConfig executor;
    ApiServerOptions server;
    bool withEngine = true;

    HarnessConfig() {
        executor.stepOverheadUs = 300;
        executor.perTokenUs = 2;
        executor.eosProbability = 0;   // generations run to max_tokens: exact counts
        executor.contextLength = 256;  // the hostile table's max_tokens bound
        engine.numKvBlocks = 2048;
        engine.settings.maxBatchSize = 256;
        engine.settings.tokenBudget = 4096;
        engine.settings.agingIntervalMs = 0;
        server.token = kToken;
    }
};

/// Engine + bridge + server. Records every engine result (the reference for text checks).
class Harness {
public:
    explicit Harness(const HarnessConfig& config = {}) {
        if (config.withEngine) {
            auto engine = engine::Engine::create(
                config.engine, std::make_unique<engine::SimulatedExecutor>(config.executor));
            if (!engine) qFatal("engine: %s", engine.error().message.c_str());
            bridge.setEngine(std::move(engine.value()));
        }
        QObject::connect(&bridge, &EngineBridge::requestFinished, &bridge,
                         [this](const engine::GenerationResult& r) { results.insert(r.id, r); });
        server = std::make_unique<ApiServer>(bridge, config.server);
        QString error;
        if (!server->listen(&error)) qFatal("listen: %s", qPrintable(error));
    }
    ~Harness() { server.reset(); }

    void setPaused(bool paused) {
        auto settings = bridge.engine()->settings();
        settings.paused = paused;
        bridge.applySettings(settings);
    }

    // Declared first: the bridge's destructor still delivers (cancelled) results.
    QHash<engine::RequestId, engine::GenerationResult> results;
    EngineBridge bridge;
    std::unique_ptr<ApiServer> server;
};

/// A WebSocket client on the test's thread; everything it receives is parsed and kept.
class Client : public QObject {
public:
    explicit Client(const QString& origin = {}) : socket(origin) {
        connect(&socket, &QWebSocket::textMessageReceived, this, [this](const QString& text) {
            messages.append(QJsonDocument::fromJson(text.toUtf8()).object());
        });
        connect(&socket, &QWebSocket::disconnected, this, [this] {
            disconnected = true;
            closeCode = socket.closeCode();
        });
    }

    /// Opens; with bearer true the token goes in the Authorization header. True when open.
    bool open(const QUrl& url, bool bearer = true, const QString& token = kToken) {
        startOpen(url, bearer, token);
        return QTest::qWaitFor([this] { return settled(); }, 10000) && isOpen();
    }
    void startOpen(const QUrl& url, bool bearer = true, const QString& token = kToken) {
        QNetworkRequest request(url);
        if (bearer) request.setRawHeader("Authorization", "Bearer " + token.toUtf8());
        socket.open(request);
    }
    bool isOpen() const { return socket.state() == QAbstractSocket::ConnectedState; }
    bool settled() const {
        return isOpen() || disconnected || socket.error() != QAbstractSocket::UnknownSocketError;
    }

    void send(const QJsonObject& message) {
        socket.sendTextMessage(QString::fromUtf8(QJsonDocument(message).toJson(QJsonDocument::Compact)));
    }
    void sendRaw(const QByteArray& frame) { socket.sendTextMessage(QString::fromUtf8(frame)); }

    /// Index of the first message from `from` on that matches, or -1 after the timeout.
    int waitFor(const std::function<bool(const QJsonObject&)>& match, int timeoutMs = 10000, int from = 0) {
        int found = -1;
        (void)QTest::qWaitFor([&] {
            for (int i = from; i < messages.size(); ++i)
                if (match(messages[i])) {
                    found = i;
                    return true;
                }
            return false;
        }, timeoutMs);
        return found;
    }
    /// The first reply of `type` carrying client id `id` (or an empty object).
    QJsonObject waitReply(const QString& type, const QJsonValue& id, int timeoutMs = 10000) {
        const int i = waitFor([&](const QJsonObject& m) {
            return m.value("type").toString() == type && m.value("id") == id;
        }, timeoutMs);
        return i < 0 ? QJsonObject() : messages[i];
    }
    QJsonObject waitError(const QJsonValue& id, int timeoutMs = 10000) { return waitReply("error", id, timeoutMs); }
    bool waitClosed(int timeoutMs = 10000) {
        return QTest::qWaitFor([this] { return disconnected; }, timeoutMs);
    }
    int count(const QString& type) const {
        int n = 0;
        for (const auto& m : messages) n += m.value("type").toString() == type;
        return n;
    }

    QWebSocket socket;
    QList<QJsonObject> messages;
    bool disconnected = false;
    int closeCode = 0;
};

inline QJsonObject generateMessage(const QJsonValue& id, const QString& prompt, int maxTokens,
                                   bool stream = true) {
    return {{"type", "generate"}, {"id", id}, {"prompt", prompt}, {"max_tokens", maxTokens},
            {"stream", stream}, {"seed", 7}};
}

}  // namespace batchscope::app::api::test
