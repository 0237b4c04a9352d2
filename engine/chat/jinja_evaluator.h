// Executes a parsed chat template against caller-supplied variables. Sandboxed: a template
// sees only the variables given and the built-ins (filters, tests, string/dict methods,
// range/namespace/raise_exception/strftime_now); there is no attribute access to anything
// else, no I/O, no mutation of the caller's values. Bounded: loop iterations, call depth,
// evaluation depth, output and string sizes and wall time are all capped (RenderLimits);
// exceeding one throws TemplateError.
// Threading: one Evaluator per render, used by one thread.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <chrono>
#include <cstdint>
#include <ctime>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/chat/jinja_ast.h"
#include "engine/chat/jinja_value.h"

namespace batchscope::engine::jinja {

/// Caps on one render. Defaults suit chat prompts of any realistic size.
struct RenderLimits {
    std::size_t maxOutputBytes = 16u << 20;      ///< rendered text, and any one string value
    std::int64_t maxLoopIterations = 1'000'000;  ///< summed over all loops
    std::size_t maxCollectionSize = 100'000;     ///< elements in one list (range, +, *)
    std::size_t maxAllocatedBytes = 256u << 20;  ///< all strings the render creates, summed
    int maxCallDepth = 32;                       ///< nested macro calls
    int maxEvalDepth = 400;                      ///< nested statement + expression evaluation
    std::chrono::milliseconds timeout{2000};     ///< wall time of the whole render
};

struct RenderOptions {
    RenderLimits limits;
    /// What strftime_now() formats (seconds since the epoch, local time); empty: the clock.
    std::optional<std::time_t> now;
};

/// Variables visible to a template.
using Variables = std::map<std::string, Value>;

class Evaluator {
public:
    Evaluator(const RenderOptions& options, const Variables& variables);
    /// Breaks namespace chains and cycles so that releasing them neither recurses deeply
    /// nor leaks.
    ~Evaluator();
    Evaluator(const Evaluator&) = delete;
    Evaluator& operator=(const Evaluator&) = delete;
    MarkedString run(const TemplateAst& ast);

    const RenderLimits& limits() const { return m_options.limits; }
    const RenderOptions& options() const { return m_options; }
    /// Counts one unit of work; throws when the time budget is spent.
    void tick();
    /// Throws when a string of `bytes` would exceed the size cap.
    void checkStringSize(std::size_t bytes) const;
    void checkCollectionSize(std::size_t count) const;
    /// Counts `bytes` of newly made string against maxAllocatedBytes (and checks the size
    /// of that one string).
    void chargeBytes(std::size_t bytes);
    /// Remembers a namespace made during the render (see ~Evaluator).
    void adoptNamespace(const std::shared_ptr<Dict>& ns) { m_namespaces.push_back(ns); }
    /// Calls a callable value with arguments (macros, built-ins, bound methods).
    Value call(const Value& callee, CallArgs& args);

    struct Frame;
    struct Macro;
    enum class Flow { Normal, Break, Continue };

private:
    struct Output;
    /// Bounds the recursion of exec/eval so a hostile template cannot overflow the stack.
    struct DepthScope {
        explicit DepthScope(Evaluator& ev) : m_ev(ev) {
            if (++m_ev.m_evalDepth > m_ev.limits().maxEvalDepth) {
                --m_ev.m_evalDepth;
                throw TemplateError("template evaluation nested too deeply");
            }
        }
        ~DepthScope() { --m_ev.m_evalDepth; }
        DepthScope(const DepthScope&) = delete;
        DepthScope& operator=(const DepthScope&) = delete;
        Evaluator& m_ev;
    };
    Flow execBody(const NodeList& body, Output& out);
    Flow execNode(const Node& node, Output& out);
    Flow execFor(const Node& node, Output& out);
    void execSet(const Node& node);
    void defineMacro(const Node& node);
    Value callMacro(const Macro& macro, CallArgs& args, const Node* callerBody);
    MarkedString renderToString(const NodeList& body);

    Value eval(const Expr& e);
    Value evalBinary(const Expr& e);
    Value evalArithmetic(const std::string& op, const Value& a, const Value& b);
    Value evalCall(const Expr& e);
    Value evalSlice(const Expr& e);
    CallArgs evalArgs(const Expr& e, std::size_t firstArg);
    Value lookup(const std::string& name) const;
    void assign(const std::string& name, Value v);

    RenderOptions m_options;
    std::shared_ptr<Frame> m_frame;
    std::chrono::steady_clock::time_point m_deadline;
    std::int64_t m_loopIterations = 0;
    std::uint64_t m_ticks = 0;
    std::size_t m_allocatedBytes = 0;
    std::vector<std::shared_ptr<Dict>> m_namespaces;
    /// Macros defined during the render. A macro keeps its defining frame, which holds the
    /// macro itself (a reference cycle); ~Evaluator cuts it so the frames are freed.
    std::vector<std::shared_ptr<Macro>> m_macros;
    int m_callDepth = 0;
    int m_evalDepth = 0;
};

// Built-ins, each in its own file.
Value applyFilter(Evaluator& ev, const std::string& name, const Value& subject, CallArgs& args);
bool applyTest(Evaluator& ev, const std::string& name, const Value& subject, CallArgs& args);
/// obj.name: dict keys, then string/dict/list methods (bound to obj). Undefined if absent.
Value getAttribute(Evaluator& ev, const Value& obj, const std::string& name);
/// obj[key]: list/string index, dict key; undefined if absent (Jinja's getitem).
Value getItem(Evaluator& ev, const Value& obj, const Value& key);
/// range, namespace, dict, raise_exception, strftime_now.
Variables builtinGlobals();
/// Elements a for loop visits: list items, dict keys, string characters; undefined: none.
ValueList iterate(const Value& v);

/// Looks up a keyword or positional argument of a built-in.
const Value* argument(const CallArgs& args, std::size_t position, std::string_view keyword);

}  // namespace batchscope::engine::jinja
