// Several servers side by side (a fleet of replicas; our engine next to a vLLM under the same
// load): a table of each server's current figures and charts overlaying one graph per server.
// Fed ServerMetricsSample values (the Server metrics panel's) by app/gui/console_window.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <QColor>
#include <QElapsedTimer>
#include <QHash>
#include <QWidget>

#include "ui/server_metrics.h"

class QLabel;
class QTableWidget;

namespace batchscope::ui {

class CompareChart;

/// GUI thread only. Samples are placed on this view's own clock (when they arrive), since each
/// server's timeSeconds counts from its own start. A server's row has a checkbox: unchecked
/// servers stay in the table but leave the charts. Latency percentiles hold their last value
/// while no request finishes (as in the Server metrics panel); a figure the server cannot feed
/// shows "—" with the reason as tooltip.
class CompareView : public QWidget {
    Q_OBJECT
public:
    enum Column { Name, State, Running, Waiting, KvUsage, GenerationRate, PromptRate, PreemptionRate,
                  TtftP50, TtftP99, ItlP50, ItlP99, E2eP50, E2eP99, ColumnCount };
    /// Charts: 0 running (solid) and waiting (dashed) requests, 1 KV usage %, 2 generated tokens/s.
    enum ChartIndex { RequestsChart, KvChart, GenerationChart, ChartCount };

    explicit CompareView(QWidget* parent = nullptr);

    /// A new row and graphs; returns the server's key.
    int addServer(const QString& name);
    void removeServer(int key);
    void setServerName(int key, const QString& name);
    void setServerState(int key, const QString& state, const QString& detail);
    void addSample(int key, const ServerMetricsSample& sample);
    void setCompared(int key, bool compared);

    int serverCount() const { return int(m_servers.size()); }
    /// Table row of the server (-1 if unknown), and a cell's text.
    int rowOf(int key) const;
    QString cellText(int key, Column column) const;
    QTableWidget* table() const { return m_table; }
    CompareChart* chart(ChartIndex i) const { return m_charts[i]; }
    /// The graph keys of a server in chart i (requests: running then waiting).
    QList<int> graphsOf(int key, ChartIndex i) const;
    void replotImmediately();

private:
    struct Server {
        QString name;
        QColor color;
        QList<int> graphs[ChartCount];
        ServerMetricsSample last;  ///< latency percentiles held
    };
    void setCell(int row, Column column, const QString& text, const QString& tip = QString());
    void onItemChanged(int row, int column);

    QTableWidget* m_table;
    CompareChart* m_charts[ChartCount];
    QLabel* m_hint;
    QHash<int, Server> m_servers;
    QElapsedTimer m_clock;
    int m_nextKey = 1;
    int m_nextColor = 0;
};

}  // namespace batchscope::ui
