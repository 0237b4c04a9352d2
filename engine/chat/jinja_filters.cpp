// Jinja's built-in filters used by chat templates (Jinja 3 semantics; tojson as Hugging
// Face overrides it: no HTML escaping, non-ASCII kept).
// SPDX-License-Identifier: GPL-3.0-or-later
#include <algorithm>
#include <cmath>
#include <unordered_map>

#include "engine/chat/jinja_evaluator.h"
#include "engine/chat/jinja_text.h"

namespace batchscope::engine::jinja {
namespace {

using FilterFn = Value (*)(Evaluator&, const Value&, CallArgs&);

bool argBool(const CallArgs& a, std::size_t pos, std::string_view kw, bool dflt) {
    const Value* v = argument(a, pos, kw);
    return v ? v->truthy() : dflt;
}

std::optional<std::string> argString(const CallArgs& a, std::size_t pos, std::string_view kw) {
    const Value* v = argument(a, pos, kw);
    if (!v || v->isNone() || v->isUndefined()) return std::nullopt;
    return v->toString();
}


// Attribute lookup as `attribute=` arguments do it ("a.b" and "0" allowed).
Value attributePath(Evaluator& ev, const Value& item, const std::string& path) {
    Value cur = item;
    std::size_t start = 0;
    while (start <= path.size()) {
        std::size_t dot = path.find('.', start);
        std::string part = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
        bool numeric = !part.empty() && std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; });
        cur = numeric ? getItem(ev, cur, Value::integer(std::stoll(part))) : getItem(ev, cur, Value::string(part));
        if (cur.isUndefined()) return cur;
        if (dot == std::string::npos) break;
        start = dot + 1;
    }
    return cur;
}

Value fLength(Evaluator&, const Value& v, CallArgs&) {
    switch (v.type()) {
    case Value::Type::String: return Value::integer(static_cast<std::int64_t>(codePointCount(v.text())));
    case Value::Type::List: return Value::integer(static_cast<std::int64_t>(v.items().size()));
    case Value::Type::Dict: return Value::integer(static_cast<std::int64_t>(v.dictRef().entries.size()));
    case Value::Type::Undefined: return Value::integer(0);
    default: throw TemplateError(std::string("object of type '") + v.typeName() + "' has no len()");
    }
}

Value fTrim(Evaluator&, const Value& v, CallArgs& a) {
    return Value::string(stripText(v.toMarked(), true, true, argString(a, 0, "chars")));
}

Value fToJson(Evaluator& ev, const Value& v, CallArgs& a) {
    const Value* indent = argument(a, 0, "indent");
    int n = indent && !indent->isNone() ? static_cast<int>(std::clamp<std::int64_t>(indent->asInt(), 0, 64)) : -1;
    std::string s = toJson(v, n, argBool(a, 99, "sort_keys", false));
    ev.chargeBytes(s.size());
    return Value::string(std::move(s), containsUserText(v));
}

Value fItems(Evaluator&, const Value& v, CallArgs&) {
    if (v.isUndefined()) return Value::list();
    if (!v.isDict()) throw TemplateError("filter 'items' needs a mapping");
    ValueList out;
    for (const auto& [k, val] : v.dictRef().entries) out.push_back(Value::list({Value::string(k), val}));
    return Value::list(std::move(out));
}

Value fUpper(Evaluator&, const Value& v, CallArgs&) { return Value::string(upperText(v.toMarked())); }
Value fLower(Evaluator&, const Value& v, CallArgs&) { return Value::string(lowerText(v.toMarked())); }
Value fTitle(Evaluator&, const Value& v, CallArgs&) { return Value::string(titleText(v.toMarked())); }
Value fCapitalize(Evaluator&, const Value& v, CallArgs&) { return Value::string(capitalizeText(v.toMarked())); }
Value fString(Evaluator&, const Value& v, CallArgs&) { return v.isString() ? v : Value::string(v.toMarked()); }
Value fIdentity(Evaluator&, const Value& v, CallArgs&) { return v; }

Value fDefault(Evaluator&, const Value& v, CallArgs& a) {
    const Value* d = argument(a, 0, "default_value");
    bool boolean = argBool(a, 1, "boolean", false);
    if (v.isUndefined() || (boolean && !v.truthy())) return d ? *d : Value::string("");
    return v;
}

