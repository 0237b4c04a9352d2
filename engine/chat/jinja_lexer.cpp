// SPDX-License-Identifier: GPL-3.0-or-later
#include "engine/chat/jinja_lexer.h"

#include <charconv>
#include <cstdlib>

#include "engine/chat/jinja_value.h"

namespace batchscope::engine::jinja {
namespace {

bool isSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
bool isNameStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool isNameChar(char c) { return isNameStart(c) || (c >= '0' && c <= '9'); }
bool isDigit(char c) { return c >= '0' && c <= '9'; }

/// Python's str.splitlines() + "\n".join(): normalises \r\n, \r (and the other line
/// separators splitlines knows) to \n and drops one trailing line break.
std::string normalizeNewlines(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        unsigned char c = static_cast<unsigned char>(s[i]);
        if (c == '\r') {
            if (i + 1 < s.size() && s[i + 1] == '\n') ++i;
            out += '\n';
        } else if (c == '\v' || c == '\f' || c == 0x1c || c == 0x1d || c == 0x1e) {
            out += '\n';
        } else if (c == 0xc2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0x85) {
            ++i;
            out += '\n';
        } else if (c == 0xe2 && i + 2 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0x80 &&
                   (static_cast<unsigned char>(s[i + 2]) == 0xa8 || static_cast<unsigned char>(s[i + 2]) == 0xa9)) {
            i += 2;
            out += '\n';
        } else {
            out += static_cast<char>(c);
        }
    }
    if (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
}

void appendUtf8(std::string& out, std::uint32_t cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xc0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xe0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
        out += static_cast<char>(0x80 | (cp & 0x3f));
    } else {
        out += static_cast<char>(0xf0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
        out += static_cast<char>(0x80 | (cp & 0x3f));
    }
}

class Lexer {
public:
    explicit Lexer(std::string source) : m_src(std::move(source)) {}

    std::vector<Token> run() {
        bool lineStarting = true;
        while (m_pos < m_src.size()) {
            std::size_t open = findOpener(m_pos);
            std::string text = m_src.substr(m_pos, open - m_pos);
            if (open == m_src.size()) {
                pushText(std::move(text));
                m_pos = open;
                break;
            }
            char kind = m_src[open + 1];
            char sign = open + 2 < m_src.size() ? m_src[open + 2] : '\0';
            if (sign == '-') {
                while (!text.empty() && isSpace(text.back())) text.pop_back();
            } else if (sign != '+' && kind != '{') {
                stripBlockIndent(text, lineStarting);
            }
            pushText(std::move(text));
            countLines(m_pos, open);
            m_pos = open + 2 + ((sign == '-' || sign == '+') ? 1 : 0);
            if (kind == '#') {
                lineStarting = skipComment();
            } else {
                lineStarting = lexTag(kind == '{');
            }
        }
        m_tokens.push_back(Token{Token::Kind::Eof, "", 0, 0.0, m_line});
        return std::move(m_tokens);
    }

private:
    std::size_t findOpener(std::size_t from) const {
        for (std::size_t i = from; i + 1 < m_src.size(); ++i) {
            if (m_src[i] == '{' && (m_src[i + 1] == '{' || m_src[i + 1] == '%' || m_src[i + 1] == '#')) return i;
        }
        return m_src.size();
    }

    // lstrip_blocks: whitespace between the line start and a block/comment tag goes.
    static void stripBlockIndent(std::string& text, bool lineStarting) {
        std::size_t lineStart = text.rfind('\n');
        lineStart = lineStart == std::string::npos ? 0 : lineStart + 1;
        if (lineStart == 0 && !lineStarting) return;
        if (lineStart == text.size()) return;
        for (std::size_t i = lineStart; i < text.size(); ++i) {
            if (!isSpace(text[i])) return;
        }
        text.resize(lineStart);
    }

    void pushText(std::string text) {
        if (!text.empty()) m_tokens.push_back(Token{Token::Kind::Text, std::move(text), 0, 0.0, m_line});
    }

    void countLines(std::size_t from, std::size_t to) {
        for (std::size_t i = from; i < to && i < m_src.size(); ++i) {
            if (m_src[i] == '\n') ++m_line;
        }
    }

    [[noreturn]] void fail(const std::string& what) const {
        throw TemplateError("syntax error at line " + std::to_string(m_line) + ": " + what);
    }

    // After a closing tag: `-` strips all whitespace, trim_blocks removes one newline.
    // Returns whether the consumed text ended with a newline (Jinja's line_starting).
    bool afterClose(char sign, bool trimNewline) {
        bool endsNewline = false;
        if (sign == '-') {
            std::size_t start = m_pos;
            while (m_pos < m_src.size() && isSpace(m_src[m_pos])) ++m_pos;
            countLines(start, m_pos);
            endsNewline = m_pos > start && m_src[m_pos - 1] == '\n';
        } else if (sign != '+' && trimNewline && m_pos < m_src.size() && m_src[m_pos] == '\n') {
            ++m_pos;
            ++m_line;
            endsNewline = true;
        }
        return endsNewline;
    }

