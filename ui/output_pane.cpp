// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/output_pane.h"

#include <QFontDatabase>
#include <QLabel>
#include <QPlainTextEdit>
#include <QScrollBar>
#include <QVBoxLayout>

#include "ui/timeline_bar.h"
#include "ui/display_text.h"

namespace batchscope::ui {

OutputPane::OutputPane(QWidget* parent)
    : QWidget(parent), m_header(new QLabel(this)), m_timeline(new TimelineBar(this)),
      m_text(new QPlainTextEdit(this)) {
    m_header->setText(tr("Select a request to see its output."));
    m_header->setTextFormat(Qt::RichText);
    m_text->setReadOnly(true);
    m_text->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    m_text->setPlaceholderText(tr("Generated text streams here."));
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addWidget(m_header);
    layout->addWidget(m_timeline);
    layout->addWidget(m_text, 1);
    m_refresh.setInterval(50);
    m_refresh.setSingleShot(true);
    connect(&m_refresh, &QTimer::timeout, this, &OutputPane::flush);
}

QString& OutputPane::textFor(engine::RequestId id) {
    auto it = m_texts.find(id);
    if (it != m_texts.end()) return *it;
    m_order.push_back(id);
    while (int(m_order.size()) > m_maxTexts) {
        if (m_order.front() != m_current) m_texts.remove(m_order.front());
        m_order.pop_front();
    }
    return *m_texts.insert(id, QString());
}

void OutputPane::appendTokens(const QVector<engine::TokenEvent>& events) {
    bool touched = false;
    for (const engine::TokenEvent& e : events) {
        if (e.textDelta.empty()) continue;
        textFor(e.id) += QString::fromStdString(e.textDelta);
        touched = touched || e.id == m_current;
    }
    if (touched && !m_refresh.isActive()) m_refresh.start();
}

void OutputPane::finishRequest(const engine::GenerationResult& result) {
    QString& text = textFor(result.id);
    QString final = QString::fromStdString(result.text);
    if (result.finishReason == engine::FinishReason::Error && !result.errorMessage.empty())
        final += tr("\n[error: %1]").arg(QString::fromStdString(result.errorMessage));
    if (final != text) {
        text = final;
        if (result.id == m_current) m_resetShown = true;
    }
    if (result.id == m_current && !m_refresh.isActive()) m_refresh.start();
}

void OutputPane::setCurrentRequest(engine::RequestId id) {
    if (id == m_current) return;
    m_current = id;
    m_resetShown = true;
    m_timeline->clear();
    m_header->setText(tr("Request <b>#%1</b>").arg(id));
    flush();
}

void OutputPane::updateRequest(const engine::RequestSnapshot* r, double nowMs) {
    if (!r || r->id != m_current) return;
    const QString color = stateColor(r->state).name();
    QString header = tr("Request <b>#%1</b> — <span style='color:%2'><b>%3</b></span> · "
                        "%4 prompt + %5 generated tokens")
                         .arg(r->id)
                         .arg(color, stateText(r->state))
                         .arg(r->promptTokens)
                         .arg(r->generatedTokens);
    if (r->timeToFirstTokenMs) header += tr(" · TTFT %1 ms").arg(*r->timeToFirstTokenMs, 0, 'f', 0);
    if (r->tokensPerSecond > 0) header += tr(" · %1 tok/s").arg(r->tokensPerSecond, 0, 'f', 1);
    if (!r->errorMessage.empty())
        header += QStringLiteral(" · ") + QString::fromStdString(r->errorMessage).toHtmlEscaped();
    m_header->setText(header);
    m_timeline->setEvents(r->events, nowMs);
}

void OutputPane::clear() {
    m_texts.clear();
    m_order.clear();
    m_current = engine::kInvalidRequestId;
    m_resetShown = true;
    m_timeline->clear();
    m_header->setText(tr("Select a request to see its output."));
    flush();
}

QString OutputPane::shownText() const { return m_text->toPlainText(); }

void OutputPane::flush() {
    const QString text = m_texts.value(m_current);
    if (m_resetShown || text.size() < m_shownLength) {
        m_text->setPlainText(text);
        m_resetShown = false;
    } else if (text.size() > m_shownLength) {
        // Append only the new part, keeping the user's scroll position unless at the bottom.
        QScrollBar* bar = m_text->verticalScrollBar();
        const bool atBottom = bar->value() == bar->maximum();
        QTextCursor cursor(m_text->document());
        cursor.movePosition(QTextCursor::End);
        cursor.insertText(text.mid(m_shownLength));
        if (atBottom) bar->setValue(bar->maximum());
    }
    m_shownLength = text.size();
}

}  // namespace batchscope::ui
