// SPDX-License-Identifier: GPL-3.0-or-later
#include "app/api/http_api_server.h"

#include <httplib.h>

#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>
#include <QtDebug>
#include <atomic>
#include <cstdlib>
#include <map>
#include <set>
#include <thread>
#include <unordered_map>

#include "app/api/http_generation_stream.h"
#include "app/api/http_token_dispatcher.h"
#include "app/api/openai_request.h"
#include "app/api/prometheus_metrics.h"

namespace batchscope::app::api {

namespace {

void sendError(httplib::Response& res, const OpenAiError& e) {
    res.status = e.status;
    res.set_content(e.toJson().toStdString(), "application/json");
}

OpenAiError makeError(int status, const QString& type, const QString& code, const QString& message) {
    OpenAiError e;
    e.status = status;
    e.type = type;
    e.code = code;
    e.message = message;
    return e;
}

bool constantTimeEquals(const std::string& a, const std::string& b) {
    if (a.size() != b.size()) return false;
    unsigned char diff = 0;
    for (std::size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
    return diff == 0;
}

OpenAiError fromEngineError(const engine::Error& e) {
    const QString message = QString::fromStdString(e.message);
    switch (e.code) {
    case engine::ErrorCode::QueueFull:
        return makeError(429, "rate_limit_error", "queue_full", message);
    case engine::ErrorCode::PromptTooLong:
        return makeError(400, "invalid_request_error", "context_length_exceeded", message);
    case engine::ErrorCode::InvalidArgument:
        return makeError(400, "invalid_request_error", "invalid_value", message);
    default:
        return makeError(500, "server_error", "internal_error", message);
    }
}

}  // namespace

struct HttpApiServer::Impl {
    Impl(EngineBridge& b, ApiServerOptions a, HttpApiOptions h)
        : bridge(b), api(std::move(a)), http(h) {}

    EngineBridge& bridge;
    ApiServerOptions api;
    HttpApiOptions http;
    httplib::Server server;
    std::thread thread;
    std::string bindHost;
    int boundPort = 0;
    socket_t listenSocket = INVALID_SOCKET;
    std::atomic<int> active{0};
    PrometheusMetrics metrics;

    // The streams of the generations in flight, for close() to wake their handlers. The
    // engine thread feeds each stream through the dispatcher (see handleCompletion).
    std::mutex registryMutex;  // guards streams
    std::unordered_map<HttpGenerationStream*, std::shared_ptr<HttpGenerationStream>> streams;
    // Shared with the engine thread's taps, which may outlive this server.
    std::shared_ptr<HttpTokenDispatcher> dispatcher = std::make_shared<HttpTokenDispatcher>();

    std::mutex infoMutex;  // guards modelName and contextLength
    QString modelName;
    std::int32_t contextLength = 0;

    struct Bucket { double tokens = 0; std::chrono::steady_clock::time_point last; };
    std::mutex rateMutex;
    std::map<std::string, Bucket> buckets;

