// "Connect to server…": URL, kind (batchscope / OpenAI-compatible) and access token.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <QDialog>

#include "app/remote/connection_spec.h"

class QComboBox;
class QLabel;
class QLineEdit;

namespace batchscope::app {

/// GUI thread. OK is refused (the error shows in the dialog) until parseConnection and
/// loadTlsTrust accept the input; spec() is then the connection to open. The TLS fields (a CA
/// file, a pinned certificate fingerprint) matter for https:// and wss:// only.
class ConnectDialog : public QDialog {
    Q_OBJECT
public:
    explicit ConnectDialog(QWidget* parent = nullptr);
    remote::ConnectionSpec spec() const { return m_spec; }
    QLineEdit* urlEdit() const { return m_url; }
    QLineEdit* tokenEdit() const { return m_token; }
    QComboBox* kindBox() const { return m_kind; }
    QLineEdit* caFileEdit() const { return m_caFile; }
    QLineEdit* fingerprintEdit() const { return m_fingerprint; }
    QString errorText() const;
    void accept() override;

private:
    QLineEdit* m_url;
    QComboBox* m_kind;
    QLineEdit* m_token;
    QLineEdit* m_caFile;
    QLineEdit* m_fingerprint;
    QLabel* m_error;
    remote::ConnectionSpec m_spec;
};

}  // namespace batchscope::app
