// Command-line options of the WebSocket API (`batchscope serve`, the GUI): --host, --port,
// --token, --allow-origin, --allow-host, --api-max-message-bytes, --api-rate; and those of the
// HTTP API: --http-port, --http-max-body-bytes, --http-max-streams, --http-rate.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <QCommandLineParser>
#include <QString>

#include "app/api/access_token.h"
#include "app/api/api_server.h"
#include "app/api/http_api_server.h"
#include <optional>
#include "engine/core/result.h"

namespace batchscope::app::api {

inline constexpr quint16 kDefaultApiPort = 8765;

void addApiOptions(QCommandLineParser& parser);

/// Server options from the parsed command line, with the access token resolved
/// (--token > $BATCHSCOPE_API_TOKEN > the token file, created on first use).
/// *tokenSource says where the token came from, for a log line (never the token itself).
engine::Result<ApiServerOptions> apiOptionsFromParser(const QCommandLineParser& parser,
                                                      QString* tokenSource = nullptr);

/// The HTTP API's options; nullopt when --http-port is not given (the HTTP API is off).
engine::Result<std::optional<HttpApiOptions>> httpOptionsFromParser(const QCommandLineParser& parser);

}  // namespace batchscope::app::api
