// Sort/filter proxy of the request table: numeric sorting and a filter by state group.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <QSortFilterProxyModel>

namespace batchscope::ui {

/// Sorts by RequestTableModel::SortRole; filters rows by a state group and free text
/// (matched against the prompt preview). GUI thread only.
class RequestFilterProxy : public QSortFilterProxyModel {
    Q_OBJECT
public:
    enum class StateFilter { All, Active, Waiting, Running, Finished, Problems };
    explicit RequestFilterProxy(QObject* parent = nullptr);

    void setStateFilter(StateFilter filter);
    StateFilter stateFilter() const { return m_filter; }
    static QStringList filterNames();  ///< in StateFilter order, for a combo box

protected:
    bool filterAcceptsRow(int sourceRow, const QModelIndex& sourceParent) const override;

private:
    StateFilter m_filter = StateFilter::All;
};

}  // namespace batchscope::ui
