// TLS to remote servers: https:// (an in-test QSslServer serving the recorded vLLM /metrics) and
// wss:// (an in-test QWebSocketServer in secure mode), with certificates made at test time by
// Debian's `openssl` CLI: a test CA and a server certificate it signed (127.0.0.1). Trusted
// through the CA file, refused with a clear error (and not retried) without it, accepted by
// its pinned fingerprint; bad CA files and fingerprints are refused with the reason.
// SPDX-License-Identifier: GPL-3.0-or-later
#include <QCryptographicHash>
#include <QLineEdit>
#include <QProcess>
#include <QSslKey>
#include <QSslSocket>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>
#include <QWebSocket>
#include <QWebSocketServer>

#include <memory>
#include <vector>

#include "app/gui/connect_dialog.h"
#include "app/remote/batchscope_source.h"
#include "app/remote/connection_spec.h"
#include "app/remote/openai_source.h"
#include "fake_openai_server.h"

using namespace batchscope;
using app::remote::ConnectionState;

class RemoteTlsTest : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() {
        if (!QSslSocket::supportsSsl())
            QSKIP(qPrintable(QStringLiteral("Qt has no working TLS backend here (available: %1); install Qt's "
                                            "OpenSSL plugin (libqt6network6) and libssl3")
                                 .arg(QSslSocket::availableBackends().join(QStringLiteral(", ")))));
        const QString openssl = QStandardPaths::findExecutable(QStringLiteral("openssl"));
        if (openssl.isEmpty()) QSKIP("the openssl command (Debian package openssl) is needed to make the test certificates");
        QVERIFY(m_dir.isValid());
        const QString d = m_dir.path() + QLatin1Char('/');
        auto run = [&](const QStringList& args) {
            QProcess p;
            p.setWorkingDirectory(m_dir.path());
            p.start(openssl, args);
            if (!p.waitForFinished(60000) || p.exitCode() != 0) {
                qWarning("openssl %s: %s", qPrintable(args.join(' ')), p.readAllStandardError().constData());
                return false;
            }
            return true;
        };
        QFile ext(d + "ext.cnf");
        QVERIFY(ext.open(QIODevice::WriteOnly));
        ext.write("subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n"
                  "keyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n");
        ext.close();
        const QStringList ec{"-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"};
        QVERIFY(run(QStringList{"req", "-x509"} + ec +
                    QStringList{"-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=Batchscope test CA",
                                "-addext", "basicConstraints=critical,CA:TRUE", "-addext",
                                "keyUsage=critical,keyCertSign,cRLSign"}));
        QVERIFY(run(QStringList{"req"} + ec + QStringList{"-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1"}));
        QVERIFY(run({"x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                     "-out", "server.pem", "-days", "2", "-extfile", "ext.cnf"}));
        m_caFile = d + "ca.pem";
        QFile cert(d + "server.pem"), key(d + "server.key");
        QVERIFY(cert.open(QIODevice::ReadOnly) && key.open(QIODevice::ReadOnly));
        m_server = QSslConfiguration::defaultConfiguration();
        const QSslCertificate serverCert(cert.readAll(), QSsl::Pem);
        QVERIFY(!serverCert.isNull());
        m_server.setLocalCertificate(serverCert);
        m_server.setPrivateKey(QSslKey(key.readAll(), QSsl::Ec, QSsl::Pem));
        QVERIFY(!m_server.privateKey().isNull());
        m_server.setPeerVerifyMode(QSslSocket::VerifyNone);
        m_fingerprint = app::remote::fingerprintText(serverCert.digest(QCryptographicHash::Sha256));
    }

    void httpsWithTheCaTrusted() {
        test::FakeOpenAiServer server;
        server.useTls(m_server);
        QVERIFY(server.listen());
        auto trust = app::remote::loadTlsTrust(m_caFile, QString());
        QVERIFY(trust.ok());
        QCOMPARE(trust->caCertificates.size(), 1);
        app::remote::OpenAiSource source(QUrl(QStringLiteral("https://127.0.0.1:%1").arg(server.port())), QString());
        source.setTlsTrust(trust.value());
        source.start();
        QTRY_COMPARE_WITH_TIMEOUT(int(source.state()), int(ConnectionState::Connected), 15000);
        QTRY_VERIFY_WITH_TIMEOUT(source.stateMessage().contains("vllm metrics"), 5000);
        QVERIFY(server.scrapes >= 1);
    }

    void httpsUntrustedIsAClearErrorNotRetried() {
        test::FakeOpenAiServer server;
        server.useTls(m_server);
        QVERIFY(server.listen());
        app::remote::OpenAiSource source(QUrl(QStringLiteral("https://127.0.0.1:%1").arg(server.port())), QString());
        source.start();
        QTRY_COMPARE_WITH_TIMEOUT(int(source.state()), int(ConnectionState::CertificateError), 15000);
        const QString m = source.stateMessage();
        QVERIFY2(m.contains("certificate is not trusted") && m.contains(m_fingerprint) && m.contains("--connect-ca") &&
                     m.contains("not retrying"),
                 qPrintable(m));
        QCOMPARE(app::remote::connectionStateName(source.state()), QStringLiteral("untrusted certificate"));
        QCOMPARE(server.scrapes, 0);  // nothing was sent over the refused connection
    }

    void httpsSelfSignedAcceptedByItsFingerprint() {
        test::FakeOpenAiServer server;
        server.useTls(m_server);
        QVERIFY(server.listen());
        auto trust = app::remote::loadTlsTrust(QString(), m_fingerprint.toLower().remove(':'));
        QVERIFY(trust.ok());
        app::remote::OpenAiSource source(QUrl(QStringLiteral("https://127.0.0.1:%1").arg(server.port())), QString());
        source.setTlsTrust(trust.value());
        source.start();
        QTRY_COMPARE_WITH_TIMEOUT(int(source.state()), int(ConnectionState::Connected), 15000);
        // Another fingerprint does not open the door.
        test::FakeOpenAiServer other;
        other.useTls(m_server);
        QVERIFY(other.listen());
        auto wrong = app::remote::loadTlsTrust(QString(), QString(64, QLatin1Char('a')));
        QVERIFY(wrong.ok());
        app::remote::OpenAiSource refused(QUrl(QStringLiteral("https://127.0.0.1:%1").arg(other.port())), QString());
        refused.setTlsTrust(wrong.value());
        refused.start();
        QTRY_COMPARE_WITH_TIMEOUT(int(refused.state()), int(ConnectionState::CertificateError), 15000);
    }

    void wssToABatchscopeServer() {
        QWebSocketServer ws(QStringLiteral("test"), QWebSocketServer::SecureMode);
        ws.setSslConfiguration(m_server);
        QVERIFY(ws.listen(QHostAddress::LocalHost));
        // nextPendingConnection() hands each socket to the caller (no parent): own them here,
        // or LeakSanitizer reports them with their TLS state when the test exits.
        std::vector<std::unique_ptr<QWebSocket>> clients;
        connect(&ws, &QWebSocketServer::newConnection, this, [&] {
            while (ws.hasPendingConnections())
                clients.emplace_back(ws.nextPendingConnection());
        });
        const QUrl url(QStringLiteral("wss://127.0.0.1:%1").arg(ws.serverPort()));
        app::remote::BatchscopeSource untrusted(url, QStringLiteral("token"));
        untrusted.start();
        QTRY_COMPARE_WITH_TIMEOUT(int(untrusted.state()), int(ConnectionState::CertificateError), 15000);
        QVERIFY2(untrusted.stateMessage().contains(m_fingerprint), qPrintable(untrusted.stateMessage()));
        auto trust = app::remote::loadTlsTrust(m_caFile, QString());
        QVERIFY(trust.ok());
        app::remote::BatchscopeSource trusted(url, QStringLiteral("token"));
        trusted.setTlsTrust(trust.value());
        trusted.start();
        QTRY_COMPARE_WITH_TIMEOUT(int(trusted.state()), int(ConnectionState::Connected), 15000);
        QTRY_COMPARE_WITH_TIMEOUT(int(clients.size()), 1, 5000);
    }

    void badTrustSettingsAreRefused() {
        auto missing = app::remote::loadTlsTrust(m_dir.path() + "/nope.pem", QString());
        QVERIFY(!missing.ok());
        QVERIFY(QString::fromStdString(missing.error().message).contains("nope.pem"));
        auto notCert = app::remote::loadTlsTrust(m_dir.path() + "/ext.cnf", QString());
        QVERIFY(!notCert.ok());
        QVERIFY(QString::fromStdString(notCert.error().message).contains("no certificate"));
        auto badPin = app::remote::loadTlsTrust(QString(), QStringLiteral("12:34"));
        QVERIFY(!badPin.ok());
        QVERIFY(QString::fromStdString(badPin.error().message).contains("64 hex digits"));
        app::ConnectDialog dialog;
        dialog.urlEdit()->setText(QStringLiteral("https://127.0.0.1:8000"));
        dialog.caFileEdit()->setText(m_dir.path() + "/ext.cnf");
        dialog.accept();
        QVERIFY(dialog.errorText().contains("no certificate"));
        dialog.caFileEdit()->setText(m_caFile);
        dialog.accept();
        QVERIFY(dialog.errorText().isEmpty() || dialog.result() == QDialog::Accepted);
        QCOMPARE(dialog.spec().tls.caCertificates.size(), 1);
    }

private:
    QTemporaryDir m_dir;
    QString m_caFile, m_fingerprint;
    QSslConfiguration m_server;
};

QTEST_MAIN(RemoteTlsTest)
#include "test_remote_tls.moc"
