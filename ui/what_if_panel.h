// The what-if panel: variant settings to replay a trace under, the replay's progress, and
// baseline vs variants side by side (a table and overlaid latency CDFs).
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <QList>
#include <QStringList>
#include <QVector>
#include <QWidget>

class QCheckBox;
class QComboBox;
class QCustomPlot;
class QLabel;
class QListWidget;
class QProgressBar;
class QPushButton;
class QSpinBox;
class QTableWidget;

namespace batchscope::ui {

/// One run of a what-if: the recorded run, its replay or a variant. Plain Qt values (ui/ sees
/// no replay types; app/gui converts the engine's report).
struct WhatIfRun {
    QString name;
    /// One value per WhatIfPanel::figureNames() entry, in its units.
    QVector<double> figures;
    QVector<double> ttftMs, endToEndMs;   ///< per request, for the CDFs
};

/// Emits runRequested with the variants as `replay --set` strings ("key=value,key=value");
/// app/gui runs them and feeds progress and results back. GUI thread only.
class WhatIfPanel : public QWidget {
    Q_OBJECT
public:
    explicit WhatIfPanel(QWidget* parent = nullptr);

    /// Row headers of the figures, e.g. "TTFT p50 (ms)".
    static const QStringList& figureNames();
    /// The variant list ("key=value,..." each).
    QStringList variants() const;
    void addVariant(const QString& assignments);
    void clearVariants();
    /// The assignments the editor's current values give ("" when all are "unchanged").
    QString editorAssignments() const;

    void setRunning(bool running);
    void setProgress(int done, int total, const QString& what);
    void setResults(const QList<WhatIfRun>& runs, const QString& note);
    void setError(const QString& message);
    QTableWidget* table() const { return m_table; }
    QCustomPlot* ttftPlot() const { return m_ttftPlot; }
    QCustomPlot* endToEndPlot() const { return m_e2ePlot; }
    QPushButton* runButton() const { return m_run; }
    QProgressBar* progressBar() const { return m_progress; }
    QSpinBox* maxBatchSizeBox() const { return m_maxBatch; }

signals:
    void runRequested(const QStringList& variants);

private:
    QWidget* buildEditor();
    static void plotCdfs(QCustomPlot* plot, const QList<WhatIfRun>& runs, bool ttft);

    QSpinBox *m_maxBatch, *m_tokenBudget, *m_kvBlocks;
    QComboBox *m_prefix, *m_policy, *m_memory;
    QListWidget* m_list;
    QPushButton* m_run;
    QProgressBar* m_progress;
    QLabel* m_status;
    QTableWidget* m_table;
    QCustomPlot *m_ttftPlot, *m_e2ePlot;
};

}  // namespace batchscope::ui
