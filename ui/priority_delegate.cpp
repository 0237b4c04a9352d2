// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/priority_delegate.h"

#include <QComboBox>

#include "ui/display_text.h"

namespace batchscope::ui {

QWidget* PriorityDelegate::createEditor(QWidget* parent, const QStyleOptionViewItem&,
                                        const QModelIndex&) const {
    auto* combo = new QComboBox(parent);
    combo->addItems(priorityNames());
    // Commit as soon as the user picks, so one click changes the priority.
    connect(combo, &QComboBox::activated, this, [this, combo](int) {
        auto* self = const_cast<PriorityDelegate*>(this);
        emit self->commitData(combo);
        emit self->closeEditor(combo);
    });
    return combo;
}

void PriorityDelegate::setEditorData(QWidget* editor, const QModelIndex& index) const {
    if (auto* combo = qobject_cast<QComboBox*>(editor))
        combo->setCurrentIndex(index.data(Qt::EditRole).toInt());
}

void PriorityDelegate::setModelData(QWidget* editor, QAbstractItemModel* model,
                                    const QModelIndex& index) const {
    if (auto* combo = qobject_cast<QComboBox*>(editor))
        model->setData(index, combo->currentIndex(), Qt::EditRole);
}

}  // namespace batchscope::ui
