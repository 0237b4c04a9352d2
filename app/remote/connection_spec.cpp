// SPDX-License-Identifier: GPL-3.0-or-later
#include "app/remote/connection_spec.h"

#include <QFile>
#include <cctype>

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

engine::Result<TlsTrust> loadTlsTrust(const QString& caFile, const QString& fingerprint) {
    using engine::ErrorCode;
    using engine::makeError;
    TlsTrust trust;
    if (!caFile.isEmpty()) {
        QFile f(caFile);
        if (!f.open(QIODevice::ReadOnly))
            return makeError(ErrorCode::InvalidArgument, "CA file '" + caFile.toStdString() + "': " + f.errorString().toStdString());
        const QByteArray data = f.readAll();
        trust.caCertificates = QSslCertificate::fromData(data, QSsl::Pem);
        if (trust.caCertificates.isEmpty()) trust.caCertificates = QSslCertificate::fromData(data, QSsl::Der);
        if (trust.caCertificates.isEmpty())
            return makeError(ErrorCode::InvalidArgument,
                             "CA file '" + caFile.toStdString() + "': no certificate in it (PEM or DER expected)");
    }
    if (!fingerprint.trimmed().isEmpty()) {
        trust.pinnedSha256 = parseFingerprint(fingerprint);
        if (trust.pinnedSha256.isEmpty())
            return makeError(ErrorCode::InvalidArgument, "certificate fingerprint '" + fingerprint.toStdString() +
                                                             "': expected a SHA-256 digest, 64 hex digits (colons allowed)");
    }
    return trust;
}

QString fingerprintText(const QByteArray& sha256) { return QString::fromLatin1(sha256.toHex(':').toUpper()); }

QByteArray parseFingerprint(const QString& text) {
    QString hex = text.trimmed();
    hex.remove(QLatin1Char(':'));
    if (hex.size() != 64) return {};
    for (QChar c : hex)
        if (c.unicode() > 127 || !std::isxdigit(c.unicode())) return {};
    return QByteArray::fromHex(hex.toLatin1());
}

std::unique_ptr<ServerSource> makeSource(const ConnectionSpec& spec) {
    std::unique_ptr<RemoteSource> source;
    if (spec.kind == ServerKind::Batchscope) source = std::make_unique<BatchscopeSource>(spec.url, spec.token);
    else source = std::make_unique<OpenAiSource>(spec.url, spec.token);
    source->setTlsTrust(spec.tls);
    return source;
}

}  // namespace batchscope::app::remote
