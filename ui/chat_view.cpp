// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/chat_view.h"

#include <QDialog>
#include <QFileDialog>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QKeyEvent>
#include <QLabel>
#include <QLineEdit>
#include <QListView>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QScrollArea>
#include <QScrollBar>
#include <QSplitter>
#include <QTimer>
#include <QVBoxLayout>

#include "ui/chat_conversation_model.h"
#include "ui/chat_message_widget.h"

namespace batchscope::ui {

ChatView::ChatView(QWidget* parent)
    : QWidget(parent), m_refresh(new QTimer(this)), m_systemSave(new QTimer(this)) {
    setObjectName(QStringLiteral("chatView"));
    auto* splitter = new QSplitter(Qt::Horizontal, this);
    splitter->addWidget(buildListPanel());
    splitter->addWidget(buildConversationPanel());
    splitter->setStretchFactor(0, 1);
    splitter->setStretchFactor(1, 4);
    splitter->setSizes({240, 960});  // the messages get the room; the stretch only spreads resizes
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    m_historyOff = new QLabel(this);
    m_historyOff->setObjectName(QStringLiteral("chatHistoryOff"));
    m_historyOff->setWordWrap(true);
    m_historyOff->setStyleSheet(QStringLiteral("background: #fff3cd; color: #664d03; padding: 6px"));
    m_historyOff->hide();
    layout->addWidget(m_historyOff);
    layout->addWidget(splitter, 1);

    m_refresh->setSingleShot(true);
    m_refresh->setInterval(50);
    connect(m_refresh, &QTimer::timeout, this, &ChatView::applyPendingText);
    m_systemSave->setSingleShot(true);
    m_systemSave->setInterval(400);
    connect(m_systemSave, &QTimer::timeout, this,
            [this] { if (m_conversation) emit systemPromptEdited(m_conversation, systemPrompt()); });
    updateButtons();
}

QWidget* ChatView::buildListPanel() {
    auto* panel = new QWidget(this);
    m_search = new QLineEdit(panel);
    m_search->setPlaceholderText(tr("Search conversations…"));
    m_search->setClearButtonEnabled(true);
    m_model = new ChatConversationModel(this);
    m_list = new QListView(panel);
    m_list->setModel(m_model);
    m_list->setUniformItemSizes(true);  // 10,000 rows lay out without measuring each
    m_list->setSelectionMode(QAbstractItemView::SingleSelection);
    m_list->setObjectName(QStringLiteral("chatConversationList"));
    m_list->setToolTip(tr("Double-click a title to rename it"));
    m_list->setEditTriggers(QAbstractItemView::DoubleClicked | QAbstractItemView::EditKeyPressed);
    m_new = new QPushButton(tr("New"), panel);
    m_rename = new QPushButton(tr("Rename"), panel);
    m_delete = new QPushButton(tr("Delete"), panel);
    m_export = new QPushButton(tr("Export…"), panel);
    m_export->setToolTip(tr("Save the conversation as Markdown (.md) or JSON (.json)"));
    auto* buttons = new QGridLayout;  // 2 x 2: keeps the list column narrow
    buttons->addWidget(m_new, 0, 0);
    buttons->addWidget(m_rename, 0, 1);
    buttons->addWidget(m_delete, 1, 0);
    buttons->addWidget(m_export, 1, 1);
    auto* layout = new QVBoxLayout(panel);
    layout->addWidget(m_search);
    layout->addWidget(m_list, 1);
    layout->addLayout(buttons);

    connect(m_search, &QLineEdit::textChanged, this, &ChatView::searchChanged);
    connect(m_list->selectionModel(), &QItemSelectionModel::currentChanged, this, &ChatView::onListSelection);
    // Queued: app/ refreshes (resets) the list in answer, not inside the editor's commit.
    connect(m_model, &ChatConversationModel::renameRequested, this, &ChatView::renameRequested,
            Qt::QueuedConnection);
    connect(m_new, &QPushButton::clicked, this, &ChatView::newConversationRequested);
    connect(m_rename, &QPushButton::clicked, this, [this] {
        if (m_list->currentIndex().isValid()) m_list->edit(m_list->currentIndex());
    });
    connect(m_delete, &QPushButton::clicked, this, &ChatView::askDelete);
    connect(m_export, &QPushButton::clicked, this, &ChatView::askExport);
    return panel;
}

QWidget* ChatView::buildConversationPanel() {
    auto* panel = new QWidget(this);
    m_system = new QPlainTextEdit(panel);
    m_system->setObjectName(QStringLiteral("chatSystemPrompt"));
    m_system->setPlaceholderText(tr("System prompt (optional)"));
    m_system->setMaximumHeight(60);
    m_notice = new QLabel(panel);
    m_notice->setObjectName(QStringLiteral("chatNotice"));
    m_notice->setWordWrap(true);
    m_notice->setStyleSheet(QStringLiteral("color: #8a5a00"));
    m_notice->hide();
    m_messagesBox = new QWidget;
    m_messagesLayout = new QVBoxLayout(m_messagesBox);
    m_messagesLayout->addStretch(1);
    m_scroll = new QScrollArea(panel);
    m_scroll->setWidgetResizable(true);
    m_scroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);  // messages wrap instead
    m_scroll->setWidget(m_messagesBox);
    m_input = new QPlainTextEdit(panel);
    m_input->setObjectName(QStringLiteral("chatInput"));
    m_input->setPlaceholderText(tr("Message (Ctrl+Enter sends)"));
    m_input->setMaximumHeight(90);
    m_input->installEventFilter(this);
    m_send = new QPushButton(tr("Send"), panel);
    m_stop = new QPushButton(tr("Stop"), panel);
    m_regenerate = new QPushButton(tr("Regenerate"), panel);
    m_regenerate->setToolTip(tr("Replace the last answer with a new one"));
    auto* buttons = new QVBoxLayout;
    for (QPushButton* b : {m_send, m_stop, m_regenerate}) buttons->addWidget(b);
    buttons->addStretch(1);
    auto* inputRow = new QHBoxLayout;
    inputRow->addWidget(m_input, 1);
    inputRow->addLayout(buttons);
    auto* layout = new QVBoxLayout(panel);
    layout->addWidget(m_system);
    layout->addWidget(m_notice);
    layout->addWidget(m_scroll, 1);
    layout->addLayout(inputRow);

