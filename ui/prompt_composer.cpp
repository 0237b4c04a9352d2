// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/prompt_composer.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QShortcut>
#include <QSpinBox>
#include <QVBoxLayout>

#include "ui/display_text.h"

namespace batchscope::ui {

QStringList PromptComposer::samplePrompts() {
    return {
        QStringLiteral("Once upon a time, in a small village by the sea,"),
        QStringLiteral("Explain continuous batching in LLM serving in three sentences."),
        QStringLiteral("Write a haiku about a GPU waiting for memory."),
        QStringLiteral("The quick brown fox"),
        QStringLiteral("List five uses of a paged KV cache:\n1."),
        QStringLiteral("Q: What is the capital of France?\nA:"),
        QStringLiteral("def fibonacci(n):\n    \"\"\"Return the n-th Fibonacci number.\"\"\"\n"),
        QStringLiteral("Summarise the plot of Hamlet for a ten-year-old."),
    };
}

PromptComposer::PromptComposer(QWidget* parent)
    : QWidget(parent), m_prompt(new QPlainTextEdit(this)), m_samples(new QComboBox(this)),
      m_maxTokens(new QSpinBox(this)), m_temperature(new QDoubleSpinBox(this)),
      m_topP(new QDoubleSpinBox(this)), m_stops(new QLineEdit(this)),
      m_priority(new QComboBox(this)), m_seed(new QSpinBox(this)), m_count(new QSpinBox(this)),
      m_ignoreEos(new QCheckBox(tr("Ignore EOS"), this)) {
    configureFields();
    buildLayout();
    connect(m_samples, &QComboBox::activated, this, [this](int i) {
        if (i > 0) setPrompt(m_samples->itemData(i).toString());
        m_samples->setCurrentIndex(0);
    });
    for (auto key : {Qt::CTRL | Qt::Key_Return, Qt::CTRL | Qt::Key_Enter}) {
        auto* shortcut = new QShortcut(QKeySequence(key), this);
        shortcut->setContext(Qt::WidgetWithChildrenShortcut);
        connect(shortcut, &QShortcut::activated, this, &PromptComposer::submit);
    }
}

void PromptComposer::configureFields() {
    m_prompt->setPlaceholderText(tr("Type a prompt… (Ctrl+Enter submits)"));
    m_prompt->setTabChangesFocus(true);
    m_samples->addItem(tr("Sample prompts…"));
    // Long sample texts must not widen the dock: elide them in the closed combo box.
    m_samples->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    m_samples->setMinimumContentsLength(12);
    for (const QString& p : samplePrompts()) m_samples->addItem(QString(p).replace('\n', ' '), p);
    m_maxTokens->setRange(1, 8192);
    m_maxTokens->setValue(64);
    m_maxTokens->setSuffix(tr(" tok"));
    m_temperature->setRange(0.0, 2.0);
    m_temperature->setSingleStep(0.1);
    m_temperature->setValue(0.8);
    m_temperature->setToolTip(tr("Temperature; 0 = greedy"));
    m_topP->setToolTip(tr("Top-p (nucleus) mass"));
    m_seed->setToolTip(tr("Random seed of the request"));
    m_maxTokens->setToolTip(tr("Most tokens to generate"));
    m_topP->setRange(0.01, 1.0);
    m_topP->setSingleStep(0.05);
    m_topP->setValue(0.95);
    m_stops->setPlaceholderText(tr("comma-separated, e.g. \\n\\n, END"));
    m_stops->setToolTip(tr("Stop strings, separated by commas; \\n is a newline"));
    m_priority->addItems(priorityNames());
    m_priority->setCurrentIndex(int(engine::Priority::Normal));
    m_seed->setRange(0, 1'000'000'000);
    m_count->setRange(1, 1000);
    m_count->setPrefix(QStringLiteral("×"));
    m_count->setToolTip(tr("Submit this many copies (seeds seed, seed+1, …)"));

    for (QAbstractSpinBox* box : std::initializer_list<QAbstractSpinBox*>{
             m_maxTokens, m_temperature, m_topP, m_seed, m_count})
        box->setMinimumWidth(56);  // the hint follows the range's widest value; too wide here
}

void PromptComposer::buildLayout() {
    auto* submitButton = new QPushButton(tr("Submit"), this);
    submitButton->setDefault(true);
    submitButton->setToolTip(tr("Submit the prompt (Ctrl+Enter)"));
    auto* burstButton = new QPushButton(tr("Burst ×100"), this);
    burstButton->setToolTip(tr("Submit 100 mixed requests of different lengths and priorities"));

    auto* form = new QFormLayout;
    form->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
    auto* row1 = new QHBoxLayout;
    row1->addWidget(m_maxTokens, 1);
    row1->addWidget(m_count);
    form->addRow(tr("Max tokens:"), row1);
    form->addRow(tr("Priority:"), m_priority);
    auto* row2 = new QHBoxLayout;
    row2->addWidget(m_temperature);
    row2->addWidget(m_topP);
    form->addRow(tr("Temp / top-p:"), row2);
    auto* row3 = new QHBoxLayout;
    row3->addWidget(m_seed, 1);
    row3->addWidget(m_ignoreEos);
    form->addRow(tr("Seed:"), row3);
    form->addRow(tr("Stop strings:"), m_stops);

    auto* buttons = new QHBoxLayout;
    buttons->addWidget(burstButton);
    buttons->addStretch(1);
    buttons->addWidget(submitButton);

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addWidget(m_samples);
    layout->addWidget(m_prompt, 1);
    layout->addLayout(form);
    layout->addLayout(buttons);
    connect(submitButton, &QPushButton::clicked, this, &PromptComposer::submit);
    connect(burstButton, &QPushButton::clicked, this, &PromptComposer::submitBurst);
}

void PromptComposer::setPrompt(const QString& text) { m_prompt->setPlainText(text); }

PromptSubmission PromptComposer::currentSubmission() const {
    PromptSubmission s;
    s.prompt = m_prompt->toPlainText();
    s.count = m_count->value();
    s.options.maxTokens = m_maxTokens->value();
    s.options.priority = static_cast<engine::Priority>(m_priority->currentIndex());
    s.options.sampling.temperature = float(m_temperature->value());
    s.options.sampling.topP = float(m_topP->value());
    s.options.sampling.seed = std::uint64_t(m_seed->value());
    s.options.ignoreEos = m_ignoreEos->isChecked();
    for (QString stop : m_stops->text().split(',', Qt::SkipEmptyParts)) {
        stop = stop.trimmed().replace(QStringLiteral("\\n"), QStringLiteral("\n"));
        if (!stop.isEmpty()) s.options.stopStrings.push_back(stop.toStdString());
    }
    return s;
}

void PromptComposer::submit() {
    PromptSubmission s = currentSubmission();
    if (s.prompt.trimmed().isEmpty()) {
        m_prompt->setFocus();
        return;
    }
    emit submitRequested(s);
}

QList<PromptSubmission> PromptComposer::burst(int count) {
    static const int lengths[] = {8, 16, 32, 64, 128, 24, 48};
    static const engine::Priority priorities[] = {
        engine::Priority::Normal, engine::Priority::Low,  engine::Priority::Normal,
        engine::Priority::High,   engine::Priority::Normal, engine::Priority::Low,
        engine::Priority::Critical};
    const QStringList prompts = samplePrompts();
    QList<PromptSubmission> list;
    for (int i = 0; i < count; ++i) {
        PromptSubmission s;
        s.prompt = prompts[i % prompts.size()];
        if (i % 3 == 0) s.prompt += QStringLiteral(" (variation %1)").arg(i);
        s.options.maxTokens = lengths[i % 7];
        s.options.priority = priorities[(i * 3) % 7];
        s.options.sampling.seed = std::uint64_t(i);
        s.options.ignoreEos = true;
        s.selectWhenVisible = false;
        list << s;
    }
    return list;
}

void PromptComposer::submitBurst() {
    for (const PromptSubmission& s : burst(100)) emit submitRequested(s);
}

}  // namespace batchscope::ui
