// Plays a recorded trace into a main window: a virtual clock driven by a QTimer at the live
// refresh rate, 0.1x to 100x, pause, and scrubbing (forwards and backwards).
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <QElapsedTimer>
#include <QObject>
#include <QTimer>
#include <memory>

#include "engine/trace/trace_playback.h"

namespace batchscope::ui {
class MainWindow;
class PlaybackBar;
}  // namespace batchscope::ui

namespace batchscope::app {

/// GUI thread only. Owns the playback (shared, immutable) and its bar (added to the window's
/// bottom). Each frame is a SchedulerSnapshot rebuilt by TracePlayback and given to
/// MainWindow::applySnapshot, the way the bridge gives live ones, at most frameRateHz() times a
/// second. A seek (backwards or forwards; or a frame past the charts' window) rebuilds the
/// views: the window is cleared, the time-series charts are refilled with the minute before the
/// new position, the batch chart with its last steps and the request table with the latest
/// requests; a frame while playing adds only what happened since the previous one (the charts
/// get a sample every 100 ms of trace time in between, at any speed).
class PlaybackController : public QObject {
    Q_OBJECT
public:
    PlaybackController(std::shared_ptr<const engine::TracePlayback> playback, ui::MainWindow& window,
                       QObject* parent = nullptr);

    static constexpr int frameRateHz() { return 30; }
    const engine::TracePlayback& playback() const { return *m_playback; }
    ui::PlaybackBar* bar() const { return m_bar; }
    /// Position in ms since the recording's epoch (the trace's own times).
    double timeMs() const { return m_timeMs; }
    double speed() const { return m_speed; }
    bool isPlaying() const { return m_timer.isActive(); }
    /// Rebuilds (seeks) to `timeMs`, clamped to the trace's span, and shows it at once.
    void seek(double timeMs);
    void play();
    void pause();
    void setSpeed(double speed);
    /// Frames shown and views rebuilt so far (tests).
    int frames() const { return m_frames; }
    int rebuilds() const { return m_rebuilds; }
    /// Wall time of the last rebuild in ms (snapshot + chart refill + window update).
    double lastRebuildMs() const { return m_lastRebuildMs; }

signals:
    /// After every frame (the window has the snapshot).
    void frameShown(double timeMs);

private:
    void tick();
    void showFrame(bool rebuild);
    void fillCharts(double fromMs);

    std::shared_ptr<const engine::TracePlayback> m_playback;
    ui::MainWindow& m_window;
    ui::PlaybackBar* m_bar;
    QTimer m_timer;
    QElapsedTimer m_wall;
    double m_timeMs = 0, m_shownMs = -1e300, m_speed = 1;
    std::int64_t m_lastStep = -1;
    int m_frames = 0, m_rebuilds = 0;
    double m_lastRebuildMs = 0;
};

}  // namespace batchscope::app
