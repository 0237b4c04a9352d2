// SPDX-License-Identifier: GPL-3.0-or-later
#include "app/gui/model_loader.h"

#include <QMetaObject>
#include <QPointer>

namespace batchscope::app {

ModelLoader::ModelLoader(QObject* parent) : QObject(parent) {}

ModelLoader::~ModelLoader() {
    if (m_thread.joinable()) {
        m_thread.request_stop();
        m_thread.join();
    }
}

bool ModelLoader::start(const engine::ExecutorOptions& options, const engine::EngineConfig& config) {
    if (m_thread.joinable()) return false;
    {
        std::lock_guard lock(m_mutex);
        m_engine.reset();
        m_error.clear();
        m_cancelled = false;
    }
    m_thread = std::jthread([this, options, config](std::stop_token stop) {
        // Progress crosses to the GUI thread queued; `this` outlives the worker (joined in
        // the destructor), so the posted calls cannot reach a destroyed loader.
        auto report = [this](double fraction, const std::string& stage) {
            QMetaObject::invokeMethod(
                this, [this, fraction, s = QString::fromStdString(stage)] { emit progress(fraction, s); },
                Qt::QueuedConnection);
        };
        auto executor = engine::createExecutor(options, report, stop);
        std::unique_ptr<engine::Engine> built;
        QString error;
        bool cancelled = false;
        if (!executor) {
            error = QString::fromStdString(executor.error().message);
            cancelled = executor.error().code == engine::ErrorCode::Cancelled;
        } else if (stop.stop_requested()) {
            error = tr("model load cancelled");
            cancelled = true;
        } else {
            auto engine = engine::Engine::create(config, std::move(executor).value());
            if (engine)
                built = std::move(engine).value();
            else
                error = QString::fromStdString(engine.error().message);
        }
        {
            std::lock_guard lock(m_mutex);
            m_engine = std::move(built);
            m_error = error;
            m_cancelled = cancelled;
        }
        QMetaObject::invokeMethod(this, &ModelLoader::workerDone, Qt::QueuedConnection);
    });
    return true;
}

void ModelLoader::cancel() {
    if (m_thread.joinable()) m_thread.request_stop();
}

void ModelLoader::workerDone() {
    if (m_thread.joinable()) m_thread.join();  // the worker has finished its last statement
    bool ok;
    QString error;
    bool cancelled;
    {
        std::lock_guard lock(m_mutex);
        ok = m_engine != nullptr;
        error = m_error;
        cancelled = m_cancelled;
    }
    emit finished(ok, error, cancelled);
}

std::unique_ptr<engine::Engine> ModelLoader::takeEngine() {
    std::lock_guard lock(m_mutex);
    return std::move(m_engine);
}

}  // namespace batchscope::app
