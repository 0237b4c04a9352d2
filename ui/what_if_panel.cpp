// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/what_if_panel.h"

#include <QComboBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QListWidget>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QSplitter>
#include <QTableWidget>
#include <QVBoxLayout>
#include <algorithm>
#include <qcustomplot.h>

#include "ui/live_chart.h"

namespace batchscope::ui {

namespace {
QSpinBox* unchangedSpin(int max, QWidget* parent) {
    auto* box = new QSpinBox(parent);
    box->setRange(0, max);
    box->setSpecialValueText(QObject::tr("unchanged"));
    return box;
}
QComboBox* unchangedCombo(const QStringList& values, QWidget* parent) {
    auto* box = new QComboBox(parent);
    box->addItem(QObject::tr("unchanged"), QString());
    for (const QString& v : values) box->addItem(v, v);
    return box;
}
QColor runColor(int i) {
    static const QColor colors[] = {QColor(0x6a, 0x73, 0x7d), QColor(0x1f, 0x8f, 0xd6), QColor(0xe0, 0x8e, 0x0b),
                                    QColor(0x2e, 0xa0, 0x43), QColor(0xd7, 0x3a, 0x49), QColor(0x8a, 0x4b, 0xd6),
                                    QColor(0x17, 0xa2, 0xb8)};
    return colors[i % 7];
}
}  // namespace

const QStringList& WhatIfPanel::figureNames() {
    static const QStringList names{
        tr("TTFT p50 (ms)"), tr("TTFT p90 (ms)"), tr("TTFT p99 (ms)"),
        tr("TPOT p50 (ms)"), tr("TPOT p90 (ms)"), tr("TPOT p99 (ms)"),
        tr("E2E p50 (ms)"), tr("E2E p90 (ms)"), tr("E2E p99 (ms)"),
        tr("queue p50 (ms)"), tr("queue p90 (ms)"), tr("queue p99 (ms)"),
        tr("throughput (tok/s)"), tr("requests/s"), tr("preemptions"), tr("prefix hit rate (%)"),
        tr("completed")};
    return names;
}

WhatIfPanel::WhatIfPanel(QWidget* parent)
    : QWidget(parent), m_list(new QListWidget(this)), m_run(new QPushButton(tr("Run what-if"), this)),
      m_progress(new QProgressBar(this)), m_status(new QLabel(this)), m_table(new QTableWidget(this)),
      m_ttftPlot(new QCustomPlot(this)), m_e2ePlot(new QCustomPlot(this)) {
    setObjectName(QStringLiteral("whatIfPanel"));
    auto* layout = new QVBoxLayout(this);
    auto* top = new QHBoxLayout;
    top->addWidget(buildEditor());
    auto* listColumn = new QVBoxLayout;
    m_list->setObjectName(QStringLiteral("whatIfVariants"));
    m_list->setToolTip(tr("Variants to replay besides the recorded settings (Delete removes one)"));
    listColumn->addWidget(new QLabel(tr("Variants (each replayed besides the recorded settings):"), this));
    listColumn->addWidget(m_list, 1);
    auto* buttons = new QHBoxLayout;
    auto* remove = new QPushButton(tr("Remove"), this);
    connect(remove, &QPushButton::clicked, this, [this] { delete m_list->currentItem(); });
    m_run->setObjectName(QStringLiteral("whatIfRun"));
    connect(m_run, &QPushButton::clicked, this, [this] { emit runRequested(variants()); });
    buttons->addWidget(remove);
    buttons->addStretch(1);
    buttons->addWidget(m_run);
    listColumn->addLayout(buttons);
    m_progress->setObjectName(QStringLiteral("whatIfProgress"));
    m_progress->setRange(0, 1);
    m_progress->setValue(0);
    listColumn->addWidget(m_progress);
    m_status->setWordWrap(true);
    m_status->setObjectName(QStringLiteral("whatIfStatus"));
    listColumn->addWidget(m_status);
    top->addLayout(listColumn, 1);
    layout->addLayout(top);

    m_table->setObjectName(QStringLiteral("whatIfTable"));
    m_table->setColumnCount(int(figureNames().size()));
    m_table->setHorizontalHeaderLabels(figureNames());
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    auto* plots = new QSplitter(Qt::Horizontal, this);
    for (QCustomPlot* p : {m_ttftPlot, m_e2ePlot}) {
        const bool ttft = p == m_ttftPlot;
        p->setObjectName(ttft ? QStringLiteral("whatIfTtftCdf") : QStringLiteral("whatIfE2eCdf"));
        p->xAxis->setLabel(ttft ? tr("time to first token (ms)") : tr("end-to-end latency (ms)"));
        p->yAxis->setLabel(tr("share of requests"));
        p->yAxis->setRange(0, 1);
        p->legend->setVisible(true);
        p->setMinimumHeight(160);
        LiveChart::stylePlot(p, palette());
        plots->addWidget(p);
    }
    auto* results = new QSplitter(Qt::Vertical, this);
    results->addWidget(m_table);
    results->addWidget(plots);
    layout->addWidget(results, 1);
}

QWidget* WhatIfPanel::buildEditor() {
    auto* editor = new QWidget(this);
    auto* form = new QFormLayout(editor);
    m_maxBatch = unchangedSpin(4096, editor);
    m_maxBatch->setObjectName(QStringLiteral("whatIfMaxBatch"));
    m_tokenBudget = unchangedSpin(1 << 20, editor);
    m_kvBlocks = unchangedSpin(1 << 24, editor);
    m_prefix = unchangedCombo({QStringLiteral("on"), QStringLiteral("off")}, editor);
    m_policy = unchangedCombo({QStringLiteral("fcfs"), QStringLiteral("priority")}, editor);
    m_memory = unchangedCombo({QStringLiteral("preempt"), QStringLiteral("reserve")}, editor);
    form->addRow(tr("max batch size"), m_maxBatch);
    form->addRow(tr("token budget"), m_tokenBudget);
    form->addRow(tr("KV blocks"), m_kvBlocks);
    form->addRow(tr("prefix caching"), m_prefix);
    form->addRow(tr("queue policy"), m_policy);
    form->addRow(tr("memory policy"), m_memory);
    auto* add = new QPushButton(tr("Add variant"), editor);
    add->setObjectName(QStringLiteral("whatIfAdd"));
    connect(add, &QPushButton::clicked, this, [this] {
        const QString a = editorAssignments();
        if (a.isEmpty()) setError(tr("Change at least one setting for a variant"));
        else addVariant(a);
    });
    form->addRow(add);
    return editor;
}

QString WhatIfPanel::editorAssignments() const {
    QStringList parts;
    const auto spin = [&](QSpinBox* box, const char* key) {
        if (box->value() > 0) parts << QStringLiteral("%1=%2").arg(QLatin1String(key)).arg(box->value());
    };
    const auto combo = [&](QComboBox* box, const char* key) {
        const QString v = box->currentData().toString();
        if (!v.isEmpty()) parts << QStringLiteral("%1=%2").arg(QLatin1String(key), v);
    };
    spin(m_maxBatch, "max_batch_size");
    spin(m_tokenBudget, "token_budget");
    spin(m_kvBlocks, "kv_blocks");
    combo(m_prefix, "prefix_caching");
    combo(m_policy, "policy");
    combo(m_memory, "memory_policy");
    return parts.join(QLatin1Char(','));
}

QStringList WhatIfPanel::variants() const {
    QStringList out;
    for (int i = 0; i < m_list->count(); ++i) out << m_list->item(i)->text();
    return out;
}

void WhatIfPanel::addVariant(const QString& assignments) {
    if (!variants().contains(assignments)) m_list->addItem(assignments);
}

void WhatIfPanel::clearVariants() { m_list->clear(); }

void WhatIfPanel::setRunning(bool running) {
    m_run->setEnabled(!running);
    if (running) {
        m_status->setText(tr("Replaying…"));
        m_progress->setRange(0, 0);   // busy until the first progress report
    }
}

void WhatIfPanel::setProgress(int done, int total, const QString& what) {
    m_progress->setRange(0, std::max(1, total));
    m_progress->setValue(done);
    m_status->setText(done < total ? tr("Replaying %1 (%2 of %3)…").arg(what).arg(done + 1).arg(total)
                                   : tr("Done"));
}

void WhatIfPanel::setResults(const QList<WhatIfRun>& runs, const QString& note) {
    m_table->setRowCount(int(runs.size()));
    QStringList names;
    for (int r = 0; r < runs.size(); ++r) {
        names << runs[r].name;
        for (int c = 0; c < runs[r].figures.size() && c < m_table->columnCount(); ++c) {
            const double v = runs[r].figures[c];
            auto* item = new QTableWidgetItem(QString::number(v, 'f', std::abs(v) < 100 ? 2 : 1));
            item->setData(Qt::UserRole, v);
            item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
            m_table->setItem(r, c, item);
        }
    }
    m_table->setVerticalHeaderLabels(names);
    m_status->setText(note);
    plotCdfs(m_ttftPlot, runs, true);
    plotCdfs(m_e2ePlot, runs, false);
}

void WhatIfPanel::setError(const QString& message) {
    m_status->setText(QStringLiteral("<span style='color:#d73a49'>%1</span>").arg(message.toHtmlEscaped()));
}

void WhatIfPanel::plotCdfs(QCustomPlot* plot, const QList<WhatIfRun>& runs, bool ttft) {
    plot->clearGraphs();
    double maxX = 1;
    for (int i = 0; i < runs.size(); ++i) {
        QVector<double> x = ttft ? runs[i].ttftMs : runs[i].endToEndMs;
        std::sort(x.begin(), x.end());
        QVector<double> y(x.size());
        for (int k = 0; k < x.size(); ++k) y[k] = double(k + 1) / double(x.size());
        QCPGraph* g = plot->addGraph();
        g->setName(runs[i].name);
        g->setPen(QPen(runColor(i), i == 0 ? 2.0 : 1.6, i == 0 ? Qt::DashLine : Qt::SolidLine));
        g->setLineStyle(QCPGraph::lsStepLeft);
        g->setData(x, y, true);
        if (!x.isEmpty()) maxX = std::max(maxX, x.back());
    }
    plot->xAxis->setRange(0, maxX * 1.02);
    plot->yAxis->setRange(0, 1.02);
    plot->replot(QCustomPlot::rpQueuedReplot);
}

}  // namespace batchscope::ui