    void installRoutes();
    bool refuse(const httplib::Request& req, httplib::Response& res);
    bool takeRateToken(const std::string& address);
    void handleCompletion(const httplib::Request& req, httplib::Response& res, bool chat);
    void unregister(HttpGenerationStream* stream) {
        std::lock_guard lock(registryMutex);
        streams.erase(stream);
    }
    std::pair<QString, std::int32_t> modelInfo() {
        std::lock_guard lock(infoMutex);
        return {modelName, contextLength};
    }
};

bool HttpApiServer::Impl::takeRateToken(const std::string& address) {
    std::lock_guard lock(rateMutex);
    const auto now = std::chrono::steady_clock::now();
    if (buckets.size() > 4096) buckets.clear();  // bounded memory; a reset only forgives
    auto [it, inserted] = buckets.try_emplace(address, Bucket{http.burst, now});
    Bucket& b = it->second;
    const double elapsed = std::chrono::duration<double>(now - b.last).count();
    b.tokens = std::min(http.burst, b.tokens + elapsed * http.ratePerSecond);
    b.last = now;
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
}

// The checks of every request, before routing: Host (DNS rebinding), Origin (browser pages),
// rate, token. True when the request was answered here.
bool HttpApiServer::Impl::refuse(const httplib::Request& req, httplib::Response& res) {
    const QString host = QString::fromStdString(req.get_header_value("Host"));
    if (!ApiServer::hostAllowed(host, api)) {
        sendError(res, makeError(403, "invalid_request_error", "host_not_allowed",
                                 QStringLiteral("Host '%1' is not allowed (see --allow-host)").arg(host.left(200))));
        return true;
    }
    const QString origin = QString::fromStdString(req.get_header_value("Origin"));
    if (!ApiServer::originAllowed(origin, api)) {
        sendError(res, makeError(403, "invalid_request_error", "origin_not_allowed",
                                 QStringLiteral("browser Origin '%1' is not allowed (see --allow-origin)").arg(origin.left(200))));
        return true;
    }
    if (!origin.isEmpty()) {
        res.set_header("Access-Control-Allow-Origin", origin.toStdString());
        res.set_header("Vary", "Origin");
    }
    if (req.method == "OPTIONS") {  // CORS preflight of an allowed origin; carries no token
        res.status = 204;
        res.set_header("Access-Control-Allow-Methods", "GET, POST, OPTIONS");
        res.set_header("Access-Control-Allow-Headers", "Authorization, Content-Type");
        return true;
    }
    if (!takeRateToken(req.remote_addr)) {
        sendError(res, makeError(429, "rate_limit_error", "rate_limit_exceeded",
                                 QStringLiteral("more than %1 requests per second from this address").arg(http.ratePerSecond)));
        return true;
    }
    if (req.path == "/health") return false;  // liveness probes carry no token; it reveals nothing
    const std::string auth = req.get_header_value("Authorization");
    const std::string prefix = "Bearer ";
    if (auth.compare(0, prefix.size(), prefix) != 0 ||
        !constantTimeEquals(auth.substr(prefix.size()), api.token.toStdString())) {
        sendError(res, makeError(401, "invalid_request_error", "invalid_api_key",
                                 auth.empty() ? QStringLiteral("missing 'Authorization: Bearer <token>' header")
                                              : QStringLiteral("invalid access token")));
        return true;
    }
    return false;
}

void HttpApiServer::Impl::installRoutes() {
    using httplib::Request;
    using httplib::Response;
    server.set_pre_routing_handler([this](const Request& req, Response& res) {
        return refuse(req, res) ? httplib::Server::HandlerResponse::Handled
                                : httplib::Server::HandlerResponse::Unhandled;
    });
    server.Get("/health", [this](const Request&, Response& res) {
        res.status = bridge.hasEngine() ? 200 : 503;
    });
    server.Get("/v1/models", [this](const Request&, Response& res) {
        const auto [name, context] = modelInfo();
        const QJsonObject model{{"id", name}, {"object", "model"}, {"created", 0}, {"owned_by", "batchscope"},
                                {"max_model_len", context}};
        const QJsonObject list{{"object", "list"}, {"data", QJsonArray{model}}};
        res.set_content(QJsonDocument(list).toJson(QJsonDocument::Compact).toStdString(), "application/json");
    });
    server.Get("/metrics", [this](const Request&, Response& res) {
        res.set_content(metrics.render(modelInfo().first).toStdString(), "text/plain; version=0.0.4; charset=utf-8");
    });
    server.Post("/v1/completions", [this](const Request& req, Response& res) { handleCompletion(req, res, false); });
    server.Post("/v1/chat/completions", [this](const Request& req, Response& res) { handleCompletion(req, res, true); });
    // Bodies for errors httplib answers itself (404, 413, 400 on a malformed request line).
    server.set_error_handler(httplib::Server::HandlerWithResponse([](const Request& req, Response& res) {
        if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
        static const std::set<std::string> known = {"/health", "/metrics", "/v1/models",
                                                    "/v1/completions", "/v1/chat/completions"};
        OpenAiError e = makeError(res.status, "invalid_request_error", {}, {});
        if (res.status == 404 && known.count(req.path)) {
            e.status = res.status = 405;
            e.message = QStringLiteral("method %1 is not allowed on %2").arg(QString::fromStdString(req.method),
                                                                              QString::fromStdString(req.path));
        } else if (res.status == 404) {
            e.code = QStringLiteral("not_found");
            e.message = QStringLiteral("no such endpoint: %1").arg(QString::fromStdString(req.path).left(200));
        } else if (res.status == 400 && req.has_header("Content-Length") &&
                   req.body.size() < std::strtoull(req.get_header_value("Content-Length").c_str(), nullptr, 10)) {
            // The body stopped short of its Content-Length: it came slower than the read timeout.
            e.status = res.status = 408;
            e.code = QStringLiteral("request_timeout");
            e.message = QStringLiteral("the request body did not arrive within the read timeout");
        } else if (res.status == 413) {
            e.code = QStringLiteral("request_too_large");
            e.message = QStringLiteral("the request body is over the limit (--http-max-body-bytes)");
        } else {
            e.message = QStringLiteral("HTTP error %1").arg(res.status);
        }
        res.set_content(e.toJson().toStdString(), "application/json");
        return httplib::Server::HandlerResponse::Handled;
    }));
}

void HttpApiServer::Impl::handleCompletion(const httplib::Request& req, httplib::Response& res, bool chat) {
    const auto [name, context] = modelInfo();
    auto parsed = parseCompletionRequest(QByteArray::fromStdString(req.body), CompletionLimits{context, name}, chat);
    if (auto* e = std::get_if<OpenAiError>(&parsed)) return sendError(res, *e);
    CompletionRequest request = std::get<CompletionRequest>(std::move(parsed));
    if (active.fetch_add(1) >= http.maxConcurrentStreams) {
        --active;
        return sendError(res, makeError(429, "rate_limit_error", "too_many_requests",
                                        QStringLiteral("%1 generations are in flight over HTTP (the limit)")
                                            .arg(http.maxConcurrentStreams)));
    }
    struct Generation {
        engine::RequestId id = engine::kInvalidRequestId;
        std::shared_ptr<HttpGenerationStream> stream = std::make_shared<HttpGenerationStream>();
        QString responseId, model;
        qint64 created = QDateTime::currentSecsSinceEpoch();
        bool chat = false, streaming = false, includeUsage = false, finished = false, sentRole = false;
    };
    auto gen = std::make_shared<Generation>();
    gen->model = name;
    gen->chat = chat;
    gen->streaming = request.stream;
    gen->includeUsage = request.includeUsage;
    {
        std::lock_guard lock(registryMutex);
        streams.emplace(gen->stream.get(), gen->stream);
    }
    // This request's tokens and result go from the engine thread through the dispatcher
    // thread to its stream, not through the main thread's event loop (milliseconds to the
    // first token under load, more while a GUI paints); the stream exists before submit, so
    // nothing can arrive unregistered and submit holds no lock the token path takes.
    // The first token wakes its handler directly from the engine thread: one thread hop less
    // on the time to first token, and only a few wake-ups per step (the requests that start
    // generating in it), not one per stream. Its order is kept: the dispatcher holds nothing
    // of this stream yet, and the next token comes a step later.
    engine::RequestCallbacks tap;
    tap.onToken = [d = dispatcher, stream = gen->stream](const engine::TokenEvent& event) {
        if (event.index == 0)
            stream->pushToken(event);
        else
            d->postToken(stream, event);
    };
    tap.onFinished = [d = dispatcher, stream = gen->stream](const engine::GenerationResult& result) {
        d->postFinished(stream, result);
    };
    auto submitted = chat ? bridge.submitChat(request.messages, request.options, std::move(tap))
                          : bridge.submit(request.prompt, request.options, std::move(tap));
    if (!submitted) {
        unregister(gen->stream.get());
        --active;
        return sendError(res, fromEngineError(submitted.error()));
    }
    gen->id = submitted.value();
    gen->responseId = (chat ? QStringLiteral("chatcmpl-%1") : QStringLiteral("cmpl-%1")).arg(gen->id);
    const auto keepAlive = std::chrono::milliseconds(http.keepAliveMs);
    auto provider = [gen, keepAlive](std::size_t, httplib::DataSink& sink) {
        // cpp-httplib checks before each write that the peer has not closed (SocketStream::
        // is_writable peeks for the FIN), so the first token after a disconnect fails here.
        auto write = [&sink](const QByteArray& bytes) { return sink.write(bytes.constData(), std::size_t(bytes.size())); };
        HttpGenerationStream::Batch batch = gen->stream->waitAndTake(keepAlive);
        if (batch.closed && !batch.result) return false;
        if (!gen->streaming) {
            // Whitespace before JSON is valid JSON; writing it notices a closed connection.
            if (!batch.result) return write(" ");
            const auto reason = openAiFinishReason(batch.result->finishReason);
            const QByteArray body = reason ? QJsonDocument(completionResponse(gen->responseId, gen->created, gen->model, *batch.result, gen->chat)).toJson(QJsonDocument::Compact)
                                           : makeError(500, "server_error", "generation_failed",
                                                       QString::fromStdString(batch.result->errorMessage.empty() ? "the generation was cancelled or failed" : batch.result->errorMessage)).toJson();
            gen->finished = true;
            if (!write(body)) return false;
            sink.done();
            return true;
        }
        if ((!batch.text.empty() || (gen->chat && !gen->sentRole)) &&
            !write(sseEvent(completionChunk(gen->responseId, gen->created, gen->model, QString::fromStdString(batch.text),
                                            {}, gen->chat, gen->chat && !gen->sentRole))))
            return false;
        gen->sentRole = true;
        if (!batch.result) return batch.text.empty() ? write(": keep-alive\n\n") : true;
        gen->finished = true;
        const engine::GenerationResult& r = *batch.result;
        const auto reason = openAiFinishReason(r.finishReason);
        QByteArray tail;
        if (reason) {
            tail += sseEvent(completionChunk(gen->responseId, gen->created, gen->model, {}, *reason, gen->chat));
        } else {
            tail += "data: " + makeError(500, "server_error", "generation_failed",
                                         QString::fromStdString(r.errorMessage.empty() ? "the generation was cancelled or failed" : r.errorMessage)).toJson() + "\n\n";
        }
        if (gen->includeUsage) tail += sseEvent(usageChunk(gen->responseId, gen->created, gen->model, r.usage, gen->chat));
        tail += "data: [DONE]\n\n";
        if (!write(tail)) return false;
        sink.done();
        return true;
    };
    auto releaser = [this, gen](bool) {
        // A client that went away (or a shutdown) cancels its generation; the engine frees
        // its KV blocks at the next step.
        if (!gen->finished) bridge.cancel(gen->id);
        unregister(gen->stream.get());
        --active;
    };
    res.set_header("Cache-Control", "no-cache");
    res.set_chunked_content_provider(request.stream ? "text/event-stream" : "application/json", provider, releaser);
}

HttpApiServer::HttpApiServer(EngineBridge& bridge, ApiServerOptions api, HttpApiOptions http, QObject* parent)
    : QObject(parent), m_impl(std::make_unique<Impl>(bridge, std::move(api), http)) {
    connect(&bridge, &EngineBridge::requestFinished, this, &HttpApiServer::onFinished);
    connect(&bridge, &EngineBridge::snapshotUpdated, this,
            [this](const SnapshotPtr& snapshot) { m_impl->metrics.setSnapshot(snapshot); });
    connect(&bridge, &EngineBridge::modelChanged, this, &HttpApiServer::onModelChanged);
    onModelChanged();
    m_impl->installRoutes();
}

HttpApiServer::~HttpApiServer() { close(); }

void HttpApiServer::onModelChanged() {
    std::lock_guard lock(m_impl->infoMutex);
    EngineBridge& bridge = m_impl->bridge;
    m_impl->modelName = bridge.hasEngine() ? QString::fromStdString(bridge.engine()->modelInfo().name) : QString();
    m_impl->contextLength = bridge.hasEngine() ? bridge.engine()->maxSequenceLength() : 0;
}

bool HttpApiServer::listen(QString* error) {
    Impl& d = *m_impl;
    auto fail = [error](const QString& message) {
        if (error) *error = message;
        return false;
    };
    if (isListening()) return fail(QStringLiteral("the HTTP API is already listening"));
    if (d.api.token.isEmpty()) return fail(QStringLiteral("the HTTP API needs an access token"));
    d.bindHost = d.api.host.isNull() ? std::string("127.0.0.1") : d.api.host.toString().toStdString();
    const std::size_t threads = std::size_t(d.http.maxConcurrentStreams) + 8;  // + non-streaming calls
    d.server.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
    d.server.set_payload_max_length(std::size_t(d.http.maxBodyBytes));
    // The listening socket: SO_REUSEADDR only (cpp-httplib's default adds SO_REUSEPORT, which
    // would let another process of this user bind the same port and take connections).
    d.server.set_socket_options([&d](socket_t sock) {
        int yes = 1;
        ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
        d.listenSocket = sock;
    });
    d.server.set_tcp_nodelay(true);
    d.server.set_keep_alive_timeout(5);
    d.server.set_read_timeout(d.http.readTimeoutMs / 1000, (d.http.readTimeoutMs % 1000) * 1000);
    d.server.set_write_timeout(10);
    const int port = d.http.port == 0 ? d.server.bind_to_any_port(d.bindHost)
                                      : (d.server.bind_to_port(d.bindHost, d.http.port) ? d.http.port : -1);
    if (port <= 0)
        return fail(QStringLiteral("cannot listen on %1 port %2").arg(QString::fromStdString(d.bindHost)).arg(d.http.port));
    d.boundPort = port;
    // cpp-httplib 0.11 listens with a backlog of 5: a burst of connections (100 clients
    // starting at once) overflows it and the kernel drops SYNs, which clients retry only after
    // 1 s. listen() again on the bound socket raises the backlog (Linux updates it in place).
    if (d.listenSocket != INVALID_SOCKET) ::listen(d.listenSocket, SOMAXCONN);
    if (!d.api.host.isNull() && !d.api.host.isLoopback())
        qWarning().noquote() << "HTTP API listening on" << d.api.host.toString()
                             << "- reachable from other machines; only the access token protects it";
    d.dispatcher->start();
    d.thread = std::thread([&d] { d.server.listen_after_bind(); });
    return true;
}

void HttpApiServer::close() {
    Impl& d = *m_impl;
    if (!d.thread.joinable()) return;
    {
        std::lock_guard lock(d.registryMutex);
        for (auto& [id, stream] : d.streams) stream->close();
    }
    d.server.stop();
    d.thread.join();
    d.dispatcher->stop();
    d.boundPort = 0;
}

bool HttpApiServer::isListening() const { return m_impl->thread.joinable(); }
quint16 HttpApiServer::port() const { return quint16(m_impl->boundPort); }
int HttpApiServer::activeGenerations() const { return m_impl->active.load(); }

QUrl HttpApiServer::url() const {
    if (!isListening()) return {};
    QUrl url;
    url.setScheme(QStringLiteral("http"));
    url.setHost(QString::fromStdString(m_impl->bindHost));
    url.setPort(port());
    url.setPath(QStringLiteral("/"));
    return url;
}

void HttpApiServer::onFinished(const engine::GenerationResult& result) {
    m_impl->metrics.observeFinished(result);  // every request of the bridge, WebSocket ones too
}

}  // namespace batchscope::app::api
