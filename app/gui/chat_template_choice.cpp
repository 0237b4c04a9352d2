// SPDX-License-Identifier: GPL-3.0-or-later
#include "app/gui/chat_template_choice.h"

#include <QFileInfo>
#include <QSettings>
#include <QVariantMap>

#include "engine/chat/chat_template_file.h"
#include "engine/runtime/engine.h"

namespace batchscope::app {

namespace {
const QString kKey = QStringLiteral("chat/templateFiles");
}

QString ChatTemplateChoice::modelKey(const engine::ModelInfo& info) {
    if (info.path.empty()) return QStringLiteral("builtin:") + QString::fromStdString(info.name);
    const QFileInfo file(QString::fromStdString(info.path));
    const QString canonical = file.canonicalFilePath();  // "" when it no longer exists
    return canonical.isEmpty() ? file.absoluteFilePath() : canonical;
}

QString ChatTemplateChoice::fileFor(const QString& modelKey) {
    return QSettings().value(kKey).toMap().value(modelKey).toString();
}

void ChatTemplateChoice::remember(const QString& modelKey, const QString& templatePath) {
    QSettings settings;
    QVariantMap map = settings.value(kKey).toMap();
    if (templatePath.isEmpty())
        map.remove(modelKey);
    else
        map.insert(modelKey, templatePath);
    settings.setValue(kKey, map);
}

engine::Status ChatTemplateChoice::applyFile(engine::Engine& engine, const QString& path) {
    auto file = engine::loadChatTemplateFile(path.toStdString());
    if (!file) return file.error();
    return engine.setChatTemplate(file->text, file->source);
}

}  // namespace batchscope::app
