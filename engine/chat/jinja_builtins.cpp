// Attribute and item access, bound methods of strings and dicts, iteration, and the global
// functions (range, namespace, dict, raise_exception, strftime_now). This is the whole
// surface a template can reach: nothing here touches files, the environment or the process.
// SPDX-License-Identifier: GPL-3.0-or-later
#include <algorithm>
#include <ctime>

#include "engine/chat/jinja_evaluator.h"
#include "engine/chat/jinja_text.h"

namespace batchscope::engine::jinja {
namespace {

Value makeCallable(std::string name, std::function<Value(Evaluator&, CallArgs&)> fn) {
    auto c = std::make_shared<Callable>();
    c->name = std::move(name);
    c->call = std::move(fn);
    return Value::callable(std::move(c));
}

std::optional<std::string> optString(const CallArgs& a, std::size_t pos, std::string_view kw) {
    const Value* v = argument(a, pos, kw);
    if (!v || v->isNone()) return std::nullopt;
    if (!v->isString()) throw TemplateError(std::string(kw) + " must be a string");
    return v->text();
}

std::int64_t optInt(const CallArgs& a, std::size_t pos, std::string_view kw, std::int64_t dflt) {
    const Value* v = argument(a, pos, kw);
    return v && !v->isNone() ? v->asInt() : dflt;
}

// startswith/endswith accept a string or a tuple of strings.
bool affixMatch(const std::string& s, const Value& arg, bool prefix) {
    if (arg.isList()) {
        return std::any_of(arg.items().begin(), arg.items().end(), [&](const Value& v) { return affixMatch(s, v, prefix); });
    }
    if (!arg.isString()) throw TemplateError("startswith/endswith need a string");
    const std::string& a = arg.text();
    return prefix ? s.starts_with(a) : s.ends_with(a);
}

Value stringList(const std::vector<MarkedString>& parts) {
    ValueList out;
    for (const auto& p : parts) out.push_back(Value::string(p));
    return Value::list(std::move(out));
}

Value stringMethod(const Value& self, const std::string& name) {
    const MarkedString s = self.str();
    auto bind = [&](auto fn) { return makeCallable("str." + name, fn); };
    if (name == "startswith" || name == "endswith") {
        bool prefix = name == "startswith";
        return bind([s, prefix](Evaluator&, CallArgs& a) {
            if (a.positional.empty()) throw TemplateError("startswith/endswith need an argument");
            return Value::boolean(affixMatch(s.text, a.positional[0], prefix));
        });
    }
    if (name == "strip" || name == "lstrip" || name == "rstrip") {
        bool left = name != "rstrip";
        bool right = name != "lstrip";
        return bind([s, left, right](Evaluator&, CallArgs& a) {
            return Value::string(stripText(s, left, right, optString(a, 0, "chars")));
        });
    }
    if (name == "split" || name == "rsplit") {
        bool fromRight = name == "rsplit";
        return bind([s, fromRight](Evaluator& ev, CallArgs& a) {
            auto parts = splitText(s, optString(a, 0, "sep"), optInt(a, 1, "maxsplit", -1), fromRight);
            ev.checkCollectionSize(parts.size());
            return stringList(parts);
        });
    }
    if (name == "splitlines") return bind([s](Evaluator&, CallArgs&) { return stringList(splitLines(s)); });
    if (name == "upper") return bind([s](Evaluator&, CallArgs&) { return Value::string(upperText(s)); });
    if (name == "lower") return bind([s](Evaluator&, CallArgs&) { return Value::string(lowerText(s)); });
    if (name == "title") return bind([s](Evaluator&, CallArgs&) { return Value::string(titleText(s)); });
    if (name == "capitalize") return bind([s](Evaluator&, CallArgs&) { return Value::string(capitalizeText(s)); });
    if (name == "replace") {
        return bind([s](Evaluator& ev, CallArgs& a) {
            if (a.positional.size() < 2) throw TemplateError("str.replace needs two arguments");
            std::string from = a.positional[0].toString();
            MarkedString to = a.positional[1].toMarked();
            std::size_t hits = from.empty() ? codePointCount(s.text) + 1 : 0;
            for (auto p = from.empty() ? std::string::npos : s.text.find(from); p != std::string::npos;
                 p = s.text.find(from, p + from.size())) {
                ++hits;
            }
            ev.chargeBytes(s.text.size() + hits * to.text.size());
            return Value::string(replaceText(s, from, to, optInt(a, 2, "count", -1)));
        });
    }
    if (name == "find" || name == "rfind" || name == "count" || name == "index") {
        return bind([s, name](Evaluator&, CallArgs& a) {
            if (a.positional.empty()) throw TemplateError("str." + name + " needs an argument");
            std::string sub = a.positional[0].toString();
            if (name == "count") {
                if (sub.empty()) return Value::integer(static_cast<std::int64_t>(codePointCount(s.text) + 1));
                std::int64_t n = 0;
                for (auto p = s.text.find(sub); p != std::string::npos; p = s.text.find(sub, p + sub.size())) ++n;
                return Value::integer(n);
            }
            auto p = name == "rfind" ? s.text.rfind(sub) : s.text.find(sub);
            if (p == std::string::npos) {
                if (name == "index") throw TemplateError("substring not found");
                return Value::integer(-1);
            }
            return Value::integer(static_cast<std::int64_t>(codePointCount(std::string_view(s.text).substr(0, p))));
        });
    }
    if (name == "join") {
        return bind([s](Evaluator& ev, CallArgs& a) {
            if (a.positional.empty()) throw TemplateError("str.join needs an argument");
            MarkedString out;
            bool first = true;
            for (const auto& item : iterate(a.positional[0])) {
                if (!item.isString()) throw TemplateError("str.join: sequence item is not a string");
                if (!first) out.append(s);
                first = false;
                out.append(item.str());
                ev.chargeBytes(item.text().size() + s.text.size());
            }
            return Value::string(std::move(out));
        });
    }
    if (name == "removeprefix" || name == "removesuffix") {
        bool prefix = name == "removeprefix";
        return bind([s, prefix](Evaluator&, CallArgs& a) {
            std::string affix = a.positional.empty() ? "" : a.positional[0].toString();
            bool has = prefix ? s.text.starts_with(affix) : s.text.ends_with(affix);
            if (!has || affix.empty()) return Value::string(s);
            return Value::string(prefix ? s.substr(affix.size(), std::string::npos)
                                        : s.substr(0, s.text.size() - affix.size()));
        });
    }
    if (name == "isdigit" || name == "isspace" || name == "isalpha" || name == "isalnum") {
        return bind([s, name](Evaluator&, CallArgs&) {
            if (s.text.empty()) return Value::boolean(false);
            auto ok = [&](unsigned char c) {
                if (name == "isdigit") return c >= '0' && c <= '9';
                if (name == "isspace") return c == ' ' || (c >= 9 && c <= 13);
                bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
                return name == "isalpha" ? alpha : (alpha || (c >= '0' && c <= '9'));
            };
            return Value::boolean(std::all_of(s.text.begin(), s.text.end(), ok));
        });
    }
    return {};
}

Value dictMethod(const Value& self, const std::string& name) {
    if (self.dictRef().isNamespace) return {};
    auto bind = [&](auto fn) { return makeCallable("dict." + name, fn); };
    if (name == "items" || name == "keys" || name == "values") {
        return bind([self, name](Evaluator&, CallArgs&) {
            ValueList out;
            for (const auto& [k, v] : self.dictRef().entries) {
                if (name == "items") out.push_back(Value::list({Value::string(k), v}));
                else out.push_back(name == "keys" ? Value::string(k) : v);
            }
            return Value::list(std::move(out));
        });
    }
    if (name == "get") {
        return bind([self](Evaluator&, CallArgs& a) {
            if (a.positional.empty()) throw TemplateError("dict.get needs a key");
            const Value* found = a.positional[0].isString() ? self.dictRef().find(a.positional[0].text()) : nullptr;
            if (found) return *found;
            return a.positional.size() > 1 ? a.positional[1] : Value::none();
        });
    }
    return {};
}

}  // namespace

Value getAttribute(Evaluator&, const Value& obj, const std::string& name) {
    if (obj.isString()) return stringMethod(obj, name);
    if (obj.isDict()) {
        Value method = dictMethod(obj, name);
        if (!method.isUndefined()) return method;
        const Value* v = obj.dictRef().find(name);
        return v ? *v : Value{};
    }
    return {};
}

Value getItem(Evaluator& ev, const Value& obj, const Value& key) {
    if (obj.isDict()) {
        if (!key.isString()) return {};
        const Value* v = obj.dictRef().find(key.text());
        return v ? *v : Value{};
    }
    bool intKey = key.type() == Value::Type::Int || key.type() == Value::Type::Bool;
    if (obj.isList() && intKey) {
        std::int64_t n = static_cast<std::int64_t>(obj.items().size());
        std::int64_t i = key.asInt() < 0 ? key.asInt() + n : key.asInt();
        if (i < 0 || i >= n) return {};
        return obj.items()[static_cast<std::size_t>(i)];
    }
    if (obj.isString() && intKey) {
        auto c = charAt(obj.str(), key.asInt());
        return c ? Value::string(*c) : Value{};
    }
    (void)ev;
    return {};
}

ValueList iterate(const Value& v) {
    switch (v.type()) {
    case Value::Type::List: return v.items();
    case Value::Type::Undefined: return {};
    case Value::Type::Dict: {
        if (v.dictRef().isNamespace) throw TemplateError("a namespace is not iterable");
        ValueList keys;
        for (const auto& [k, val] : v.dictRef().entries) keys.push_back(Value::string(k));
        return keys;
    }
    case Value::Type::String: {
        ValueList chars;
        auto offsets = codePointOffsets(v.text());
        for (std::size_t i = 0; i + 1 < offsets.size(); ++i) {
            chars.push_back(Value::string(v.str().substr(offsets[i], offsets[i + 1] - offsets[i])));
        }
        return chars;
    }
    default: throw TemplateError(std::string("'") + v.typeName() + "' object is not iterable");
    }
}

Variables builtinGlobals() {
    Variables g;
    g["range"] = makeCallable("range", [](Evaluator& ev, CallArgs& a) {
        if (a.positional.empty() || a.positional.size() > 3) throw TemplateError("range() takes 1 to 3 arguments");
        std::int64_t start = 0, stop = 0, step = 1;
        if (a.positional.size() == 1) {
            stop = a.positional[0].asInt();
        } else {
            start = a.positional[0].asInt();
            stop = a.positional[1].asInt();
            if (a.positional.size() == 3) step = a.positional[2].asInt();
        }
        if (step == 0) throw TemplateError("range() step must not be zero");
        long double count = step > 0 ? (static_cast<long double>(stop) - start) / step : (static_cast<long double>(start) - stop) / -step;
        if (count > static_cast<long double>(ev.limits().maxCollectionSize)) ev.checkCollectionSize(ev.limits().maxCollectionSize + 1);
        ValueList out;
        for (std::int64_t i = start; step > 0 ? i < stop : i > stop; i += step) out.push_back(Value::integer(i));
        return Value::list(std::move(out));
    });
    auto makeNamespace = [](bool isNamespace) {
        return [isNamespace](Evaluator& ev, CallArgs& a) {
            auto d = std::make_shared<Dict>();
            d->isNamespace = isNamespace;
            for (const auto& p : a.positional) {
                if (!p.isDict()) throw TemplateError("namespace()/dict() positional argument must be a mapping");
                for (const auto& [k, v] : p.dictRef().entries) d->set(k, v);
            }
            for (const auto& [k, v] : a.keyword) d->set(k, v);
            if (isNamespace) ev.adoptNamespace(d);
            return Value::dict(std::move(d));
        };
    };
    g["namespace"] = makeCallable("namespace", makeNamespace(true));
    g["dict"] = makeCallable("dict", makeNamespace(false));
    g["raise_exception"] = makeCallable("raise_exception", [](Evaluator&, CallArgs& a) -> Value {
        throw TemplateError(a.positional.empty() ? std::string("template raised an exception") : a.positional[0].toString());
    });
    g["strftime_now"] = makeCallable("strftime_now", [](Evaluator& ev, CallArgs& a) {
        if (a.positional.empty() || !a.positional[0].isString()) throw TemplateError("strftime_now needs a format string");
        std::time_t t = ev.options().now.value_or(std::time(nullptr));
        std::tm tm{};
        localtime_r(&t, &tm);
        char buf[512];
        std::size_t n = std::strftime(buf, sizeof buf, a.positional[0].text().c_str(), &tm);
        return Value::string(std::string(buf, n));
    });
    return g;
}

}  // namespace batchscope::engine::jinja
