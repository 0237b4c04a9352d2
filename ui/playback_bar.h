// The transport of a trace playback: play/pause, a time slider to scrub, the speed.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <QWidget>

class QComboBox;
class QLabel;
class QSlider;
class QToolButton;

namespace batchscope::ui {

/// Shows a position in [0, duration] (ms since the recording's start) and emits the user's
/// intents; the playback controller (app/gui) owns the clock and calls setPosition as it
/// plays. setPosition/setPlaying never emit. GUI thread only.
class PlaybackBar : public QWidget {
    Q_OBJECT
public:
    explicit PlaybackBar(QWidget* parent = nullptr);

    /// The speeds offered, 0.1x to 100x.
    static const QList<double>& speeds();
    void setDuration(double durationMs);
    double duration() const { return m_durationMs; }
    void setPosition(double positionMs);
    double position() const { return m_positionMs; }
    void setPlaying(bool playing);
    bool isPlaying() const { return m_playing; }
    /// Selects the offered speed nearest `speed` (emits speedChanged).
    void setSpeed(double speed);
    double speed() const;
    QSlider* slider() const { return m_slider; }

signals:
    void playRequested(bool play);
    /// The user dragged or clicked the slider (ms since the recording's start).
    void seekRequested(double positionMs);
    void speedChanged(double speed);

private:
    void updateLabel();
    QToolButton* m_play;
    QSlider* m_slider;
    QComboBox* m_speed;
    QLabel* m_time;
    double m_durationMs = 0, m_positionMs = 0;
    bool m_playing = false;
};

}  // namespace batchscope::ui
