// SPDX-License-Identifier: GPL-3.0-or-later
#include "engine/chat/jinja_value.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

namespace batchscope::engine::jinja {

bool MarkedString::anyUser() const {
    for (auto m : mask) {
        if (m) return true;
    }
    return false;
}

void MarkedString::append(const MarkedString& other) {
    if (other.mask.empty() && mask.empty()) {  // template text only: the common case
        text += other.text;
        return;
    }
    if (!other.mask.empty() && mask.empty()) mask.assign(text.size(), 0);
    text += other.text;
    if (!mask.empty()) {
        if (other.mask.empty()) {
            mask.resize(text.size(), 0);
        } else {
            mask.insert(mask.end(), other.mask.begin(), other.mask.end());
        }
    }
}

void MarkedString::append(std::string_view literal) {
    text += literal;
    if (!mask.empty()) mask.resize(text.size(), 0);
}

MarkedString MarkedString::substr(std::size_t pos, std::size_t count) const {
    MarkedString out;
    if (pos >= text.size()) return out;
    count = std::min(count, text.size() - pos);
    out.text = text.substr(pos, count);
    if (!mask.empty()) out.mask.assign(mask.begin() + static_cast<std::ptrdiff_t>(pos),
                                       mask.begin() + static_cast<std::ptrdiff_t>(pos + count));
    return out;
}

MarkedString MarkedString::make(std::string text, bool user) {
    MarkedString out;
    out.text = std::move(text);
    if (user && !out.text.empty()) out.mask.assign(out.text.size(), 1);
    return out;
}

Value Value::none() {
    Value v;
    v.m_type = Type::None;
    return v;
}
Value Value::boolean(bool b) {
    Value v;
    v.m_type = Type::Bool;
    v.m_bool = b;
    return v;
}
Value Value::integer(std::int64_t i) {
    Value v;
    v.m_type = Type::Int;
    v.m_int = i;
    return v;
}
Value Value::floating(double d) {
    Value v;
    v.m_type = Type::Float;
    v.m_float = d;
    return v;
}
Value Value::string(std::string s, bool user) { return string(MarkedString::make(std::move(s), user)); }
Value Value::string(MarkedString s) {
    Value v;
    v.m_type = Type::String;
    v.m_str = std::make_shared<MarkedString>(std::move(s));
    return v;
}
namespace {
int childDepth(const Value& v) { return v.isDict() && v.dictRef().isNamespace ? 1 : v.depth(); }
void checkDepth(int depth) {
    if (depth > Value::kMaxValueDepth) {
        throw TemplateError("value nested deeper than " + std::to_string(Value::kMaxValueDepth) + " levels");
    }
}
}  // namespace

Value Value::list(ValueList items) {
    Value v;
    v.m_type = Type::List;
    int depth = 0;
    for (const auto& item : items) depth = std::max(depth, childDepth(item));
    checkDepth(depth + 1);
    v.m_depth = depth + 1;
    v.m_list = std::make_shared<ValueList>(std::move(items));
    return v;
}
Value Value::dict(std::shared_ptr<Dict> d) {
    Value v;
    v.m_type = Type::Dict;
    int depth = 0;
    if (!d->isNamespace) {
        for (const auto& [k, item] : d->entries) depth = std::max(depth, childDepth(item));
    }
    checkDepth(depth + 1);
    v.m_depth = depth + 1;
    v.m_dict = std::move(d);
    return v;
}
Value Value::newDict(bool isNamespace) {
    auto d = std::make_shared<Dict>();
    d->isNamespace = isNamespace;
    return dict(std::move(d));
}
Value Value::callable(std::shared_ptr<Callable> c) {
    Value v;
    v.m_type = Type::Callable;
    v.m_callable = std::move(c);
    return v;
}
Value Value::undefined(std::string hint) {
    Value v;
    v.m_str = std::make_shared<MarkedString>(MarkedString{std::move(hint), {}});
    return v;
}

std::int64_t Value::asInt() const {
    switch (m_type) {
    case Type::Bool: return m_bool ? 1 : 0;
    case Type::Int: return m_int;
    case Type::Float:
        if (!std::isfinite(m_float) || std::fabs(m_float) > 9.2e18) throw TemplateError("float out of integer range");
        return static_cast<std::int64_t>(m_float);
    default: throw TemplateError(std::string("expected a number, got ") + typeName());
    }
}

double Value::asFloat() const {
    switch (m_type) {
    case Type::Bool: return m_bool ? 1.0 : 0.0;
    case Type::Int: return static_cast<double>(m_int);
    case Type::Float: return m_float;
    default: throw TemplateError(std::string("expected a number, got ") + typeName());
    }
}

bool Value::truthy() const {
    switch (m_type) {
    case Type::Undefined:
    case Type::None: return false;
    case Type::Bool: return m_bool;
    case Type::Int: return m_int != 0;
    case Type::Float: return m_float != 0.0;
    case Type::String: return !m_str->text.empty();
    case Type::List: return !m_list->empty();
    case Type::Dict: return !m_dict->entries.empty();
    case Type::Callable: return true;
    }
    return false;
}

const char* Value::typeName() const {
    switch (m_type) {
    case Type::Undefined: return "undefined";
    case Type::None: return "none";
    case Type::Bool: return "bool";
    case Type::Int: return "int";
    case Type::Float: return "float";
    case Type::String: return "string";
    case Type::List: return "list";
    case Type::Dict: return m_dict->isNamespace ? "namespace" : "dict";
    case Type::Callable: return "callable";
    }
    return "?";
}

std::string formatFloat(double d) {
    if (std::isnan(d)) return "nan";
    if (std::isinf(d)) return d > 0 ? "inf" : "-inf";
    if (d == 0.0) return std::signbit(d) ? "-0.0" : "0.0";
    char buf[64];
    // Shortest round-trip digits in scientific form: "d.ddde[+-]x".
    auto res = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
    std::string sci(buf, res.ptr);
    bool negative = sci[0] == '-';
    if (negative) sci.erase(0, 1);
    auto ePos = sci.find('e');
    int exponent = std::stoi(sci.substr(ePos + 1));
    std::string digits;
    for (char c : sci.substr(0, ePos)) {
        if (c != '.') digits += c;
    }
    std::string out;
    if (exponent >= -4 && exponent < 16) {
        int pointPos = exponent + 1;  // digits before the point
        if (pointPos <= 0) {
            out = "0." + std::string(static_cast<std::size_t>(-pointPos), '0') + digits;
        } else if (static_cast<std::size_t>(pointPos) >= digits.size()) {
            out = digits + std::string(static_cast<std::size_t>(pointPos) - digits.size(), '0') + ".0";
        } else {
            out = digits.substr(0, static_cast<std::size_t>(pointPos)) + "." + digits.substr(static_cast<std::size_t>(pointPos));
        }
    } else {
        out = digits.substr(0, 1);
        if (digits.size() > 1) out += "." + digits.substr(1);
        std::snprintf(buf, sizeof buf, "e%c%02d", exponent < 0 ? '-' : '+', std::abs(exponent));
        out += buf;
    }
    return negative ? "-" + out : out;
}

std::string pythonStringRepr(std::string_view s) {
    char quote = (s.find('\'') != std::string_view::npos && s.find('"') == std::string_view::npos) ? '"' : '\'';
    std::string out(1, quote);
    for (unsigned char c : s) {
        switch (c) {
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
            if (c == static_cast<unsigned char>(quote)) {
                out += '\\';
                out += static_cast<char>(c);
            } else if (c < 0x20 || c == 0x7f) {
                char buf[8];
                std::snprintf(buf, sizeof buf, "\\x%02x", c);
                out += buf;
            } else {
                out += static_cast<char>(c);
            }
        }
    }
    out += quote;
    return out;
}

MarkedString Value::toMarked() const {
    switch (m_type) {
    case Type::Undefined: return {};
    case Type::String: return *m_str;
    case Type::List:
    case Type::Dict: {
        // repr of a container; conservatively user text when any element is.
        bool user = containsUserText(*this);
        return MarkedString::make(repr(), user);
    }
    default: return MarkedString::make(repr(), false);
    }
}

MarkedString Value::takeMarked() && {
    // use_count() == 1 is exact here: a render's temporaries are never shared across threads.
    if (m_type == Type::String && m_str.use_count() == 1) return std::move(*m_str);
    return toMarked();
}

std::string Value::repr(std::size_t maxBytes) const {
    std::string out;
    appendRepr(out, maxBytes);
    return out;
}

void Value::appendRepr(std::string& out, std::size_t maxBytes) const {
    if (out.size() > maxBytes) throw TemplateError("value too large to print");
    switch (m_type) {
    case Type::Undefined: return;
    case Type::None: out += "None"; return;
    case Type::Bool: out += m_bool ? "True" : "False"; return;
    case Type::Int: out += std::to_string(m_int); return;
    case Type::Float: out += formatFloat(m_float); return;
    case Type::String: out += pythonStringRepr(m_str->text); return;
    case Type::List:
        out += '[';
        for (std::size_t i = 0; i < m_list->size(); ++i) {
            if (i) out += ", ";
            (*m_list)[i].appendRepr(out, maxBytes);
        }
        out += ']';
        return;
    case Type::Dict: {
        if (m_dict->isNamespace) {
            out += "<Namespace>";
            return;
        }
        out += '{';
        bool first = true;
        for (const auto& [k, v] : m_dict->entries) {
            if (!first) out += ", ";
            first = false;
            out += pythonStringRepr(k) + ": ";
            v.appendRepr(out, maxBytes);
        }
        out += '}';
        return;
    }
    case Type::Callable: out += "<function " + m_callable->name + ">"; return;
    }
}

namespace {
bool scanUser(const Value& v, std::int64_t& budget) {
    if (--budget < 0) return true;  // too big to scan: say "user text", the safe answer
    if (v.isString()) return v.str().anyUser();
    if (v.isList()) {
        for (const auto& e : v.items()) {
            if (scanUser(e, budget)) return true;
        }
    }
    if (v.isDict()) {
        if (v.dictRef().isNamespace) return true;  // mutable, possibly cyclic: don't descend
        for (const auto& [k, e] : v.dictRef().entries) {
            if (scanUser(e, budget)) return true;
        }
    }
    return false;
}
}  // namespace

bool containsUserText(const Value& v) {
    std::int64_t budget = 100'000;
    return scanUser(v, budget);
}

const Value* Dict::find(std::string_view key) const {
    for (const auto& [k, v] : entries) {
        if (k == key) return &v;
    }
    return nullptr;
}

void Dict::set(const std::string& key, Value v) {
    for (auto& [k, old] : entries) {
        if (k == key) {
            old = std::move(v);
            return;
        }
    }
    entries.emplace_back(key, std::move(v));
}

namespace {
bool equalWithBudget(const Value& a, const Value& b, std::int64_t& budget);
}  // namespace

bool valuesEqual(const Value& a, const Value& b) {
    std::int64_t budget = 1'000'000;
    return equalWithBudget(a, b, budget);
}

namespace {
bool equalWithBudget(const Value& a, const Value& b, std::int64_t& budget) {
    if (--budget < 0) throw TemplateError("comparison too expensive");
    if (a.isNumber() && b.isNumber()) {
        if (a.type() == Value::Type::Float || b.type() == Value::Type::Float) return a.asFloat() == b.asFloat();
        return a.asInt() == b.asInt();
    }
    if (a.type() != b.type()) return false;
    switch (a.type()) {
    case Value::Type::Undefined:
    case Value::Type::None: return true;
    case Value::Type::String: return a.text() == b.text();
    case Value::Type::List: {
        if (&a.items() == &b.items()) return true;
        if (a.items().size() != b.items().size()) return false;
        for (std::size_t i = 0; i < a.items().size(); ++i) {
            if (!equalWithBudget(a.items()[i], b.items()[i], budget)) return false;
        }
        return true;
    }
    case Value::Type::Dict: {
        if (&a.dictRef() == &b.dictRef()) return true;
        if (a.dictRef().isNamespace || b.dictRef().isNamespace) return false;
        const auto& ea = a.dictRef().entries;
        const auto& db = b.dictRef();
        if (ea.size() != db.entries.size()) return false;
        for (const auto& [k, v] : ea) {
            const Value* other = db.find(k);
            if (!other || !equalWithBudget(v, *other, budget)) return false;
        }
        return true;
    }
    case Value::Type::Callable: return &a.callableRef() == &b.callableRef();
    default: return false;
    }
}
}  // namespace

int compareValues(const Value& a, const Value& b) {
    if (a.isNumber() && b.isNumber()) {
        double x = a.asFloat();
        double y = b.asFloat();
        if (a.type() != Value::Type::Float && b.type() != Value::Type::Float) {
            return a.asInt() < b.asInt() ? -1 : (a.asInt() > b.asInt() ? 1 : 0);
        }
        return x < y ? -1 : (x > y ? 1 : 0);
    }
    if (a.isString() && b.isString()) {
        int c = a.text().compare(b.text());
        return c < 0 ? -1 : (c > 0 ? 1 : 0);
    }
    if (a.isList() && b.isList()) {
        const auto& x = a.items();
        const auto& y = b.items();
        for (std::size_t i = 0; i < x.size() && i < y.size(); ++i) {
            if (!valuesEqual(x[i], y[i])) return compareValues(x[i], y[i]);
        }
        return x.size() < y.size() ? -1 : (x.size() > y.size() ? 1 : 0);
    }
    throw TemplateError(std::string("cannot compare ") + a.typeName() + " with " + b.typeName());
}

}  // namespace batchscope::engine::jinja
