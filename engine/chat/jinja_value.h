// Values of the Jinja chat-template interpreter: Python-like dynamic values (undefined, none,
// bool, int, float, string, list, dict, callable) with Python's truthiness, equality, str()
// and repr(). Strings carry a per-byte provenance mask so that text which came from the
// caller's data (message contents) can be told apart from text written by the template.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace batchscope::engine::jinja {

/// Thrown inside the interpreter; render() turns it into an Error value. Never escapes the
/// public API.
struct TemplateError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

/// A string plus, per byte, whether it came from the caller's data ("user" text). An empty
/// mask means every byte is template text. Invariant: mask is empty or mask.size() ==
/// text.size().
struct MarkedString {
    std::string text;
    std::vector<std::uint8_t> mask;

    bool anyUser() const;
    bool isUser(std::size_t i) const { return !mask.empty() && mask[i] != 0; }
    void append(const MarkedString& other);
    void append(std::string_view literal);
    MarkedString substr(std::size_t pos, std::size_t count) const;
    /// Marks every byte as user text when `user`, else leaves it as is.
    static MarkedString make(std::string text, bool user);
};

class Value;
class Evaluator;
using ValueList = std::vector<Value>;
struct Dict;
struct Callable;

/// Positional and keyword arguments of a call.
struct CallArgs {
    std::vector<Value> positional;
    std::vector<std::pair<std::string, Value>> keyword;
};

class Value {
public:
    enum class Type { Undefined, None, Bool, Int, Float, String, List, Dict, Callable };

    Value() = default;  // undefined
    static Value none();
    static Value boolean(bool b);
    static Value integer(std::int64_t i);
    static Value floating(double d);
    static Value string(std::string s, bool user = false);
    static Value string(MarkedString s);
    static Value list(ValueList items = {});
    static Value dict(std::shared_ptr<Dict> d);
    static Value newDict(bool isNamespace = false);
    static Value callable(std::shared_ptr<Callable> c);
    /// Undefined value remembering the name that was missing, for error messages.
    static Value undefined(std::string hint);

    Type type() const { return m_type; }
    bool isUndefined() const { return m_type == Type::Undefined; }
    bool isNone() const { return m_type == Type::None; }
    bool isString() const { return m_type == Type::String; }
    bool isNumber() const { return m_type == Type::Int || m_type == Type::Float || m_type == Type::Bool; }
    bool isList() const { return m_type == Type::List; }
    bool isDict() const { return m_type == Type::Dict; }
    bool isCallable() const { return m_type == Type::Callable; }

    bool asBool() const { return m_bool; }
    std::int64_t asInt() const;  ///< bool/int/float -> int
    double asFloat() const;
    const MarkedString& str() const { return *m_str; }
    const std::string& text() const { return m_str->text; }
    ValueList& items() const { return *m_list; }
    Dict& dictRef() const { return *m_dict; }
    const Callable& callableRef() const { return *m_callable; }
    /// The missing name an undefined value stands for (kept in the string slot).
    std::string undefinedHint() const { return m_str ? m_str->text : std::string(); }

    bool truthy() const;
    /// Python str(): the text a `{{ }}` writes. Marked as user text where the data came
    /// from the caller.
    MarkedString toMarked() const;
    std::string toString() const { return toMarked().text; }
    /// toMarked() for an rvalue: a string held by this value alone is moved out instead of
    /// copied (concatenation chains then append in place). Values shared with the AST, the
    /// caller's data or other variables are copied, so nothing visible changes.
    MarkedString takeMarked() &&;
    /// Python repr() (lists and dicts show their elements with it). Throws TemplateError
    /// past `maxBytes` (shared sub-lists can make a small value print exponentially long).
    std::string repr(std::size_t maxBytes = kMaxReprBytes) const;
    /// Nesting of lists/dicts (0 for scalars; a namespace counts 1: it is opaque to
    /// comparison and repr). Capped at kMaxValueDepth when the container is made.
    int depth() const { return m_depth; }
    static constexpr int kMaxValueDepth = 100;
    static constexpr std::size_t kMaxReprBytes = 16u << 20;
    const char* typeName() const;

private:
    Type m_type = Type::Undefined;
    bool m_bool = false;
    std::int64_t m_int = 0;
    double m_float = 0.0;
    std::shared_ptr<MarkedString> m_str;  ///< never mutated while shared (see takeMarked)
    std::shared_ptr<ValueList> m_list;
    std::shared_ptr<Dict> m_dict;
    std::shared_ptr<Callable> m_callable;
    int m_depth = 0;
    void appendRepr(std::string& out, std::size_t maxBytes) const;
};

/// Insertion-ordered string-keyed mapping (Python dict order). Namespaces are dicts whose
/// attributes may be assigned with `{% set ns.x = ... %}`.
struct Dict {
    std::vector<std::pair<std::string, Value>> entries;
    bool isNamespace = false;

    const Value* find(std::string_view key) const;
    void set(const std::string& key, Value v);
};

/// A built-in function or a macro. `call` may throw TemplateError.
struct Callable {
    std::string name;
    std::function<Value(Evaluator&, CallArgs&)> call;
};

/// Python ==. Namespaces compare by identity. Throws TemplateError when a comparison would
/// take more than ~1M element steps (shared sub-lists can make it exponential).
bool valuesEqual(const Value& a, const Value& b);
/// Whether any string inside `v` is user text (true too when `v` is too big to scan).
bool containsUserText(const Value& v);
/// Python ordering for numbers and strings (and lists, element-wise); throws for others.
int compareValues(const Value& a, const Value& b);
/// Python float repr ("1.0", "0.1", "1e+16").
std::string formatFloat(double d);
/// Python repr of a string ('...' with escapes).
std::string pythonStringRepr(std::string_view s);

}  // namespace batchscope::engine::jinja
