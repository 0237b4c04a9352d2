// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/playback_bar.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QSignalBlocker>
#include <QSlider>
#include <QStyle>
#include <QToolButton>
#include <cmath>

namespace batchscope::ui {

namespace {
QString clockText(double ms) {
    const auto s = qint64(std::floor(std::max(0.0, ms) / 1000.0));
    const int tenths = int(std::fmod(std::max(0.0, ms), 1000.0) / 100.0);
    return QStringLiteral("%1:%2.%3").arg(s / 60).arg(s % 60, 2, 10, QLatin1Char('0')).arg(tenths);
}
}  // namespace

const QList<double>& PlaybackBar::speeds() {
    static const QList<double> list{0.1, 0.25, 0.5, 1, 2, 5, 10, 25, 50, 100};
    return list;
}

PlaybackBar::PlaybackBar(QWidget* parent)
    : QWidget(parent), m_play(new QToolButton(this)), m_slider(new QSlider(Qt::Horizontal, this)),
      m_speed(new QComboBox(this)), m_time(new QLabel(this)) {
    setObjectName(QStringLiteral("playbackBar"));
    auto* row = new QHBoxLayout(this);
    row->setContentsMargins(6, 2, 6, 2);
    m_play->setObjectName(QStringLiteral("playButton"));
    m_play->setIcon(style()->standardIcon(QStyle::SP_MediaPlay));
    m_play->setToolTip(tr("Play / pause the recorded run"));
    m_slider->setObjectName(QStringLiteral("timeSlider"));
    m_slider->setToolTip(tr("Scrub through the recorded run"));
    m_slider->setRange(0, 0);
    m_speed->setObjectName(QStringLiteral("speedBox"));
    m_speed->setToolTip(tr("Playback speed"));
    for (double s : speeds()) m_speed->addItem(QStringLiteral("%1×").arg(s), s);
    m_speed->setCurrentIndex(int(speeds().indexOf(1.0)));
    m_time->setObjectName(QStringLiteral("timeLabel"));
    m_time->setMinimumWidth(m_time->fontMetrics().horizontalAdvance(QStringLiteral("000:00.0 / 000:00.0")));
    row->addWidget(m_play);
    row->addWidget(m_slider, 1);
    row->addWidget(m_time);
    row->addWidget(m_speed);
    connect(m_play, &QToolButton::clicked, this, [this] { emit playRequested(!m_playing); });
    // sliderMoved while dragging, actionTriggered for clicks and keys: both are the user's.
    connect(m_slider, &QSlider::sliderMoved, this, [this](int v) { emit seekRequested(double(v)); });
    connect(m_slider, &QSlider::actionTriggered, this, [this](int) {
        emit seekRequested(double(m_slider->sliderPosition()));
    });
    connect(m_speed, &QComboBox::currentIndexChanged, this,
            [this](int) { emit speedChanged(speed()); });
    updateLabel();
}

void PlaybackBar::setDuration(double durationMs) {
    m_durationMs = std::max(0.0, durationMs);
    const QSignalBlocker block(m_slider);
    m_slider->setRange(0, int(std::min(m_durationMs, 2e9)));
    m_slider->setPageStep(std::max(1, m_slider->maximum() / 20));
    m_slider->setSingleStep(std::max(1, m_slider->maximum() / 200));
    updateLabel();
}

void PlaybackBar::setPosition(double positionMs) {
    m_positionMs = std::clamp(positionMs, 0.0, m_durationMs);
    if (!m_slider->isSliderDown()) {
        const QSignalBlocker block(m_slider);
        m_slider->setValue(int(m_positionMs));
    }
    updateLabel();
}

void PlaybackBar::setPlaying(bool playing) {
    m_playing = playing;
    m_play->setIcon(style()->standardIcon(playing ? QStyle::SP_MediaPause : QStyle::SP_MediaPlay));
}

void PlaybackBar::setSpeed(double speed) {
    int best = 0;
    for (int i = 1; i < speeds().size(); ++i)
        if (std::abs(std::log(speeds()[i] / speed)) < std::abs(std::log(speeds()[best] / speed))) best = i;
    m_speed->setCurrentIndex(best);
}

double PlaybackBar::speed() const { return m_speed->currentData().toDouble(); }

void PlaybackBar::updateLabel() {
    m_time->setText(QStringLiteral("%1 / %2").arg(clockText(m_positionMs), clockText(m_durationMs)));
}

}  // namespace batchscope::ui
