// Incremental parser of a server-sent events stream (text/event-stream, WHATWG HTML §9.2), as
// OpenAI-compatible servers stream completions: `data: {...}` events, then `data: [DONE]`.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace batchscope::app::remote {

/// Feed the bytes as they arrive, in any chunking; complete events come out in order. Lines
/// end with LF, CRLF or CR (also split across chunks); comments (":...") are skipped; several
/// `data:` lines join with "\n". A line longer than maxLineBytes puts the parser in the failed
/// state (error() says why) instead of buffering without bound. Not thread-safe.
class SseParser {
public:
    struct Event {
        std::string event;  ///< the `event:` field ("" = message)
        std::string data;
        std::string id;
    };
    explicit SseParser(size_t maxLineBytes = 4 << 20) : m_maxLine(maxLineBytes) {}

    std::vector<Event> feed(std::string_view bytes);
    bool failed() const { return !m_error.empty(); }
    const std::string& error() const { return m_error; }

private:
    void onLine(std::string_view line, std::vector<Event>& out);

    std::string m_line;
    bool m_afterCr = false;
    size_t m_maxLine;
    std::string m_error;
    Event m_pending;
    bool m_hasData = false;
};

}  // namespace batchscope::app::remote
