// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/request_filter_proxy.h"

#include "engine/core/types.h"
#include "ui/request_table_model.h"

namespace batchscope::ui {

using engine::RequestState;

RequestFilterProxy::RequestFilterProxy(QObject* parent) : QSortFilterProxyModel(parent) {
    setSortRole(RequestTableModel::SortRole);
    setDynamicSortFilter(true);
    setFilterCaseSensitivity(Qt::CaseInsensitive);
    setFilterKeyColumn(RequestTableModel::Prompt);
}

QStringList RequestFilterProxy::filterNames() {
    return {tr("All"), tr("Active"), tr("Waiting"), tr("Running"), tr("Finished"),
            tr("Cancelled / failed")};
}

void RequestFilterProxy::setStateFilter(StateFilter filter) {
    if (filter == m_filter) return;
    m_filter = filter;
    invalidateFilter();
}

static bool stateMatches(RequestFilterProxy::StateFilter filter, RequestState s) {
    using F = RequestFilterProxy::StateFilter;
    switch (filter) {
    case F::All: return true;
    case F::Active:
        return s == RequestState::Queued || s == RequestState::Prefilling ||
               s == RequestState::Decoding || s == RequestState::Preempted;
    case F::Waiting: return s == RequestState::Queued || s == RequestState::Preempted;
    case F::Running: return s == RequestState::Prefilling || s == RequestState::Decoding;
    case F::Finished: return s == RequestState::Finished;
    case F::Problems:
        return s == RequestState::Cancelled || s == RequestState::Failed ||
               s == RequestState::TimedOut;
    }
    return true;
}

bool RequestFilterProxy::filterAcceptsRow(int sourceRow, const QModelIndex& sourceParent) const {
    const QModelIndex idx = sourceModel()->index(sourceRow, 0, sourceParent);
    const auto state = static_cast<RequestState>(idx.data(RequestTableModel::StateRole).toInt());
    if (!stateMatches(m_filter, state)) return false;
    return QSortFilterProxyModel::filterAcceptsRow(sourceRow, sourceParent);
}

}  // namespace batchscope::ui
