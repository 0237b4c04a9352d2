// SPDX-License-Identifier: GPL-3.0-or-later
#include "app/gui/playback_controller.h"

#include <QToolBar>

#include "ui/batch_chart.h"
#include "ui/main_window.h"
#include "ui/playback_bar.h"
#include "ui/time_series_chart.h"

namespace batchscope::app {

namespace {
constexpr double kChartWindowMs = 60'000;   // TimeSeriesChart's window: what a rebuild refills
constexpr int kRefillPoints = 600;          // its thinning limit
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
    // Forwards within the charts' window, the next frame just adds what happened meanwhile.
    const bool rebuild = m_frames == 0 || t < m_timeMs || t - m_shownMs > kChartWindowMs;
    m_timeMs = t;
    showFrame(rebuild);
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
        refillCharts();
        ++m_rebuilds;
    }
    if (!snapshot->steps.empty()) m_lastStep = snapshot->steps.back().index;
    m_window.applySnapshot(snapshot);
    m_shownMs = m_timeMs;
    m_bar->setPosition(m_timeMs - m_playback->startMs());
    ++m_frames;
    if (rebuild) m_lastRebuildMs = double(cost.nsecsElapsed()) / 1e6;
    emit frameShown(m_timeMs);
}

void PlaybackController::refillCharts() {
    // The minute before the position, as the live charts would have sampled it; the frame's
    // own snapshot adds the last point.
    const double from = std::max(m_playback->startMs(), m_timeMs - kChartWindowMs);
    const double stepMs = (m_timeMs - from) / kRefillPoints;
    if (stepMs <= 0) return;
    for (int i = 0; i < kRefillPoints; ++i) {
        const engine::PlaybackSample s = m_playback->sampleAt(from + i * stepMs);
        const double t = s.timeMs / 1000.0;
        m_window.kvChart()->append(t, {double(s.kvUsed), double(s.kvCached), double(s.kvFree)});
        m_window.throughputChart()->append(t, {s.promptTokensPerSecond, s.generatedTokensPerSecond,
                                               double(s.queueDepth)});
    }
}

}  // namespace batchscope::app
