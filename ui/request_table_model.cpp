// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/request_table_model.h"

#include <QFont>
#include <algorithm>

#include "ui/display_text.h"

namespace batchscope::ui {

using engine::RequestSnapshot;

RequestTableModel::RequestTableModel(QObject* parent) : QAbstractTableModel(parent) {}

int RequestTableModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : int(m_rows.size());
}

int RequestTableModel::columnCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : ColumnCount;
}

const RequestSnapshot* RequestTableModel::request(engine::RequestId id) const {
    const int row = rowOf(id);
    return row < 0 ? nullptr : &m_rows[size_t(row)];
}

static QString msText(double ms) {
    if (ms >= 1000) return QString::number(ms / 1000.0, 'f', 1) + QStringLiteral(" s");
    return QString::number(ms, 'f', ms < 10 ? 1 : 0) + QStringLiteral(" ms");
}

QVariant RequestTableModel::displayData(const RequestSnapshot& r, int column) const {
    switch (column) {
    case Id: return QVariant::fromValue<qulonglong>(r.id);
    case State: return stateText(r.state);
    case Priority: return priorityText(r.priority);
    case Prompt: {
        const QString preview = QString::fromStdString(r.promptPreview).simplified();
        const QString label = m_labels.value(r.id);
        return label.isEmpty() ? preview : QStringLiteral("[%1] %2").arg(label, preview);
    }
    case PromptTokens:
        return r.cachedPromptTokens > 0
                   ? QStringLiteral("%1 (%2)").arg(r.promptTokens).arg(r.cachedPromptTokens)
                   : QString::number(r.promptTokens);
    case GeneratedTokens: return QStringLiteral("%1 / %2").arg(r.generatedTokens).arg(r.maxTokens);
    case QueueTime: return msText(r.queueMs);
    case Ttft: return r.timeToFirstTokenMs ? msText(*r.timeToFirstTokenMs) : QString();
    case TokensPerSecond:
        return r.tokensPerSecond > 0 ? QString::number(r.tokensPerSecond, 'f', 1) : QString();
    case FinishReason: return finishReasonText(r.finishReason);
    case WaitReason: return isTerminalState(r.state) ? QString() : waitReasonText(r);
    default: return {};
    }
}

QVariant RequestTableModel::sortData(const RequestSnapshot& r, int column) const {
    switch (column) {
    case Id: return QVariant::fromValue<qulonglong>(r.id);
    case State: return int(r.state);
    case Priority: return int(r.priority);
    case PromptTokens: return r.promptTokens;
    case GeneratedTokens: return r.generatedTokens;
    case QueueTime: return r.queueMs;
    case Ttft: return r.timeToFirstTokenMs.value_or(-1.0);
    case TokensPerSecond: return r.tokensPerSecond;
    default: return displayData(r, column);
    }
}

QVariant RequestTableModel::data(const QModelIndex& index, int role) const {
    if (!index.isValid() || index.row() >= int(m_rows.size())) return {};
    const RequestSnapshot& r = m_rows[size_t(index.row())];
    const int column = index.column();
    switch (role) {
    case Qt::DisplayRole: return displayData(r, column);
    case Qt::EditRole: return column == Priority ? QVariant(int(r.priority)) : displayData(r, column);
    case SortRole: return sortData(r, column);
    case RequestIdRole: return QVariant::fromValue<qulonglong>(r.id);
    case StateRole: return int(r.state);
    case LabelRole: return m_labels.value(r.id);
    case Qt::DecorationRole:
        return column == State ? QVariant(stateColor(r.state)) : QVariant();
    case Qt::ForegroundRole:
        return column == State ? QVariant(stateColor(r.state)) : QVariant();
    case Qt::TextAlignmentRole:
        if (column == Prompt || column == State || column == Priority || column == FinishReason ||
            column == WaitReason)
            return QVariant(Qt::AlignLeft | Qt::AlignVCenter);
        return QVariant(Qt::AlignRight | Qt::AlignVCenter);
    case Qt::ToolTipRole:
        if (column == Prompt) {
            const QString label = m_labels.value(r.id);
            const QString preview = QString::fromStdString(r.promptPreview);
            return label.isEmpty() ? preview
                                   : tr("%1 (double-click to open it)\n\n%2").arg(label, preview);
        }
        if (!r.errorMessage.empty()) return QString::fromStdString(r.errorMessage);
        if (column == Priority && !isTerminalState(r.state))
            return tr("Double-click to change the priority");
        return {};
    default: return {};
    }
}

QVariant RequestTableModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal) return {};
    static const char* const names[ColumnCount] = {
        "ID", "State", "Priority", "Prompt", "In tok", "Out / max", "Queue", "TTFT",
        "Tok/s", "Finish", "Waiting"};
    static const char* const tips[ColumnCount] = {
        "Request id", "Life-cycle state", "Scheduling priority (editable while not finished)",
        "Start of the prompt", "Prompt tokens (in brackets: served from the prefix cache)",
        "Generated tokens / max tokens", "Time waiting before first scheduled",
        "Time to first token", "Generated tokens per second after the first token",
        "Why it finished", "Why it was not admitted in the last step"};
    if (section < 0 || section >= ColumnCount) return {};
    if (role == Qt::DisplayRole) return tr(names[section]);
    if (role == Qt::ToolTipRole) return tr(tips[section]);
    return {};
}

