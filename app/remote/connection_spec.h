// Which server to attach to: its kind, URL and access token (from `gui --connect` or the
// Connect dialog), and the source that watches it.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <QList>
#include <QSslCertificate>
#include <QString>
#include <QUrl>
#include <memory>

#include "engine/core/result.h"

namespace batchscope::app::remote {

class ServerSource;

enum class ServerKind { Batchscope, OpenAi };

/// How a TLS connection (https://, wss://) decides to trust the server's certificate, besides
/// the system's CA store: extra CA certificates (from --connect-ca), or one certificate pinned
/// by its SHA-256 fingerprint (--connect-fingerprint, e.g. a self-signed one). Anything else
/// that fails verification is refused, never silently accepted.
struct TlsTrust {
    QList<QSslCertificate> caCertificates;
    QByteArray pinnedSha256;  ///< raw 32 bytes; empty = none
};


struct ConnectionSpec {
    ServerKind kind = ServerKind::Batchscope;
    QUrl url;
    QString token;  ///< may be empty for an OpenAI-compatible server without --api-key
    TlsTrust tls;   ///< used for https:// and wss:// only
};

/// Reads the trust settings of --connect-ca / --connect-fingerprint (either may be empty).
/// Errors name the file that cannot be read or holds no certificate (PEM or DER), or a
/// fingerprint that is not 32 bytes of hex.
engine::Result<TlsTrust> loadTlsTrust(const QString& caFile, const QString& fingerprint);

/// The SHA-256 fingerprint as "AB:CD:…" (what --connect-fingerprint accepts, with or without colons).
QString fingerprintText(const QByteArray& sha256);
/// Parses "AB:CD:…" / "abcd…" (64 hex digits); empty on error.
QByteArray parseFingerprint(const QString& text);

/// Kind from the scheme unless `kindName` ("batchscope", "openai", "" = from the scheme):
/// ws:// and wss:// are a `batchscope serve`, http:// and https:// an OpenAI-compatible
/// server. Errors name what is wrong (no host, no port, unknown scheme, batchscope without a
/// token, a batchscope kind with an http URL).
engine::Result<ConnectionSpec> parseConnection(const QString& url, const QString& token,
                                               const QString& kindName = QString());

/// A new, not yet started source for the spec.
std::unique_ptr<ServerSource> makeSource(const ConnectionSpec& spec);

}  // namespace batchscope::app::remote
