// The start line of the API load benches: every client opens its connection first, and the
// timed part (the requests) begins when all of them are connected, so that neither path's
// throughput includes its connection set-up (TCP connects, WebSocket handshakes).
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <chrono>
#include <condition_variable>
#include <mutex>

namespace batchscope::app::api {

/// Thread-safe; one arrive() per client thread. A client whose connection failed arrives too
/// (it then sends nothing), so the others never wait for it beyond the deadline.
class LoadStartLine {
public:
    explicit LoadStartLine(int clients) : m_remaining(clients) {}

    /// Arrives without waiting (a client that failed to connect).
    void arrive() {
        std::lock_guard lock(m_mutex);
        if (--m_remaining <= 0) m_cv.notify_all();
    }
    /// Arrives and waits (blocking this client's thread) until every client has arrived or
    /// `timeout` has passed since this call; false on the timeout.
    bool arriveAndWait(std::chrono::milliseconds timeout) {
        std::unique_lock lock(m_mutex);
        if (--m_remaining <= 0) {
            m_cv.notify_all();
            return true;
        }
        return m_cv.wait_for(lock, timeout, [this] { return m_remaining <= 0; });
    }

private:
    std::mutex m_mutex;  // guards m_remaining
    std::condition_variable m_cv;
    int m_remaining;
};

}  // namespace batchscope::app::api