    connect(m_system, &QPlainTextEdit::textChanged, this, [this] {
        if (!m_populating) m_systemSave->start();
    });
    connect(m_send, &QPushButton::clicked, this, [this] {
        const QString text = m_input->toPlainText().trimmed();
        if (!text.isEmpty() && m_conversation && !m_streaming) {
            if (m_systemSave->isActive()) {
                m_systemSave->stop();
                emit systemPromptEdited(m_conversation, systemPrompt());
            }
            emit sendRequested(text);
        }
    });
    connect(m_stop, &QPushButton::clicked, this, &ChatView::stopRequested);
    connect(m_regenerate, &QPushButton::clicked, this, &ChatView::regenerateRequested);
    return panel;
}

bool ChatView::eventFilter(QObject* watched, QEvent* event) {
    if (watched == m_input && event->type() == QEvent::KeyPress) {
        auto* key = static_cast<QKeyEvent*>(event);
        if ((key->key() == Qt::Key_Return || key->key() == Qt::Key_Enter) &&
            (key->modifiers() & Qt::ControlModifier)) {
            m_send->click();
            return true;
        }
    }
    return QWidget::eventFilter(watched, event);
}

void ChatView::setConversations(const QVector<ChatConversationItem>& items, qint64 current) {
    m_populating = true;
    m_model->setConversations(items);
    const int row = m_model->rowOf(current);
    if (row >= 0) m_list->setCurrentIndex(m_model->index(row));
    m_populating = false;
    updateButtons();
}

void ChatView::onListSelection() {
    if (m_populating) return;
    const qint64 id = m_model->idAt(m_list->currentIndex().row());
    if (id != 0 && id != m_conversation) emit conversationSelected(id);
}

void ChatView::showConversation(qint64 id, const QString& systemPrompt,
                                const QVector<ChatMessageItem>& messages) {
    if (m_systemSave->isActive() && m_conversation) {  // keep an edit made just before switching
        m_systemSave->stop();
        emit systemPromptEdited(m_conversation, this->systemPrompt());
    }
    m_conversation = id;
    m_populating = true;
    m_system->setPlainText(systemPrompt);
    m_populating = false;
    qDeleteAll(m_messages);
    m_messages.clear();
    m_pendingText.clear();
    m_notice->hide();
    m_notice->clear();
    for (const ChatMessageItem& m : messages) appendMessage(m);
    updateButtons();
}

void ChatView::appendMessage(const ChatMessageItem& message) {
    auto* w = new ChatMessageWidget(message, m_messagesBox);
    connect(w, &ChatMessageWidget::renderedPromptRequested, this, &ChatView::renderedPromptRequested);
    connect(w, &ChatMessageWidget::showRequestRequested, this, &ChatView::showRequestRequested);
    m_messagesLayout->insertWidget(m_messagesLayout->count() - 1, w);  // before the stretch
    m_messages.push_back(w);
    updateButtons();
    scrollToEnd();
}

ChatMessageWidget* ChatView::messageWidgetById(qint64 id) const {
    for (ChatMessageWidget* w : m_messages)
        if (w->message().id == id) return w;
    return nullptr;
}

void ChatView::updateStreamingText(qint64 messageId, const QString& text) {
    m_pendingText.insert(messageId, text);
    if (!m_refresh->isActive()) m_refresh->start();
}

