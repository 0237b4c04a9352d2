// The KV block map: one cell per block, free / cached / owned (owner colour), shared marked.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <functional>
#include <QWidget>
#include <vector>

#include "engine/metrics/scheduler_snapshot.h"

namespace batchscope::ui {

/// Custom-painted grid laid out to fill the widget. Hover shows the block's owner and
/// reference count. GUI thread only.
class BlockMapWidget : public QWidget {
    Q_OBJECT
public:
    explicit BlockMapWidget(QWidget* parent = nullptr);
    void setBlocks(const std::vector<engine::KvBlockView>& blocks);
    const std::vector<engine::KvBlockView>& blocks() const { return m_blocks; }
    /// Where an owner request came from (e.g. "chat: <title>"), shown in the block tooltip.
    void setLabelSource(std::function<QString(engine::RequestId)> source) { m_labelSource = std::move(source); }
    /// The tooltip text of block i (tests).
    QString blockToolTip(int i) const;
    /// Fill colour of a block as painted.
    QColor colorOf(const engine::KvBlockView& block) const;
    /// Block index under a widget position, or -1.
    int blockAt(const QPoint& pos) const;
    /// Cell geometry for the current size: columns and cell edge in pixels.
    void layoutGrid(int& columns, int& cell) const;
    QSize sizeHint() const override { return {320, 160}; }
    QSize minimumSizeHint() const override { return {120, 60}; }

signals:
    void blockClicked(batchscope::engine::RequestId owner);

protected:
    void paintEvent(QPaintEvent* event) override;
    bool event(QEvent* event) override;
    void mousePressEvent(QMouseEvent* event) override;

private:
    std::vector<engine::KvBlockView> m_blocks;
    std::function<QString(engine::RequestId)> m_labelSource;
};

}  // namespace batchscope::ui