Value fJoin(Evaluator& ev, const Value& v, CallArgs& a) {
    const Value* sepArg = argument(a, 0, "d");
    MarkedString sep = sepArg ? sepArg->toMarked() : MarkedString{};
    auto attr = argString(a, 1, "attribute");
    MarkedString out;
    bool first = true;
    for (const auto& item : iterate(v)) {
        if (!first) out.append(sep);
        first = false;
        MarkedString part = attr ? attributePath(ev, item, *attr).toMarked() : item.toMarked();
        ev.chargeBytes(part.text.size() + sep.text.size());
        out.append(part);
    }
    return Value::string(std::move(out));
}

Value fReplace(Evaluator& ev, const Value& v, CallArgs& a) {
    const Value* from = argument(a, 0, "old");
    const Value* to = argument(a, 1, "new");
    if (!from || !to) throw TemplateError("filter 'replace' needs two arguments");
    const Value* count = argument(a, 2, "count");
    MarkedString s = v.toMarked();
    MarkedString r = to->toMarked();
    std::string f = from->toString();
    std::size_t hits = 0;
    if (!f.empty()) {
        for (std::size_t p = s.text.find(f); p != std::string::npos; p = s.text.find(f, p + f.size())) ++hits;
    } else {
        hits = codePointCount(s.text) + 1;
    }
    ev.chargeBytes(s.text.size() + hits * r.text.size());
    return Value::string(replaceText(s, f, r, count && !count->isNone() ? count->asInt() : -1));
}

Value fFirst(Evaluator&, const Value& v, CallArgs&) {
    ValueList items = iterate(v);
    return items.empty() ? Value::undefined("first of an empty sequence") : items.front();
}

Value fLast(Evaluator&, const Value& v, CallArgs&) {
    ValueList items = iterate(v);
    return items.empty() ? Value::undefined("last of an empty sequence") : items.back();
}

Value fList(Evaluator&, const Value& v, CallArgs&) { return Value::list(iterate(v)); }

Value fAbs(Evaluator&, const Value& v, CallArgs&) {
    if (v.type() == Value::Type::Float) return Value::floating(std::fabs(v.asFloat()));
    std::int64_t i = v.asInt();
    if (i == INT64_MIN) throw TemplateError("integer overflow");
    return Value::integer(i < 0 ? -i : i);
}

Value fInt(Evaluator&, const Value& v, CallArgs& a) {
    const Value* d = argument(a, 0, "default");
    Value dflt = d ? *d : Value::integer(0);
    if (v.isNumber()) return Value::integer(v.asInt());
    if (v.isString()) {
        try {
            std::size_t used = 0;
            std::string t = stripText(v.str(), true, true, std::nullopt).text;
            long long r = std::stoll(t, &used, 10);
            if (used == t.size()) return Value::integer(r);
            double f = std::stod(t, &used);
            if (used == t.size() && std::isfinite(f) && std::fabs(f) < 9.2e18) return Value::integer(static_cast<std::int64_t>(f));
        } catch (const std::exception&) {
        }
    }
    return dflt;
}

Value fFloat(Evaluator&, const Value& v, CallArgs& a) {
    const Value* d = argument(a, 0, "default");
    if (v.isNumber()) return Value::floating(v.asFloat());
    if (v.isString()) {
        try {
            std::size_t used = 0;
            std::string t = stripText(v.str(), true, true, std::nullopt).text;
            double f = std::stod(t, &used);
            if (used == t.size()) return Value::floating(f);
        } catch (const std::exception&) {
        }
    }
    return d ? *d : Value::floating(0.0);
}

Value fRound(Evaluator&, const Value& v, CallArgs& a) {
    const Value* p = argument(a, 0, "precision");
    auto method = argString(a, 1, "method").value_or("common");
    double scale = std::pow(10.0, p ? static_cast<double>(std::clamp<std::int64_t>(p->asInt(), -20, 20)) : 0.0);
    double x = v.asFloat() * scale;
    double r = method == "floor" ? std::floor(x) : method == "ceil" ? std::ceil(x) : std::round(x);
    return Value::floating(r / scale);
}

