// The request table panel: filter bar, sortable table, cancel / priority actions.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <QList>
#include <QWidget>

#include "engine/core/ids.h"
#include "engine/core/types.h"

class QComboBox;
class QLabel;
class QLineEdit;
class QTableView;

namespace batchscope::ui {

class RequestTableModel;
class RequestFilterProxy;

/// Shows a RequestTableModel through a RequestFilterProxy. Emits intents only; it never
/// changes engine state itself. GUI thread only.
class RequestTableView : public QWidget {
    Q_OBJECT
public:
    explicit RequestTableView(RequestTableModel* model, QWidget* parent = nullptr);

    QTableView* table() const { return m_table; }
    RequestFilterProxy* proxy() const { return m_proxy; }
    /// Ids of the selected rows (in view order).
    QList<engine::RequestId> selectedIds() const;
    void selectRequest(engine::RequestId id);
    void cancelSelected();
    void setPriorityOfSelected(engine::Priority priority);

signals:
    void cancelRequested(const QList<batchscope::engine::RequestId>& ids);
    void priorityChangeRequested(batchscope::engine::RequestId id,
                                 batchscope::engine::Priority priority);
    void currentRequestChanged(batchscope::engine::RequestId id);

protected:
    bool eventFilter(QObject* watched, QEvent* event) override;

private:
    void setupTable();
    void showContextMenu(const QPoint& pos);
    void updateCount();

    RequestTableModel* m_model;
    RequestFilterProxy* m_proxy;
    QTableView* m_table;
    QComboBox* m_filter;
    QLineEdit* m_search;
    QLabel* m_count;
};

}  // namespace batchscope::ui
