// Shows the loaded model's ModelInfo (architecture, size, tensor types, memory).
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <QWidget>

#include "engine/model/model_info.h"

class QLabel;
class QPushButton;
class QTreeWidget;

namespace batchscope::ui {

/// Read-only property list, with the chat template in use ("Chat template" row: the model's
/// own, a built-in format and why, or the user's file). "Open model…" emits
/// openModelRequested() (the window asks for the file); "Chat template…" asks for a template
/// file and emits chatTemplateFileChosen(); "Model's own template" emits
/// chatTemplateResetRequested(). GUI thread only.
class ModelPanel : public QWidget {
    Q_OBJECT
public:
    explicit ModelPanel(QWidget* parent = nullptr);
    void setModelInfo(const engine::ModelInfo& info);
    /// Updates the "Chat template" row (ModelInfo::chatTemplateSource).
    void setChatTemplateSource(const std::string& source);
    /// A note under the template buttons (e.g. a chosen file that could not be used); "" hides it.
    void setChatTemplateNote(const QString& note);
    QString chatTemplateNote() const;
    /// "gguf" -> "the model's own (GGUF)", "built-in: chatml (why)" -> "built-in format chatml
    /// (why)", "file: PATH" -> "file PATH".
    static QString describeChatTemplate(const std::string& source);
    /// Off for a remote server's tab (its template is chosen on the server): the template
    /// buttons are hidden.
    void setChatTemplateChoiceEnabled(bool enabled);
    QPushButton* chatTemplateFileButton() const { return m_templateFile; }
    QPushButton* chatTemplateResetButton() const { return m_templateReset; }
    /// The value shown for a property name ("Architecture"), "" if absent (tests).
    QString valueOf(const QString& property) const;
    static QString formatBytes(std::uint64_t bytes);
    static QString formatCount(std::uint64_t count);

signals:
    void openModelRequested();
    void chatTemplateFileChosen(const QString& path);
    void chatTemplateResetRequested();

private:
    QLabel* m_title;
    QTreeWidget* m_tree;
    QPushButton* m_templateFile;
    QPushButton* m_templateReset;
    QLabel* m_templateNote;
};

}  // namespace batchscope::ui