Value fIndent(Evaluator& ev, const Value& v, CallArgs& a) {
    const Value* w = argument(a, 0, "width");
    std::string pad = !w ? std::string(4, ' ')
                         : w->isString() ? w->text() : std::string(static_cast<std::size_t>(std::clamp<std::int64_t>(w->asInt(), 0, 1024)), ' ');
    bool first = argBool(a, 1, "first", false);
    bool blank = argBool(a, 2, "blank", false);
    MarkedString s = v.toMarked();
    s.append("\n");
    auto lines = splitLines(s);
    ev.chargeBytes(s.text.size() + lines.size() * pad.size());
    MarkedString out;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        if (i) out.append("\n");
        if (i && (blank || !lines[i].text.empty())) out.append(pad);
        out.append(lines[i]);
    }
    if (first) {
        MarkedString withPad = MarkedString::make(pad, false);
        withPad.append(out);
        return Value::string(std::move(withPad));
    }
    return Value::string(std::move(out));
}

Value fUnique(Evaluator& ev, const Value& v, CallArgs&) {
    ValueList out;
    for (const auto& item : iterate(v)) {
        if (std::none_of(out.begin(), out.end(), [&](const Value& o) {
                ev.tick();
                return valuesEqual(o, item);
            })) {
            out.push_back(item);
        }
    }
    return Value::list(std::move(out));
}

Value fReverse(Evaluator&, const Value& v, CallArgs&) {
    if (v.isString()) return Value::string(sliceString(v.str(), std::nullopt, std::nullopt, -1));
    ValueList items = iterate(v);
    std::reverse(items.begin(), items.end());
    return Value::list(std::move(items));
}

Value fSort(Evaluator& ev, const Value& v, CallArgs& a) {
    bool reverse = argBool(a, 0, "reverse", false);
    auto attr = argString(a, 2, "attribute");
    ValueList items = iterate(v);
    auto key = [&](const Value& x) { return attr ? attributePath(ev, x, *attr) : x; };
    std::stable_sort(items.begin(), items.end(), [&](const Value& x, const Value& y) {
        int c = compareValues(key(x), key(y));
        return reverse ? c > 0 : c < 0;
    });
    return Value::list(std::move(items));
}

Value fDictSort(Evaluator& ev, const Value& v, CallArgs& a) {
    Value pairs = fItems(ev, v, a);
    ValueList items = pairs.items();
    std::stable_sort(items.begin(), items.end(),
                     [](const Value& x, const Value& y) { return compareValues(x.items()[0], y.items()[0]) < 0; });
    return Value::list(std::move(items));
}

Value fMap(Evaluator& ev, const Value& v, CallArgs& a) {
    ValueList out;
    if (auto attr = argString(a, 99, "attribute")) {
        const Value* dflt = argument(a, 99, "default");
        for (const auto& item : iterate(v)) {
            Value r = attributePath(ev, item, *attr);
            out.push_back(r.isUndefined() && dflt ? *dflt : r);
        }
        return Value::list(std::move(out));
    }
    if (a.positional.empty()) throw TemplateError("filter 'map' needs a filter name or attribute=");
    std::string filter = a.positional[0].toString();
    CallArgs rest{{a.positional.begin() + 1, a.positional.end()}, {}};
    for (const auto& item : iterate(v)) out.push_back(applyFilter(ev, filter, item, rest));
    return Value::list(std::move(out));
}

Value selectImpl(Evaluator& ev, const Value& v, CallArgs& a, bool byAttr, bool keep) {
    std::size_t next = 0;
    std::optional<std::string> attr;
    if (byAttr) {
        if (a.positional.empty()) throw TemplateError("selectattr/rejectattr need an attribute name");
        attr = a.positional[next++].toString();
    }
    std::optional<std::string> test;
    if (next < a.positional.size()) test = a.positional[next++].toString();
    CallArgs testArgs{{a.positional.begin() + static_cast<std::ptrdiff_t>(next), a.positional.end()}, {}};
    ValueList out;
    for (const auto& item : iterate(v)) {
        Value subject = attr ? attributePath(ev, item, *attr) : item;
        bool pass = test ? applyTest(ev, *test, subject, testArgs) : subject.truthy();
        if (pass == keep) out.push_back(item);
    }
    return Value::list(std::move(out));
}

