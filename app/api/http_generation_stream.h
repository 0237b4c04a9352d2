// One HTTP generation's hand-over queue between the engine thread (the bridge tap of its
// request) and the cpp-httplib worker thread writing the response.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <string>

#include "engine/scheduling/generation.h"

namespace batchscope::app::api {

/// Thread-safe: push* from the engine thread, close from the main thread, waitAndTake from
/// one worker thread. push* never wait for the worker beyond its short critical section.
class HttpGenerationStream {
public:
    struct Batch {
        std::string text;                               ///< text deltas since the last take
        std::optional<engine::GenerationResult> result; ///< set once, when finished
        bool closed = false;                            ///< the server is shutting down
    };

    // Notified after unlocking: the woken worker does not run into the engine thread's lock.
    void pushToken(const engine::TokenEvent& event) {
        {
            std::lock_guard lock(m_mutex);
            m_text += event.textDelta;
        }
        m_cv.notify_one();
    }
    void pushFinished(const engine::GenerationResult& result) {
        {
            std::lock_guard lock(m_mutex);
            m_result = result;
        }
        m_cv.notify_one();
    }
    void close() {
        std::lock_guard lock(m_mutex);
        m_closed = true;
        m_cv.notify_one();
    }
    /// Waits up to `timeout` for text, a result or close; returns (and clears) what arrived.
    Batch waitAndTake(std::chrono::milliseconds timeout) {
        std::unique_lock lock(m_mutex);
        m_cv.wait_for(lock, timeout, [this] { return !m_text.empty() || m_result || m_closed; });
        Batch batch;
        batch.text.swap(m_text);
        batch.result = std::move(m_result);
        m_result.reset();
        batch.closed = m_closed;
        return batch;
    }

private:
    std::mutex m_mutex;
    std::condition_variable m_cv;
    std::string m_text;
    std::optional<engine::GenerationResult> m_result;
    bool m_closed = false;
};

}  // namespace batchscope::app::api
