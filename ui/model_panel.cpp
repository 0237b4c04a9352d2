// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/model_panel.h"

#include <algorithm>
#include <vector>

#include <QFileDialog>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QTreeWidget>
#include <QVBoxLayout>

namespace batchscope::ui {

ModelPanel::ModelPanel(QWidget* parent)
    : QWidget(parent), m_title(new QLabel(tr("No model loaded"), this)),
      m_tree(new QTreeWidget(this)), m_templateFile(new QPushButton(tr("Chat template…"), this)),
      m_templateReset(new QPushButton(tr("Model's own template"), this)), m_templateNote(new QLabel(this)) {
    m_title->setWordWrap(true);
    QFont bold = m_title->font();
    bold.setBold(true);
    m_title->setFont(bold);
    m_tree->setColumnCount(2);
    m_tree->setHeaderLabels({tr("Property"), tr("Value")});
    m_tree->setRootIsDecorated(false);
    m_tree->header()->setSectionResizeMode(0, QHeaderView::ResizeToContents);
    auto* open = new QPushButton(tr("Open model…"), this);
    open->setToolTip(tr("Load a GGUF model file (the current one keeps serving until it loads)"));
    m_templateFile->setToolTip(tr("Use a Jinja chat template file for this model (remembered for it)"));
    m_templateReset->setToolTip(tr("Go back to the model's own chat template"));
    m_templateFile->setEnabled(false);
    m_templateReset->setEnabled(false);
    m_templateNote->setObjectName(QStringLiteral("chatTemplateNote"));
    m_templateNote->setWordWrap(true);
    m_templateNote->hide();
    auto* templates = new QHBoxLayout;
    templates->addWidget(m_templateFile);
    templates->addWidget(m_templateReset);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addWidget(m_title);
    layout->addWidget(m_tree, 1);
    layout->addLayout(templates);
    layout->addWidget(m_templateNote);
    layout->addWidget(open);
    connect(open, &QPushButton::clicked, this, &ModelPanel::openModelRequested);
    connect(m_templateFile, &QPushButton::clicked, this, [this] {
        const QString path = QFileDialog::getOpenFileName(this, tr("Chat template for this model"), QString(),
                                                          tr("Jinja templates (*.jinja *.j2 *.txt);;All files (*)"));
        if (!path.isEmpty()) emit chatTemplateFileChosen(path);
    });
    connect(m_templateReset, &QPushButton::clicked, this, &ModelPanel::chatTemplateResetRequested);
}

QString ModelPanel::describeChatTemplate(const std::string& source) {
    const QString s = QString::fromStdString(source);
    if (s == QLatin1String("gguf")) return tr("the model's own (GGUF)");
    if (s.startsWith(QLatin1String("built-in: "))) return tr("built-in format %1").arg(s.mid(10));
    if (s.startsWith(QLatin1String("file: "))) return tr("file %1").arg(s.mid(6));
    return s.isEmpty() ? tr("—") : s;
}

void ModelPanel::setChatTemplateSource(const std::string& source) {
    const QString text = describeChatTemplate(source);
    for (int i = 0; i < m_tree->topLevelItemCount(); ++i) {
        QTreeWidgetItem* item = m_tree->topLevelItem(i);
        if (item->text(0) != tr("Chat template")) continue;
        item->setText(1, text);
        item->setToolTip(1, text);
    }
    m_templateFile->setEnabled(true);
    m_templateReset->setEnabled(QString::fromStdString(source).startsWith(QLatin1String("file: ")));
}

void ModelPanel::setChatTemplateChoiceEnabled(bool enabled) {
    m_templateFile->setVisible(enabled);
    m_templateReset->setVisible(enabled);
}

void ModelPanel::setChatTemplateNote(const QString& note) {
    m_templateNote->setText(note);
    m_templateNote->setVisible(!note.isEmpty());
}

QString ModelPanel::chatTemplateNote() const { return m_templateNote->text(); }

QString ModelPanel::formatBytes(std::uint64_t bytes) {
    const double b = double(bytes);
    if (b >= 1024.0 * 1024 * 1024) return QStringLiteral("%1 GiB").arg(b / (1024.0 * 1024 * 1024), 0, 'f', 2);
    if (b >= 1024.0 * 1024) return QStringLiteral("%1 MiB").arg(b / (1024.0 * 1024), 0, 'f', 1);
    if (b >= 1024.0) return QStringLiteral("%1 KiB").arg(b / 1024.0, 0, 'f', 1);
    return QStringLiteral("%1 B").arg(bytes);
}

QString ModelPanel::formatCount(std::uint64_t count) {
    const double c = double(count);
    if (c >= 1e9) return QStringLiteral("%1 B").arg(c / 1e9, 0, 'f', 2);
    if (c >= 1e6) return QStringLiteral("%1 M").arg(c / 1e6, 0, 'f', 1);
    if (c >= 1e3) return QStringLiteral("%1 k").arg(c / 1e3, 0, 'f', 1);
    return QString::number(count);
}

void ModelPanel::setModelInfo(const engine::ModelInfo& info) {
    m_title->setText(QString::fromStdString(info.name.empty() ? std::string("(unnamed model)")
                                                              : info.name));
    m_title->setToolTip(QString::fromStdString(info.path));
    m_tree->clear();
    auto add = [this](const QString& key, const QString& value) {
        auto* item = new QTreeWidgetItem(m_tree, {key, value});
        item->setToolTip(1, value);
    };
    add(tr("Architecture"), QString::fromStdString(info.architecture));
    add(tr("Backend"), QString::fromStdString(info.backend));
    add(tr("Parameters"), formatCount(info.parameterCount));
    add(tr("Context length"), tr("%1 tokens").arg(info.contextLength));
    add(tr("Vocabulary"), tr("%1 tokens (%2)").arg(info.vocabSize)
                              .arg(QString::fromStdString(info.tokenizerKind)));
    add(tr("Layers"), QString::number(info.layerCount));
    add(tr("Embedding"), QString::number(info.embeddingDim));
    add(tr("Heads (KV)"), QStringLiteral("%1 (%2)").arg(info.headCount).arg(info.kvHeadCount));
    add(tr("Feed-forward"), QString::number(info.feedForwardDim));
    add(tr("File size"), info.fileSizeBytes ? formatBytes(info.fileSizeBytes) : tr("—"));
    add(tr("Weights in memory"), formatBytes(info.weightBytes));
    add(tr("KV cache"), info.kvCacheType.empty()
                            ? formatBytes(info.kvCacheBytes)
                            : QStringLiteral("%1 (%2)").arg(formatBytes(info.kvCacheBytes),
                                                             QString::fromStdString(info.kvCacheType)));
    // The file's type mix, most frequent first: "Q4_K_M: 97 × Q4_K, 25 × Q6_K, 57 × F32".
    std::vector<std::pair<std::string, int>> counts(info.tensorTypeCounts.begin(), info.tensorTypeCounts.end());
    std::stable_sort(counts.begin(), counts.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
    QStringList types;
    for (const auto& [type, count] : counts) types << QStringLiteral("%1 × %2").arg(count).arg(QString::fromStdString(type));
    QString mix = types.join(QStringLiteral(", "));
    if (!mix.isEmpty() && !info.fileType.empty()) mix = QString::fromStdString(info.fileType) + QStringLiteral(": ") + mix;
    add(tr("Tensor types"), mix.isEmpty() ? tr("—") : mix);
    add(tr("Path"), info.path.empty() ? tr("(built in)") : QString::fromStdString(info.path));
    add(tr("Chat template"), QString());
    setChatTemplateSource(info.chatTemplateSource);
    setChatTemplateNote({});
}

QString ModelPanel::valueOf(const QString& property) const {
    for (int i = 0; i < m_tree->topLevelItemCount(); ++i)
        if (m_tree->topLevelItem(i)->text(0) == property) return m_tree->topLevelItem(i)->text(1);
    return {};
}

}  // namespace batchscope::ui
