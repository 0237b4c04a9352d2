// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/scheduler_controls.h"

#include <QCheckBox>
#include <QComboBox>
#include <QFormLayout>
#include <QPushButton>
#include <QSignalBlocker>
#include <QSpinBox>
#include <QVBoxLayout>

namespace batchscope::ui {

SchedulerControls::SchedulerControls(QWidget* parent)
    : QWidget(parent), m_pause(new QPushButton(tr("Pause"), this)),
      m_maxBatch(new QSpinBox(this)), m_budget(new QSpinBox(this)),
      m_queuePolicy(new QComboBox(this)), m_aging(new QSpinBox(this)),
      m_memoryPolicy(new QComboBox(this)), m_prefixCaching(new QCheckBox(tr("enabled"), this)) {
    m_pause->setCheckable(true);
    m_pause->setToolTip(tr("Pause scheduling: running steps finish, nothing new is scheduled"));
    m_maxBatch->setRange(1, 1024);
    m_maxBatch->setSuffix(tr(" seqs"));
    m_maxBatch->setToolTip(tr("Most sequences in one step"));
    m_budget->setRange(1, 65536);
    m_budget->setSingleStep(64);
    m_budget->setSuffix(tr(" tok"));
    m_budget->setToolTip(tr("Most tokens (prefill + decode) computed in one step"));
    m_queuePolicy->addItem(tr("Priority (with aging)"), int(engine::QueuePolicy::Priority));
    m_queuePolicy->addItem(tr("First come, first served"), int(engine::QueuePolicy::Fcfs));
    m_aging->setRange(0, 600000);
    m_aging->setSingleStep(500);
    m_aging->setSuffix(tr(" ms"));
    m_aging->setSpecialValueText(tr("off (strict priority)"));
    m_aging->setToolTip(tr("A waiting request gains one priority level per this interval"));
    m_memoryPolicy->addItem(tr("Preempt on exhaustion"), int(engine::MemoryPolicy::Preempt));
    m_memoryPolicy->addItem(tr("Reserve up front"), int(engine::MemoryPolicy::Reserve));
    m_memoryPolicy->setToolTip(tr("Preempt: admit optimistically, preempt when KV runs out. "
                                  "Reserve: admit only with blocks for prompt + max tokens."));
    m_prefixCaching->setToolTip(tr("Reuse KV blocks of identical prompt prefixes"));
    auto* reset = new QPushButton(tr("Reset statistics"), this);
    reset->setToolTip(tr("Clear latency and throughput statistics"));

    auto* form = new QFormLayout;
    form->addRow(tr("Max batch size:"), m_maxBatch);
    form->addRow(tr("Token budget:"), m_budget);
    form->addRow(tr("Queue policy:"), m_queuePolicy);
    form->addRow(tr("Aging interval:"), m_aging);
    form->addRow(tr("Memory policy:"), m_memoryPolicy);
    form->addRow(tr("Prefix caching:"), m_prefixCaching);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addWidget(m_pause);
    layout->addLayout(form);
    layout->addWidget(reset);
    layout->addStretch(1);

    setSettings(engine::SchedulerSettings{});
    connect(m_pause, &QPushButton::toggled, this, &SchedulerControls::emitChanged);
    connect(m_maxBatch, &QSpinBox::valueChanged, this, &SchedulerControls::emitChanged);
    connect(m_budget, &QSpinBox::valueChanged, this, &SchedulerControls::emitChanged);
    connect(m_queuePolicy, &QComboBox::currentIndexChanged, this, &SchedulerControls::emitChanged);
    connect(m_aging, &QSpinBox::valueChanged, this, &SchedulerControls::emitChanged);
    connect(m_memoryPolicy, &QComboBox::currentIndexChanged, this, &SchedulerControls::emitChanged);
    connect(m_prefixCaching, &QCheckBox::toggled, this, &SchedulerControls::emitChanged);
    connect(reset, &QPushButton::clicked, this, &SchedulerControls::resetStatisticsRequested);
}

engine::SchedulerSettings SchedulerControls::settings() const {
    engine::SchedulerSettings s;
    s.paused = m_pause->isChecked();
    s.maxBatchSize = m_maxBatch->value();
    s.tokenBudget = m_budget->value();
    s.queuePolicy = static_cast<engine::QueuePolicy>(m_queuePolicy->currentData().toInt());
    s.agingIntervalMs = m_aging->value();
    s.memoryPolicy = static_cast<engine::MemoryPolicy>(m_memoryPolicy->currentData().toInt());
    s.prefixCaching = m_prefixCaching->isChecked();
    return s;
}

void SchedulerControls::setSettings(const engine::SchedulerSettings& s) {
    m_updating = true;
    m_pause->setChecked(s.paused);
    m_maxBatch->setValue(s.maxBatchSize);
    m_budget->setValue(s.tokenBudget);
    m_queuePolicy->setCurrentIndex(m_queuePolicy->findData(int(s.queuePolicy)));
    m_aging->setValue(int(std::min<std::int64_t>(s.agingIntervalMs, m_aging->maximum())));
    m_memoryPolicy->setCurrentIndex(m_memoryPolicy->findData(int(s.memoryPolicy)));
    m_prefixCaching->setChecked(s.prefixCaching);
    m_updating = false;
    updateEnabled();
}

void SchedulerControls::updateEnabled() {
    m_pause->setText(m_pause->isChecked() ? tr("Resume") : tr("Pause"));
    m_aging->setEnabled(m_queuePolicy->currentData().toInt() == int(engine::QueuePolicy::Priority));
}

void SchedulerControls::emitChanged() {
    updateEnabled();
    if (!m_updating) emit settingsChanged(settings());
}

}  // namespace batchscope::ui
