// Syntax tree of a parsed chat template. Built by the parser, read-only afterwards (one
// parsed template may be rendered from several threads at once).
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "engine/chat/jinja_value.h"

namespace batchscope::engine::jinja {

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct Expr {
    enum class Kind {
        Literal,   ///< value
        Name,      ///< name
        List,      ///< args: elements (also tuples)
        Dict,      ///< args: key0, value0, key1, value1...
        Attr,      ///< args[0].name
        Item,      ///< args[0][args[1]]
        Slice,     ///< args[0][args[1]:args[2]:args[3]] (null parts omitted)
        Call,      ///< args[0](args[1..], kwargs)
        Filter,    ///< name: filter; args[0] subject, args[1..] and kwargs its arguments
        Test,      ///< name: test; negate; args[0] subject, args[1..] arguments
        Unary,     ///< op: "-", "+", "not"
        Binary,    ///< op: + - * / // % ** ~ == != < > <= >= in "not in" and or
        Conditional,  ///< args[0] if args[1] else args[2] (args[2] may be null)
    };
    Kind kind = Kind::Literal;
    Value value;
    std::string name;  ///< name / attribute / filter / test / operator
    bool negate = false;
    std::vector<ExprPtr> args;
    std::vector<std::pair<std::string, ExprPtr>> kwargs;
    int line = 0;
    int depth = 1;  ///< height of this subtree; the parser caps it (destruction recurses)
};

struct Node;
using NodePtr = std::unique_ptr<Node>;
using NodeList = std::vector<NodePtr>;

struct MacroParam {
    std::string name;
    ExprPtr defaultValue;  ///< null: required
};

struct Node {
    enum class Kind {
        Text,      ///< text
        Output,    ///< {{ expr }}
        If,        ///< conditions[i] -> bodies[i]; elseBody when none holds
        For,       ///< for targets in expr [if filter]: body; elseBody when no iteration
        Set,       ///< targets (names, or "ns.attr") = expr
        SetBlock,  ///< {% set name %}body{% endset %}
        Macro,     ///< {% macro name(params) %}body{% endmacro %}
        CallBlock, ///< {% call expr %}body{% endcall %}: body is `caller()`
        FilterBlock,  ///< {% filter f %}body{% endfilter %}: expr is the filter applied to a Name "__body__"
        Break,
        Continue,
        Generation,   ///< Hugging Face's {% generation %}: renders its body
    };
    Kind kind = Kind::Text;
    std::string text;
    std::vector<std::string> targets;
    ExprPtr expr;
    ExprPtr filter;
    std::vector<ExprPtr> conditions;
    std::vector<NodeList> bodies;
    NodeList body;
    NodeList elseBody;
    std::vector<MacroParam> params;
    int line = 0;
};

/// A parsed template.
struct TemplateAst {
    NodeList body;
};

}  // namespace batchscope::engine::jinja
