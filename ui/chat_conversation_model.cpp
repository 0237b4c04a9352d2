// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/chat_conversation_model.h"

#include <QDateTime>

namespace batchscope::ui {

ChatConversationModel::ChatConversationModel(QObject* parent) : QAbstractListModel(parent) {}

void ChatConversationModel::setConversations(const QVector<ChatConversationItem>& items) {
    beginResetModel();
    m_items = items;
    endResetModel();
}

int ChatConversationModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : int(m_items.size());
}

QVariant ChatConversationModel::data(const QModelIndex& index, int role) const {
    if (!index.isValid() || index.row() >= int(m_items.size())) return {};
    const ChatConversationItem& c = m_items[index.row()];
    switch (role) {
    case Qt::DisplayRole:
    case Qt::EditRole: return c.title;
    case IdRole: return c.id;
    case Qt::ToolTipRole:
        return tr("%1\nLast activity %2 (double-click to rename)")
            .arg(c.title, QDateTime::fromMSecsSinceEpoch(c.updatedMs).toString(Qt::ISODate));
    default: return {};
    }
}

Qt::ItemFlags ChatConversationModel::flags(const QModelIndex& index) const {
    return QAbstractListModel::flags(index) | (index.isValid() ? Qt::ItemIsEditable : Qt::NoItemFlags);
}

bool ChatConversationModel::setData(const QModelIndex& index, const QVariant& value, int role) {
    if (role != Qt::EditRole || !index.isValid() || index.row() >= int(m_items.size())) return false;
    const QString title = value.toString().trimmed();
    if (title.isEmpty() || title == m_items[index.row()].title) return false;
    emit renameRequested(m_items[index.row()].id, title);
    return true;
}

int ChatConversationModel::rowOf(qint64 id) const {
    for (int i = 0; i < int(m_items.size()); ++i)
        if (m_items[i].id == id) return i;
    return -1;
}

qint64 ChatConversationModel::idAt(int row) const {
    return row >= 0 && row < int(m_items.size()) ? m_items[row].id : 0;
}

QString ChatConversationModel::titleAt(int row) const {
    return row >= 0 && row < int(m_items.size()) ? m_items[row].title : QString();
}

}  // namespace batchscope::ui
