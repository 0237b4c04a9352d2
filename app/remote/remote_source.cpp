// SPDX-License-Identifier: GPL-3.0-or-later
#include "app/remote/remote_source.h"

#include <QCryptographicHash>
#include <QSslCertificate>

namespace batchscope::app::remote {

RemoteSource::RemoteSource(const QUrl& url, const QString& token, QObject* parent)
    : ServerSource(parent), m_token(token), m_url(url) {
    m_reconnectTimer.setSingleShot(true);
    connect(&m_reconnectTimer, &QTimer::timeout, this, [this] {
        if (!m_stopped) reconnect();
    });
}

QSslConfiguration RemoteSource::sslConfiguration() const {
    QSslConfiguration config = QSslConfiguration::defaultConfiguration();
    if (!m_trust.caCertificates.isEmpty()) config.addCaCertificates(m_trust.caCertificates);
    return config;
}

void RemoteSource::beginConnecting() {
    m_stopped = false;
    m_backoff.reset();
    m_tlsFailure.clear();
    setState(ConnectionState::Connecting, tr("Connecting to %1…").arg(m_url.toString()));
}

void RemoteSource::endConnecting() {
    m_stopped = true;
    m_reconnectTimer.stop();
}

void RemoteSource::scheduleReconnect(const QString& why) {
    // A refused certificate is final: a second report of the same failure must not retry.
    if (m_reconnectTimer.isActive() || m_stopped || state() == ConnectionState::CertificateError) return;
    const int delay = m_backoff.nextDelayMs();
    setState(ConnectionState::Reconnecting,
             tr("%1: %2 — retrying in %3 s").arg(m_url.toString(), why).arg(delay / 1000.0, 0, 'f', 1));
    m_reconnectTimer.start(delay);
}

bool RemoteSource::acceptSslErrors(const QList<QSslError>& errors) {
    if (errors.isEmpty()) return true;
    const QSslCertificate peer = errors.first().certificate();
    const QByteArray digest = peer.isNull() ? QByteArray() : peer.digest(QCryptographicHash::Sha256);
    if (!m_trust.pinnedSha256.isEmpty() && digest == m_trust.pinnedSha256) return true;
    QStringList reasons;
    for (const QSslError& e : errors) reasons << e.errorString();
    reasons.removeDuplicates();
    m_tlsFailure = tr("the server's TLS certificate is not trusted (%1). Its SHA-256 fingerprint is %2: if that "
                      "is the server's, trust it with --connect-fingerprint (or the Connect dialog), or give "
                      "the CA that signed it with --connect-ca FILE")
                       .arg(reasons.join(QStringLiteral("; ")),
                            digest.isEmpty() ? tr("unknown") : fingerprintText(digest));
    return false;
}

QString RemoteSource::takeTlsFailure() { return std::exchange(m_tlsFailure, QString()); }

void RemoteSource::failUntrusted(const QString& message) {
    m_reconnectTimer.stop();
    setState(ConnectionState::CertificateError, tr("%1: %2; not retrying").arg(m_url.toString(), message));
}

}  // namespace batchscope::app::remote
