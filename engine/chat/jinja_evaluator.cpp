// Statement half of the evaluator: output, if, for (with the loop object), set, macros,
// call/filter blocks, and the limits bookkeeping.
// SPDX-License-Identifier: GPL-3.0-or-later
#include "engine/chat/jinja_evaluator.h"

#include <algorithm>
#include <iterator>
#include <unordered_map>

namespace batchscope::engine::jinja {

/// A variable scope. Loops and macro calls open a child frame; `if` does not (Jinja scoping).
struct Evaluator::Frame {
    std::unordered_map<std::string, Value> vars;
    std::shared_ptr<Frame> parent;
};

struct Evaluator::Macro {
    const Node* node = nullptr;
    std::shared_ptr<Frame> definedIn;
};

/// Where rendered text goes; every append is checked against the output cap.
struct Evaluator::Output {
    MarkedString text;
    Evaluator* ev = nullptr;
    void append(const MarkedString& s) {
        ev->checkStringSize(text.text.size() + s.text.size());
        ev->chargeBytes(s.text.size());
        text.append(s);
    }
    void append(std::string_view literal) {  // template text: no copy into a MarkedString
        ev->checkStringSize(text.text.size() + literal.size());
        ev->chargeBytes(literal.size());
        text.append(literal);
    }
    void appendValue(const Value& v) {  // a string value is appended without a copy
        if (v.isString()) append(v.str());
        else append(v.toMarked());
    }
};

Evaluator::Evaluator(const RenderOptions& options, const Variables& variables) : m_options(options) {
    // Built once: the built-ins are stateless callables, immutable and safe to share between
    // renders and threads.
    static const Variables kGlobals = builtinGlobals();
    auto globals = std::make_shared<Frame>();
    for (const auto& [name, value] : kGlobals) globals->vars[name] = value;
    auto root = std::make_shared<Frame>();
    root->parent = globals;
    for (const auto& [name, value] : variables) root->vars[name] = value;
    m_frame = root;
}

Evaluator::~Evaluator() {
    for (auto& ns : m_namespaces) ns->entries.clear();
    for (auto& macro : m_macros) macro->definedIn.reset();  // frame -> macro -> frame
}

void Evaluator::chargeBytes(std::size_t bytes) {
    checkStringSize(bytes);
    m_allocatedBytes += bytes;
    if (m_allocatedBytes > m_options.limits.maxAllocatedBytes) {
        throw TemplateError("template creates more than " + std::to_string(m_options.limits.maxAllocatedBytes) +
                            " bytes of strings");
    }
}

MarkedString Evaluator::run(const TemplateAst& ast) {
    m_deadline = std::chrono::steady_clock::now() + m_options.limits.timeout;
    Output out;
    out.ev = this;
    Flow flow = execBody(ast.body, out);
    if (flow != Flow::Normal) throw TemplateError("'break' or 'continue' outside a loop");
    return std::move(out.text);
}

void Evaluator::tick() {
    if ((++m_ticks & 0xf) == 0 && std::chrono::steady_clock::now() > m_deadline) {
        throw TemplateError("template took longer than " + std::to_string(m_options.limits.timeout.count()) + " ms");
    }
}

void Evaluator::checkStringSize(std::size_t bytes) const {
    if (bytes > m_options.limits.maxOutputBytes) {
        throw TemplateError("template output exceeds " + std::to_string(m_options.limits.maxOutputBytes) + " bytes");
    }
}

void Evaluator::checkCollectionSize(std::size_t count) const {
    if (count > m_options.limits.maxCollectionSize) {
        throw TemplateError("list exceeds " + std::to_string(m_options.limits.maxCollectionSize) + " elements");
    }
}

Value Evaluator::lookup(const std::string& name) const {
    for (const Frame* f = m_frame.get(); f; f = f->parent.get()) {
        auto it = f->vars.find(name);
        if (it != f->vars.end()) return it->second;
    }
    return Value::undefined(name);
}

void Evaluator::assign(const std::string& name, Value v) { m_frame->vars[name] = std::move(v); }

Evaluator::Flow Evaluator::execBody(const NodeList& body, Output& out) {
    for (const auto& node : body) {
        Flow flow = execNode(*node, out);
        if (flow != Flow::Normal) return flow;
    }
    return Flow::Normal;
}

Evaluator::Flow Evaluator::execNode(const Node& node, Output& out) {
    DepthScope depth(*this);
    tick();
    switch (node.kind) {
    case Node::Kind::Text: out.append(std::string_view(node.text)); break;
    case Node::Kind::Output: out.appendValue(eval(*node.expr)); break;
    case Node::Kind::If:
        for (std::size_t i = 0; i < node.conditions.size(); ++i) {
            if (eval(*node.conditions[i]).truthy()) return execBody(node.bodies[i], out);
        }
        return execBody(node.elseBody, out);
    case Node::Kind::For: return execFor(node, out);
    case Node::Kind::Set: execSet(node); break;
    case Node::Kind::SetBlock: {
        Value body = Value::string(renderToString(node.body));
        if (node.filter) {
            auto saved = m_frame;
            m_frame = std::make_shared<Frame>(Frame{{{"__body__", body}}, saved});
            body = eval(*node.filter);
            m_frame = saved;
        }
        assign(node.targets[0], body);
        break;
    }
    case Node::Kind::Macro: defineMacro(node); break;
    case Node::Kind::CallBlock: {
        const Expr& callExpr = *node.expr;
        Value callee = eval(*callExpr.args[0]);
        CallArgs args = evalArgs(callExpr, 1);
        if (!callee.isCallable() || !callee.callableRef().name.starts_with("macro ")) {
            throw TemplateError("'call' block needs a macro");
        }
        auto caller = std::make_shared<Callable>();
        caller->name = "caller";
        auto frame = m_frame;
        caller->call = [this, &node, frame](Evaluator&, CallArgs&) {
            auto saved = m_frame;
            m_frame = std::make_shared<Frame>(Frame{{}, frame});
            MarkedString s = renderToString(node.body);
            m_frame = saved;
            return Value::string(std::move(s));
        };
        args.keyword.emplace_back("caller", Value::callable(caller));
        out.append(call(callee, args).toMarked());
        break;
    }
    case Node::Kind::FilterBlock: {
        Value body = Value::string(renderToString(node.body));
        auto saved = m_frame;
        m_frame = std::make_shared<Frame>(Frame{{{"__body__", body}}, saved});
        Value filtered = eval(*node.expr);
        m_frame = saved;
        out.append(filtered.toMarked());
        break;
    }
    case Node::Kind::Break: return Flow::Break;
    case Node::Kind::Continue: return Flow::Continue;
    case Node::Kind::Generation: return execBody(node.body, out);
    }
    return Flow::Normal;
}

MarkedString Evaluator::renderToString(const NodeList& body) {
    Output inner;
    inner.ev = this;
    if (execBody(body, inner) != Flow::Normal) throw TemplateError("'break' or 'continue' outside a loop");
    return std::move(inner.text);
}

namespace {

// Entries appended directly (no lookups). `d` is fresh (empty) or the previous iteration's
// loop object that nothing else refers to, whose entries are overwritten in place.
Value makeLoopObject(std::shared_ptr<Dict>& d, const ValueList& items, std::size_t i, const Value& cycle) {
    std::int64_t n = static_cast<std::int64_t>(items.size());
    std::int64_t idx = static_cast<std::int64_t>(i);
    Value values[] = {Value::integer(idx), Value::integer(idx + 1), Value::integer(n - idx - 1),
                      Value::integer(n - idx), Value::boolean(i == 0), Value::boolean(idx == n - 1),
                      Value::integer(n), Value::integer(1), Value::integer(0),
                      i > 0 ? items[i - 1] : Value{}, idx + 1 < n ? items[i + 1] : Value{}, cycle};
    auto& e = d->entries;
    if (e.empty()) {
        static const char* const kNames[] = {"index0", "index", "revindex0", "revindex", "first", "last",
                                             "length", "depth", "depth0", "previtem", "nextitem", "cycle"};
        e.reserve(std::size(kNames));
        for (std::size_t k = 0; k < std::size(kNames); ++k) e.emplace_back(kNames[k], std::move(values[k]));
    } else {
        for (std::size_t k = 0; k < e.size(); ++k) e[k].second = std::move(values[k]);
    }
    return Value::dict(d);
}

}  // namespace

Evaluator::Flow Evaluator::execFor(const Node& node, Output& out) {
    ValueList all = iterate(eval(*node.expr));
    auto saved = m_frame;
    m_frame = std::make_shared<Frame>(Frame{{}, saved});
    auto bindTargets = [&](const Value& item) {
        if (node.targets.size() == 1) {
            assign(node.targets[0], item);
            return;
        }
        ValueList parts = iterate(item);
        if (parts.size() != node.targets.size()) {
            throw TemplateError("cannot unpack " + std::to_string(parts.size()) + " values into " +
                                std::to_string(node.targets.size()) + " loop variables");
        }
        for (std::size_t k = 0; k < parts.size(); ++k) assign(node.targets[k], parts[k]);
    };
    ValueList items;
    if (node.filter) {
        for (const auto& item : all) {
            bindTargets(item);
            if (eval(*node.filter).truthy()) items.push_back(item);
        }
    } else {
        items = std::move(all);
    }
    // One loop.cycle per loop, reading the current index.
    auto current = std::make_shared<std::size_t>(0);
    auto cycleFn = std::make_shared<Callable>();
    cycleFn->name = "loop.cycle";
    cycleFn->call = [current](Evaluator&, CallArgs& args) {
        if (args.positional.empty()) throw TemplateError("loop.cycle() needs at least one argument");
        return args.positional[*current % args.positional.size()];
    };
    const Value cycle = Value::callable(cycleFn);
    std::shared_ptr<Dict> loopObject;
    for (std::size_t i = 0; i < items.size(); ++i) {
        *current = i;
        if (++m_loopIterations > m_options.limits.maxLoopIterations) {
            m_frame = saved;
            throw TemplateError("template exceeds " + std::to_string(m_options.limits.maxLoopIterations) +
                                " loop iterations");
        }
        // A fresh scope per iteration, as Jinja's: drop what the body set, but keep the nodes
        // of the loop variables, which are overwritten (no rehash, no allocation).
        std::erase_if(m_frame->vars, [&](const auto& kv) {
            return kv.first != "loop" && std::find(node.targets.begin(), node.targets.end(), kv.first) == node.targets.end();
        });
        // Reuse last iteration's loop object unless the template kept a reference to it
        // (ours and the frame's are the only two otherwise).
        if (!loopObject || loopObject.use_count() > 2) loopObject = std::make_shared<Dict>();
        bindTargets(items[i]);
        assign("loop", makeLoopObject(loopObject, items, i, cycle));
        Flow flow;
        try {
            flow = execBody(node.body, out);
        } catch (...) {
            m_frame = saved;
            throw;
        }
        if (flow == Flow::Break) break;
    }
    m_frame = saved;
    if (items.empty()) return execBody(node.elseBody, out);
    return Flow::Normal;
}

void Evaluator::execSet(const Node& node) {
    Value v = eval(*node.expr);
    if (node.targets.size() > 1) {
        ValueList parts = iterate(v);
        if (parts.size() != node.targets.size()) throw TemplateError("cannot unpack values in 'set'");
        for (std::size_t k = 0; k < parts.size(); ++k) assign(node.targets[k], parts[k]);
        return;
    }
    const std::string& target = node.targets[0];
    auto dot = target.find('.');
    if (dot == std::string::npos) {
        assign(target, std::move(v));
        return;
    }
    Value ns = lookup(target.substr(0, dot));
    if (!ns.isDict() || !ns.dictRef().isNamespace) {
        throw TemplateError("cannot assign attribute on '" + target.substr(0, dot) + "': not a namespace");
    }
    ns.dictRef().set(target.substr(dot + 1), std::move(v));
}

void Evaluator::defineMacro(const Node& node) {
    auto macro = std::make_shared<Macro>(Macro{&node, m_frame});
    m_macros.push_back(macro);
    auto c = std::make_shared<Callable>();
    c->name = "macro " + node.text;
    c->call = [this, macro](Evaluator&, CallArgs& args) { return callMacro(*macro, args, nullptr); };
    assign(node.text, Value::callable(c));
}

Value Evaluator::callMacro(const Macro& macro, CallArgs& args, const Node* /*callerBody*/) {
    const Node& node = *macro.node;
    if (m_callDepth >= m_options.limits.maxCallDepth) {
        throw TemplateError("macro calls nested deeper than " + std::to_string(m_options.limits.maxCallDepth));
    }
    if (args.positional.size() > node.params.size()) {
        throw TemplateError("macro '" + node.text + "' takes " + std::to_string(node.params.size()) + " arguments");
    }
    auto frame = std::make_shared<Frame>(Frame{{}, macro.definedIn});
    auto saved = m_frame;
    m_frame = frame;
    ++m_callDepth;
    try {
        for (std::size_t i = 0; i < node.params.size(); ++i) {
            const MacroParam& p = node.params[i];
            const Value* given = i < args.positional.size() ? &args.positional[i] : nullptr;
            for (const auto& [k, v] : args.keyword) {
                if (k == p.name) given = &v;
            }
            frame->vars[p.name] = given ? *given : (p.defaultValue ? eval(*p.defaultValue) : Value::undefined(p.name));
        }
        for (const auto& [k, v] : args.keyword) {
            if (k == "caller") frame->vars["caller"] = v;
        }
        MarkedString s = renderToString(node.body);
        --m_callDepth;
        m_frame = saved;
        return Value::string(std::move(s));
    } catch (...) {
        --m_callDepth;
        m_frame = saved;
        throw;
    }
}

}  // namespace batchscope::engine::jinja
