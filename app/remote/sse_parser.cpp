// SPDX-License-Identifier: GPL-3.0-or-later
#include "app/remote/sse_parser.h"

namespace batchscope::app::remote {

std::vector<SseParser::Event> SseParser::feed(std::string_view bytes) {
    std::vector<Event> out;
    if (failed()) return out;
    for (const char c : bytes) {
        if (m_afterCr) {
            m_afterCr = false;
            if (c == '\n') continue;  // the LF of a CRLF
        }
        if (c == '\r' || c == '\n') {
            m_afterCr = c == '\r';
            onLine(m_line, out);
            m_line.clear();
            continue;
        }
        if (m_line.size() >= m_maxLine) {
            m_error = "server-sent event line longer than " + std::to_string(m_maxLine) + " bytes";
            return out;
        }
        m_line += c;
    }
    return out;
}

void SseParser::onLine(std::string_view line, std::vector<Event>& out) {
    if (line.empty()) {  // dispatch
        if (m_hasData) {
            if (!m_pending.data.empty() && m_pending.data.back() == '\n') m_pending.data.pop_back();
            out.push_back(std::move(m_pending));
        }
        m_pending = {};
        m_hasData = false;
        return;
    }
    if (line.front() == ':') return;  // comment (keep-alive)
    const size_t colon = line.find(':');
    const std::string_view field = line.substr(0, colon);
    std::string_view value = colon == std::string_view::npos ? std::string_view() : line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    if (field == "data") {
        m_pending.data.append(value);
        m_pending.data += '\n';
        m_hasData = true;
    } else if (field == "event") {
        m_pending.event = std::string(value);
    } else if (field == "id") {
        m_pending.id = std::string(value);
    }
}

}  // namespace batchscope::app::remote
