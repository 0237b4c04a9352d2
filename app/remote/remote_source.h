// What every remote source shares: the server's URL and token, TLS trust (a CA file or a pinned
// certificate), and the reconnection state (stopped flag, backoff, timer).
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <QList>
#include <QSslConfiguration>
#include <QSslError>
#include <QTimer>
#include <QUrl>

#include "app/remote/connection_spec.h"
#include "app/remote/server_source.h"

namespace batchscope::app::remote {

/// GUI thread only. Subclasses call beginConnecting() from start(), endConnecting() from stop(),
/// connectionUp() once a request went through, and scheduleReconnect() when it failed; the
/// timer then calls reconnect().
class RemoteSource : public ServerSource {
    Q_OBJECT
public:
    RemoteSource(const QUrl& url, const QString& token, QObject* parent = nullptr);

    const QUrl& url() const { return m_url; }
    ReconnectBackoff& backoff() { return m_backoff; }
    bool isStopped() const { return m_stopped; }
    void setTlsTrust(const TlsTrust& trust) { m_trust = trust; }
    /// The TLS settings every request/socket uses: the system CAs plus the trusted ones.
    QSslConfiguration sslConfiguration() const;

protected:
    virtual void reconnect() = 0;
    void beginConnecting();
    void endConnecting();
    void connectionUp() { m_backoff.reset(); }
    /// Reconnecting, with the reason and the delay in the message; nothing when stopped or
    /// already scheduled.
    void scheduleReconnect(const QString& why);
    /// Certificate errors of one TLS handshake: true when they may be ignored (the peer's
    /// certificate is the pinned one). Otherwise the reason is kept for tlsFailure().
    bool acceptSslErrors(const QList<QSslError>& errors);
    /// After a failed handshake: the sentence for the status bar (what was wrong, the server
    /// certificate's fingerprint, and how to trust it), or "" when the failure was not about
    /// the certificate.
    QString takeTlsFailure();
    /// Not retried (the certificate will not change by itself): state CertificateError.
    void failUntrusted(const QString& message);

    QString m_token;
    QTimer m_reconnectTimer;

private:
    QUrl m_url;
    ReconnectBackoff m_backoff;
    bool m_stopped = true;
    TlsTrust m_trust;
    QString m_tlsFailure;
};

}  // namespace batchscope::app::remote
