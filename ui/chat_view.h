// The chat view: a conversation list (new, rename, delete, search, export), the system
// prompt, the messages (answers streamed as they are generated) and send / stop / regenerate.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <QHash>
#include <QVector>
#include <QWidget>

#include "ui/chat_types.h"

class QLabel;
class QLineEdit;
class QListView;
class QPlainTextEdit;
class QPushButton;
class QScrollArea;
class QTimer;
class QVBoxLayout;

namespace batchscope::ui {

class ChatConversationModel;
class ChatMessageWidget;

/// Shows what app/ feeds it and emits intents; it never touches the database or the engine.
/// Streaming text is applied at most once per refreshIntervalMs() (default 50 ms), however
/// often updateStreamingText() is called. GUI thread only.
class ChatView : public QWidget {
    Q_OBJECT
public:
    explicit ChatView(QWidget* parent = nullptr);

    // ---- Feeding ----
    /// Replaces the list (newest first); selects `current` if listed (without emitting).
    void setConversations(const QVector<ChatConversationItem>& items, qint64 current);
    /// Shows one conversation (0: none) and its messages; clears any notice.
    void showConversation(qint64 id, const QString& systemPrompt, const QVector<ChatMessageItem>& messages);
    void appendMessage(const ChatMessageItem& message);
    /// The whole text so far of a streaming message (applied on the next refresh tick).
    void updateStreamingText(qint64 messageId, const QString& text);
    /// Final text, state and figures of a message (applied at once).
    void finishMessage(const ChatMessageItem& message);
    /// While an answer streams: Stop on, Send / Regenerate off.
    void setStreaming(bool streaming);
    /// Off: the chat controls disabled. A non-empty message is shown as a banner either way
    /// (e.g. "Chat history is not being saved: ..." while chat runs on an in-memory history).
    void setHistoryAvailable(bool available, const QString& message = QString());
    bool isHistoryAvailable() const { return m_historyAvailable; }
    /// A visible notice above the messages (e.g. turns left out of an over-long conversation).
    void showNotice(const QString& text);
    QString notice() const;
    /// Opens (or refreshes) the non-modal rendered-prompt window.
    void showRenderedPrompt(const QString& text, int tokens, const QString& note);
    void clearInput();
    /// Whether deleting asks for confirmation (tests turn it off).
    void setConfirmDeletes(bool confirm) { m_confirmDeletes = confirm; }
    void setRefreshIntervalMs(int ms);
    int refreshIntervalMs() const;
    /// Times streaming text was applied to the message widgets (tests).
    int refreshCount() const { return m_refreshes; }
    /// Applies pending streaming text now (before a grab).
    void flush();

    // ---- State and parts, for app/ and tests ----
    qint64 currentConversation() const { return m_conversation; }
    QString systemPrompt() const;
    int messageCount() const { return int(m_messages.size()); }
    ChatMessageWidget* messageWidget(int index) const { return m_messages.value(index); }
    ChatMessageWidget* messageWidgetById(qint64 id) const;
    QListView* conversationList() const { return m_list; }
    ChatConversationModel* conversationModel() const { return m_model; }
    QLineEdit* searchField() const { return m_search; }
    QPlainTextEdit* systemPromptEdit() const { return m_system; }
    QPlainTextEdit* input() const { return m_input; }
    QPushButton* newButton() const { return m_new; }
    QPushButton* renameButton() const { return m_rename; }
    QPushButton* deleteButton() const { return m_delete; }
    QPushButton* exportButton() const { return m_export; }
    QPushButton* sendButton() const { return m_send; }
    QPushButton* stopButton() const { return m_stop; }
    QPushButton* regenerateButton() const { return m_regenerate; }

signals:
    void conversationSelected(qint64 id);
    void newConversationRequested();
    void renameRequested(qint64 id, const QString& title);
    void deleteRequested(qint64 id);
    void searchChanged(const QString& text);
    /// path ends in .json for JSON, otherwise Markdown.
    void exportRequested(qint64 id, const QString& path);
    void systemPromptEdited(qint64 id, const QString& text);
    void sendRequested(const QString& text);
    void stopRequested();
    void regenerateRequested();
    void renderedPromptRequested(qint64 messageId);
    void showRequestRequested(batchscope::engine::RequestId id);

protected:
    bool eventFilter(QObject* watched, QEvent* event) override;

private:
    QWidget* buildListPanel();
    QWidget* buildConversationPanel();
    void applyPendingText();
    void updateButtons();
    void scrollToEnd();
    void onListSelection();
    void askDelete();
    void askExport();

    QLineEdit* m_search;
    QListView* m_list;
    ChatConversationModel* m_model;
    QPushButton *m_new, *m_rename, *m_delete, *m_export;
    QLabel* m_historyOff;
    QPlainTextEdit* m_system;
    QLabel* m_notice;
    QScrollArea* m_scroll;
    QWidget* m_messagesBox;
    QVBoxLayout* m_messagesLayout;
    QPlainTextEdit* m_input;
    QPushButton *m_send, *m_stop, *m_regenerate;
    QTimer* m_refresh;
    QTimer* m_systemSave;
    QWidget* m_promptWindow = nullptr;

    qint64 m_conversation = 0;
    QVector<ChatMessageWidget*> m_messages;
    QHash<qint64, QString> m_pendingText;
    bool m_streaming = false;
    bool m_historyAvailable = true;
    bool m_populating = false;
    bool m_confirmDeletes = true;
    int m_refreshes = 0;
};

}  // namespace batchscope::ui
