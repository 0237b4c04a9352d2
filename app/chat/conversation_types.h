// Value types of the chat history: what the conversation store reads and writes.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <QString>
#include <QMetaType>
#include <QVector>
#include <QtGlobal>

namespace batchscope::app {

/// A message's life: Streaming while tokens arrive (partial text committed at most every
/// ~1 s), then Complete or Stopped; Interrupted when the store finds a Streaming message at
/// open time (the app died mid-stream; the text is what was committed last).
enum class MessageState { Streaming = 0, Complete = 1, Stopped = 2, Interrupted = 3 };

/// Per assistant message figures (zero for user/system messages). Units: tokens, ms, tokens/s.
struct MessageStats {
    int promptTokens = 0;
    int cachedPromptTokens = 0;  ///< prompt tokens served from the prefix cache
    int generatedTokens = 0;
    double ttftMs = 0.0;
    double tokensPerSecond = 0.0;
};

struct StoredMessage {
    qint64 id = 0;
    qint64 conversationId = 0;
    QString role;  ///< "system", "user" or "assistant"
    QString content;
    MessageState state = MessageState::Complete;
    MessageStats stats;
    qint64 createdMs = 0;  ///< ms since the epoch (UTC)
};

struct ConversationSummary {
    qint64 id = 0;
    QString title;
    QString systemPrompt;
    qint64 createdMs = 0;
    qint64 updatedMs = 0;
};

QString messageStateName(MessageState state);

}  // namespace batchscope::app

Q_DECLARE_METATYPE(batchscope::app::StoredMessage)
