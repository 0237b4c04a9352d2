// Wires the chat view to the chat history (ConversationStore) and the engine (ChatSession),
// and links chat turns to the scheduler views.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <QHash>
#include <QObject>
#include <QString>

#include "app/chat/conversation_types.h"
#include "engine/core/ids.h"
#include "engine/scheduling/generation.h"
#include "ui/chat_types.h"

namespace batchscope::ui {
class ChatView;
class MainWindow;
}  // namespace batchscope::ui

namespace batchscope::app {

class ChatSession;
class ConversationStore;
class EngineBridge;

/// GUI thread only. Owns the ChatSession; owns neither the store, the bridge nor the window
/// (all must outlive it). A store on an in-memory history (ConversationStore::openInMemory:
/// the file was locked, read-only or corrupt) keeps chat on with its "not being saved"
/// message shown in the view; a store that is not open at all turns chat off with its message.
/// A streaming answer is committed as it stands (Stopped) when the user stops it, switches
/// conversation, the model is switched (switchingChanged(true)) and at shutdown().
class ChatController : public QObject {
    Q_OBJECT
public:
    ChatController(EngineBridge& bridge, ConversationStore& store, ui::MainWindow& window,
                   QObject* parent = nullptr);
    ~ChatController() override;  ///< calls shutdown()

    /// Quit: commits a streaming answer as Stopped and flushes the store.
    void shutdown();
    ChatSession& session() { return *m_session; }
    void setGenerationOptions(const engine::GenerationOptions& options);
    /// Shows a conversation (0: none) in the view and makes it the one messages go to.
    void selectConversation(qint64 id);
    /// Creates a conversation and selects it; 0 when the store refused.
    qint64 newConversation();
    bool exportConversation(qint64 id, const QString& path);
    /// The conversation a chat request (of the running engine) belongs to, or 0.
    qint64 conversationOfRequest(engine::RequestId id) const { return m_requestConversation.value(id); }

signals:
    void conversationShown(qint64 id);

private:
    void refreshList();
    void reloadMessages();
    void send(const QString& text);
    void onRequestAssigned(qint64 messageId, engine::RequestId request);
    void onAnswerFinished(const StoredMessage& message);
    void onRequestActivated(engine::RequestId id);
    void onSwitching(bool switching);
    ui::ChatMessageItem toItem(const StoredMessage& message) const;

    EngineBridge& m_bridge;
    ConversationStore& m_store;
    ui::MainWindow& m_window;
    ui::ChatView& m_view;
    ChatSession* m_session;
    QString m_search;
    QHash<qint64, engine::RequestId> m_messageRequest;       ///< answers of this engine
    QHash<engine::RequestId, qint64> m_requestConversation;  ///< chat requests of this engine
};

}  // namespace batchscope::app