void ChatView::applyPendingText() {
    if (m_pendingText.isEmpty()) return;
    for (auto it = m_pendingText.cbegin(); it != m_pendingText.cend(); ++it)
        if (ChatMessageWidget* w = messageWidgetById(it.key())) w->setText(it.value());
    m_pendingText.clear();
    ++m_refreshes;
    scrollToEnd();
}

void ChatView::flush() {
    m_refresh->stop();
    applyPendingText();
}

void ChatView::finishMessage(const ChatMessageItem& message) {
    m_pendingText.remove(message.id);
    if (ChatMessageWidget* w = messageWidgetById(message.id)) {
        ChatMessageItem m = message;
        if (m.request == engine::kInvalidRequestId) m.request = w->message().request;
        w->setMessage(m);
    }
    scrollToEnd();
}

void ChatView::setStreaming(bool streaming) {
    m_streaming = streaming;
    updateButtons();
}

void ChatView::setHistoryAvailable(bool available, const QString& message) {
    m_historyAvailable = available;
    m_historyOff->setText(message);
    m_historyOff->setVisible(!message.isEmpty());
    updateButtons();
}

void ChatView::showNotice(const QString& text) {
    m_notice->setText(text);
    m_notice->setVisible(!text.isEmpty());
}

QString ChatView::notice() const { return m_notice->isVisible() ? m_notice->text() : QString(); }

void ChatView::showRenderedPrompt(const QString& text, int tokens, const QString& note) {
    if (!m_promptWindow) {
        auto* dialog = new QDialog(this);
        dialog->setObjectName(QStringLiteral("renderedPromptDialog"));
        dialog->setWindowTitle(tr("Rendered prompt"));
        auto* layout = new QVBoxLayout(dialog);
        auto* label = new QLabel(dialog);
        label->setObjectName(QStringLiteral("renderedPromptInfo"));
        label->setWordWrap(true);
        auto* edit = new QPlainTextEdit(dialog);
        edit->setObjectName(QStringLiteral("renderedPromptText"));
        edit->setReadOnly(true);
        edit->setLineWrapMode(QPlainTextEdit::WidgetWidth);
        layout->addWidget(label);
        layout->addWidget(edit, 1);
        dialog->resize(720, 520);
        m_promptWindow = dialog;
    }
    m_promptWindow->findChild<QLabel*>(QStringLiteral("renderedPromptInfo"))
        ->setText(tokens > 0 ? tr("%1 tokens. %2").arg(tokens).arg(note) : note);
    m_promptWindow->findChild<QPlainTextEdit*>(QStringLiteral("renderedPromptText"))->setPlainText(text);
    m_promptWindow->show();
    m_promptWindow->raise();
}

void ChatView::clearInput() { m_input->clear(); }

void ChatView::setRefreshIntervalMs(int ms) { m_refresh->setInterval(std::max(1, ms)); }
int ChatView::refreshIntervalMs() const { return m_refresh->interval(); }

QString ChatView::systemPrompt() const { return m_system->toPlainText(); }

void ChatView::updateButtons() {
    const bool on = m_historyAvailable;
    const bool open = on && m_conversation != 0;
    const bool answered = !m_messages.isEmpty() && m_messages.back()->message().role == QLatin1String("assistant");
    m_new->setEnabled(on);
    m_search->setEnabled(on);
    m_list->setEnabled(on);
    for (QPushButton* b : {m_rename, m_delete, m_export}) b->setEnabled(open && m_list->currentIndex().isValid());
    m_system->setEnabled(open && !m_streaming);
    m_input->setEnabled(open);
    m_send->setEnabled(open && !m_streaming);
    m_stop->setEnabled(open && m_streaming);
    m_regenerate->setEnabled(open && !m_streaming && answered);
}

void ChatView::scrollToEnd() {
    QTimer::singleShot(0, m_scroll, [bar = m_scroll->verticalScrollBar()] { bar->setValue(bar->maximum()); });
}

void ChatView::askDelete() {
    const int row = m_list->currentIndex().row();
    if (row < 0) return;
    if (m_confirmDeletes &&
        QMessageBox::question(this, tr("Delete conversation"),
                              tr("Delete “%1” and all its messages?").arg(m_model->titleAt(row))) != QMessageBox::Yes)
        return;
    emit deleteRequested(m_model->idAt(row));
}

void ChatView::askExport() {
    const int row = m_list->currentIndex().row();
    if (row < 0) return;
    const qint64 id = m_model->idAt(row);
    const QString path = QFileDialog::getSaveFileName(this, tr("Export conversation"), m_model->titleAt(row) + QStringLiteral(".md"),
                                                      tr("Markdown (*.md);;JSON (*.json)"));
    if (path.isEmpty()) return;
    emit exportRequested(id, path);
}

}  // namespace batchscope::ui
