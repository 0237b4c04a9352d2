// Expression half of the parser: Jinja's precedence climbing (parse_or ... parse_unary,
// postfix, filters and tests), literals, calls and subscripts.
// SPDX-License-Identifier: GPL-3.0-or-later
#include <algorithm>

#include "engine/chat/jinja_parser.h"

namespace batchscope::engine::jinja {
namespace {

ExprPtr makeExpr(Expr::Kind kind, int line) {
    auto e = std::make_unique<Expr>();
    e->kind = kind;
    e->line = line;
    return e;
}

}  // namespace

ExprPtr Parser::link(ExprPtr e) {
    int depth = 0;
    for (const auto& a : e->args) {
        if (a) depth = std::max(depth, a->depth);
    }
    for (const auto& [k, a] : e->kwargs) depth = std::max(depth, a->depth);
    e->depth = depth + 1;
    if (e->depth > kMaxExprDepth) fail("expression nested too deeply");
    return e;
}

ExprPtr Parser::makeBinary(std::string op, ExprPtr a, ExprPtr b) {
    auto e = makeExpr(Expr::Kind::Binary, a->line);
    e->name = std::move(op);
    e->args.push_back(std::move(a));
    e->args.push_back(std::move(b));
    return link(std::move(e));
}

// expr [, expr]* -> a tuple (list) when there is a comma.
ExprPtr Parser::parseTuple(bool withCondExpr) {
    ExprPtr first = withCondExpr ? parseExpression(true) : parseOr();
    if (!isOp(",")) return first;
    auto tuple = makeExpr(Expr::Kind::List, first->line);
    tuple->args.push_back(std::move(first));
    while (acceptOp(",")) {
        if (cur().kind == Token::Kind::BlockEnd || cur().kind == Token::Kind::VarEnd || isName("in")) break;
        tuple->args.push_back(withCondExpr ? parseExpression(true) : parseOr());
    }
    return link(std::move(tuple));
}

ExprPtr Parser::parseExpression(bool withCondExpr) {
    DepthGuard guard(*this);
    ExprPtr node = parseOr();
    if (!withCondExpr) return node;
    while (acceptName("if")) {
        auto cond = makeExpr(Expr::Kind::Conditional, node->line);
        ExprPtr test = parseOr();
        ExprPtr otherwise = acceptName("else") ? parseExpression(true) : nullptr;
        cond->args.push_back(std::move(node));
        cond->args.push_back(std::move(test));
        cond->args.push_back(std::move(otherwise));
        node = link(std::move(cond));
    }
    return node;
}

ExprPtr Parser::parseOr() {
    ExprPtr node = parseAnd();
    while (acceptName("or")) node = makeBinary("or", std::move(node), parseAnd());
    return node;
}

ExprPtr Parser::parseAnd() {
    ExprPtr node = parseNot();
    while (acceptName("and")) node = makeBinary("and", std::move(node), parseNot());
    return node;
}

ExprPtr Parser::parseNot() {
    if (isName("not")) {
        DepthGuard guard(*this);
        auto e = makeExpr(Expr::Kind::Unary, cur().line);
        ++m_pos;
        e->name = "not";
        e->args.push_back(parseNot());
        return link(std::move(e));
    }
    return parseCompare();
}

ExprPtr Parser::parseCompare() {
    ExprPtr node = parseMath1();
    while (true) {
        static const char* ops[] = {"==", "!=", "<", ">", "<=", ">="};
        bool matched = false;
        for (const char* op : ops) {
            if (acceptOp(op)) {
                node = makeBinary(op, std::move(node), parseMath1());
                matched = true;
                break;
            }
        }
        if (matched) continue;
        if (acceptName("in")) {
            node = makeBinary("in", std::move(node), parseMath1());
        } else if (isName("not") && peek().kind == Token::Kind::Name && peek().text == "in") {
            m_pos += 2;
            node = makeBinary("not in", std::move(node), parseMath1());
        } else {
            return node;
        }
    }
}

ExprPtr Parser::parseMath1() {
    ExprPtr node = parseConcat();
    while (isOp("+") || isOp("-")) {
        std::string op = m_tokens[m_pos++].text;
        node = makeBinary(op, std::move(node), parseConcat());
    }
    return node;
}

ExprPtr Parser::parseConcat() {
    ExprPtr node = parseMath2();
    while (acceptOp("~")) node = makeBinary("~", std::move(node), parseMath2());
    return node;
}

ExprPtr Parser::parseMath2() {
    ExprPtr node = parsePow();
    while (isOp("*") || isOp("/") || isOp("//") || isOp("%")) {
        std::string op = m_tokens[m_pos++].text;
        node = makeBinary(op, std::move(node), parsePow());
    }
    return node;
}

ExprPtr Parser::parsePow() {
    ExprPtr node = parseUnary(true);
    while (acceptOp("**")) node = makeBinary("**", std::move(node), parseUnary(true));
    return node;
}

ExprPtr Parser::parseUnary(bool withFilter) {
    DepthGuard guard(*this);
    ExprPtr node;
    if (isOp("-") || isOp("+")) {
        node = makeExpr(Expr::Kind::Unary, cur().line);
        node->name = m_tokens[m_pos++].text;
        node->args.push_back(parseUnary(false));
        node = link(std::move(node));
    } else {
        node = parsePrimary();
    }
    node = parsePostfix(std::move(node));
    if (withFilter) node = parseFilterExpr(std::move(node));
    return node;
}

ExprPtr Parser::parsePrimary() {
    const Token& t = cur();
    int line = t.line;
    if (t.kind == Token::Kind::Name) {
        ++m_pos;
        auto e = makeExpr(Expr::Kind::Literal, line);
        if (t.text == "true" || t.text == "True") {
            e->value = Value::boolean(true);
        } else if (t.text == "false" || t.text == "False") {
            e->value = Value::boolean(false);
        } else if (t.text == "none" || t.text == "None") {
            e->value = Value::none();
        } else {
            e->kind = Expr::Kind::Name;
            e->name = t.text;
        }
        return e;
    }
    if (t.kind == Token::Kind::String) {
        std::string s;
        while (cur().kind == Token::Kind::String) s += m_tokens[m_pos++].text;  // "a" "b" -> "ab"
        auto e = makeExpr(Expr::Kind::Literal, line);
        e->value = Value::string(std::move(s));
        return e;
    }
    if (t.kind == Token::Kind::Int || t.kind == Token::Kind::Float) {
        ++m_pos;
        auto e = makeExpr(Expr::Kind::Literal, line);
        e->value = t.kind == Token::Kind::Int ? Value::integer(t.intValue) : Value::floating(t.floatValue);
        return e;
    }
    if (acceptOp("(")) {
        if (acceptOp(")")) return makeExpr(Expr::Kind::List, line);  // empty tuple
        ExprPtr inner = parseTuple(true);
        expectOp(")");
        return inner;
    }
    if (acceptOp("[")) {
        auto e = makeExpr(Expr::Kind::List, line);
        while (!acceptOp("]")) {
            if (!e->args.empty()) expectOp(",");
            if (acceptOp("]")) break;
            e->args.push_back(parseExpression(true));
        }
        return link(std::move(e));
    }
    if (acceptOp("{")) {
        auto e = makeExpr(Expr::Kind::Dict, line);
        while (!acceptOp("}")) {
            if (!e->args.empty()) expectOp(",");
            if (acceptOp("}")) break;
            e->args.push_back(parseExpression(true));
            expectOp(":");
            e->args.push_back(parseExpression(true));
        }
        return link(std::move(e));
    }
    fail("expected an expression");
}

ExprPtr Parser::parsePostfix(ExprPtr node) {
    while (true) {
        if (isOp(".") || isOp("[")) {
            node = parseSubscript(std::move(node));
        } else if (isOp("(")) {
            node = parseCall(std::move(node));
        } else {
            return node;
        }
    }
}

ExprPtr Parser::parseFilterExpr(ExprPtr node) {
    while (true) {
        if (isOp("|")) {
            node = parseFilter(std::move(node));
        } else if (isName("is")) {
            node = parseTest(std::move(node));
        } else if (isOp("(")) {
            node = parseCall(std::move(node));
        } else {
            return node;
        }
    }
}

ExprPtr Parser::parseSubscript(ExprPtr node) {
    DepthGuard guard(*this);
    int line = cur().line;
    if (acceptOp(".")) {
        if (cur().kind == Token::Kind::Int) {
            auto e = makeExpr(Expr::Kind::Item, line);
            auto index = makeExpr(Expr::Kind::Literal, line);
            index->value = Value::integer(m_tokens[m_pos++].intValue);
            e->args.push_back(std::move(node));
            e->args.push_back(std::move(index));
            return link(std::move(e));
        }
        auto e = makeExpr(Expr::Kind::Attr, line);
        e->name = expectName();
        e->args.push_back(std::move(node));
        return link(std::move(e));
    }
    expectOp("[");
    ExprPtr parts[3];
    int part = 0;
    bool isSlice = false;
    while (!isOp("]")) {
        if (acceptOp(":")) {
            isSlice = true;
            if (++part > 2) fail("too many ':' in slice");
            continue;
        }
        if (parts[part]) fail("expected ':' or ']'");
        parts[part] = parseTuple(true);
    }
    ++m_pos;
    auto e = makeExpr(isSlice ? Expr::Kind::Slice : Expr::Kind::Item, line);
    e->args.push_back(std::move(node));
    if (!isSlice) {
        if (!parts[0]) fail("empty subscript");
        e->args.push_back(std::move(parts[0]));
        return link(std::move(e));
    }
    for (auto& p : parts) e->args.push_back(std::move(p));
    return link(std::move(e));
}

void Parser::parseCallArgs(Expr& into) {
    expectOp("(");
    bool first = true;
    while (!acceptOp(")")) {
        if (!first) expectOp(",");
        first = false;
        if (acceptOp(")")) break;
        if (cur().kind == Token::Kind::Name && peek().kind == Token::Kind::Op && peek().text == "=") {
            std::string key = expectName();
            ++m_pos;
            into.kwargs.emplace_back(std::move(key), parseExpression(true));
        } else {
            if (!into.kwargs.empty()) fail("positional argument after keyword argument");
            into.args.push_back(parseExpression(true));
        }
    }
}

ExprPtr Parser::parseCall(ExprPtr callee) {
    DepthGuard guard(*this);
    auto e = makeExpr(Expr::Kind::Call, callee->line);
    e->args.push_back(std::move(callee));
    parseCallArgs(*e);
    return link(std::move(e));
}

ExprPtr Parser::parseFilter(ExprPtr subject) {
    DepthGuard guard(*this);
    expectOp("|");
    auto e = makeExpr(Expr::Kind::Filter, cur().line);
    e->name = expectName();
    while (acceptOp(".")) e->name += "." + expectName();
    e->args.push_back(std::move(subject));
    if (isOp("(")) parseCallArgs(*e);
    return link(std::move(e));
}

ExprPtr Parser::parseTest(ExprPtr subject) {
    DepthGuard guard(*this);
    ++m_pos;  // 'is'
    auto e = makeExpr(Expr::Kind::Test, cur().line);
    e->negate = acceptName("not");
    e->name = expectName();
    e->args.push_back(std::move(subject));
    if (isOp("(")) {
        parseCallArgs(*e);
    } else {
        const Token& t = cur();
        bool startsArg = t.kind == Token::Kind::String || t.kind == Token::Kind::Int || t.kind == Token::Kind::Float ||
                         (t.kind == Token::Kind::Op && (t.text == "[" || t.text == "{")) ||
                         (t.kind == Token::Kind::Name && t.text != "else" && t.text != "or" && t.text != "and" &&
                          t.text != "if" && t.text != "is" && t.text != "in" && t.text != "not");
        if (startsArg) e->args.push_back(parsePostfix(parsePrimary()));
    }
    return link(std::move(e));
}

}  // namespace batchscope::engine::jinja
