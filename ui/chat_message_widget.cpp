// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/chat_message_widget.h"

#include <QApplication>
#include <QClipboard>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QVBoxLayout>

namespace batchscope::ui {

namespace {
QString stateSuffix(ChatMessageItem::State state) {
    switch (state) {
    case ChatMessageItem::State::Streaming: return QObject::tr(" — generating…");
    case ChatMessageItem::State::Stopped: return QObject::tr(" — stopped");
    case ChatMessageItem::State::Interrupted: return QObject::tr(" — interrupted (the app quit mid-answer)");
    case ChatMessageItem::State::Complete: break;
    }
    return {};
}

QString roleTitle(const QString& role) {
    if (role == QLatin1String("user")) return QObject::tr("You");
    if (role == QLatin1String("assistant")) return QObject::tr("Assistant");
    if (role == QLatin1String("system")) return QObject::tr("System");
    return role;
}
}  // namespace

ChatMessageWidget::ChatMessageWidget(const ChatMessageItem& message, QWidget* parent)
    : QFrame(parent), m_message(message), m_header(new QLabel(this)), m_text(new QLabel(this)),
      m_stats(new QLabel(this)), m_copy(new QPushButton(tr("Copy"), this)),
      m_prompt(new QPushButton(tr("Prompt…"), this)), m_request(new QPushButton(this)) {
    setObjectName(QStringLiteral("chatMessage"));
    setFrameShape(QFrame::StyledPanel);
    const bool answer = message.role == QLatin1String("assistant");
    setBackgroundRole(answer ? QPalette::Base : QPalette::AlternateBase);
    setAutoFillBackground(true);
    m_header->setStyleSheet(QStringLiteral("font-weight: bold"));
    m_text->setTextFormat(Qt::PlainText);
    m_text->setWordWrap(true);
    m_text->setTextInteractionFlags(Qt::TextSelectableByMouse | Qt::TextSelectableByKeyboard);
    m_stats->setObjectName(QStringLiteral("chatMessageStats"));
    m_stats->setWordWrap(true);
    m_stats->setStyleSheet(QStringLiteral("color: palette(mid)"));
    m_stats->setToolTip(tr("Prompt tokens (of which served from the prefix cache), generated "
                           "tokens, time to first token and generation speed"));
    m_copy->setToolTip(tr("Copy the message text"));
    m_prompt->setToolTip(tr("Show the exact prompt (text and token count) sent for this answer"));
    m_request->setToolTip(tr("Show this answer's request in the request table"));
    for (QPushButton* b : {m_copy, m_prompt, m_request}) b->setFlat(true);

    auto* top = new QHBoxLayout;
    top->addWidget(m_header, 1);
    top->addWidget(m_request);
    top->addWidget(m_prompt);
    top->addWidget(m_copy);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(8, 4, 8, 4);
    layout->addLayout(top);
    layout->addWidget(m_text);
    layout->addWidget(m_stats);

    connect(m_copy, &QPushButton::clicked, this,
            [this] { QApplication::clipboard()->setText(m_message.content); });
    connect(m_prompt, &QPushButton::clicked, this, [this] { emit renderedPromptRequested(m_message.id); });
    connect(m_request, &QPushButton::clicked, this, [this] { emit showRequestRequested(m_message.request); });
    setMessage(message);
}

void ChatMessageWidget::setMessage(const ChatMessageItem& message) {
    m_message = message;
    m_text->setText(message.content);
    const bool answer = message.role == QLatin1String("assistant");
    m_prompt->setVisible(answer);
    m_request->setVisible(answer && message.request != engine::kInvalidRequestId);
    m_request->setText(tr("Request #%1").arg(message.request));
    m_stats->setVisible(answer && message.state != ChatMessageItem::State::Streaming &&
                        message.promptTokens > 0);
    m_stats->setText(statsText());
    refreshHeader();
}

void ChatMessageWidget::setText(const QString& text) {
    m_message.content = text;
    m_text->setText(text);
}

QString ChatMessageWidget::text() const { return m_message.content; }

QString ChatMessageWidget::statsText() const {
    const ChatMessageItem& m = m_message;
    return tr("prompt %1 tok · cached %2 · generated %3 · TTFT %4 ms · %5 tok/s")
        .arg(m.promptTokens)
        .arg(m.cachedPromptTokens)
        .arg(m.generatedTokens)
        .arg(m.ttftMs, 0, 'f', m.ttftMs < 10 ? 1 : 0)
        .arg(m.tokensPerSecond, 0, 'f', 1);
}

void ChatMessageWidget::refreshHeader() {
    m_header->setText(roleTitle(m_message.role) + stateSuffix(m_message.state));
}

}  // namespace batchscope::ui
