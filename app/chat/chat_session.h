// Runs one conversation of the chat history against the engine bridge: sends turns as chat
// requests, streams answers into the store, stops, regenerates, and drops the oldest turns
// of a conversation longer than the context (with a notice).
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <QHash>
#include <QObject>
#include <QString>
#include <QVector>
#include <vector>

#include "app/bridge/engine_bridge.h"
#include "app/chat/conversation_types.h"
#include "engine/chat/chat_template.h"
#include "engine/scheduling/generation.h"

namespace batchscope::app {

class ConversationStore;

/// GUI thread only. A turn is rendered with the chat template and tokenized on the bridge's
/// worker thread (EngineBridge::submitChatAsync): send() stores the user message and an empty
/// Streaming answer at once and returns; requestAssigned() follows when the engine accepted
/// the turn, failed() when it refused it (the empty answer is then removed). Token events
/// arrive already batched from the bridge (one queued flush per engine step), so the store
/// and the signals see batches, never one call per token from the engine thread; events of
/// the turn that arrive before its id is known are kept and replayed. Owns neither the
/// bridge nor the store.
class ChatSession : public QObject {
    Q_OBJECT
public:
    ChatSession(EngineBridge& bridge, ConversationStore& store, QObject* parent = nullptr);

    void setConversation(qint64 conversationId);
    qint64 conversation() const { return m_conversation; }
    void setGenerationOptions(const engine::GenerationOptions& options) { m_options = options; }

    /// Adds the user message and the empty answer and submits the conversation (rendered off
    /// the GUI thread); false (and error()) if it could not even be queued.
    bool send(const QString& text);
    /// Cancels the streaming answer; the text so far is committed as Stopped.
    void stop();
    /// Replaces the last assistant answer with a new one.
    bool regenerate();
    /// Quit: cancels the streaming answer and commits its text as Stopped now (without waiting
    /// for the engine's Cancelled result, which may never be delivered once the app exits).
    void stopAndCommit();
    /// From send() until the answer finishes (including while the turn is being submitted).
    bool isStreaming() const { return m_submitting || m_request != engine::kInvalidRequestId; }
    /// The turn is being rendered and tokenized (no request id yet).
    bool isSubmitting() const { return m_submitting; }
    qint64 streamingMessage() const { return isStreaming() ? m_answerMessage : 0; }
    engine::RequestId currentRequest() const { return m_request; }
    QString error() const { return m_error; }

    /// The prompt an assistant message was answered from, rendered again with the running
    /// model's template and tokenizer (the same engine::buildChatPrompt the engine used) on the
    /// bridge's worker thread; renderedPromptReady delivers it (at once when it cannot be
    /// rendered). Exact for answers sent in this session (the messages sent, after any dropped
    /// turns, are kept); for older ones it is rebuilt from the stored history before the message.
    struct RenderedPrompt {
        bool ok = false;
        QString text;
        int tokens = 0;
        QString note;  ///< how it was obtained, or the error when !ok
    };
    void requestRenderedPrompt(qint64 assistantMessageId);

signals:
    /// The empty answer exists (the turn is being submitted; no request yet).
    void answerStarted(qint64 messageId);
    /// The engine accepted the turn: the answer's request.
    void requestAssigned(qint64 messageId, batchscope::engine::RequestId request);
    void answerUpdated(qint64 messageId, const QString& textSoFar);
    void answerFinished(const batchscope::app::StoredMessage& message);
    /// Earlier turns left out because the conversation is longer than the context.
    void turnsDropped(int messages);
    void failed(const QString& error);
    void renderedPromptReady(qint64 messageId, const batchscope::app::ChatSession::RenderedPrompt& prompt);

private:
    bool submitHistory();
    void onSubmitted(int token, const EngineBridge::ChatSubmitted& result);
    std::vector<engine::ChatMessage> storedPromptBefore(qint64 assistantMessageId) const;
    void onTokens(const QVector<engine::TokenEvent>& events);
    void onFinished(const engine::GenerationResult& result);

    EngineBridge& m_bridge;
    ConversationStore& m_store;
    qint64 m_conversation = 0;
    engine::GenerationOptions m_options;
    engine::RequestId m_request = engine::kInvalidRequestId;
    qint64 m_answerMessage = 0;
    QByteArray m_answerText;  ///< UTF-8 deltas so far
    QString m_error;
    bool m_submitting = false;
    bool m_stopRequested = false;  ///< stop() while submitting: cancel once the id is known
    int m_submitToken = 0;         ///< bumped to disown a submission in flight
    /// Events that arrived while submitting (the request id not yet known).
    QVector<engine::TokenEvent> m_earlyTokens;
    QVector<engine::GenerationResult> m_earlyFinished;
    /// Messages sent for each answer of this session (after dropped turns), by message id.
    QHash<qint64, std::vector<engine::ChatMessage>> m_sent;
};

}  // namespace batchscope::app
