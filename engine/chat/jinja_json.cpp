// SPDX-License-Identifier: GPL-3.0-or-later
#include "engine/chat/jinja_json.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "engine/chat/jinja_text.h"

namespace batchscope::engine::jinja {
namespace {

void appendJsonString(std::string& out, std::string_view s) {
    out += '"';
    for (unsigned char c : s) {
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        default:
            if (c < 0x20) {
                char buf[8];
                std::snprintf(buf, sizeof buf, "\\u%04x", c);
                out += buf;
            } else {
                out += static_cast<char>(c);
            }
        }
    }
    out += '"';
}

void dump(std::string& out, const Value& v, int indent, bool sortKeys, int level) {
    if (level > 64) throw TemplateError("tojson: value nested too deeply");
    if (out.size() > Value::kMaxReprBytes) throw TemplateError("tojson: value too large");
    auto newline = [&](int lvl) {
        out += '\n';
        out.append(static_cast<std::size_t>(indent) * static_cast<std::size_t>(lvl), ' ');
    };
    switch (v.type()) {
    case Value::Type::Undefined: throw TemplateError("tojson: '" + v.undefinedHint() + "' is undefined");
    case Value::Type::None: out += "null"; return;
    case Value::Type::Bool: out += v.asBool() ? "true" : "false"; return;
    case Value::Type::Int: out += std::to_string(v.asInt()); return;
    case Value::Type::Float: {
        double d = v.asFloat();
        out += std::isnan(d) ? "NaN" : std::isinf(d) ? (d > 0 ? "Infinity" : "-Infinity") : formatFloat(d);
        return;
    }
    case Value::Type::String: appendJsonString(out, v.text()); return;
    case Value::Type::Callable: throw TemplateError("tojson: a function is not JSON serializable");
    case Value::Type::List: {
        const auto& items = v.items();
        if (items.empty()) {
            out += "[]";
            return;
        }
        out += '[';
        for (std::size_t i = 0; i < items.size(); ++i) {
            if (i) out += indent >= 0 ? "," : ", ";
            if (indent >= 0) newline(level + 1);
            dump(out, items[i], indent, sortKeys, level + 1);
        }
        if (indent >= 0) newline(level);
        out += ']';
        return;
    }
    case Value::Type::Dict: {
        std::vector<const std::pair<std::string, Value>*> entries;
        for (const auto& e : v.dictRef().entries) entries.push_back(&e);
        if (sortKeys) {
            std::sort(entries.begin(), entries.end(), [](auto* a, auto* b) { return a->first < b->first; });
        }
        if (entries.empty()) {
            out += "{}";
            return;
        }
        out += '{';
        for (std::size_t i = 0; i < entries.size(); ++i) {
            if (i) out += indent >= 0 ? "," : ", ";
            if (indent >= 0) newline(level + 1);
            appendJsonString(out, entries[i]->first);
            out += ": ";
            dump(out, entries[i]->second, indent, sortKeys, level + 1);
        }
        if (indent >= 0) newline(level);
        out += '}';
        return;
    }
    }
}

Value fromJson(const nlohmann::ordered_json& j, bool user, int depth) {
    if (depth > 64) throw TemplateError("JSON input nested too deeply");
    switch (j.type()) {
    case nlohmann::ordered_json::value_t::null: return Value::none();
    case nlohmann::ordered_json::value_t::boolean: return Value::boolean(j.get<bool>());
    case nlohmann::ordered_json::value_t::number_integer: return Value::integer(j.get<std::int64_t>());
    case nlohmann::ordered_json::value_t::number_unsigned: {
        auto u = j.get<std::uint64_t>();
        if (u > static_cast<std::uint64_t>(INT64_MAX)) return Value::floating(static_cast<double>(u));
        return Value::integer(static_cast<std::int64_t>(u));
    }
    case nlohmann::ordered_json::value_t::number_float: return Value::floating(j.get<double>());
    case nlohmann::ordered_json::value_t::string: return Value::string(j.get<std::string>(), user);
    case nlohmann::ordered_json::value_t::array: {
        ValueList items;
        for (const auto& e : j) items.push_back(fromJson(e, user, depth + 1));
        return Value::list(std::move(items));
    }
    case nlohmann::ordered_json::value_t::object: {
        Value d = Value::newDict();
        for (auto it = j.begin(); it != j.end(); ++it) d.dictRef().set(it.key(), fromJson(it.value(), user, depth + 1));
        return d;
    }
    default: return Value::none();
    }
}

}  // namespace

std::string toJson(const Value& v, int indent, bool sortKeys) {
    std::string out;
    dump(out, v, indent, sortKeys, 0);
    return out;
}

Value valueFromJson(const nlohmann::ordered_json& j, bool user) { return fromJson(j, user, 0); }

}  // namespace batchscope::engine::jinja
