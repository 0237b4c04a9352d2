// List model of the chat view's conversations (a model, not QListWidget items, so a history
// of 10,000 conversations lists in a few milliseconds).
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <QAbstractListModel>
#include <QVector>

#include "ui/chat_types.h"

namespace batchscope::ui {

/// Rows in the order given (newest first). Editing a title does not change the row: it emits
/// renameRequested and app/ refreshes the list. GUI thread only.
class ChatConversationModel : public QAbstractListModel {
    Q_OBJECT
public:
    enum Role { IdRole = Qt::UserRole };

    explicit ChatConversationModel(QObject* parent = nullptr);
    void setConversations(const QVector<ChatConversationItem>& items);

    int rowCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role) const override;
    Qt::ItemFlags flags(const QModelIndex& index) const override;
    bool setData(const QModelIndex& index, const QVariant& value, int role) override;

    /// Row of a conversation, or -1.
    int rowOf(qint64 id) const;
    qint64 idAt(int row) const;
    QString titleAt(int row) const;

signals:
    void renameRequested(qint64 id, const QString& title);

private:
    QVector<ChatConversationItem> m_items;
};

}  // namespace batchscope::ui
