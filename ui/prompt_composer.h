// Prompt composer: prompt text and generation options; emits submission intents.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <QList>
#include <QString>
#include <QWidget>

#include "engine/scheduling/generation.h"

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLineEdit;
class QPlainTextEdit;
class QPushButton;
class QSpinBox;

namespace batchscope::ui {

/// What the user asked to submit: `count` copies of one prompt with these options
/// (copies after the first get seed + i so they differ when sampling).
struct PromptSubmission {
    QString prompt;
    engine::GenerationOptions options;
    int count = 1;
    bool selectWhenVisible = true;  ///< show it in the output pane once it appears
};

/// GUI thread only. Ctrl+Enter submits.
class PromptComposer : public QWidget {
    Q_OBJECT
public:
    explicit PromptComposer(QWidget* parent = nullptr);

    /// The submission the current form describes.
    PromptSubmission currentSubmission() const;
    void setPrompt(const QString& text);
    QPlainTextEdit* editor() const { return m_prompt; }
    static QStringList samplePrompts();
    /// A deterministic mix of `count` requests (sample prompts, lengths, priorities).
    static QList<PromptSubmission> burst(int count);

public slots:
    void submit();
    void submitBurst();

signals:
    void submitRequested(const batchscope::ui::PromptSubmission& submission);

private:
    void configureFields();
    void buildLayout();

    QPlainTextEdit* m_prompt;
    QComboBox* m_samples;
    QSpinBox* m_maxTokens;
    QDoubleSpinBox* m_temperature;
    QDoubleSpinBox* m_topP;
    QLineEdit* m_stops;
    QComboBox* m_priority;
    QSpinBox* m_seed;
    QSpinBox* m_count;
    QCheckBox* m_ignoreEos;
};

}  // namespace batchscope::ui
