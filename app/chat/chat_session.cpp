// SPDX-License-Identifier: GPL-3.0-or-later
#include "app/chat/chat_session.h"

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
    std::vector<engine::ChatMessage> turns;
    for (const StoredMessage& m : m_store.messages(m_conversation))
        if (!m.content.isEmpty()) turns.push_back({m.role.toStdString(), m.content.toStdString()});
    // Over-long conversations: drop the oldest turns (never the system prompt nor the last
    // user message) until the prompt fits, and say how many were left out.
    int dropped = 0;
    std::vector<engine::ChatMessage> sent;
    while (true) {
        std::vector<engine::ChatMessage> messages;
        if (summary && !summary->systemPrompt.isEmpty())
            messages.push_back({"system", summary->systemPrompt.toStdString()});
        messages.insert(messages.end(), turns.begin(), turns.end());
        auto id = m_bridge.submitChat(messages, m_options);
        if (id.ok()) {
            if (dropped > 0) emit turnsDropped(dropped);
            m_request = id.value();
            sent = std::move(messages);
            break;
        }
        if (id.error().code != engine::ErrorCode::PromptTooLong || turns.size() <= 1) {
            m_error = QString::fromStdString(id.error().message);
            emit failed(m_error);
            return false;
        }
        turns.erase(turns.begin());
        ++dropped;
    }
    m_answerText.clear();
    m_answerMessage = m_store.addMessage(m_conversation, QStringLiteral("assistant"), {}, MessageState::Streaming)
                          .value_or(0);
    if (m_answerMessage) m_sent.insert(m_answerMessage, std::move(sent));
    emit answerStarted(m_answerMessage, m_request);
    return true;
}

void ChatSession::stop() {
    if (!isStreaming()) return;
    m_bridge.cancel(m_request);  // requestFinished (Cancelled) commits the text as Stopped
    m_store.flushStreaming();
}

void ChatSession::stopAndCommit() {
    if (!isStreaming()) return;
    const engine::RequestId request = m_request;
    m_request = engine::kInvalidRequestId;  // the Cancelled result, if it comes, is ignored
    m_bridge.cancel(request);
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

ChatSession::RenderedPrompt ChatSession::renderedPrompt(qint64 assistantMessageId) const {
    RenderedPrompt out;
    const engine::Engine* engine = m_bridge.engine();
    if (!engine) {
        out.note = tr("No model is running");
        return out;
    }
    std::vector<engine::ChatMessage> messages;
    if (auto it = m_sent.constFind(assistantMessageId); it != m_sent.cend()) {
        messages = *it;
        out.note = tr("The prompt sent for this answer, rendered with %1's chat template.")
                       .arg(QString::fromStdString(engine->modelInfo().name));
    } else {
        messages = storedPromptBefore(assistantMessageId);
        out.note = tr("Rebuilt from the stored history before this answer with the running model "
                      "(%1); earlier turns dropped for the context, if any, are included.")
                       .arg(QString::fromStdString(engine->modelInfo().name));
    }
    if (messages.empty()) {
        out.note = tr("This message is not an answer of the current conversation");
        return out;
    }
    auto prompt = engine::buildChatPrompt(engine->modelInfo().chatTemplate, messages, engine->modelInfo(),
                                          engine->tokenizer());
    if (!prompt) {
        out.note = QString::fromStdString(prompt.error().message);
        return out;
    }
    out.ok = true;
    out.text = QString::fromStdString(prompt->rendered.text);
    out.tokens = static_cast<int>(prompt->tokens.size());
    return out;
}

void ChatSession::onTokens(const QVector<engine::TokenEvent>& events) {
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
