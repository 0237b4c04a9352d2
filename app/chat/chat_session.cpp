// SPDX-License-Identifier: GPL-3.0-or-later
#include "app/chat/chat_session.h"

#include <QPointer>
#include <utility>

#include "app/bridge/engine_bridge.h"
#include "app/chat/conversation_store.h"
#include "engine/chat/chat_prompt.h"
#include "engine/runtime/engine.h"

namespace batchscope::app {

ChatSession::ChatSession(EngineBridge& bridge, ConversationStore& store, QObject* parent)
    : QObject(parent), m_bridge(bridge), m_store(store) {
    connect(&bridge, &EngineBridge::tokensGenerated, this, &ChatSession::onTokens);
    connect(&bridge, &EngineBridge::requestFinished, this, &ChatSession::onFinished);
    // A model switch cancels the running request; commit what streamed so far first.
    connect(&bridge, &EngineBridge::modelChanged, this, [this] { m_store.flushStreaming(); });
}

void ChatSession::setConversation(qint64 conversationId) {
    if (isStreaming()) stop();
    m_conversation = conversationId;
}

bool ChatSession::send(const QString& text) {
    if (isStreaming()) {
        m_error = tr("An answer is still streaming; stop it first");
        return false;
    }
    if (!m_store.addMessage(m_conversation, QStringLiteral("user"), text)) {
        m_error = tr("Cannot save the message: %1").arg(m_store.lastError());
        emit failed(m_error);
        return false;
    }
    return submitHistory();
}

bool ChatSession::regenerate() {
    if (isStreaming()) return false;
    const auto history = m_store.messages(m_conversation);
    if (history.isEmpty() || history.back().role != QLatin1String("assistant")) {
        m_error = tr("There is no answer to regenerate");
        return false;
    }
    m_store.deleteMessage(history.back().id);
    return submitHistory();
}

bool ChatSession::submitHistory() {
    const auto summary = m_store.conversation(m_conversation);
    std::vector<engine::ChatMessage> messages;
    int keepLeading = 0;
    if (summary && !summary->systemPrompt.isEmpty()) {
        messages.push_back({"system", summary->systemPrompt.toStdString()});
        keepLeading = 1;
    }
    for (const StoredMessage& m : m_store.messages(m_conversation))
        if (!m.content.isEmpty()) messages.push_back({m.role.toStdString(), m.content.toStdString()});
    // Over-long conversations: the bridge drops the oldest turns (never the system prompt nor
    // the last user message) until the prompt fits, and says how many were left out.
    const int token = ++m_submitToken;
    QPointer<ChatSession> self(this);
    const bool queued = m_bridge.submitChatAsync(
        std::move(messages), keepLeading, m_options,
        [self, token](const EngineBridge::ChatSubmitted& result) {
            if (self) self->onSubmitted(token, result);
        });
    if (!queued) {
        m_error = m_bridge.isSwitching() ? tr("the model is being switched") : tr("no model is loaded");
        emit failed(m_error);
        return false;
    }
    m_submitting = true;
    m_stopRequested = false;
    m_earlyTokens.clear();
    m_earlyFinished.clear();
    m_answerText.clear();
    m_answerMessage = m_store.addMessage(m_conversation, QStringLiteral("assistant"), {}, MessageState::Streaming)
                          .value_or(0);
    emit answerStarted(m_answerMessage);
    return true;
}

void ChatSession::onSubmitted(int token, const EngineBridge::ChatSubmitted& result) {
    if (token != m_submitToken) {  // disowned (quit, switch, another conversation)
        if (result.ok && !result.stale) m_bridge.cancel(result.id);
        return;
    }
    m_submitting = false;
    const QVector<engine::TokenEvent> early = std::exchange(m_earlyTokens, {});
    const QVector<engine::GenerationResult> earlyFinished = std::exchange(m_earlyFinished, {});
    if (!result.ok || result.stale) {
        if (m_answerMessage) m_store.deleteMessage(m_answerMessage);  // the empty answer
        m_answerMessage = 0;
        m_error = result.stale ? tr("the model was switched before the turn was queued") : result.error;
        emit failed(m_error);
        return;
    }
    m_request = result.id;
    if (m_answerMessage) m_sent.insert(m_answerMessage, result.sent);
    emit requestAssigned(m_answerMessage, m_request);
    if (result.dropped > 0) emit turnsDropped(result.dropped);  // after: the view reloads on the former
    if (!early.isEmpty()) onTokens(early);
    for (const engine::GenerationResult& r : earlyFinished) onFinished(r);
    if (m_stopRequested && isStreaming()) stop();
}

void ChatSession::stop() {
    if (!isStreaming()) return;
    if (m_submitting) {  // no id yet: cancelled as soon as it comes
        m_stopRequested = true;
        return;
    }
    m_bridge.cancel(m_request);  // requestFinished (Cancelled) commits the text as Stopped
    m_store.flushStreaming();
}

void ChatSession::stopAndCommit() {
    if (!isStreaming()) return;
    if (m_submitting) {
        ++m_submitToken;  // onSubmitted cancels the request if it still comes
        m_submitting = false;
        m_earlyTokens.clear();
        m_earlyFinished.clear();
    }
    const engine::RequestId request = std::exchange(m_request, engine::kInvalidRequestId);
    // The Cancelled result, if it comes, is ignored.
    if (request != engine::kInvalidRequestId) m_bridge.cancel(request);
    const QString text = QString::fromUtf8(m_answerText);
    m_store.finishMessage(m_answerMessage, text, MessageState::Stopped, {});
}

std::vector<engine::ChatMessage> ChatSession::storedPromptBefore(qint64 assistantMessageId) const {
    const auto summary = m_store.conversation(m_conversation);
    if (!summary) return {};
    std::vector<engine::ChatMessage> messages;
    if (!summary->systemPrompt.isEmpty()) messages.push_back({"system", summary->systemPrompt.toStdString()});
    for (const StoredMessage& m : m_store.messages(m_conversation)) {
        if (m.id == assistantMessageId) return messages;
        if (!m.content.isEmpty()) messages.push_back({m.role.toStdString(), m.content.toStdString()});
    }
    return {};  // not a message of this conversation
}

void ChatSession::requestRenderedPrompt(qint64 assistantMessageId) {
    RenderedPrompt out;
    const engine::Engine* engine = m_bridge.engine();
    if (!engine) {
        out.note = tr("No model is running");
        emit renderedPromptReady(assistantMessageId, out);
        return;
    }
    const QString model = QString::fromStdString(engine->modelInfo().name);
    std::vector<engine::ChatMessage> messages;
    if (auto it = m_sent.constFind(assistantMessageId); it != m_sent.cend()) {
        messages = *it;
        out.note = tr("The prompt sent for this answer, rendered with %1's chat template.").arg(model);
    } else {
        messages = storedPromptBefore(assistantMessageId);
        out.note = tr("Rebuilt from the stored history before this answer with the running model "
                      "(%1); earlier turns dropped for the context, if any, are included.")
                       .arg(model);
    }
    if (messages.empty()) {
        out.note = tr("This message is not an answer of the current conversation");
        emit renderedPromptReady(assistantMessageId, out);
        return;
    }
    QPointer<ChatSession> self(this);
    m_bridge.renderChatAsync(std::move(messages), [self, assistantMessageId, out](bool ok, const QString& text,
                                                                                  int tokens, const QString& error) mutable {
        if (!self) return;
        out.ok = ok;
        out.text = text;
        out.tokens = tokens;
        if (!ok) out.note = error;
        emit self->renderedPromptReady(assistantMessageId, out);
    });
}

void ChatSession::onTokens(const QVector<engine::TokenEvent>& events) {
    if (m_submitting) {
        m_earlyTokens += events;
        return;
    }
    if (!isStreaming()) return;
    bool changed = false;
    for (const engine::TokenEvent& e : events) {
        if (e.id != m_request || e.textDelta.empty()) continue;
        m_answerText.append(e.textDelta.data(), static_cast<qsizetype>(e.textDelta.size()));
        changed = true;
    }
    if (!changed) return;
    const QString text = QString::fromUtf8(m_answerText);
    if (m_answerMessage) m_store.appendStreaming(m_answerMessage, text);
    emit answerUpdated(m_answerMessage, text);
}

void ChatSession::onFinished(const engine::GenerationResult& result) {
    if (m_submitting) {
        m_earlyFinished.push_back(result);
        return;
    }
    if (result.id != m_request || !isStreaming()) return;
    m_request = engine::kInvalidRequestId;
    const MessageState state =
        result.finishReason == engine::FinishReason::Cancelled ? MessageState::Stopped : MessageState::Complete;
    const MessageStats stats{result.usage.promptTokens, result.usage.cachedPromptTokens,
                             result.usage.completionTokens, result.timings.timeToFirstTokenMs,
                             result.timings.tokensPerSecond};
    // The final text is authoritative (stop strings removed); a cancelled one keeps the stream.
    const QString text = state == MessageState::Stopped ? QString::fromUtf8(m_answerText)
                                                        : QString::fromStdString(result.text);
    m_store.finishMessage(m_answerMessage, text, state, stats);
    StoredMessage message;
    message.id = m_answerMessage;
    message.conversationId = m_conversation;
    message.role = QStringLiteral("assistant");
    message.content = text;
    message.state = state;
    message.stats = stats;
    emit answerFinished(message);
}

}  // namespace batchscope::app
