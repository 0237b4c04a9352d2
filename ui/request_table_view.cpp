// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/request_table_view.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QKeyEvent>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QPushButton>
#include <QTableView>
#include <QVBoxLayout>

#include "ui/priority_delegate.h"
#include "ui/request_filter_proxy.h"
#include "ui/request_table_model.h"
#include "ui/display_text.h"

namespace batchscope::ui {

RequestTableView::RequestTableView(RequestTableModel* model, QWidget* parent)
    : QWidget(parent), m_model(model), m_proxy(new RequestFilterProxy(this)),
      m_table(new QTableView(this)), m_filter(new QComboBox(this)),
      m_search(new QLineEdit(this)), m_count(new QLabel(this)) {
    m_proxy->setSourceModel(model);
    m_filter->addItems(RequestFilterProxy::filterNames());
    m_filter->setToolTip(tr("Show only requests in these states"));
    m_search->setPlaceholderText(tr("Filter prompts…"));
    m_search->setClearButtonEnabled(true);
    auto* cancel = new QPushButton(tr("Cancel selected"), this);
    cancel->setToolTip(tr("Cancel the selected requests (Delete)"));

    auto* bar = new QHBoxLayout;
    bar->addWidget(new QLabel(tr("Show:"), this));
    bar->addWidget(m_filter);
    bar->addWidget(m_search, 1);
    bar->addWidget(m_count);
    bar->addWidget(cancel);

    setupTable();

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(2, 2, 2, 2);
    layout->addLayout(bar);
    layout->addWidget(m_table, 1);

    connect(m_filter, &QComboBox::currentIndexChanged, this, [this](int i) {
        m_proxy->setStateFilter(static_cast<RequestFilterProxy::StateFilter>(i));
        updateCount();
    });
    connect(m_search, &QLineEdit::textChanged, this, [this](const QString& text) {
        m_proxy->setFilterFixedString(text);
        updateCount();
    });
    connect(cancel, &QPushButton::clicked, this, &RequestTableView::cancelSelected);
    connect(m_table, &QTableView::customContextMenuRequested, this,
            &RequestTableView::showContextMenu);
    connect(m_model, &RequestTableModel::priorityChangeRequested, this,
            &RequestTableView::priorityChangeRequested);
    connect(m_table->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
            [this](const QModelIndex& current) {
                if (current.isValid())
                    emit currentRequestChanged(
                        current.data(RequestTableModel::RequestIdRole).toULongLong());
            });
    connect(m_proxy, &QAbstractItemModel::rowsInserted, this, &RequestTableView::updateCount);
    connect(m_proxy, &QAbstractItemModel::rowsRemoved, this, &RequestTableView::updateCount);
    connect(m_proxy, &QAbstractItemModel::modelReset, this, &RequestTableView::updateCount);
    updateCount();
}

void RequestTableView::setupTable() {
    m_table->setModel(m_proxy);
    m_table->setSortingEnabled(true);
    m_table->sortByColumn(RequestTableModel::Id, Qt::AscendingOrder);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::ExtendedSelection);
    m_table->setEditTriggers(QAbstractItemView::DoubleClicked | QAbstractItemView::EditKeyPressed);
    m_table->setItemDelegateForColumn(RequestTableModel::Priority, new PriorityDelegate(m_table));
    m_table->setContextMenuPolicy(Qt::CustomContextMenu);
    m_table->verticalHeader()->hide();
    m_table->verticalHeader()->setDefaultSectionSize(fontMetrics().height() + 6);
    m_table->setAlternatingRowColors(true);
    m_table->setWordWrap(false);
    auto* header = m_table->horizontalHeader();
    header->setSectionResizeMode(QHeaderView::Interactive);
    header->setStretchLastSection(true);
    // Widths from typical contents, so columns fit without eliding their usual values.
    static const char* const samples[RequestTableModel::ColumnCount] = {
        "00000", "Prefilling", "Critical", "Write a long story about", "000 (00)", "0000 / 0000",
        "0000 ms", "0000 ms", "000.0", "max tokens", "behind 00 requests that go first"};
    const QFontMetrics fm = fontMetrics();
    for (int c = 0; c < RequestTableModel::ColumnCount; ++c)
        header->resizeSection(c, fm.horizontalAdvance(QLatin1String(samples[c])) +
                                     (c == RequestTableModel::State ? 34 : 14));
    m_table->installEventFilter(this);
}

QList<engine::RequestId> RequestTableView::selectedIds() const {
    QList<engine::RequestId> ids;
    for (const QModelIndex& idx : m_table->selectionModel()->selectedRows())
        ids << idx.data(RequestTableModel::RequestIdRole).toULongLong();
    return ids;
}

void RequestTableView::selectRequest(engine::RequestId id) {
    const int row = m_model->rowOf(id);
    if (row < 0) return;
    const QModelIndex idx = m_proxy->mapFromSource(m_model->index(row, 0));
    if (!idx.isValid()) return;
    m_table->selectionModel()->setCurrentIndex(
        idx, QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
    m_table->scrollTo(idx);
}

void RequestTableView::cancelSelected() {
    QList<engine::RequestId> ids;
    for (engine::RequestId id : selectedIds()) {
        const auto* r = m_model->request(id);
        if (r && !isTerminalState(r->state)) ids << id;
    }
    if (!ids.isEmpty()) emit cancelRequested(ids);
}

void RequestTableView::setPriorityOfSelected(engine::Priority priority) {
    for (engine::RequestId id : selectedIds()) {
        const int row = m_model->rowOf(id);
        if (row >= 0)
            m_model->setData(m_model->index(row, RequestTableModel::Priority), int(priority),
                             Qt::EditRole);
    }
}

bool RequestTableView::eventFilter(QObject* watched, QEvent* event) {
    if (watched == m_table && event->type() == QEvent::KeyPress) {
        auto* key = static_cast<QKeyEvent*>(event);
        if (key->key() == Qt::Key_Delete) {
            cancelSelected();
            return true;
        }
    }
    return QWidget::eventFilter(watched, event);
}

void RequestTableView::showContextMenu(const QPoint& pos) {
    const QList<engine::RequestId> ids = selectedIds();
    if (ids.isEmpty()) return;
    QMenu menu(this);
    menu.addAction(tr("Cancel %n request(s)", nullptr, int(ids.size())), this,
                   &RequestTableView::cancelSelected);
    QMenu* priorities = menu.addMenu(tr("Set priority"));
    const QStringList names = priorityNames();
    for (int i = 0; i < names.size(); ++i)
        priorities->addAction(names[i], this, [this, i] {
            setPriorityOfSelected(static_cast<engine::Priority>(i));
        });
    menu.exec(m_table->viewport()->mapToGlobal(pos));
}

void RequestTableView::updateCount() {
    m_count->setText(tr("%1 of %2").arg(m_proxy->rowCount()).arg(m_model->rowCount()));
}

}  // namespace batchscope::ui
