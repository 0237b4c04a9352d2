// Expression half of the evaluator: names, literals, operators (Python semantics), calls,
// subscripts and slices, filters and tests.
// SPDX-License-Identifier: GPL-3.0-or-later
#include <cmath>

#include "engine/chat/jinja_evaluator.h"
#include "engine/chat/jinja_text.h"

namespace batchscope::engine::jinja {

const Value* argument(const CallArgs& args, std::size_t position, std::string_view keyword) {
    for (const auto& [k, v] : args.keyword) {
        if (k == keyword) return &v;
    }
    return position < args.positional.size() ? &args.positional[position] : nullptr;
}

CallArgs Evaluator::evalArgs(const Expr& e, std::size_t firstArg) {
    CallArgs args;
    for (std::size_t i = firstArg; i < e.args.size(); ++i) args.positional.push_back(eval(*e.args[i]));
    for (const auto& [k, v] : e.kwargs) args.keyword.emplace_back(k, eval(*v));
    return args;
}

Value Evaluator::call(const Value& callee, CallArgs& args) {
    if (!callee.isCallable()) {
        if (callee.isUndefined()) throw TemplateError("'" + callee.undefinedHint() + "' is undefined");
        throw TemplateError(std::string("'") + callee.typeName() + "' object is not callable");
    }
    tick();
    return callee.callableRef().call(*this, args);
}

Value Evaluator::eval(const Expr& e) {
    DepthScope depth(*this);
    switch (e.kind) {
    case Expr::Kind::Literal: return e.value;
    case Expr::Kind::Name: return lookup(e.name);
    case Expr::Kind::List: {
        ValueList items;
        items.reserve(e.args.size());
        for (const auto& a : e.args) items.push_back(eval(*a));
        return Value::list(std::move(items));
    }
    case Expr::Kind::Dict: {
        auto d = std::make_shared<Dict>();
        for (std::size_t i = 0; i + 1 < e.args.size(); i += 2) {
            Value key = eval(*e.args[i]);
            d->set(key.toString(), eval(*e.args[i + 1]));
        }
        return Value::dict(std::move(d));  // computes the nesting depth
    }
    case Expr::Kind::Attr: {
        Value obj = eval(*e.args[0]);
        if (obj.isUndefined()) throw TemplateError("'" + obj.undefinedHint() + "' is undefined");
        Value v = getAttribute(*this, obj, e.name);
        if (v.isUndefined()) return Value::undefined(std::string(obj.typeName()) + " object has no attribute '" + e.name + "'");
        return v;
    }
    case Expr::Kind::Item: {
        Value obj = eval(*e.args[0]);
        if (obj.isUndefined()) throw TemplateError("'" + obj.undefinedHint() + "' is undefined");
        Value key = eval(*e.args[1]);
        Value v = getItem(*this, obj, key);
        if (v.isUndefined() && key.isString()) v = getAttribute(*this, obj, key.text());
        if (v.isUndefined()) return Value::undefined(std::string(obj.typeName()) + " object has no element " + key.repr());
        return v;
    }
    case Expr::Kind::Slice: return evalSlice(e);
    case Expr::Kind::Call: return evalCall(e);
    case Expr::Kind::Filter: {
        Value subject = eval(*e.args[0]);
        CallArgs args = evalArgs(e, 1);
        tick();
        return applyFilter(*this, e.name, subject, args);
    }
    case Expr::Kind::Test: {
        Value subject = eval(*e.args[0]);
        CallArgs args = evalArgs(e, 1);
        return Value::boolean(applyTest(*this, e.name, subject, args) != e.negate);
    }
    case Expr::Kind::Unary: {
        Value v = eval(*e.args[0]);
        if (e.name == "not") return Value::boolean(!v.truthy());
        if (!v.isNumber()) throw TemplateError(std::string("bad operand type for unary ") + e.name + ": " + v.typeName());
        if (e.name == "+") return v.type() == Value::Type::Float ? v : Value::integer(v.asInt());
        if (v.type() == Value::Type::Float) return Value::floating(-v.asFloat());
        if (v.asInt() == INT64_MIN) throw TemplateError("integer overflow");
        return Value::integer(-v.asInt());
    }
    case Expr::Kind::Binary: return evalBinary(e);
    case Expr::Kind::Conditional: {
        if (eval(*e.args[1]).truthy()) return eval(*e.args[0]);
        if (e.args[2]) return eval(*e.args[2]);
        return Value::undefined("conditional expression without else");
    }
    }
    return {};
}

Value Evaluator::evalCall(const Expr& e) {
    Value callee = eval(*e.args[0]);
    CallArgs args = evalArgs(e, 1);
    return call(callee, args);
}

Value Evaluator::evalSlice(const Expr& e) {
    Value obj = eval(*e.args[0]);
    std::optional<std::int64_t> parts[3];
    for (int i = 0; i < 3; ++i) {
        if (!e.args[static_cast<std::size_t>(i) + 1]) continue;
        Value v = eval(*e.args[static_cast<std::size_t>(i) + 1]);
        if (v.isNone()) continue;
        if (!v.isNumber() || v.type() == Value::Type::Float) throw TemplateError("slice indices must be integers");
        parts[i] = v.asInt();
    }
    if (obj.isString()) {
        return Value::string(sliceString(obj.str(), parts[0], parts[1], parts[2]));
    }
    if (obj.isList()) {
        ValueList out;
        for (std::size_t idx : sliceIndices(obj.items().size(), parts[0], parts[1], parts[2])) out.push_back(obj.items()[idx]);
        return Value::list(std::move(out));
    }
    if (obj.isUndefined()) throw TemplateError("'" + obj.undefinedHint() + "' is undefined");
    throw TemplateError(std::string("cannot slice a ") + obj.typeName());
}

namespace {

bool containsValue(const Value& container, const Value& item) {
    if (container.isString()) {
        if (!item.isString()) throw TemplateError("'in <string>' requires a string on the left");
        return container.text().find(item.text()) != std::string::npos;
    }
    if (container.isList()) {
        for (const auto& v : container.items()) {
            if (valuesEqual(v, item)) return true;
        }
        return false;
    }
    if (container.isDict()) return item.isString() && container.dictRef().find(item.text()) != nullptr;
    if (container.isUndefined()) return false;
    throw TemplateError(std::string("argument of type '") + container.typeName() + "' is not iterable");
}

enum class BinaryOp { And, Or, Eq, Ne, Lt, Gt, Le, Ge, In, NotIn, Concat, Add, Other };

// The parser stores operators as text; a switch on length and bytes instead of a chain of
// string comparisons (this runs for every operator evaluation).
BinaryOp binaryOp(const std::string& op) {
    switch (op.size()) {
    case 1:
        switch (op[0]) {
        case '<': return BinaryOp::Lt;
        case '>': return BinaryOp::Gt;
        case '~': return BinaryOp::Concat;
        case '+': return BinaryOp::Add;
        default: return BinaryOp::Other;
        }
    case 2:
        if (op[1] == '=') {
            switch (op[0]) {
            case '=': return BinaryOp::Eq;
            case '!': return BinaryOp::Ne;
            case '<': return BinaryOp::Le;
            case '>': return BinaryOp::Ge;
            default: return BinaryOp::Other;
            }
        }
        if (op == "in") return BinaryOp::In;
        if (op == "or") return BinaryOp::Or;
        return BinaryOp::Other;
    case 3: return op == "and" ? BinaryOp::And : BinaryOp::Other;
    case 6: return op == "not in" ? BinaryOp::NotIn : BinaryOp::Other;
    default: return BinaryOp::Other;
    }
}

std::int64_t checkedInt(long double v) {
    if (v > 9.2e18L || v < -9.2e18L) throw TemplateError("integer overflow");
    return static_cast<std::int64_t>(v);
}

}  // namespace

Value Evaluator::evalBinary(const Expr& e) {
    const BinaryOp op = binaryOp(e.name);
    if (op == BinaryOp::And) {
        Value a = eval(*e.args[0]);
        return a.truthy() ? eval(*e.args[1]) : a;
    }
    if (op == BinaryOp::Or) {
        Value a = eval(*e.args[0]);
        return a.truthy() ? a : eval(*e.args[1]);
    }
    Value a = eval(*e.args[0]);
    Value b = eval(*e.args[1]);
    switch (op) {
    case BinaryOp::Eq: return Value::boolean(valuesEqual(a, b));
    case BinaryOp::Ne: return Value::boolean(!valuesEqual(a, b));
    case BinaryOp::Lt: return Value::boolean(compareValues(a, b) < 0);
    case BinaryOp::Gt: return Value::boolean(compareValues(a, b) > 0);
    case BinaryOp::Le: return Value::boolean(compareValues(a, b) <= 0);
    case BinaryOp::Ge: return Value::boolean(compareValues(a, b) >= 0);
    case BinaryOp::In: return Value::boolean(containsValue(b, a));
    case BinaryOp::NotIn: return Value::boolean(!containsValue(b, a));
    case BinaryOp::Concat: {
        // The left operand is usually the temporary of the previous `~`/`+`: append to it.
        MarkedString s = std::move(a).takeMarked();
        if (b.isString()) {
            chargeBytes(s.text.size() + b.text().size());
            s.append(b.str());
        } else {
            MarkedString t = b.toMarked();
            chargeBytes(s.text.size() + t.text.size());
            s.append(t);
        }
        return Value::string(std::move(s));
    }
    case BinaryOp::Add:
        if (a.isString() && b.isString()) {
            chargeBytes(a.text().size() + b.text().size());
            MarkedString s = std::move(a).takeMarked();
            s.append(b.str());
            return Value::string(std::move(s));
        }
        break;
    default: break;
    }
    return evalArithmetic(e.name, a, b);
}

Value Evaluator::evalArithmetic(const std::string& op, const Value& a, const Value& b) {
    auto fail = [&]() -> Value {
        if (a.isUndefined()) throw TemplateError("'" + a.undefinedHint() + "' is undefined");
        if (b.isUndefined()) throw TemplateError("'" + b.undefinedHint() + "' is undefined");
        throw TemplateError("unsupported operand types for " + op + ": '" + a.typeName() + "' and '" + b.typeName() + "'");
    };
    if (op == "+" && a.isString() && b.isString()) {
        chargeBytes(a.text().size() + b.text().size());
        MarkedString s = a.str();
        s.append(b.str());
        return Value::string(std::move(s));
    }
    if (op == "+" && a.isList() && b.isList()) {
        checkCollectionSize(a.items().size() + b.items().size());
        ValueList out = a.items();
        out.insert(out.end(), b.items().begin(), b.items().end());
        return Value::list(std::move(out));
    }
    if (op == "*" && (a.isString() || a.isList()) && b.isNumber() && b.type() != Value::Type::Float) {
        std::int64_t n = std::max<std::int64_t>(0, b.asInt());
        if (a.isString()) {
            if (!a.text().empty()) chargeBytes(a.text().size() * static_cast<std::size_t>(std::min<std::int64_t>(n, INT32_MAX)));
            MarkedString s;
            for (std::int64_t i = 0; i < n; ++i) s.append(a.str());
            return Value::string(std::move(s));
        }
        if (!a.items().empty()) checkCollectionSize(a.items().size() * static_cast<std::size_t>(std::min<std::int64_t>(n, INT32_MAX)));
        ValueList out;
        for (std::int64_t i = 0; i < n; ++i) out.insert(out.end(), a.items().begin(), a.items().end());
        return Value::list(std::move(out));
    }
    if (!a.isNumber() || !b.isNumber()) return fail();
    bool isFloat = a.type() == Value::Type::Float || b.type() == Value::Type::Float;
    if (op == "/") {
        if (b.asFloat() == 0.0) throw TemplateError("division by zero");
        return Value::floating(a.asFloat() / b.asFloat());
    }
    if (isFloat) {
        double x = a.asFloat();
        double y = b.asFloat();
        if (op == "+") return Value::floating(x + y);
        if (op == "-") return Value::floating(x - y);
        if (op == "*") return Value::floating(x * y);
        if (op == "**") return Value::floating(std::pow(x, y));
        if (y == 0.0) throw TemplateError("division by zero");
        if (op == "//") return Value::floating(std::floor(x / y));
        if (op == "%") {
            double r = std::fmod(x, y);
            if (r != 0.0 && ((r < 0) != (y < 0))) r += y;
            return Value::floating(r);
        }
        return fail();
    }
    std::int64_t x = a.asInt();
    std::int64_t y = b.asInt();
    if (op == "+") return Value::integer(checkedInt(static_cast<long double>(x) + y));
    if (op == "-") return Value::integer(checkedInt(static_cast<long double>(x) - y));
    if (op == "*") return Value::integer(checkedInt(static_cast<long double>(x) * y));
    if (op == "**") {
        if (y < 0) return Value::floating(std::pow(static_cast<double>(x), static_cast<double>(y)));
        return Value::integer(checkedInt(std::pow(static_cast<long double>(x), static_cast<long double>(y))));
    }
    if (y == 0) throw TemplateError("division by zero");
    if (y == -1 && x == INT64_MIN) throw TemplateError("integer overflow");
    if (op == "//") {
        std::int64_t q = x / y;
        if ((x % y != 0) && ((x < 0) != (y < 0))) --q;
        return Value::integer(q);
    }
    if (op == "%") {
        std::int64_t r = x % y;
        if (r != 0 && ((r < 0) != (y < 0))) r += y;
        return Value::integer(r);
    }
    return fail();
}

}  // namespace batchscope::engine::jinja
