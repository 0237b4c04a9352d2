// Command-line options of the WebSocket API (`batchscope serve`, the GUI): --host, --port,
// --token, --allow-origin, --allow-host, --api-max-message-bytes, --api-rate.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <QCommandLineParser>
#include <QString>

#include "app/api/access_token.h"
#include "app/api/api_server.h"
#include "engine/core/result.h"

namespace batchscope::app::api {

inline constexpr quint16 kDefaultApiPort = 8765;

void addApiOptions(QCommandLineParser& parser);

/// Server options from the parsed command line, with the access token resolved
/// (--token > $BATCHSCOPE_API_TOKEN > the token file, created on first use).
/// *tokenSource says where the token came from, for a log line (never the token itself).
engine::Result<ApiServerOptions> apiOptionsFromParser(const QCommandLineParser& parser,
                                                      QString* tokenSource = nullptr);

}  // namespace batchscope::app::api
