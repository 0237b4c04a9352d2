// Live scheduler controls: pause, batch size, token budget, queue and memory policy, caching.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <QWidget>

#include "engine/metrics/scheduler_snapshot.h"

class QCheckBox;
class QComboBox;
class QPushButton;
class QSpinBox;

namespace batchscope::ui {

/// Every user edit emits settingsChanged with the whole settings value; setSettings() updates
/// the form without emitting (used for the engine's current values). GUI thread only.
class SchedulerControls : public QWidget {
    Q_OBJECT
public:
    explicit SchedulerControls(QWidget* parent = nullptr);
    engine::SchedulerSettings settings() const;
    void setSettings(const engine::SchedulerSettings& settings);
    QPushButton* pauseButton() const { return m_pause; }

signals:
    void settingsChanged(const batchscope::engine::SchedulerSettings& settings);
    void resetStatisticsRequested();

private:
    void emitChanged();
    void updateEnabled();

    QPushButton* m_pause;
    QSpinBox* m_maxBatch;
    QSpinBox* m_budget;
    QComboBox* m_queuePolicy;
    QSpinBox* m_aging;
    QComboBox* m_memoryPolicy;
    QCheckBox* m_prefixCaching;
    bool m_updating = false;
};

}  // namespace batchscope::ui
