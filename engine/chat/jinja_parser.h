// Parser of the Jinja subset used by chat templates: statements (if/elif/else, for/else,
// set, set-block, macro, call, filter blocks, break/continue, generation) and expressions
// with Jinja's operator precedence. Nesting is bounded so a hostile template gets an error,
// not a stack overflow.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "engine/chat/jinja_ast.h"
#include "engine/chat/jinja_lexer.h"

namespace batchscope::engine::jinja {

/// Parses a whole template. Throws TemplateError naming the line on a syntax error.
TemplateAst parseTemplate(std::string_view source);

/// Implementation detail of parseTemplate (split over two files: statements, expressions).
class Parser {
public:
    explicit Parser(std::vector<Token> tokens) : m_tokens(std::move(tokens)) {}
    TemplateAst parse();

    static constexpr int kMaxNesting = 128;  ///< blocks + expression depth
    static constexpr int kMaxExprDepth = 256;

private:
    friend struct DepthGuard;
    // statements (jinja_parser.cpp)
    NodeList parseBody(const std::vector<std::string_view>& endTags, std::string* endedBy);
    NodePtr parseStatement();
    NodePtr parseIf();
    NodePtr parseFor();
    NodePtr parseSet();
    NodePtr parseMacro();
    NodePtr parseCallBlock();
    NodePtr parseFilterBlock();
    NodePtr parseSimpleBlock(Node::Kind kind, std::string_view endTag);
    void expectBlockEnd();
    std::vector<std::string> parseTargets();

    // expressions (jinja_parse_expr.cpp)
    ExprPtr parseTuple(bool withCondExpr);
    ExprPtr parseExpression(bool withCondExpr = true);
    ExprPtr parseOr();
    ExprPtr parseAnd();
    ExprPtr parseNot();
    ExprPtr parseCompare();
    ExprPtr parseMath1();
    ExprPtr parseConcat();
    ExprPtr parseMath2();
    ExprPtr parsePow();
    ExprPtr parseUnary(bool withFilter);
    ExprPtr parsePrimary();
    ExprPtr parsePostfix(ExprPtr node);
    ExprPtr parseFilterExpr(ExprPtr node);
    ExprPtr parseSubscript(ExprPtr node);
    ExprPtr parseCall(ExprPtr callee);
    ExprPtr parseFilter(ExprPtr subject);
    ExprPtr parseTest(ExprPtr subject);
    void parseCallArgs(Expr& into);
    /// Sets e's depth from its children; fails past kMaxExprDepth (left-leaning chains such
    /// as 1+1+1+... are built by loops, not recursion, so DepthGuard does not see them).
    ExprPtr link(ExprPtr e);
    ExprPtr makeBinary(std::string op, ExprPtr a, ExprPtr b);

    // token stream
    const Token& cur() const { return m_tokens[m_pos]; }
    const Token& peek(std::size_t ahead = 1) const;
    bool isOp(std::string_view op) const;
    bool isName(std::string_view name) const;
    bool acceptOp(std::string_view op);
    bool acceptName(std::string_view name);
    void expectOp(std::string_view op);
    std::string expectName();
    [[noreturn]] void fail(const std::string& what) const;

    std::vector<Token> m_tokens;
    std::size_t m_pos = 0;
    int m_depth = 0;
};

/// Counts nesting while a parse function runs; throws past Parser::kMaxNesting.
struct DepthGuard {
    explicit DepthGuard(Parser& p);
    ~DepthGuard() { --m_parser.m_depth; }
    DepthGuard(const DepthGuard&) = delete;
    DepthGuard& operator=(const DepthGuard&) = delete;
    Parser& m_parser;
};

}  // namespace batchscope::engine::jinja