    bool skipComment() {
        std::size_t end = m_src.find("#}", m_pos);
        if (end == std::string::npos) fail("unclosed comment");
        char sign = end > m_pos && (m_src[end - 1] == '-' || m_src[end - 1] == '+') ? m_src[end - 1] : '\0';
        countLines(m_pos, end);
        m_pos = end + 2;
        return afterClose(sign, true);
    }

    bool lexTag(bool isVar) {
        m_tokens.push_back(Token{isVar ? Token::Kind::VarBegin : Token::Kind::BlockBegin, "", 0, 0.0, m_line});
        if (!isVar && lexRawBlock()) return m_rawLineStarting;
        std::vector<char> balance;
        const char* close = isVar ? "}}" : "%}";
        while (true) {
            while (m_pos < m_src.size() && isSpace(m_src[m_pos])) {
                if (m_src[m_pos] == '\n') ++m_line;
                ++m_pos;
            }
            if (m_pos >= m_src.size()) fail(isVar ? "unclosed '{{'" : "unclosed '{%'");
            if (balance.empty()) {
                char sign = m_src[m_pos];
                bool signed_ = (sign == '-' || sign == '+') && m_src.compare(m_pos + 1, 2, close) == 0;
                if (signed_ || m_src.compare(m_pos, 2, close) == 0) {
                    m_pos += signed_ ? 3 : 2;
                    m_tokens.push_back(Token{isVar ? Token::Kind::VarEnd : Token::Kind::BlockEnd, "", 0, 0.0, m_line});
                    return afterClose(signed_ ? sign : '\0', !isVar);
                }
            }
            lexOne(balance);
        }
    }

    // `{% raw %}...{% endraw %}`: the body is text, untouched.
    bool lexRawBlock() {
        std::size_t p = m_pos;
        while (p < m_src.size() && isSpace(m_src[p])) ++p;
        if (m_src.compare(p, 3, "raw") != 0 || (p + 3 < m_src.size() && isNameChar(m_src[p + 3]))) return false;
        p += 3;
        while (p < m_src.size() && isSpace(m_src[p])) ++p;
        char sign = m_src[p] == '-' ? '-' : '\0';
        if (sign) ++p;
        if (m_src.compare(p, 2, "%}") != 0) fail("expected '%}' after 'raw'");
        m_pos = p + 2;
        afterClose(sign, true);
        for (std::size_t q = m_src.find("{%", m_pos); q != std::string::npos; q = m_src.find("{%", q + 2)) {
            std::size_t r = q + 2;
            char openSign = (r < m_src.size() && (m_src[r] == '-' || m_src[r] == '+')) ? m_src[r++] : '\0';
            while (r < m_src.size() && isSpace(m_src[r])) ++r;
            if (m_src.compare(r, 6, "endraw") != 0) continue;
            r += 6;
            while (r < m_src.size() && isSpace(m_src[r])) ++r;
            char closeSign = m_src[r] == '-' ? '-' : '\0';
            if (closeSign) ++r;
            if (m_src.compare(r, 2, "%}") != 0) continue;
            std::string body = m_src.substr(m_pos, q - m_pos);
            if (openSign == '-') {
                while (!body.empty() && isSpace(body.back())) body.pop_back();
            }
            countLines(m_pos, r);
            m_tokens.back().kind = Token::Kind::Text;  // replace BlockBegin
            m_tokens.back().text = std::move(body);
            if (m_tokens.back().text.empty()) m_tokens.pop_back();
            m_pos = r + 2;
            m_rawLineStarting = afterClose(closeSign, true);
            return true;
        }
        fail("unclosed raw block");
    }

    void lexOne(std::vector<char>& balance) {
        char c = m_src[m_pos];
        if (isNameStart(c)) {
            std::size_t start = m_pos;
            while (m_pos < m_src.size() && isNameChar(m_src[m_pos])) ++m_pos;
            m_tokens.push_back(Token{Token::Kind::Name, m_src.substr(start, m_pos - start), 0, 0.0, m_line});
        } else if (isDigit(c)) {
            lexNumber();
        } else if (c == '\'' || c == '"') {
            lexString(c);
        } else {
            static const char* ops[] = {"//", "**", "==", "!=", ">=", "<=", "+", "-", "/", "*", "%", "~", "[",
                                        "]", "(", ")", "{", "}", ">", "<", "=", ".", ":", "|", ",", ";"};
            for (const char* op : ops) {
                std::string_view sv(op);
                if (m_src.compare(m_pos, sv.size(), sv) == 0) {
                    m_pos += sv.size();
                    trackBalance(sv[0], balance);
                    m_tokens.push_back(Token{Token::Kind::Op, std::string(sv), 0, 0.0, m_line});
                    return;
                }
            }
            fail(std::string("unexpected character '") + c + "'");
        }
    }

