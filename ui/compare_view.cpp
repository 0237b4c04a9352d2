// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/compare_view.h"

#include <QHeaderView>
#include <QLabel>
#include <QSplitter>
#include <QTableWidget>
#include <QVBoxLayout>
#include <iterator>

#include "ui/compare_chart.h"

namespace batchscope::ui {

namespace {
const QColor kPalette[] = {QColor(0x1f, 0x8f, 0xd6), QColor(0xe0, 0x8e, 0x0b), QColor(0x2e, 0xa0, 0x43),
                           QColor(0xd7, 0x3a, 0x49), QColor(0x8e, 0x44, 0xad), QColor(0x16, 0xa0, 0x85),
                           QColor(0x7f, 0x8c, 0x8d), QColor(0xc0, 0x39, 0x2b)};

QString number(std::optional<double> v, int decimals) {
    return v ? QString::number(*v, 'f', decimals) : QStringLiteral("—");
}

/// The reason the sample gives for a missing figure whose note starts with `prefix`.
QString reasonFor(const ServerMetricsSample& s, const char* prefix) {
    for (const std::string& n : s.unavailable)
        if (n.rfind(prefix, 0) == 0) return QString::fromStdString(n);
    return QObject::tr("not exposed by this server");
}
}  // namespace

CompareView::CompareView(QWidget* parent)
    : QWidget(parent), m_table(new QTableWidget(0, ColumnCount, this)),
      m_charts{new CompareChart(tr("requests (solid running, dashed waiting)"), QString(), this),
               new CompareChart(tr("KV cache usage"), tr("%"), this),
               new CompareChart(tr("generated tokens"), tr("tok/s"), this)},
      m_hint(new QLabel(this)) {
    setObjectName(QStringLiteral("CompareView"));
    m_table->setHorizontalHeaderLabels({tr("Server"), tr("Connection"), tr("Running"), tr("Waiting"), tr("KV %"),
                                        tr("Gen tok/s"), tr("Prompt tok/s"), tr("Preempt/s"), tr("TTFT p50 ms"),
                                        tr("TTFT p99 ms"), tr("ITL p50 ms"), tr("ITL p99 ms"), tr("E2E p50 ms"),
                                        tr("E2E p99 ms")});
    m_table->verticalHeader()->hide();
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->setSelectionMode(QAbstractItemView::NoSelection);
    m_table->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_table->horizontalHeader()->setStretchLastSection(true);
    connect(m_table, &QTableWidget::cellChanged, this, &CompareView::onItemChanged);
    m_hint->setWordWrap(true);
    m_hint->setText(tr("Every server this window watches (File → Connect to server… adds one). Untick a server to "
                       "leave it out of the charts. Latency percentiles are the servers' own: from histogram "
                       "buckets for OpenAI-compatible servers, from the engine's recent window for Batchscope."));
    auto* charts = new QWidget(this);
    auto* row = new QHBoxLayout(charts);
    row->setContentsMargins(0, 0, 0, 0);
    for (CompareChart* c : m_charts) row->addWidget(c);
    auto* split = new QSplitter(Qt::Vertical, this);
    split->addWidget(m_table);
    split->addWidget(charts);
    split->setStretchFactor(1, 2);
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(m_hint);
    layout->addWidget(split, 1);
    m_clock.start();
}

int CompareView::addServer(const QString& name) {
    const int key = m_nextKey++;
    Server s;
    s.name = name;
    s.color = kPalette[m_nextColor++ % int(std::size(kPalette))];
    s.graphs[RequestsChart] = {m_charts[RequestsChart]->addGraph(tr("%1 running").arg(name), s.color),
                               m_charts[RequestsChart]->addGraph(tr("%1 waiting").arg(name), s.color, Qt::DashLine)};
    s.graphs[KvChart] = {m_charts[KvChart]->addGraph(name, s.color)};
    s.graphs[GenerationChart] = {m_charts[GenerationChart]->addGraph(name, s.color)};
    m_servers.insert(key, s);
    const int row = m_table->rowCount();
    m_table->blockSignals(true);
    m_table->insertRow(row);
    auto* item = new QTableWidgetItem(name);
    item->setData(Qt::UserRole, key);
    item->setFlags(Qt::ItemIsEnabled | Qt::ItemIsUserCheckable);
    item->setCheckState(Qt::Checked);
    item->setForeground(s.color);
    m_table->setItem(row, Name, item);
    for (int c = State; c < ColumnCount; ++c) m_table->setItem(row, c, new QTableWidgetItem(QStringLiteral("—")));
    m_table->blockSignals(false);
    return key;
}

void CompareView::removeServer(int key) {
    const auto it = m_servers.find(key);
    if (it == m_servers.end()) return;
    for (int c = 0; c < ChartCount; ++c)
        for (int g : it->graphs[c]) m_charts[c]->removeGraph(g);
    m_table->removeRow(rowOf(key));
    m_servers.erase(it);
}

void CompareView::setServerName(int key, const QString& name) {
    const auto it = m_servers.find(key);
    if (it == m_servers.end()) return;
    it->name = name;
    m_charts[RequestsChart]->setGraphName(it->graphs[RequestsChart][0], tr("%1 running").arg(name));
    m_charts[RequestsChart]->setGraphName(it->graphs[RequestsChart][1], tr("%1 waiting").arg(name));
    m_charts[KvChart]->setGraphName(it->graphs[KvChart][0], name);
    m_charts[GenerationChart]->setGraphName(it->graphs[GenerationChart][0], name);
    m_table->blockSignals(true);
    m_table->item(rowOf(key), Name)->setText(name);
    m_table->blockSignals(false);
}

void CompareView::setServerState(int key, const QString& state, const QString& detail) {
    if (const int row = rowOf(key); row >= 0) setCell(row, State, state, detail);
}

int CompareView::rowOf(int key) const {
    for (int r = 0; r < m_table->rowCount(); ++r)
        if (m_table->item(r, Name)->data(Qt::UserRole).toInt() == key) return r;
    return -1;
}

QString CompareView::cellText(int key, Column column) const {
    const int row = rowOf(key);
    return row < 0 ? QString() : m_table->item(row, column)->text();
}

QList<int> CompareView::graphsOf(int key, ChartIndex i) const {
    const auto it = m_servers.find(key);
    return it == m_servers.end() ? QList<int>() : it->graphs[i];
}

void CompareView::setCell(int row, Column column, const QString& text, const QString& tip) {
    m_table->blockSignals(true);
    QTableWidgetItem* item = m_table->item(row, column);
    item->setText(text);
    item->setToolTip(tip);
    m_table->blockSignals(false);
}

void CompareView::addSample(int key, const ServerMetricsSample& s) {
    const auto it = m_servers.find(key);
    if (it == m_servers.end()) return;
    Server& server = *it;
    const double t = double(m_clock.elapsed()) / 1000.0;
    const int row = rowOf(key);
    auto fill = [&](Column c, std::optional<double> v, int decimals, const char* prefix) {
        setCell(row, c, number(v, decimals), v ? QString() : reasonFor(s, prefix));
    };
    fill(Running, s.running, 0, "running/waiting");
    fill(Waiting, s.waiting, 0, "running/waiting");
    fill(KvUsage, s.kvUsagePercent, 1, "KV-cache");
    fill(GenerationRate, s.generationTokensPerSecond, 1, "token throughput");
    fill(PromptRate, s.promptTokensPerSecond, 1, "token throughput");
    fill(PreemptionRate, s.preemptionsPerSecond, 2, "preemptions");
    auto hold = [](std::optional<double>& last, std::optional<double> v) {
        if (v) last = v;
    };
    hold(server.last.ttftMs.p50, s.ttftMs.p50);
    hold(server.last.ttftMs.p99, s.ttftMs.p99);
    hold(server.last.interTokenMs.p50, s.interTokenMs.p50);
    hold(server.last.interTokenMs.p99, s.interTokenMs.p99);
    hold(server.last.endToEndMs.p50, s.endToEndMs.p50);
    hold(server.last.endToEndMs.p99, s.endToEndMs.p99);
    const LatencyPercentiles& ttft = server.last.ttftMs;
    const LatencyPercentiles& itl = server.last.interTokenMs;
    const LatencyPercentiles& e2e = server.last.endToEndMs;
    fill(TtftP50, ttft.p50, 1, "TTFT");
    fill(TtftP99, ttft.p99, 1, "TTFT");
    fill(ItlP50, itl.p50, 2, "inter-token");
    fill(ItlP99, itl.p99, 2, "inter-token");
    fill(E2eP50, e2e.p50, 0, "end-to-end");
    fill(E2eP99, e2e.p99, 0, "end-to-end");
    // Charts: a figure the server does not feed is left out (no line), not drawn as 0.
    if (s.running) m_charts[RequestsChart]->append(server.graphs[RequestsChart][0], t, *s.running);
    if (s.waiting) m_charts[RequestsChart]->append(server.graphs[RequestsChart][1], t, *s.waiting);
    if (s.kvUsagePercent) m_charts[KvChart]->append(server.graphs[KvChart][0], t, *s.kvUsagePercent);
    if (s.generationTokensPerSecond)
        m_charts[GenerationChart]->append(server.graphs[GenerationChart][0], t, *s.generationTokensPerSecond);
}

void CompareView::setCompared(int key, bool compared) {
    const auto it = m_servers.find(key);
    if (it == m_servers.end()) return;
    for (int c = 0; c < ChartCount; ++c)
        for (int g : it->graphs[c]) m_charts[c]->setGraphVisible(g, compared);
    const int row = rowOf(key);
    m_table->blockSignals(true);
    m_table->item(row, Name)->setCheckState(compared ? Qt::Checked : Qt::Unchecked);
    m_table->blockSignals(false);
}

void CompareView::onItemChanged(int row, int column) {
    if (column != Name) return;
    QTableWidgetItem* item = m_table->item(row, Name);
    setCompared(item->data(Qt::UserRole).toInt(), item->checkState() == Qt::Checked);
}

void CompareView::replotImmediately() {
    for (CompareChart* c : m_charts) c->replotImmediately();
}

}  // namespace batchscope::ui
