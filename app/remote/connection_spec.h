// Which server to attach to: its kind, URL and access token (from `gui --connect` or the
// Connect dialog), and the source that watches it.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <QString>
#include <QUrl>
#include <memory>

#include "engine/core/result.h"

namespace batchscope::app::remote {

class ServerSource;

enum class ServerKind { Batchscope, OpenAi };

struct ConnectionSpec {
    ServerKind kind = ServerKind::Batchscope;
    QUrl url;
    QString token;  ///< may be empty for an OpenAI-compatible server without --api-key
};

/// Kind from the scheme unless `kindName` ("batchscope", "openai", "" = from the scheme):
/// ws:// and wss:// are a `batchscope serve`, http:// and https:// an OpenAI-compatible
/// server. Errors name what is wrong (no host, no port, unknown scheme, batchscope without a
/// token, a batchscope kind with an http URL).
engine::Result<ConnectionSpec> parseConnection(const QString& url, const QString& token,
                                               const QString& kindName = QString());

/// A new, not yet started source for the spec.
std::unique_ptr<ServerSource> makeSource(const ConnectionSpec& spec);

}  // namespace batchscope::app::remote
