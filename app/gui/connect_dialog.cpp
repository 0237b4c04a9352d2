// SPDX-License-Identifier: GPL-3.0-or-later
#include "app/gui/connect_dialog.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>

namespace batchscope::app {

ConnectDialog::ConnectDialog(QWidget* parent)
    : QDialog(parent), m_url(new QLineEdit(this)), m_kind(new QComboBox(this)),
      m_token(new QLineEdit(this)), m_caFile(new QLineEdit(this)), m_fingerprint(new QLineEdit(this)),
      m_error(new QLabel(this)) {
    setWindowTitle(tr("Connect to server"));
    m_url->setPlaceholderText(QStringLiteral("ws://127.0.0.1:8765  or  http://10.0.0.5:8000  (wss://, https:// for TLS)"));
    m_kind->addItem(tr("From the URL (ws:// batchscope, http:// OpenAI-compatible)"), QString());
    m_kind->addItem(tr("Batchscope (batchscope serve, WebSocket API)"), QStringLiteral("batchscope"));
    m_kind->addItem(tr("OpenAI-compatible with /metrics (vLLM, SGLang, TGI, llama.cpp)"), QStringLiteral("openai"));
    m_token->setEchoMode(QLineEdit::Password);
    m_token->setPlaceholderText(tr("access token / API key (Bearer)"));
    m_caFile->setPlaceholderText(tr("TLS: a CA certificate file (PEM/DER) to trust besides the system's"));
    m_fingerprint->setPlaceholderText(tr("TLS: trust the certificate with this SHA-256 fingerprint (self-signed)"));
    auto* browse = new QPushButton(tr("Browse…"), this);
    connect(browse, &QPushButton::clicked, this, [this] {
        const QString file = QFileDialog::getOpenFileName(this, tr("CA certificate"), QString(),
                                                          tr("Certificates (*.pem *.crt *.cer *.der);;All files (*)"));
        if (!file.isEmpty()) m_caFile->setText(file);
    });
    auto* caRow = new QHBoxLayout;
    caRow->addWidget(m_caFile);
    caRow->addWidget(browse);
    m_error->setWordWrap(true);
    m_error->setStyleSheet(QStringLiteral("color: #d73a49"));
    auto* form = new QFormLayout(this);
    form->addRow(tr("URL"), m_url);
    form->addRow(tr("Kind"), m_kind);
    form->addRow(tr("Token"), m_token);
    form->addRow(tr("CA file"), caRow);
    form->addRow(tr("Trust certificate"), m_fingerprint);
    form->addRow(m_error);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    form->addRow(buttons);
    connect(buttons, &QDialogButtonBox::accepted, this, &ConnectDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &ConnectDialog::reject);
}

QString ConnectDialog::errorText() const { return m_error->text(); }

void ConnectDialog::accept() {
    auto spec = remote::parseConnection(m_url->text(), m_token->text(), m_kind->currentData().toString());
    if (!spec) {
        m_error->setText(QString::fromStdString(spec.error().message));
        return;
    }
    auto trust = remote::loadTlsTrust(m_caFile->text().trimmed(), m_fingerprint->text());
    if (!trust) {
        m_error->setText(QString::fromStdString(trust.error().message));
        return;
    }
    m_spec = spec.value();
    m_spec.tls = trust.value();
    QDialog::accept();
}

}  // namespace batchscope::app
