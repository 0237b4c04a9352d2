// Value types the chat view shows: conversations and messages as app/ hands them over (the
// view never touches the chat history database).
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <QString>
#include <QtGlobal>

#include "engine/core/ids.h"

namespace batchscope::ui {

struct ChatConversationItem {
    qint64 id = 0;
    QString title;
    qint64 updatedMs = 0;  ///< ms since the epoch (UTC)
};

/// One message. Figures are for assistant messages (zero otherwise). Units: tokens, ms, tok/s.
struct ChatMessageItem {
    enum class State { Streaming, Complete, Stopped, Interrupted };
    qint64 id = 0;
    QString role;  ///< "system", "user" or "assistant"
    QString content;
    State state = State::Complete;
    int promptTokens = 0;
    int cachedPromptTokens = 0;  ///< prompt tokens served from the prefix cache
    int generatedTokens = 0;
    double ttftMs = 0.0;
    double tokensPerSecond = 0.0;
    /// The engine request that produced it (answers of this session), else invalid.
    engine::RequestId request = engine::kInvalidRequestId;
};

}  // namespace batchscope::ui
