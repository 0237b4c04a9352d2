// Loads a model (createExecutor) and builds its engine on a worker thread, cancellably.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <QObject>
#include <QString>
#include <memory>
#include <mutex>
#include <thread>

#include "engine/runtime/engine.h"
#include "engine/runtime/executor_factory.h"

namespace batchscope::app {

/// One load at a time. Lives on the GUI thread; the worker reports through queued
/// invocations only, so progress() and finished() are emitted on the GUI thread.
/// Destruction cancels a running load and joins the worker.
class ModelLoader : public QObject {
    Q_OBJECT
public:
    explicit ModelLoader(QObject* parent = nullptr);
    ~ModelLoader() override;

    /// Starts loading; false (and nothing happens) if a load is already running.
    bool start(const engine::ExecutorOptions& options, const engine::EngineConfig& config);
    void cancel();
    bool isLoading() const { return m_thread.joinable(); }
    /// After finished(true): the new engine, not started (ownership moves to the caller).
    std::unique_ptr<engine::Engine> takeEngine();

signals:
    void progress(double fraction, const QString& stage);
    /// error is the loader's message (names the file and the problem) when ok is false.
    void finished(bool ok, const QString& error, bool cancelled);

private:
    void workerDone();

    std::jthread m_thread;
    std::mutex m_mutex;  ///< guards the fields below, written by the worker
    std::unique_ptr<engine::Engine> m_engine;
    QString m_error;
    bool m_cancelled = false;
};

}  // namespace batchscope::app