Qt::ItemFlags RequestTableModel::flags(const QModelIndex& index) const {
    Qt::ItemFlags f = QAbstractTableModel::flags(index);
    if (index.isValid() && index.column() == Priority &&
        !isTerminalState(m_rows[size_t(index.row())].state))
        f |= Qt::ItemIsEditable;
    return f;
}

bool RequestTableModel::setData(const QModelIndex& index, const QVariant& value, int role) {
    if (!index.isValid() || index.column() != Priority || role != Qt::EditRole) return false;
    bool ok = false;
    const int p = value.toInt(&ok);
    if (!ok || p < 0 || p >= engine::kPriorityCount) return false;
    RequestSnapshot& r = m_rows[size_t(index.row())];
    if (isTerminalState(r.state)) return false;
    const auto priority = static_cast<engine::Priority>(p);
    if (priority == r.priority) return true;
    r.priority = priority;  // optimistic; the next snapshot has the engine's answer
    emit dataChanged(index, index);
    emit priorityChangeRequested(r.id, priority);
    return true;
}

void RequestTableModel::applySnapshot(const engine::SchedulerSnapshot& snapshot) {
    int firstChanged = -1, lastChanged = -1;
    std::vector<const RequestSnapshot*> added;
    for (const RequestSnapshot& r : snapshot.requests) {
        const int row = rowOf(r.id);
        if (row < 0) {
            added.push_back(&r);
            continue;
        }
        RequestSnapshot& mine = m_rows[size_t(row)];
        // A terminal state is final: an older copy must not resurrect it.
        if (isTerminalState(mine.state) && !isTerminalState(r.state)) continue;
        mine = r;
        firstChanged = firstChanged < 0 ? row : std::min(firstChanged, row);
        lastChanged = std::max(lastChanged, row);
    }
    if (firstChanged >= 0)
        emit dataChanged(index(firstChanged, 0), index(lastChanged, ColumnCount - 1));
    if (!added.empty()) {
        std::sort(added.begin(), added.end(),
                  [](const RequestSnapshot* a, const RequestSnapshot* b) { return a->id < b->id; });
        const int first = int(m_rows.size());
        beginInsertRows({}, first, first + int(added.size()) - 1);
        for (const RequestSnapshot* r : added) {
            m_rowOf.insert(r->id, int(m_rows.size()));
            m_rows.push_back(*r);
        }
        endInsertRows();
    }
    trimHistory();
}

void RequestTableModel::applyFinished(const engine::GenerationResult& result) {
    const int row = rowOf(result.id);
    if (row < 0) return;
    RequestSnapshot& r = m_rows[size_t(row)];
    r.finishReason = result.finishReason;
    r.state = terminalStateOf(result.finishReason);
    r.generatedTokens = result.usage.completionTokens;
    r.waitReason = engine::WaitReason::None;
    r.waitDetail = {};
    r.errorMessage = result.errorMessage;
    if (result.timings.tokensPerSecond > 0) r.tokensPerSecond = result.timings.tokensPerSecond;
    emit dataChanged(index(row, 0), index(row, ColumnCount - 1));
}

void RequestTableModel::clear() {
    beginResetModel();
    m_rows.clear();
    m_rowOf.clear();
    m_labels.clear();
    endResetModel();
}

void RequestTableModel::setRequestLabel(engine::RequestId id, const QString& label) {
    if (label.isEmpty()) m_labels.remove(id);
    else m_labels.insert(id, label);
    const int row = rowOf(id);
    if (row >= 0) emit dataChanged(index(row, Prompt), index(row, Prompt));
}

void RequestTableModel::trimHistory() {
    int excess = int(m_rows.size()) - m_maxRows;
    if (excess <= 0) return;
    // Oldest finished rows go first, removed in contiguous runs from the back so that
    // earlier row numbers stay valid while we work.
    std::vector<int> victims;
    for (int row = 0; row < int(m_rows.size()) && int(victims.size()) < excess; ++row)
        if (isTerminalState(m_rows[size_t(row)].state)) victims.push_back(row);
    for (int i = int(victims.size()) - 1; i >= 0;) {
        int j = i;
        while (j > 0 && victims[size_t(j - 1)] == victims[size_t(j)] - 1) --j;
        const int first = victims[size_t(j)], last = victims[size_t(i)];
        beginRemoveRows({}, first, last);
        m_rows.erase(m_rows.begin() + first, m_rows.begin() + last + 1);
        endRemoveRows();
        i = j - 1;
    }
    rebuildIndex();
}

void RequestTableModel::rebuildIndex() {
    m_rowOf.clear();
    for (int row = 0; row < int(m_rows.size()); ++row) m_rowOf.insert(m_rows[size_t(row)].id, row);
}

}  // namespace batchscope::ui
