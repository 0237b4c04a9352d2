// SPDX-License-Identifier: GPL-3.0-or-later
#include "app/remote/connection_spec.h"

#include "app/remote/batchscope_source.h"
#include "app/remote/openai_source.h"

namespace batchscope::app::remote {

engine::Result<ConnectionSpec> parseConnection(const QString& text, const QString& token,
                                               const QString& kindName) {
    using engine::ErrorCode;
    using engine::makeError;
    const QUrl url(text.trimmed(), QUrl::StrictMode);
    const QString scheme = url.scheme().toLower();
    if (!url.isValid() || url.host().isEmpty())
        return makeError(ErrorCode::InvalidArgument, "server URL '" + text.toStdString() +
                                                         "': expected ws://HOST:PORT (batchscope serve) or "
                                                         "http://HOST:PORT (OpenAI-compatible server)");
    const bool ws = scheme == QLatin1String("ws") || scheme == QLatin1String("wss");
    const bool http = scheme == QLatin1String("http") || scheme == QLatin1String("https");
    if (!ws && !http)
        return makeError(ErrorCode::InvalidArgument, "server URL '" + text.toStdString() + "': unknown scheme '" +
                                                         scheme.toStdString() + "' (use ws://, wss://, http:// or https://)");
    ConnectionSpec spec;
    spec.url = url;
    spec.token = token;
    if (kindName.isEmpty()) spec.kind = ws ? ServerKind::Batchscope : ServerKind::OpenAi;
    else if (kindName == QLatin1String("batchscope")) spec.kind = ServerKind::Batchscope;
    else if (kindName == QLatin1String("openai")) spec.kind = ServerKind::OpenAi;
    else return makeError(ErrorCode::InvalidArgument, "server kind '" + kindName.toStdString() + "': use batchscope or openai");
    if (spec.kind == ServerKind::Batchscope && !ws)
        return makeError(ErrorCode::InvalidArgument, "server URL '" + text.toStdString() +
                                                         "': a batchscope server is reached over ws:// or wss://");
    if (spec.kind == ServerKind::OpenAi && !http)
        return makeError(ErrorCode::InvalidArgument, "server URL '" + text.toStdString() +
                                                         "': an OpenAI-compatible server is reached over http:// or https://");
    if (spec.kind == ServerKind::Batchscope && url.port() < 0)
        return makeError(ErrorCode::InvalidArgument, "server URL '" + text.toStdString() + "': give the port (ws://HOST:PORT)");
    if (spec.kind == ServerKind::Batchscope && token.isEmpty())
        return makeError(ErrorCode::InvalidArgument, "server " + text.toStdString() +
                                                         ": a batchscope server needs its access token (--connect-token)");
    return spec;
}

std::unique_ptr<ServerSource> makeSource(const ConnectionSpec& spec) {
    if (spec.kind == ServerKind::Batchscope) return std::make_unique<BatchscopeSource>(spec.url, spec.token);
    return std::make_unique<OpenAiSource>(spec.url, spec.token);
}

}  // namespace batchscope::app::remote
