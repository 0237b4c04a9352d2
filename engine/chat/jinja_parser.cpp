// SPDX-License-Identifier: GPL-3.0-or-later
#include "engine/chat/jinja_parser.h"

#include <algorithm>

namespace batchscope::engine::jinja {

DepthGuard::DepthGuard(Parser& p) : m_parser(p) {
    if (++m_parser.m_depth > Parser::kMaxNesting) {
        --m_parser.m_depth;
        m_parser.fail("template nested too deeply (more than " + std::to_string(Parser::kMaxNesting) + " levels)");
    }
}

TemplateAst parseTemplate(std::string_view source) { return Parser(tokenize(source)).parse(); }

TemplateAst Parser::parse() {
    TemplateAst ast;
    ast.body = parseBody({}, nullptr);
    if (cur().kind != Token::Kind::Eof) fail("unexpected tag");
    return ast;
}

const Token& Parser::peek(std::size_t ahead) const {
    std::size_t i = std::min(m_pos + ahead, m_tokens.size() - 1);
    return m_tokens[i];
}
bool Parser::isOp(std::string_view op) const { return cur().kind == Token::Kind::Op && cur().text == op; }
bool Parser::isName(std::string_view name) const { return cur().kind == Token::Kind::Name && cur().text == name; }
bool Parser::acceptOp(std::string_view op) {
    if (!isOp(op)) return false;
    ++m_pos;
    return true;
}
bool Parser::acceptName(std::string_view name) {
    if (!isName(name)) return false;
    ++m_pos;
    return true;
}
void Parser::expectOp(std::string_view op) {
    if (!acceptOp(op)) fail("expected '" + std::string(op) + "'");
}
std::string Parser::expectName() {
    if (cur().kind != Token::Kind::Name) fail("expected a name");
    return m_tokens[m_pos++].text;
}

void Parser::fail(const std::string& what) const {
    std::string near;
    switch (cur().kind) {
    case Token::Kind::Eof: near = "end of template"; break;
    case Token::Kind::BlockEnd: near = "'%}'"; break;
    case Token::Kind::VarEnd: near = "'}}'"; break;
    case Token::Kind::Text: near = "text"; break;
    default: near = "'" + cur().text + "'";
    }
    throw TemplateError("syntax error at line " + std::to_string(cur().line) + ": " + what + " (near " + near + ")");
}

void Parser::expectBlockEnd() {
    if (cur().kind != Token::Kind::BlockEnd) fail("expected '%}'");
    ++m_pos;
}

// Parses nodes until `{% <one of endTags>` (consumed up to the tag name) or end of input.
NodeList Parser::parseBody(const std::vector<std::string_view>& endTags, std::string* endedBy) {
    DepthGuard guard(*this);
    NodeList nodes;
    while (true) {
        const Token& t = cur();
        if (t.kind == Token::Kind::Eof) {
            if (!endTags.empty()) fail("missing '{% " + std::string(endTags.back()) + " %}'");
            return nodes;
        }
        if (t.kind == Token::Kind::Text) {
            auto n = std::make_unique<Node>();
            n->kind = Node::Kind::Text;
            n->text = t.text;
            n->line = t.line;
            nodes.push_back(std::move(n));
            ++m_pos;
        } else if (t.kind == Token::Kind::VarBegin) {
            ++m_pos;
            auto n = std::make_unique<Node>();
            n->kind = Node::Kind::Output;
            n->line = t.line;
            n->expr = parseTuple(true);
            if (cur().kind != Token::Kind::VarEnd) fail("expected '}}'");
            ++m_pos;
            nodes.push_back(std::move(n));
        } else if (t.kind == Token::Kind::BlockBegin) {
            const Token& name = peek();
            if (name.kind == Token::Kind::Name &&
                std::find(endTags.begin(), endTags.end(), name.text) != endTags.end()) {
                m_pos += 2;
                if (endedBy) *endedBy = name.text;
                return nodes;
            }
            ++m_pos;
            nodes.push_back(parseStatement());
        } else {
            fail("unexpected token");
        }
    }
}

NodePtr Parser::parseStatement() {
    if (cur().kind != Token::Kind::Name) fail("expected a tag name");
    std::string tag = cur().text;
    int line = cur().line;
    ++m_pos;
    NodePtr n;
    if (tag == "if") {
        n = parseIf();
    } else if (tag == "for") {
        n = parseFor();
    } else if (tag == "set") {
        n = parseSet();
    } else if (tag == "macro") {
        n = parseMacro();
    } else if (tag == "call") {
        n = parseCallBlock();
    } else if (tag == "filter") {
        n = parseFilterBlock();
    } else if (tag == "break" || tag == "continue") {
        n = std::make_unique<Node>();
        n->kind = tag == "break" ? Node::Kind::Break : Node::Kind::Continue;
        expectBlockEnd();
    } else if (tag == "generation") {
        expectBlockEnd();
        n = parseSimpleBlock(Node::Kind::Generation, "endgeneration");
    } else {
        --m_pos;
        fail("unknown tag '" + tag + "'");
    }
    n->line = line;
    return n;
}

NodePtr Parser::parseSimpleBlock(Node::Kind kind, std::string_view endTag) {
    auto n = std::make_unique<Node>();
    n->kind = kind;
    n->body = parseBody({endTag}, nullptr);
    expectBlockEnd();
    return n;
}

NodePtr Parser::parseIf() {
    auto n = std::make_unique<Node>();
    n->kind = Node::Kind::If;
    while (true) {
        n->conditions.push_back(parseTuple(true));
        expectBlockEnd();
        std::string ended;
        n->bodies.push_back(parseBody({"elif", "else", "endif"}, &ended));
        if (ended == "elif") continue;
        if (ended == "else") {
            expectBlockEnd();
            n->elseBody = parseBody({"endif"}, nullptr);
        }
        expectBlockEnd();
        return n;
    }
}

std::vector<std::string> Parser::parseTargets() {
    std::vector<std::string> targets;
    bool paren = acceptOp("(");
    do {
        targets.push_back(expectName());
    } while (acceptOp(","));
    if (paren) expectOp(")");
    return targets;
}

NodePtr Parser::parseFor() {
    auto n = std::make_unique<Node>();
    n->kind = Node::Kind::For;
    n->targets = parseTargets();
    if (!acceptName("in")) fail("expected 'in' in for loop");
    n->expr = parseTuple(false);
    if (acceptName("if")) n->filter = parseExpression(true);
    if (acceptName("recursive")) fail("recursive loops are not supported");
    expectBlockEnd();
    std::string ended;
    n->body = parseBody({"else", "endfor"}, &ended);
    if (ended == "else") {
        expectBlockEnd();
        n->elseBody = parseBody({"endfor"}, nullptr);
    }
    expectBlockEnd();
    return n;
}

NodePtr Parser::parseSet() {
    auto n = std::make_unique<Node>();
    std::string first = expectName();
    if (acceptOp(".")) {
        n->targets.push_back(first + "." + expectName());
    } else {
        n->targets.push_back(first);
        while (acceptOp(",")) n->targets.push_back(expectName());
    }
    if (acceptOp("=")) {
        n->kind = Node::Kind::Set;
        n->expr = parseTuple(true);
        expectBlockEnd();
        return n;
    }
    if (n->targets.size() != 1 || n->targets[0].find('.') != std::string::npos) fail("expected '='");
    if (acceptOp("|")) {
        --m_pos;  // {% set x | filter %}...{% endset %}
        auto subject = std::make_unique<Expr>();
        subject->kind = Expr::Kind::Name;
        subject->name = "__body__";
        n->filter = parseFilterExpr(std::move(subject));
    }
    expectBlockEnd();
    n->kind = Node::Kind::SetBlock;
    n->body = parseBody({"endset"}, nullptr);
    expectBlockEnd();
    return n;
}

NodePtr Parser::parseMacro() {
    auto n = std::make_unique<Node>();
    n->kind = Node::Kind::Macro;
    n->text = expectName();
    expectOp("(");
    while (!acceptOp(")")) {
        if (!n->params.empty()) expectOp(",");
        if (acceptOp(")")) break;
        MacroParam p;
        p.name = expectName();
        if (acceptOp("=")) p.defaultValue = parseExpression(true);
        n->params.push_back(std::move(p));
    }
    expectBlockEnd();
    n->body = parseBody({"endmacro"}, nullptr);
    if (cur().kind == Token::Kind::Name) ++m_pos;  // {% endmacro name %}
    expectBlockEnd();
    return n;
}

NodePtr Parser::parseCallBlock() {
    auto n = std::make_unique<Node>();
    n->kind = Node::Kind::CallBlock;
    if (isOp("(")) fail("call blocks with caller arguments are not supported");
    n->expr = parseExpression(true);
    if (n->expr->kind != Expr::Kind::Call) fail("expected a macro call after 'call'");
    expectBlockEnd();
    n->body = parseBody({"endcall"}, nullptr);
    expectBlockEnd();
    return n;
}

NodePtr Parser::parseFilterBlock() {
    auto n = std::make_unique<Node>();
    n->kind = Node::Kind::FilterBlock;
    auto subject = std::make_unique<Expr>();
    subject->kind = Expr::Kind::Name;
    subject->name = "__body__";
    --m_pos;  // reuse the filter-expression parser: it expects to sit on '|'
    m_tokens[m_pos] = Token{Token::Kind::Op, "|", 0, 0.0, cur().line};
    n->expr = parseFilterExpr(std::move(subject));
    expectBlockEnd();
    n->body = parseBody({"endfilter"}, nullptr);
    expectBlockEnd();
    return n;
}

}  // namespace batchscope::engine::jinja
