// Jinja's built-in tests (`x is defined`, `x is mapping`, ...).
// SPDX-License-Identifier: GPL-3.0-or-later
#include <unordered_map>

#include "engine/chat/jinja_evaluator.h"

namespace batchscope::engine::jinja {
namespace {

const Value& needArg(const CallArgs& a, const std::string& test) {
    if (a.positional.empty()) throw TemplateError("test '" + test + "' needs an argument");
    return a.positional[0];
}

bool isInteger(const Value& v) { return v.type() == Value::Type::Int; }

}  // namespace

bool applyTest(Evaluator& /*ev*/, const std::string& name, const Value& v, CallArgs& a) {
    using T = Value::Type;
    if (name == "defined") return !v.isUndefined();
    if (name == "undefined") return v.isUndefined();
    if (name == "none") return v.isNone();
    if (name == "string") return v.isString();
    if (name == "number") return v.type() == T::Int || v.type() == T::Float;
    if (name == "integer") return isInteger(v);
    if (name == "float") return v.type() == T::Float;
    if (name == "boolean") return v.type() == T::Bool;
    if (name == "true") return v.type() == T::Bool && v.asBool();
    if (name == "false") return v.type() == T::Bool && !v.asBool();
    if (name == "mapping") return v.isDict() && !v.dictRef().isNamespace;
    if (name == "iterable") return v.isList() || v.isString() || (v.isDict() && !v.dictRef().isNamespace) || v.isUndefined();
    if (name == "sequence") return v.isList() || v.isString() || (v.isDict() && !v.dictRef().isNamespace) || v.isUndefined();
    if (name == "callable") return v.isCallable();
    if (name == "even" || name == "odd") {
        if (!isInteger(v)) throw TemplateError("test '" + name + "' needs an integer");
        return (v.asInt() % 2 == 0) == (name == "even");
    }
    if (name == "divisibleby") {
        std::int64_t d = needArg(a, name).asInt();
        if (d == 0) throw TemplateError("division by zero in 'divisibleby'");
        return v.asInt() % d == 0;
    }
    if (name == "eq" || name == "equalto" || name == "==") return valuesEqual(v, needArg(a, name));
    if (name == "ne" || name == "!=") return !valuesEqual(v, needArg(a, name));
    if (name == "lt" || name == "lessthan" || name == "<") return compareValues(v, needArg(a, name)) < 0;
    if (name == "le" || name == "<=") return compareValues(v, needArg(a, name)) <= 0;
    if (name == "gt" || name == "greaterthan" || name == ">") return compareValues(v, needArg(a, name)) > 0;
    if (name == "ge" || name == ">=") return compareValues(v, needArg(a, name)) >= 0;
    if (name == "sameas") {
        const Value& o = needArg(a, name);
        if (v.type() != o.type()) return false;
        if (v.isList()) return &v.items() == &o.items();
        if (v.isDict()) return &v.dictRef() == &o.dictRef();
        return valuesEqual(v, o);
    }
    if (name == "in") {
        const Value& c = needArg(a, name);
        if (c.isString()) return v.isString() && c.text().find(v.text()) != std::string::npos;
        if (c.isDict()) return v.isString() && c.dictRef().find(v.text()) != nullptr;
        for (const auto& item : iterate(c)) {
            if (valuesEqual(item, v)) return true;
        }
        return false;
    }
    if (name == "lower" || name == "upper") {
        if (!v.isString()) return false;
        bool anyCased = false;
        for (char c : v.text()) {
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
                anyCased = true;
                if ((name == "lower") != (c >= 'a' && c <= 'z')) return false;
            }
        }
        return anyCased;
    }
    throw TemplateError("unknown test '" + name + "'");
}

}  // namespace batchscope::engine::jinja
