// SPDX-License-Identifier: GPL-3.0-or-later
#include "app/gui/playback_controller.h"

#include <QToolBar>
#include <algorithm>
#include <cmath>

#include "ui/batch_chart.h"
#include "ui/main_window.h"
#include "ui/playback_bar.h"
#include "ui/time_series_chart.h"

namespace batchscope::app {

namespace {
constexpr double kChartWindowMs = 60'000;   // TimeSeriesChart's window: what a rebuild refills
constexpr double kSampleMs = 100;           // chart samples: 600 over the window, its thinning limit
constexpr std::int32_t kTableHistory = 2000; // RequestTableModel's row limit
}  // namespace

PlaybackController::PlaybackController(std::shared_ptr<const engine::TracePlayback> playback,
                                       ui::MainWindow& window, QObject* parent)
    : QObject(parent), m_playback(std::move(playback)), m_window(window), m_bar(new ui::PlaybackBar) {
    auto* toolbar = new QToolBar(tr("Playback"), &window);
    toolbar->setObjectName(QStringLiteral("playbackToolBar"));
    toolbar->setMovable(false);
    toolbar->addWidget(m_bar);
    window.addToolBar(Qt::BottomToolBarArea, toolbar);
    m_bar->setDuration(m_playback->endMs() - m_playback->startMs());
    m_timer.setInterval(1000 / frameRateHz());
    connect(&m_timer, &QTimer::timeout, this, &PlaybackController::tick);
    connect(m_bar, &ui::PlaybackBar::playRequested, this, [this](bool play) { play ? this->play() : pause(); });
    connect(m_bar, &ui::PlaybackBar::seekRequested, this,
            [this](double offsetMs) { seek(m_playback->startMs() + offsetMs); });
    connect(m_bar, &ui::PlaybackBar::speedChanged, this, [this](double s) { m_speed = s; });
    m_speed = m_bar->speed();
    seek(m_playback->startMs());
}

void PlaybackController::play() {
    if (m_timeMs >= m_playback->endMs()) seek(m_playback->startMs());   // from the start again
    m_wall.start();
    m_timer.start();
    m_bar->setPlaying(true);
}

void PlaybackController::pause() {
    m_timer.stop();
    m_bar->setPlaying(false);
}

void PlaybackController::setSpeed(double speed) {
    m_bar->setSpeed(speed);   // snaps to an offered speed and emits speedChanged
}

void PlaybackController::seek(double timeMs) {
    const double t = std::clamp(timeMs, m_playback->startMs(), m_playback->endMs());
    // A seek always rebuilds (forwards too: the tables and charts then hold exactly what a
    // run up to t shows); only playing adds frame by frame.
    m_timeMs = t;
    showFrame(true);
    if (m_timer.isActive()) m_wall.restart();
}

void PlaybackController::tick() {
    const double elapsed = double(m_wall.restart());
    m_timeMs = std::min(m_playback->endMs(), m_timeMs + elapsed * m_speed);
    // At high speeds a frame can cover more than the charts' window: rebuild then.
    showFrame(m_timeMs - m_shownMs > kChartWindowMs);
    if (m_timeMs >= m_playback->endMs()) pause();
}

void PlaybackController::showFrame(bool rebuild) {
    QElapsedTimer cost;
    cost.start();
    engine::PlaybackQuery q;
    q.timeMs = m_timeMs;
    if (rebuild) {
        m_lastStep = -1;
        q.history = kTableHistory;
        q.maxSteps = m_window.batchChart()->maxSteps();
    } else {
        q.afterStep = m_lastStep;
        q.finishedAfterMs = m_shownMs;
    }
    auto snapshot = std::make_shared<const engine::SchedulerSnapshot>(m_playback->snapshotAt(q));
    if (rebuild) {
        m_window.setModelInfo(snapshot->model);   // clears the table, the output and the charts
        ++m_rebuilds;
    }
    // The time-series charts get samples every kSampleMs of trace time up to t (the frame's
    // own snapshot adds the point at t), so they are as dense at 100x as at 1x.
    fillCharts(rebuild ? m_timeMs - kChartWindowMs : m_shownMs);
    if (!snapshot->steps.empty()) m_lastStep = snapshot->steps.back().index;
    m_window.applySnapshot(snapshot);
    m_shownMs = m_timeMs;
    m_bar->setPosition(m_timeMs - m_playback->startMs());
    ++m_frames;
    if (rebuild) m_lastRebuildMs = double(cost.nsecsElapsed()) / 1e6;
    emit frameShown(m_timeMs);
}

void PlaybackController::fillCharts(double fromMs) {
    const double from = std::max({fromMs, m_playback->startMs(), m_timeMs - kChartWindowMs});
    // Sample times on a fixed grid of kSampleMs, so that frames line up with a rebuild's.
    for (double t = (std::floor(from / kSampleMs) + 1) * kSampleMs; t < m_timeMs; t += kSampleMs) {
        const engine::PlaybackSample s = m_playback->sampleAt(t);
        const double seconds = s.timeMs / 1000.0;
        m_window.kvChart()->append(seconds, {double(s.kvUsed), double(s.kvCached), double(s.kvFree)});
        m_window.throughputChart()->append(seconds, {s.promptTokensPerSecond, s.generatedTokensPerSecond,
                                                     double(s.queueDepth)});
    }
}

}  // namespace batchscope::app
