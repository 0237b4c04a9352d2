// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/block_map_widget.h"

#include <QHelpEvent>
#include <QMouseEvent>
#include <QPainter>
#include <QToolTip>
#include <cmath>

#include "ui/display_text.h"

namespace batchscope::ui {

using State = engine::KvBlockView::State;

BlockMapWidget::BlockMapWidget(QWidget* parent) : QWidget(parent) {
    setMouseTracking(true);
    setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Expanding);
    setToolTip(tr("KV-cache blocks: grey = free, striped = cached prefix, coloured = owned "
                  "by a request (white dot = shared)"));
}

void BlockMapWidget::setBlocks(const std::vector<engine::KvBlockView>& blocks) {
    m_blocks = blocks;
    update();
}

QColor BlockMapWidget::colorOf(const engine::KvBlockView& block) const {
    switch (block.state) {
    case State::Free: return palette().color(QPalette::Midlight);
    case State::Cached: return QColor(0x9a, 0xa7, 0xb8);
    case State::Owned: return requestColor(block.owner);
    }
    return Qt::gray;
}

void BlockMapWidget::layoutGrid(int& columns, int& cell) const {
    const int n = std::max<int>(1, int(m_blocks.size()));
    const int w = std::max(1, width() - 2), h = std::max(1, height() - 2);
    // Largest square cell such that all blocks fit: cell = floor(sqrt(w*h/n)), then shrink.
    cell = std::max(2, int(std::sqrt(double(w) * h / n)));
    while (cell > 2 && (w / cell) * (h / cell) < n) --cell;
    columns = std::max(1, w / cell);
}

int BlockMapWidget::blockAt(const QPoint& pos) const {
    int columns = 1, cell = 1;
    layoutGrid(columns, cell);
    if (pos.x() < 1 || pos.y() < 1) return -1;
    const int col = (pos.x() - 1) / cell, row = (pos.y() - 1) / cell;
    if (col >= columns) return -1;
    const int i = row * columns + col;
    return i < int(m_blocks.size()) ? i : -1;
}

void BlockMapWidget::paintEvent(QPaintEvent*) {
    QPainter p(this);
    p.fillRect(rect(), palette().color(QPalette::Base));
    if (m_blocks.empty()) {
        p.setPen(palette().color(QPalette::PlaceholderText));
        p.drawText(rect(), Qt::AlignCenter, tr("no KV cache"));
        return;
    }
    int columns = 1, cell = 1;
    layoutGrid(columns, cell);
    const int gap = cell >= 6 ? 1 : 0;
    const QBrush hatch(palette().color(QPalette::Base), Qt::BDiagPattern);
    for (int i = 0; i < int(m_blocks.size()); ++i) {
        const auto& b = m_blocks[size_t(i)];
        const QRect r(1 + (i % columns) * cell, 1 + (i / columns) * cell, cell - gap, cell - gap);
        p.fillRect(r, colorOf(b));
        if (b.state == State::Cached && cell >= 8) p.fillRect(r, hatch);
        if (b.refCount > 1 && cell >= 5) {
            p.setPen(Qt::NoPen);
            p.setBrush(Qt::white);
            const int d = std::max(2, cell / 3);
            p.drawEllipse(r.center(), d / 2, d / 2);
        }
    }
}

QString BlockMapWidget::blockToolTip(int i) const {
    if (i < 0 || i >= int(m_blocks.size())) return {};
    const auto& b = m_blocks[size_t(i)];
    QString text = tr("Block %1: ").arg(i);
    switch (b.state) {
    case State::Free: text += tr("free"); break;
    case State::Cached: text += tr("cached prefix (reusable)"); break;
    case State::Owned: {
        text += tr("owned by request #%1, %2 reference(s)").arg(b.owner).arg(b.refCount);
        const QString label = m_labelSource ? m_labelSource(b.owner) : QString();
        if (!label.isEmpty()) text += QStringLiteral(" — ") + label;
        break;
    }
    }
    return text;
}

bool BlockMapWidget::event(QEvent* e) {
    if (e->type() == QEvent::ToolTip) {
        auto* help = static_cast<QHelpEvent*>(e);
        const int i = blockAt(help->pos());
        if (i < 0) return QWidget::event(e);
        const QString text = blockToolTip(i);
        QToolTip::showText(help->globalPos(), text, this);
        return true;
    }
    return QWidget::event(e);
}

void BlockMapWidget::mousePressEvent(QMouseEvent* event) {
    const int i = blockAt(event->position().toPoint());
    if (i >= 0 && m_blocks[size_t(i)].state == State::Owned)
        emit blockClicked(m_blocks[size_t(i)].owner);
    QWidget::mousePressEvent(event);
}

}  // namespace batchscope::ui