Value fSelect(Evaluator& ev, const Value& v, CallArgs& a) { return selectImpl(ev, v, a, false, true); }
Value fReject(Evaluator& ev, const Value& v, CallArgs& a) { return selectImpl(ev, v, a, false, false); }
Value fSelectAttr(Evaluator& ev, const Value& v, CallArgs& a) { return selectImpl(ev, v, a, true, true); }
Value fRejectAttr(Evaluator& ev, const Value& v, CallArgs& a) { return selectImpl(ev, v, a, true, false); }

Value fSum(Evaluator&, const Value& v, CallArgs& a) {
    const Value* start = argument(a, 1, "start");
    Value total = start ? *start : Value::integer(0);
    for (const auto& item : iterate(v)) {
        bool f = total.type() == Value::Type::Float || item.type() == Value::Type::Float;
        total = f ? Value::floating(total.asFloat() + item.asFloat()) : Value::integer(total.asInt() + item.asInt());
    }
    return total;
}

Value fMinMax(const Value& v, bool wantMax) {
    ValueList items = iterate(v);
    if (items.empty()) return Value::undefined("min/max of an empty sequence");
    Value best = items[0];
    for (const auto& item : items) {
        int c = compareValues(item, best);
        if (wantMax ? c > 0 : c < 0) best = item;
    }
    return best;
}
Value fMin(Evaluator&, const Value& v, CallArgs&) { return fMinMax(v, false); }
Value fMax(Evaluator&, const Value& v, CallArgs&) { return fMinMax(v, true); }

Value fEscape(Evaluator&, const Value& v, CallArgs&) {
    MarkedString s = v.toMarked();
    MarkedString out;
    for (std::size_t i = 0; i < s.text.size(); ++i) {
        const char* rep = nullptr;
        switch (s.text[i]) {
        case '&': rep = "&amp;"; break;
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break;
        case '"': rep = "&#34;"; break;
        case '\'': rep = "&#39;"; break;
        default: break;
        }
        out.append(rep ? MarkedString::make(rep, s.isUser(i)) : s.substr(i, 1));
    }
    return Value::string(std::move(out));
}

Value fWordCount(Evaluator&, const Value& v, CallArgs&) {
    return Value::integer(static_cast<std::int64_t>(splitText(v.toMarked(), std::nullopt, -1, false).size()));
}

Value fAttr(Evaluator& ev, const Value& v, CallArgs& a) {
    if (a.positional.empty()) throw TemplateError("filter 'attr' needs a name");
    return getAttribute(ev, v, a.positional[0].toString());
}

const std::unordered_map<std::string, FilterFn>& filterTable() {
    static const std::unordered_map<std::string, FilterFn> table = {
        {"length", fLength}, {"count", fLength}, {"trim", fTrim}, {"tojson", fToJson}, {"items", fItems},
        {"upper", fUpper}, {"lower", fLower}, {"title", fTitle}, {"capitalize", fCapitalize},
        {"string", fString}, {"safe", fIdentity}, {"default", fDefault}, {"d", fDefault}, {"join", fJoin},
        {"replace", fReplace}, {"first", fFirst}, {"last", fLast}, {"list", fList}, {"abs", fAbs},
        {"int", fInt}, {"float", fFloat}, {"round", fRound}, {"indent", fIndent}, {"unique", fUnique},
        {"reverse", fReverse}, {"sort", fSort}, {"dictsort", fDictSort}, {"map", fMap}, {"select", fSelect},
        {"reject", fReject}, {"selectattr", fSelectAttr}, {"rejectattr", fRejectAttr}, {"sum", fSum},
        {"min", fMin}, {"max", fMax}, {"escape", fEscape}, {"e", fEscape}, {"wordcount", fWordCount},
        {"attr", fAttr},
    };
    return table;
}

}  // namespace

Value applyFilter(Evaluator& ev, const std::string& name, const Value& subject, CallArgs& args) {
    auto it = filterTable().find(name);
    if (it == filterTable().end()) throw TemplateError("unknown filter '" + name + "'");
    return it->second(ev, subject, args);
}

}  // namespace batchscope::engine::jinja
