// The chat template file the user chose for a model in the model panel, remembered per model
// and applied to an engine before it starts.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <QString>

#include "engine/core/result.h"
#include "engine/model/model_info.h"

namespace batchscope::engine { class Engine; }

namespace batchscope::app {

/// Kept in QSettings (key "chat/templateFiles": a map from the model's key to the template
/// file), not in the chat database: it is a preference like the last model opened, and it must
/// hold when chat history is off (locked or corrupt database). GUI thread (QSettings).
class ChatTemplateChoice {
public:
    /// The model file's canonical path; "builtin:NAME" for a model without a file (simulated).
    static QString modelKey(const engine::ModelInfo& info);
    /// The template file chosen for a model, "" for its own.
    static QString fileFor(const QString& modelKey);
    /// Remembers `templatePath` for the model; "" forgets the choice (the model's own again).
    static void remember(const QString& modelKey, const QString& templatePath);

    /// Reads and parses `path` and makes it `engine`'s chat template ("file: PATH"). The
    /// error names the file and what was wrong; the engine's template is then unchanged.
    static engine::Status applyFile(engine::Engine& engine, const QString& path);
};

}  // namespace batchscope::app
