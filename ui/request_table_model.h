// Table model of requests, fed by scheduler snapshots; keeps a bounded history of finished ones.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <QAbstractTableModel>
#include <QHash>
#include <vector>

#include "engine/metrics/scheduler_snapshot.h"
#include "engine/scheduling/generation.h"

namespace batchscope::ui {

/// One row per request ever seen (insertion = id order). Rows are updated in place from each
/// snapshot; finished rows are kept until more than maxRows() exist, then the oldest finished
/// rows are dropped. GUI thread only.
class RequestTableModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { Id, State, Priority, Prompt, PromptTokens, GeneratedTokens, QueueTime, Ttft,
                  TokensPerSecond, FinishReason, WaitReason, ColumnCount };
    enum Role {
        SortRole = Qt::UserRole,   ///< numeric sort key of the cell
        RequestIdRole,             ///< engine::RequestId (qulonglong) of the row
        StateRole,                 ///< engine::RequestState as int
        LabelRole,                 ///< setRequestLabel()'s text (e.g. its conversation), or ""
    };

    explicit RequestTableModel(QObject* parent = nullptr);

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role) const override;
    Qt::ItemFlags flags(const QModelIndex& index) const override;
    /// Editing the priority cell emits priorityChangeRequested (the engine decides; the next
    /// snapshot confirms). Other cells are read-only.
    bool setData(const QModelIndex& index, const QVariant& value, int role) override;

    void applySnapshot(const engine::SchedulerSnapshot& snapshot);
    /// A finished request may leave the snapshot's bounded list before we see it finished.
    void applyFinished(const engine::GenerationResult& result);
    void clear();

    void setMaxRows(int rows) { m_maxRows = rows; }
    int maxRows() const { return m_maxRows; }
    /// Row of a request, or -1.
    int rowOf(engine::RequestId id) const { return m_rowOf.value(id, -1); }
    const engine::RequestSnapshot* request(engine::RequestId id) const;
    const engine::RequestSnapshot& requestAt(int row) const { return m_rows[size_t(row)]; }
    /// Names where a request came from (a chat turn: its conversation). Shown before the
    /// prompt and in its tooltip; kept until clear(), even before the request has a row.
    void setRequestLabel(engine::RequestId id, const QString& label);
    QString requestLabel(engine::RequestId id) const { return m_labels.value(id); }

signals:
    void priorityChangeRequested(engine::RequestId id, engine::Priority priority);

private:
    QVariant displayData(const engine::RequestSnapshot& r, int column) const;
    QVariant sortData(const engine::RequestSnapshot& r, int column) const;
    void trimHistory();
    void rebuildIndex();

    std::vector<engine::RequestSnapshot> m_rows;
    QHash<engine::RequestId, int> m_rowOf;
    QHash<engine::RequestId, QString> m_labels;
    int m_maxRows = 2000;
};

}  // namespace batchscope::ui
