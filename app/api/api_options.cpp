// SPDX-License-Identifier: GPL-3.0-or-later
#include "app/api/api_options.h"

namespace batchscope::app::api {

void addApiOptions(QCommandLineParser& parser) {
    parser.addOptions({
        {"host", "API listen address (default: 127.0.0.1 and ::1; anything else is reachable "
                 "from the network).", "address"},
        {"port", QStringLiteral("API port (default %1; 0 = any free port).").arg(kDefaultApiPort),
         "port", QString::number(kDefaultApiPort)},
        {"token", "API access token (default: $BATCHSCOPE_API_TOKEN, else the token file in the "
                  "config directory, generated on first start).", "token"},
        {"allow-origin", "Browser Origin allowed to connect, e.g. http://localhost:5173 "
                         "(repeatable).", "origin"},
        {"allow-host", "Extra Host header name accepted besides loopback (repeatable).", "name"},
        {"api-max-message-bytes", "Largest API message (default 1048576).", "bytes", "1048576"},
        {"api-rate", "API messages per second per connection (default 200; burst 2x).", "n", "200"},
        {"http-port", "Also serve the OpenAI-compatible HTTP API on this port (0 = any free "
                      "port; off when not given).", "port"},
        {"http-max-body-bytes", "Largest HTTP request body (default 1048576).", "bytes", "1048576"},
        {"http-max-streams", "HTTP generations in flight at most (default 64).", "n", "64"},
        {"http-rate", "HTTP requests per second per client address (default 20; burst 2x).", "n", "20"},
    });
}

engine::Result<ApiServerOptions> apiOptionsFromParser(const QCommandLineParser& parser,
                                                      QString* tokenSource) {
    using engine::ErrorCode;
    using engine::makeError;
    ApiServerOptions o;
    if (parser.isSet("host")) {
        const QString host = parser.value("host");
        o.host = host == QLatin1String("localhost") ? QHostAddress(QHostAddress::LocalHost) : QHostAddress(host);
        if (o.host.isNull())
            return makeError(ErrorCode::InvalidArgument, "--host: '" + host.toStdString() + "' is not an IP address");
    }
    bool ok = false;
    const uint port = parser.value("port").toUInt(&ok);
    if (!ok || port > 65535)
        return makeError(ErrorCode::InvalidArgument, "--port: must be 0..65535, got '" +
                                                         parser.value("port").toStdString() + "'");
    o.port = quint16(port);
    const qint64 maxBytes = parser.value("api-max-message-bytes").toLongLong(&ok);
    if (!ok || maxBytes < 1024 || maxBytes > (64LL << 20))
        return makeError(ErrorCode::InvalidArgument, "--api-max-message-bytes: must be 1024..67108864");
    o.maxMessageBytes = maxBytes;
    const double rate = parser.value("api-rate").toDouble(&ok);
    if (!ok || !(rate >= 1 && rate <= 1e6))
        return makeError(ErrorCode::InvalidArgument, "--api-rate: must be 1..1000000");
    o.ratePerSecond = rate;
    o.burst = 2 * rate;
    o.allowedOrigins = parser.values("allow-origin");
    o.allowedHosts = parser.values("allow-host");
    auto token = AccessToken::resolve(parser.value("token"));
    if (!token) return token.error();
    o.token = token.value().token;
    if (tokenSource) {
        switch (token.value().source) {
        case TokenSource::CommandLine: *tokenSource = QStringLiteral("--token"); break;
        case TokenSource::Environment: *tokenSource = QStringLiteral("$BATCHSCOPE_API_TOKEN"); break;
        case TokenSource::File: *tokenSource = token.value().path; break;
        case TokenSource::Generated: *tokenSource = QStringLiteral("new token in ") + token.value().path; break;
        }
    }
    return o;
}

engine::Result<std::optional<HttpApiOptions>> httpOptionsFromParser(const QCommandLineParser& parser) {
    using engine::ErrorCode;
    using engine::makeError;
    if (!parser.isSet("http-port")) return std::optional<HttpApiOptions>();
    HttpApiOptions o;
    bool ok = false;
    const uint port = parser.value("http-port").toUInt(&ok);
    if (!ok || port > 65535)
        return makeError(ErrorCode::InvalidArgument, "--http-port: must be 0..65535, got '" +
                                                         parser.value("http-port").toStdString() + "'");
    o.port = quint16(port);
    const qint64 maxBytes = parser.value("http-max-body-bytes").toLongLong(&ok);
    if (!ok || maxBytes < 1024 || maxBytes > (64LL << 20))
        return makeError(ErrorCode::InvalidArgument, "--http-max-body-bytes: must be 1024..67108864");
    o.maxBodyBytes = maxBytes;
    const int streams = parser.value("http-max-streams").toInt(&ok);
    if (!ok || streams < 1 || streams > 4096)
        return makeError(ErrorCode::InvalidArgument, "--http-max-streams: must be 1..4096");
    o.maxConcurrentStreams = streams;
    const double rate = parser.value("http-rate").toDouble(&ok);
    if (!ok || !(rate >= 1 && rate <= 1e6))
        return makeError(ErrorCode::InvalidArgument, "--http-rate: must be 1..1000000");
    o.ratePerSecond = rate;
    o.burst = 2 * rate;
    return std::optional<HttpApiOptions>(o);
}

}  // namespace batchscope::app::api
