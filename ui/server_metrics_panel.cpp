// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/server_metrics_panel.h"

#include <QGridLayout>
#include <QStringList>

#include "ui/time_series_chart.h"

namespace batchscope::ui {

namespace {
const QColor kBlue(0x1f, 0x8f, 0xd6), kRed(0xd7, 0x3a, 0x49), kOrange(0xe0, 0x8e, 0x0b),
    kGreen(0x2e, 0xa0, 0x43), kPurple(0x8e, 0x44, 0xad), kGrey(0x7f, 0x8c, 0x8d);

double keep(std::optional<double> v, std::optional<double> last) { return v.value_or(last.value_or(0.0)); }
}  // namespace

ServerMetricsPanel::ServerMetricsPanel(QWidget* parent)
    : QWidget(parent),
      m_charts{new TimeSeriesChart({{tr("running"), tr("requests"), kBlue, false, true},
                                    {tr("waiting"), tr("requests"), kRed, false, false}},
                                   tr("requests"), QString(), this),
               new TimeSeriesChart({{tr("KV cache used"), tr("%"), kBlue, false, true}},
                                   tr("KV cache usage (%)"), QString(), this),
               new TimeSeriesChart({{tr("prompt"), tr("tok/s"), kOrange, false, false},
                                    {tr("generated"), tr("tok/s"), kBlue, false, true},
                                    {tr("preemptions"), tr("/s"), kRed, true, false}},
                                   tr("tokens/s"), tr("preemptions/s"), this),
               new TimeSeriesChart({{tr("TTFT p50"), tr("ms"), kOrange, false, false},
                                    {tr("TTFT p99"), tr("ms"), kRed, false, false},
                                    {tr("inter-token p50"), tr("ms"), kBlue, false, false},
                                    {tr("inter-token p99"), tr("ms"), kPurple, false, false},
                                    {tr("end-to-end p50"), tr("ms"), kGreen, false, false},
                                    {tr("end-to-end p99"), tr("ms"), kGrey, false, false}},
                                   tr("latency (ms)"), QString(), this)},
      m_missing(new QLabel(this)) {
    auto* grid = new QGridLayout(this);
    grid->setContentsMargins(0, 0, 0, 0);
    for (int i = 0; i < 4; ++i) grid->addWidget(m_charts[i], i / 2, i % 2);
    grid->addWidget(m_missing, 2, 0, 1, 2);
    m_missing->setWordWrap(true);
    m_charts[3]->setToolTip(tr("Percentiles from the server's histogram buckets (linear "
                               "interpolation within a bucket) over the last 30 s"));
}

void ServerMetricsPanel::addSample(const ServerMetricsSample& s) {
    const double t = s.timeSeconds;
    m_charts[0]->append(t, {s.running.value_or(0), s.waiting.value_or(0)});
    m_charts[1]->append(t, {s.kvUsagePercent.value_or(0)});
    m_charts[2]->append(t, {s.promptTokensPerSecond.value_or(0), s.generationTokensPerSecond.value_or(0),
                            s.preemptionsPerSecond.value_or(0)});
    m_charts[3]->append(t, {keep(s.ttftMs.p50, m_last.ttftMs.p50), keep(s.ttftMs.p99, m_last.ttftMs.p99),
                            keep(s.interTokenMs.p50, m_last.interTokenMs.p50),
                            keep(s.interTokenMs.p99, m_last.interTokenMs.p99),
                            keep(s.endToEndMs.p50, m_last.endToEndMs.p50),
                            keep(s.endToEndMs.p99, m_last.endToEndMs.p99)});
    auto hold = [](std::optional<double>& last, std::optional<double> v) { if (v) last = v; };
    hold(m_last.ttftMs.p50, s.ttftMs.p50);
    hold(m_last.ttftMs.p99, s.ttftMs.p99);
    hold(m_last.interTokenMs.p50, s.interTokenMs.p50);
    hold(m_last.interTokenMs.p99, s.interTokenMs.p99);
    hold(m_last.endToEndMs.p50, s.endToEndMs.p50);
    hold(m_last.endToEndMs.p99, s.endToEndMs.p99);
    QStringList missing;
    for (const std::string& why : s.unavailable) missing << QString::fromStdString(why);
    if (missing.isEmpty() && s.flavour.empty()) {  // a source that does not say why: the figures it left out
        if (!s.running || !s.waiting) missing << tr("running/waiting requests");
        if (!s.kvUsagePercent) missing << tr("KV-cache usage");
        if (!s.promptTokensPerSecond && !s.generationTokensPerSecond) missing << tr("token counters (or first scrape)");
        if (!s.preemptionsPerSecond) missing << tr("preemptions");
    }
    m_missing->setText(missing.isEmpty() ? QString()
                                         : tr("Not fed by this server (drawn as 0):\n• %1")
                                               .arg(missing.join(QStringLiteral("\n• "))));
}

void ServerMetricsPanel::clear() {
    for (TimeSeriesChart* c : m_charts) c->clear();
    m_last = {};
    m_missing->clear();
}

void ServerMetricsPanel::replotImmediately() {
    for (TimeSeriesChart* c : m_charts) c->replotImmediately();
}

}  // namespace batchscope::ui