    void trackBalance(char c, std::vector<char>& balance) {
        if (c == '(' || c == '[' || c == '{') {
            if (balance.size() > 256) fail("brackets nested too deeply");
            balance.push_back(c == '(' ? ')' : (c == '[' ? ']' : '}'));
        } else if (c == ')' || c == ']' || c == '}') {
            if (balance.empty() || balance.back() != c) fail(std::string("unbalanced '") + c + "'");
            balance.pop_back();
        }
    }

    void lexNumber() {
        std::size_t start = m_pos;
        while (m_pos < m_src.size() && (isDigit(m_src[m_pos]) || m_src[m_pos] == '_')) ++m_pos;
        bool isFloat = false;
        if (m_pos + 1 < m_src.size() && m_src[m_pos] == '.' && isDigit(m_src[m_pos + 1])) {
            isFloat = true;
            ++m_pos;
            while (m_pos < m_src.size() && (isDigit(m_src[m_pos]) || m_src[m_pos] == '_')) ++m_pos;
        }
        if (m_pos < m_src.size() && (m_src[m_pos] == 'e' || m_src[m_pos] == 'E')) {
            std::size_t p = m_pos + 1;
            if (p < m_src.size() && (m_src[p] == '+' || m_src[p] == '-')) ++p;
            if (p < m_src.size() && isDigit(m_src[p])) {
                isFloat = true;
                m_pos = p;
                while (m_pos < m_src.size() && isDigit(m_src[m_pos])) ++m_pos;
            }
        }
        std::string digits;
        for (std::size_t i = start; i < m_pos; ++i) {
            if (m_src[i] != '_') digits += m_src[i];
        }
        Token t{isFloat ? Token::Kind::Float : Token::Kind::Int, digits, 0, 0.0, m_line};
        if (isFloat) {
            t.floatValue = std::strtod(digits.c_str(), nullptr);
        } else {
            auto res = std::from_chars(digits.data(), digits.data() + digits.size(), t.intValue);
            if (res.ec != std::errc()) fail("integer literal out of range: " + digits);
        }
        m_tokens.push_back(std::move(t));
    }

    std::uint32_t readHex(std::size_t& p, int count) {
        std::uint32_t v = 0;
        for (int i = 0; i < count; ++i, ++p) {
            char h = p < m_src.size() ? m_src[p] : '\0';
            int d = isDigit(h) ? h - '0' : (h >= 'a' && h <= 'f') ? h - 'a' + 10 : (h >= 'A' && h <= 'F') ? h - 'A' + 10 : -1;
            if (d < 0) fail("bad escape in string literal");
            v = v * 16 + static_cast<std::uint32_t>(d);
        }
        return v;
    }

    // Python 'unicode-escape' decoding, as Jinja applies it to string literals.
    void lexString(char quote) {
        int startLine = m_line;
        std::string value;
        std::size_t p = m_pos + 1;
        while (true) {
            if (p >= m_src.size()) fail("unclosed string literal");
            char c = m_src[p];
            if (c == quote) break;
            if (c == '\n') ++m_line;
            if (c != '\\') {
                value += c;
                ++p;
                continue;
            }
            char e = p + 1 < m_src.size() ? m_src[p + 1] : '\0';
            p += 2;
            switch (e) {
            case '\n': ++m_line; break;
            case '\\': value += '\\'; break;
            case '\'': value += '\''; break;
            case '"': value += '"'; break;
            case 'a': value += '\a'; break;
            case 'b': value += '\b'; break;
            case 'f': value += '\f'; break;
            case 'n': value += '\n'; break;
            case 'r': value += '\r'; break;
            case 't': value += '\t'; break;
            case 'v': value += '\v'; break;
            case 'x': appendUtf8(value, readHex(p, 2)); break;
            case 'u': appendUtf8(value, readHex(p, 4)); break;
            case 'U': {
                std::uint32_t cp = readHex(p, 8);
                if (cp > 0x10ffff) fail("bad \\U escape");
                appendUtf8(value, cp);
                break;
            }
            default:
                if (e >= '0' && e <= '7') {
                    std::uint32_t v = static_cast<std::uint32_t>(e - '0');
                    for (int i = 0; i < 2 && p < m_src.size() && m_src[p] >= '0' && m_src[p] <= '7'; ++i, ++p) {
                        v = v * 8 + static_cast<std::uint32_t>(m_src[p] - '0');
                    }
                    appendUtf8(value, v);
                } else {
                    value += '\\';
                    if (e) value += e;
                }
            }
        }
        m_pos = p + 1;
        m_tokens.push_back(Token{Token::Kind::String, std::move(value), 0, 0.0, startLine});
    }

    std::string m_src;
    std::size_t m_pos = 0;
    int m_line = 1;
    bool m_rawLineStarting = false;
    std::vector<Token> m_tokens;
};

}  // namespace

std::vector<Token> tokenize(std::string_view source) { return Lexer(normalizeNewlines(source)).run(); }

}  // namespace batchscope::engine::jinja
