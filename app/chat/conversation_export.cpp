// SPDX-License-Identifier: GPL-3.0-or-later
// Markdown and JSON export of one conversation (ConversationStore::export*).
#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include "app/chat/conversation_store.h"

namespace batchscope::app {

QString ConversationStore::exportMarkdown(qint64 conversationId) {
    const auto c = conversation(conversationId);
    if (!c) return {};
    QString md = QStringLiteral("# %1\n\n").arg(c->title);
    if (!c->systemPrompt.isEmpty()) md += QStringLiteral("**System:** %1\n\n").arg(c->systemPrompt);
    for (const StoredMessage& m : messages(conversationId)) {
        QString role = m.role;
        if (!role.isEmpty()) role[0] = role[0].toUpper();
        md += QStringLiteral("## %1\n\n%2\n\n").arg(role, m.content);
        if (m.state == MessageState::Stopped || m.state == MessageState::Interrupted)
            md += QStringLiteral("*(%1)*\n\n").arg(messageStateName(m.state));
        if (m.role == QLatin1String("assistant") && m.stats.generatedTokens > 0)
            md += QStringLiteral("*%1 prompt tokens (%2 cached), %3 generated, TTFT %4 ms, %5 tokens/s*\n\n")
                      .arg(m.stats.promptTokens).arg(m.stats.cachedPromptTokens).arg(m.stats.generatedTokens)
                      .arg(m.stats.ttftMs, 0, 'f', 1).arg(m.stats.tokensPerSecond, 0, 'f', 1);
    }
    return md;
}

QByteArray ConversationStore::exportJson(qint64 conversationId) {
    const auto c = conversation(conversationId);
    if (!c) return {};
    QJsonArray list;
    for (const StoredMessage& m : messages(conversationId)) {
        QJsonObject o{{QStringLiteral("role"), m.role},
                      {QStringLiteral("content"), m.content},
                      {QStringLiteral("state"), messageStateName(m.state)},
                      {QStringLiteral("created"), QDateTime::fromMSecsSinceEpoch(m.createdMs, Qt::UTC).toString(Qt::ISODateWithMs)}};
        if (m.role == QLatin1String("assistant"))
            o.insert(QStringLiteral("stats"),
                     QJsonObject{{QStringLiteral("prompt_tokens"), m.stats.promptTokens},
                                 {QStringLiteral("cached_prompt_tokens"), m.stats.cachedPromptTokens},
                                 {QStringLiteral("generated_tokens"), m.stats.generatedTokens},
                                 {QStringLiteral("ttft_ms"), m.stats.ttftMs},
                                 {QStringLiteral("tokens_per_second"), m.stats.tokensPerSecond}});
        list.append(o);
    }
    const QJsonObject root{{QStringLiteral("title"), c->title},
                           {QStringLiteral("system_prompt"), c->systemPrompt},
                           {QStringLiteral("created"), QDateTime::fromMSecsSinceEpoch(c->createdMs, Qt::UTC).toString(Qt::ISODateWithMs)},
                           {QStringLiteral("messages"), list}};
    return QJsonDocument(root).toJson(QJsonDocument::Indented);
}

}  // namespace batchscope::app
