// One message of the chat view: role and state, the text, and for answers their figures and
// actions (copy, rendered prompt, the request in the scheduler views).
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <QFrame>

#include "ui/chat_types.h"

class QLabel;
class QPushButton;

namespace batchscope::ui {

/// GUI thread only. Plain text (never interpreted as rich text or Markdown).
class ChatMessageWidget : public QFrame {
    Q_OBJECT
public:
    explicit ChatMessageWidget(const ChatMessageItem& message, QWidget* parent = nullptr);

    const ChatMessageItem& message() const { return m_message; }
    void setMessage(const ChatMessageItem& message);
    /// Streaming text only (the figures arrive with setMessage when it finishes).
    void setText(const QString& text);
    QString text() const;
    /// "prompt 308 tok · cached 112 · generated 24 · TTFT 12 ms · 85.1 tok/s"
    QString statsText() const;
    QPushButton* copyButton() const { return m_copy; }
    QPushButton* promptButton() const { return m_prompt; }
    QPushButton* requestButton() const { return m_request; }

signals:
    void renderedPromptRequested(qint64 messageId);
    void showRequestRequested(batchscope::engine::RequestId id);

private:
    void refreshHeader();

    ChatMessageItem m_message;
    QLabel* m_header;
    QLabel* m_text;
    QLabel* m_stats;
    QPushButton* m_copy;
    QPushButton* m_prompt;
    QPushButton* m_request;
};

}  // namespace batchscope::ui
