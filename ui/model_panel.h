// Shows the loaded model's ModelInfo (architecture, size, tensor types, memory).
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <QWidget>

#include "engine/model/model_info.h"

class QLabel;
class QPushButton;
class QTreeWidget;

namespace batchscope::ui {

/// Read-only property list. "Open model…" emits openModelRequested() (the window asks for
/// the file). GUI thread only.
class ModelPanel : public QWidget {
    Q_OBJECT
public:
    explicit ModelPanel(QWidget* parent = nullptr);
    void setModelInfo(const engine::ModelInfo& info);
    /// The value shown for a property name ("Architecture"), "" if absent (tests).
    QString valueOf(const QString& property) const;
    static QString formatBytes(std::uint64_t bytes);
    static QString formatCount(std::uint64_t count);

signals:
    void openModelRequested();

private:
    QLabel* m_title;
    QTreeWidget* m_tree;
};

}  // namespace batchscope::ui
