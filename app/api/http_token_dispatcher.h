// Hands the engine thread's token and finish events of HTTP generations to their streams on a
// thread of its own, so that the engine thread wakes at most one thread per step (not one per
// stream) and never waits for the GUI thread's event loop. (A generation's first token
// skips it: HttpApiServer's tap pushes that one to its stream directly.)
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "app/api/http_generation_stream.h"
#include "engine/scheduling/generation.h"

namespace batchscope::app::api {

/// Thread-safe. post* from the engine thread (a short lock; one notify when the dispatcher
/// is idle); start/stop from the owner's thread. Events posted while stopped are dropped
/// (the server is closing: its streams are closed anyway).
class HttpTokenDispatcher {
public:
    ~HttpTokenDispatcher() { stop(); }

    void start() {
        std::lock_guard lock(m_mutex);
        if (m_thread.joinable()) return;
        m_stopping = false;
        m_thread = std::thread([this] { run(); });
    }
    void stop() {
        {
            std::lock_guard lock(m_mutex);
            if (!m_thread.joinable()) return;
            m_stopping = true;
        }
        m_cv.notify_one();
        m_thread.join();
        std::lock_guard lock(m_mutex);
        m_thread = {};
        m_tokens.clear();
        m_finished.clear();
    }
    void postToken(std::shared_ptr<HttpGenerationStream> stream, const engine::TokenEvent& event) {
        post([&] { m_tokens.emplace_back(std::move(stream), event); });
    }
    void postFinished(std::shared_ptr<HttpGenerationStream> stream, const engine::GenerationResult& result) {
        post([&] { m_finished.emplace_back(std::move(stream), result); });
    }

private:
    template <typename Append>
    void post(Append append) {
        bool wake = false;
        {
            std::lock_guard lock(m_mutex);
            if (!m_thread.joinable() || m_stopping) return;
            wake = m_tokens.empty() && m_finished.empty();
            append();
        }
        if (wake) m_cv.notify_one();
    }
    void run() {
        std::vector<std::pair<std::shared_ptr<HttpGenerationStream>, engine::TokenEvent>> tokens;
        std::vector<std::pair<std::shared_ptr<HttpGenerationStream>, engine::GenerationResult>> finished;
        std::unique_lock lock(m_mutex);
        while (true) {
            m_cv.wait(lock, [this] { return m_stopping || !m_tokens.empty() || !m_finished.empty(); });
            if (m_stopping) return;
            tokens.swap(m_tokens);
            finished.swap(m_finished);
            lock.unlock();
            // Tokens before results: a generation's last token precedes its finish.
            for (auto& [stream, event] : tokens) stream->pushToken(event);
            for (auto& [stream, result] : finished) stream->pushFinished(result);
            tokens.clear();
            finished.clear();
            lock.lock();
        }
    }

    std::mutex m_mutex;  // guards everything below
    std::condition_variable m_cv;
    std::thread m_thread;
    bool m_stopping = false;
    std::vector<std::pair<std::shared_ptr<HttpGenerationStream>, engine::TokenEvent>> m_tokens;
    std::vector<std::pair<std::shared_ptr<HttpGenerationStream>, engine::GenerationResult>> m_finished;
};

}  // namespace batchscope::app::api
