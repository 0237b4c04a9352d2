// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/batch_chart.h"

#include <QToolTip>
#include <algorithm>
#include <qcustomplot.h>

namespace batchscope::ui {

BatchChart::BatchChart(QWidget* parent) : LiveChart(parent) {
    QCustomPlot* p = plot();
    p->xAxis->setLabel(tr("step (index)"));
    p->yAxis->setLabel(tr("tokens per step"));
    p->yAxis2->setLabel(tr("sequences per step"));
    p->yAxis2->setVisible(true);
    m_prefill = new QCPBars(p->xAxis, p->yAxis);
    m_decode = new QCPBars(p->xAxis, p->yAxis);
    m_prefill->setName(tr("prefill tokens"));
    m_decode->setName(tr("decode tokens"));
    m_prefill->setBrush(QColor(0xe0, 0x8e, 0x0b, 200));
    m_prefill->setPen(Qt::NoPen);
    m_decode->setBrush(QColor(0x1f, 0x8f, 0xd6, 200));
    m_decode->setPen(Qt::NoPen);
    m_decode->moveAbove(m_prefill);
    m_prefill->setWidthType(QCPBars::wtPlotCoords);
    m_decode->setWidthType(QCPBars::wtPlotCoords);
    m_budget = p->addGraph(p->xAxis, p->yAxis);
    m_budget->setName(tr("token budget"));
    m_budget->setPen(QPen(QColor(0xd7, 0x3a, 0x49), 1.5, Qt::DashLine));
    m_budget->setLineStyle(QCPGraph::lsStepCenter);
    m_batchSize = p->addGraph(p->xAxis, p->yAxis2);
    m_batchSize->setName(tr("batch size (seqs)"));
    m_batchSize->setPen(QPen(QColor(0x2e, 0xa0, 0x43), 1.5));
    m_batchSize->setLineStyle(QCPGraph::lsStepCenter);
    m_maxBatch = p->addGraph(p->xAxis, p->yAxis2);
    m_maxBatch->setName(tr("max batch size"));
    m_maxBatch->setPen(QPen(QColor(0x2e, 0xa0, 0x43), 1.2, Qt::DashLine));
    m_maxBatch->setLineStyle(QCPGraph::lsStepCenter);
    placeLegendBelow(p, 3);
    stylePlot(p, palette());
    setToolTip(tr("Tokens each scheduler step computed, split into prompt prefill and decode; "
                  "hover a bar for its requests"));
    connect(p, &QCustomPlot::mouseMove, this, &BatchChart::onMouseMove);
}

void BatchChart::addSteps(const std::vector<engine::StepRecord>& steps) {
    if (steps.empty()) return;
    if (!m_steps.empty() && steps.front().index <= m_steps.back().index) m_steps.clear();
    for (const auto& s : steps) m_steps.push_back(s);
    while (int(m_steps.size()) > m_maxSteps) m_steps.pop_front();
    scheduleReplot();
}

void BatchChart::clear() {
    m_steps.clear();
    scheduleReplot();
}

void BatchChart::setVisibleSteps(int n) {
    m_visible = std::clamp(n, 10, m_maxSteps);
    scheduleReplot();
}

int BatchChart::plottedBars() const { return m_prefill->data()->size(); }

void BatchChart::updatePlotData() {
    const int n = std::min<int>(m_visible, int(m_steps.size()));
    const int first = int(m_steps.size()) - n;
    const int perBar = std::max(1, (n + m_maxBars - 1) / m_maxBars);  // thinning: bucket mean
    QVector<double> keys, prefill, decode, budget, batch, maxBatch;
    for (int b = first; b < int(m_steps.size()); b += perBar) {
        const int end = std::min<int>(b + perBar, int(m_steps.size()));
        double pf = 0, dc = 0, bs = 0;
        for (int i = b; i < end; ++i) {
            pf += m_steps[size_t(i)].prefillTokens;
            dc += m_steps[size_t(i)].decodeTokens;
            bs += double(m_steps[size_t(i)].entries.size());
        }
        const double count = end - b;
        const auto& last = m_steps[size_t(end - 1)];
        keys << double(m_steps[size_t(b)].index) + (perBar - 1) / 2.0;
        prefill << pf / count;
        decode << dc / count;
        batch << bs / count;
        budget << last.tokenBudget;
        maxBatch << last.maxBatchSize;
    }
    m_prefill->setWidth(perBar * 0.85);
    m_decode->setWidth(perBar * 0.85);
    m_prefill->setData(keys, prefill, true);
    m_decode->setData(keys, decode, true);
    m_budget->setData(keys, budget, true);
    m_batchSize->setData(keys, batch, true);
    m_maxBatch->setData(keys, maxBatch, true);
    QCustomPlot* p = plot();
    if (!keys.isEmpty()) {
        p->xAxis->setRange(keys.front() - perBar, keys.front() + std::max(n, m_visible / 4));
        double top = 1;
        for (int i = 0; i < keys.size(); ++i) top = std::max({top, prefill[i] + decode[i], budget[i]});
        p->yAxis->setRange(0, top * 1.1);
        double topSeqs = 1;
        for (int i = 0; i < keys.size(); ++i) topSeqs = std::max({topSeqs, batch[i], maxBatch[i]});
        p->yAxis2->setRange(0, topSeqs * 1.15);
    }
}

QString BatchChart::stepToolTip(double key) const {
    if (m_steps.empty()) return {};
    const auto index = std::int64_t(std::llround(key));
    auto it = std::lower_bound(m_steps.begin(), m_steps.end(), index,
                               [](const engine::StepRecord& s, std::int64_t i) { return s.index < i; });
    if (it == m_steps.end() || it->index != index) return {};
    QString text = tr("Step %1 — %2 ms%3\nprefill %4 tok, decode %5 tok, budget %6, %7 seqs")
                       .arg(it->index)
                       .arg(it->durationMs, 0, 'f', 1)
                       .arg(it->failed ? tr(" (failed)") : QString())
                       .arg(it->prefillTokens)
                       .arg(it->decodeTokens)
                       .arg(it->tokenBudget)
                       .arg(it->entries.size());
    const int shown = std::min<int>(int(it->entries.size()), 16);
    for (int i = 0; i < shown; ++i) {
        const auto& e = it->entries[size_t(i)];
        text += e.prefillTokens > 0 ? tr("\n  #%1 prefill %2").arg(e.id).arg(e.prefillTokens)
                                    : tr("\n  #%1 decode %2").arg(e.id).arg(e.decodeTokens);
    }
    if (int(it->entries.size()) > shown)
        text += tr("\n  … %1 more").arg(int(it->entries.size()) - shown);
    return text;
}

void BatchChart::onMouseMove(QMouseEvent* event) {
    const double key = plot()->xAxis->pixelToCoord(event->position().x());
    const QString text = stepToolTip(key);
    if (text.isEmpty())
        QToolTip::hideText();
    else
        QToolTip::showText(event->globalPosition().toPoint(), text, plot());
}

}  // namespace batchscope::ui
