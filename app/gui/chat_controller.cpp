// SPDX-License-Identifier: GPL-3.0-or-later
#include "app/gui/chat_controller.h"

#include <QFile>
#include <QLineEdit>
#include <QSaveFile>

#include "app/bridge/engine_bridge.h"
#include "app/chat/chat_session.h"
#include "app/chat/conversation_store.h"
#include "ui/chat_view.h"
#include "ui/main_window.h"
#include "ui/request_table_model.h"

namespace batchscope::app {

namespace {
const char* const kNewTitle = QT_TRANSLATE_NOOP("ChatController", "New conversation");

ui::ChatMessageItem::State itemState(MessageState state) {
    switch (state) {
    case MessageState::Streaming: return ui::ChatMessageItem::State::Streaming;
    case MessageState::Stopped: return ui::ChatMessageItem::State::Stopped;
    case MessageState::Interrupted: return ui::ChatMessageItem::State::Interrupted;
    case MessageState::Complete: break;
    }
    return ui::ChatMessageItem::State::Complete;
}
}  // namespace

ChatController::ChatController(EngineBridge& bridge, ConversationStore& store, ui::MainWindow& window,
                               QObject* parent)
    : QObject(parent), m_bridge(bridge), m_store(store), m_window(window), m_view(*window.chatView()),
      m_session(new ChatSession(bridge, store, this)) {
    engine::GenerationOptions options;
    options.maxTokens = 256;
    m_session->setGenerationOptions(options);
    using ui::ChatView;
    connect(&m_view, &ChatView::conversationSelected, this, &ChatController::selectConversation);
    connect(&m_view, &ChatView::newConversationRequested, this, &ChatController::newConversation);
    connect(&m_view, &ChatView::renameRequested, this, [this](qint64 id, const QString& title) {
        m_store.renameConversation(id, title);
        refreshList();
    });
    connect(&m_view, &ChatView::deleteRequested, this, [this](qint64 id) {
        if (id == m_session->conversation()) m_session->stopAndCommit();
        m_store.deleteConversation(id);
        const auto rest = m_store.conversations(m_search, 1);
        selectConversation(rest.isEmpty() ? 0 : rest.front().id);
    });
    connect(&m_view, &ChatView::searchChanged, this, [this](const QString& text) {
        m_search = text;
        refreshList();
    });
    connect(&m_view, &ChatView::exportRequested, this, &ChatController::exportConversation);
    connect(&m_view, &ChatView::systemPromptEdited, this,
            [this](qint64 id, const QString& text) { m_store.setSystemPrompt(id, text); });
    connect(&m_view, &ChatView::sendRequested, this, &ChatController::send);
    connect(&m_view, &ChatView::stopRequested, m_session, &ChatSession::stop);
    connect(&m_view, &ChatView::regenerateRequested, this, [this] {
        m_view.showNotice({});
        if (!m_session->regenerate()) m_view.showNotice(m_session->error());
    });
    connect(&m_view, &ChatView::renderedPromptRequested, m_session, &ChatSession::requestRenderedPrompt);
    connect(m_session, &ChatSession::renderedPromptReady, this,
            [this](qint64, const ChatSession::RenderedPrompt& p) {
                m_view.showRenderedPrompt(p.text, p.ok ? p.tokens : 0, p.note);
            });
    connect(m_session, &ChatSession::answerStarted, this, [this] {
        reloadMessages();  // the user message and the (empty) streaming answer
    });
    connect(m_session, &ChatSession::requestAssigned, this, &ChatController::onRequestAssigned);
    connect(m_session, &ChatSession::answerUpdated, &m_view, &ChatView::updateStreamingText);
    connect(m_session, &ChatSession::answerFinished, this, &ChatController::onAnswerFinished);
    connect(m_session, &ChatSession::turnsDropped, this, [this](int messages) {
        m_view.showNotice(tr("This conversation is longer than the model's context: the oldest %n "
                             "message(s) were left out of the prompt (they stay in the history).",
                             nullptr, messages));
    });
    connect(m_session, &ChatSession::failed, this, [this](const QString& error) {
        reloadMessages();  // the empty answer of a refused turn is gone; the user message stays
        m_view.showNotice(tr("Not sent: %1").arg(error));
    });
    connect(&window, &ui::MainWindow::labelledRequestActivated, this, &ChatController::onRequestActivated);
    connect(&bridge, &EngineBridge::switchingChanged, this, &ChatController::onSwitching);
    connect(&bridge, &EngineBridge::modelChanged, this, [this] {
        // A new engine numbers its requests afresh; the window cleared its request views.
        m_messageRequest.clear();
        m_requestConversation.clear();
    });

    // An in-memory store (the file could not be used) keeps chat on, with the reason shown.
    m_view.setHistoryAvailable(store.isOpen(), store.openError());
    if (!store.isOpen()) return;
    const auto newest = m_store.conversations({}, 1);
    if (newest.isEmpty() && store.isInMemory()) {
        newConversation();  // ready to chat at once
        return;
    }
    selectConversation(newest.isEmpty() ? 0 : newest.front().id);
}

ChatController::~ChatController() { shutdown(); }

void ChatController::shutdown() {
    m_session->stopAndCommit();
    m_store.flushStreaming();
}

void ChatController::setGenerationOptions(const engine::GenerationOptions& options) {
    m_session->setGenerationOptions(options);
}

void ChatController::refreshList() {
    QVector<ui::ChatConversationItem> items;
    for (const ConversationSummary& c : m_store.conversations(m_search))
        items.push_back({c.id, c.title, c.updatedMs});
    m_view.setConversations(items, m_session->conversation());
}

ui::ChatMessageItem ChatController::toItem(const StoredMessage& m) const {
    ui::ChatMessageItem item;
    item.id = m.id;
    item.role = m.role;
    item.content = m.content;
    item.state = itemState(m.state);
    item.promptTokens = m.stats.promptTokens;
    item.cachedPromptTokens = m.stats.cachedPromptTokens;
    item.generatedTokens = m.stats.generatedTokens;
    item.ttftMs = m.stats.ttftMs;
    item.tokensPerSecond = m.stats.tokensPerSecond;
    item.request = m_messageRequest.value(m.id, engine::kInvalidRequestId);
    return item;
}

void ChatController::reloadMessages() {
    const qint64 id = m_session->conversation();
    const auto summary = m_store.conversation(id);
    QVector<ui::ChatMessageItem> items;
    for (const StoredMessage& m : m_store.messages(id)) items.push_back(toItem(m));
    m_view.showConversation(summary ? id : 0, summary ? summary->systemPrompt : QString(), items);
    m_view.setStreaming(m_session->isStreaming());
}

void ChatController::selectConversation(qint64 id) {
    if (m_session->isStreaming()) m_session->stopAndCommit();
    m_session->setConversation(id);
    reloadMessages();
    refreshList();
    emit conversationShown(id);
}

qint64 ChatController::newConversation() {
    const auto id = m_store.createConversation(tr(kNewTitle));
    if (!id) {
        m_view.showNotice(tr("Cannot create a conversation: %1").arg(m_store.lastError()));
        return 0;
    }
    m_search.clear();
    m_view.searchField()->blockSignals(true);
    m_view.searchField()->clear();
    m_view.searchField()->blockSignals(false);
    selectConversation(*id);
    return *id;
}

void ChatController::send(const QString& text) {
    qint64 id = m_session->conversation();
    if (id == 0) return;
    m_view.showNotice({});
    // A new conversation takes its title from the first message.
    const auto summary = m_store.conversation(id);
    if (summary && summary->title == tr(kNewTitle) && m_store.messages(id).isEmpty()) {
        m_store.renameConversation(id, text.simplified().left(48));
        refreshList();
    }
    if (!m_session->send(text)) {
        m_view.showNotice(tr("Not sent: %1").arg(m_session->error()));
        reloadMessages();  // the user message was stored; it can be regenerated later
        return;
    }
    m_view.clearInput();
}

void ChatController::onRequestAssigned(qint64 messageId, engine::RequestId request) {
    const qint64 conversation = m_session->conversation();
    m_messageRequest.insert(messageId, request);
    m_requestConversation.insert(request, conversation);
    const auto summary = m_store.conversation(conversation);
    m_window.requestModel()->setRequestLabel(
        request, tr("chat: %1").arg(summary ? summary->title : QString::number(conversation)));
    reloadMessages();  // the answer's widget links to its request now
}

void ChatController::onAnswerFinished(const StoredMessage& message) {
    m_view.finishMessage(toItem(message));
    m_view.setStreaming(m_session->isStreaming());
}

void ChatController::onRequestActivated(engine::RequestId id) {
    const qint64 conversation = m_requestConversation.value(id);
    if (conversation == 0) return;
    if (conversation != m_session->conversation()) selectConversation(conversation);
    m_window.showChatTab();
}

void ChatController::onSwitching(bool switching) {
    // The old engine's requests are about to be cancelled: commit the answer as it stands.
    if (switching && m_session->isStreaming()) {
        m_session->stopAndCommit();
        reloadMessages();
    }
}

bool ChatController::exportConversation(qint64 id, const QString& path) {
    const QByteArray data = path.endsWith(QLatin1String(".json"), Qt::CaseInsensitive)
                                ? m_store.exportJson(id)
                                : m_store.exportMarkdown(id).toUtf8();
    QSaveFile file(path);
    if (data.isEmpty() || !file.open(QIODevice::WriteOnly) || file.write(data) != data.size() || !file.commit()) {
        m_window.showStatusMessage(tr("Export failed: %1").arg(data.isEmpty() ? m_store.lastError() : file.errorString()));
        return false;
    }
    m_window.showStatusMessage(tr("Exported to %1").arg(path));
    return true;
}

}  // namespace batchscope::app
