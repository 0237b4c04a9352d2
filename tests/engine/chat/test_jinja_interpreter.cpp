// The interpreter against Python's jinja2 on small templates that each exercise one part of
// the language (expected strings were rendered by jinja2 3.1 set up as apply_chat_template
// sets it up; the generator is tools/chat_template_cases.py), plus provenance tracking.
// SPDX-License-Identifier: GPL-3.0-or-later
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "engine/chat/chat_template.h"
#include "tests/engine/chat/chat_test_data.h"

namespace batchscope::engine {
namespace {

struct JinjaCase {
    const char* source;
    const char* variables;  ///< JSON object
    const char* expected;   ///< "ERROR: ..." where jinja2 raised
};

// Generated with jinja2 (ImmutableSandboxedEnvironment, trim_blocks, lstrip_blocks,
// loopcontrols, HF tojson, raise_exception, strftime_now at 2026-07-26).
const JinjaCase kCases[] = {
    {"{{ 'a' + 'b' }}|{{ 1 + 2 * 3 }}|{{ (1 + 2) * 3 }}|{{ 7 // 2 }}|{{ -7 // 2 }}|{{ -7 % 3 }}|{{ 2 ** 10 }}|{{ 7 / 2 }}",
     R"json({})json",
     "ab|7|9|3|-4|2|1024|3.5"},
    {"{{ 1 == 1.0 }} {{ 'a' ~ 1 ~ none }} {{ true and 'x' }} {{ false or 0 }} {{ not none }}",
     R"json({})json",
     "True a1None x 0 True"},
    {"{{ [1, 'a', none, true, 1.5] }} {{ {'k': [1, 2], 'j': {'x': 'y'}} }}",
     R"json({})json",
     "[1, 'a', None, True, 1.5] {'k': [1, 2], 'j': {'x': 'y'}}"},
    {"{{ 0.1 }} {{ 1e16 }} {{ 1.0 }} {{ 123456789.125 }} {{ 1e-5 }} {{ 3.0 / 7 }}",
     R"json({})json",
     "0.1 1e+16 1.0 123456789.125 1e-05 0.42857142857142855"},
    {"{% for x in items %}{{ loop.index0 }}{{ loop.index }}{{ loop.first }}{{ loop.last }}{{ loop.length }}{{ loop.revindex }}{% endfor %}",
     R"json({"items": ["a", "b", "c"]})json",
     "01TrueFalse3312FalseFalse3223FalseTrue31"},
    {"{% for x in items %}{{ x }}{% else %}empty{% endfor %}",
     R"json({"items": []})json",
     "empty"},
    {"{% for x in items if x > 1 %}{{ x }}{{ loop.index }}{% endfor %}",
     R"json({"items": [1, 2, 3]})json",
     "2132"},
    {"{% for k, v in d|items %}{{ k }}={{ v }};{% endfor %}{% for k in d %}{{ k }}{% endfor %}",
     R"json({"d": {"b": 1, "a": 2}})json",
     "b=1;a=2;ba"},
    {"{% for x in range(10) %}{% if x == 2 %}{% continue %}{% endif %}{% if x == 5 %}{% break %}{% endif %}{{ x }}{% endfor %}",
     R"json({})json",
     "0134"},
    {"{% for x in items %}{{ loop.previtem }}-{{ loop.nextitem }}|{% endfor %}",
     R"json({"items": [1, 2, 3]})json",
     "-2|1-3|2-|"},
    {"{% set ns = namespace(n=0, s='') %}{% for x in [1,2,3] %}{% set ns.n = ns.n + x %}{% set t = x %}{% endfor %}{{ ns.n }}{{ t is defined }}",
     R"json({})json",
     "6False"},
    {"{% set a, b = [1, 2] %}{{ a }}{{ b }}{% set c %}block {{ a }}{% endset %}[{{ c }}]",
     R"json({})json",
     "12[block 1]"},
    {"{% macro greet(name, punct='!') %}Hi {{ name }}{{ punct }}{% endmacro %}{{ greet('Bob') }} {{ greet('Al', punct='?') }}",
     R"json({})json",
     "Hi Bob! Hi Al?"},
    {"{% macro fact(n) %}{% if n <= 1 %}1{% else %}{{ n }}*{{ fact(n - 1) }}{% endif %}{% endmacro %}{{ fact(5) }}",
     R"json({})json",
     "5*4*3*2*1"},
    {"{{ '  hi  '|trim }}|{{ 'xxhixx'|trim('x') }}|{{ [1,2,3]|length }}|{{ 'h\xc3""\xa9""llo'|length }}|{{ 'Hello'|upper }}{{ 'Hello'|lower }}",
     R"json({})json",
     "hi|hi|3|5|HELLOhello"},
    {"{{ {'a': '\xc3""\xa9""', 'b': [1, 2.5, none, true]}|tojson }}|{{ {'a': {'b': []}, 'c': {}}|tojson(indent=2) }}",
     R"json({})json",
     "{\"a\": \"\xc3""\xa9""\", \"b\": [1, 2.5, null, true]}|{\n  \"a\": {\n    \"b\": []\n  },\n  \"c\": {}\n}"},
    {"{{ undefined_var|default('d') }}|{{ ''|default('e', true) }}|{{ ['a','b']|join(', ') }}|{{ 'aXbX'|replace('X', '-') }}",
     R"json({})json",
     "d|e|a, b|a-b-"},
    {"{{ [3,1,2]|first }}{{ [3,1,2]|last }}{{ 'abc'|first }}{{ 12|string ~ 'x' }}{{ 'ab'|list }}{{ [3,1,2]|sort }}{{ [1,2]|reverse|list }}",
     R"json({})json",
     "32a12x['a', 'b'][1, 2, 3][2, 1]"},
    {"{{ 'hello world'.title() }}|{{ 'a,b,,c'.split(',') }}|{{ ' a  b '.split() }}|{{ 'abc'.startswith('ab') }}{{ 'abc'.endswith(('x','c')) }}|{{ '  x '.strip() }}|{{ 'a-b-c'.rsplit('-', 1) }}",
     R"json({})json",
     "Hello World|['a', 'b', '', 'c']|['a', 'b']|TrueTrue|x|['a-b', 'c']"},
    {"{{ 'abcdef'[1:3] }}|{{ 'abcdef'[::-1] }}|{{ [1,2,3,4][1:] }}|{{ [1,2,3,4][-2:] }}|{{ 'h\xc3""\xa9""llo'[1] }}|{{ [1,2,3][-1] }}|{{ 'abcdef'[::2] }}",
     R"json({})json",
     "bc|fedcba|[2, 3, 4]|[3, 4]|\xc3""\xa9""|3|ace"},
    {"{{ x is defined }}{{ y is defined }}{{ none is none }}{{ 'a' is string }}{{ {} is mapping }}{{ [] is iterable }}{{ 3 is odd }}{{ 4 is divisibleby 2 }}{{ 1 is number }}{{ x is not none }}",
     R"json({"x": 1})json",
     "TrueFalseTrueTrueTrueTrueTrueTrueTrueTrue"},
    {"{{ 'yes' if cond else 'no' }}{{ 'only' if false }}|{{ 1 if 0 else 2 if 1 else 3 }}",
     R"json({"cond": true})json",
     "yes|2"},
    {"{{ 'a' in 'cat' }}{{ 2 in [1,2] }}{{ 'k' in {'k': 1} }}{{ 'z' not in 'cat' }}",
     R"json({})json",
     "TrueTrueTrueTrue"},
    {"{{ raise_exception('boom: ' ~ 3) }}",
     R"json({})json",
     "ERROR: boom: 3"},
    {"{{ strftime_now('%d %b %Y') }}",
     R"json({})json",
     "26 Jul 2026"},
    {"  {% if true %}\n    x\n  {% endif %}\n  {{ 'y' }}  \n{#- c -#}\n  z\n",
     R"json({})json",
     "    x\n  yz"},
    {"a  {%- if true -%}  b  {%- endif -%}  c\n{{- ' d ' -}}\ne",
     R"json({})json",
     "abc d e"},
    {"{% raw %}{{ not evaluated }}{% endraw %}|{{ 'a\\nb\\t\\u00e9\\x41' }}|{{ \"q'\" }}",
     R"json({})json",
     "{{ not evaluated }}|a\nb\t\xc3""\xa9""A|q'"},
    {"{{ text|indent(2) }}|{{ text|indent(2, first=true) }}",
     R"json({"text": "a\nb\n\nc"})json",
     "a\n  b\n\n  c|  a\n  b\n\n  c"},
    {"{{ d.get('a') }}{{ d.get('z', 'dflt') }}{{ d.keys()|list }}{{ d['a'] }}{{ d.a }}{{ d.missing is defined }}",
     R"json({"d": {"a": 1}})json",
     "1dflt['a']11False"},
    {"{{ users|map(attribute='name')|join(',') }}|{{ users|selectattr('admin')|map(attribute='name')|list }}|{{ [1,2,3,4]|select('odd')|list }}|{{ [1,2,3,4]|reject('odd')|list }}",
     R"json({"users": [{"name": "a", "admin": true}, {"name": "b", "admin": false}]})json",
     "a,b|['a']|[1, 3]|[2, 4]"},
    {"{{ messages[0]['content'] }}{{ messages[5] is defined }}{{ (messages|length) > 0 }}",
     R"json({"messages": [{"role": "user", "content": "hi"}]})json",
     "hiFalseTrue"},
    {"{% if a %}A{% elif b %}B{% else %}C{% endif %}{% if not a and not b %}N{% endif %}",
     R"json({"a": false, "b": true})json",
     "B"},
    {"{{ [1,2] + [3] }}{{ 'ab' * 3 }}{{ -3|abs }}{{ '42'|int + 1 }}{{ '1.5'|float }}{{ 3.14159|round(2) }}{{ [1,2,3]|sum }}{{ [4,2,9]|max }}{{ [1,1,2]|unique|list }}",
     R"json({})json",
     "[1, 2, 3]ababab3431.53.1469[1, 2]"},
    {"{% filter upper %}shout {{ 'x' }}{% endfilter %}",
     R"json({})json",
     "SHOUT X"},
    {"{{ x.y }}",
     R"json({})json",
     "ERROR: 'x' is undefined"},
    {"{{ 1 + 'a' }}",
     R"json({})json",
     "ERROR: unsupported operand type(s) for +: 'int' and 'str'"},
    {"{% for %}",
     R"json({})json",
     "ERROR: Expected an expression, got 'end of statement block'"},
    {"{{ content.split('</think>')[-1] }}|{{ 'a b'.replace(' ', '_') }}|{{ 'x'.join(['1','2']) }}|{{ 'Hello'.lower().startswith('he') }}",
     R"json({"content": "<think>t</think>answer"})json",
     "answer|a_b|1x2|True"},
    {"{% for a, b in [[1, 2], [3, 4]] %}{{ a + b }}{% endfor %}{% for x in 'ab' %}{{ x }}{% endfor %}{{ loop is defined }}",
     R"json({})json",
     "37abFalse"},
    {"{{ {'b': 1, 'a': 2}|tojson(sort_keys=true) }}{% for k, v in {'b': 1, 'a': 2}|dictsort %}{{ k }}{{ v }}{% endfor %}{{ 'a\"b\\\\c\\n'|tojson }}",
     R"json({})json",
     "{\"a\": 2, \"b\": 1}a2b1\"a\\\"b\\\\c\\n\""},
    {"{{ x }}{% set x = 2 %}{{ x }}{% for i in [1] %}{% set x = 3 %}{{ x }}{% endfor %}{{ x }}",
     R"json({"x": 1})json",
     "1232"},
};

jinja::RenderOptions fixedClock() {
    jinja::RenderOptions o;
    o.now = testdata::kReferenceNow;
    return o;
}

TEST(JinjaInterpreter, MatchesJinja2OnLanguageFeatures) {
    int index = 0;
    for (const auto& c : kCases) {
        auto vars = nlohmann::ordered_json::parse(c.variables);
        auto r = renderChatTemplate(c.source, vars, fixedClock());
        std::string expected = c.expected;
        if (expected.starts_with("ERROR: ")) {
            EXPECT_FALSE(r.ok()) << "case " << index << " should fail: " << c.source;
            if (!r.ok()) {
                EXPECT_FALSE(r.error().message.empty());
            }
        } else {
            ASSERT_TRUE(r.ok()) << "case " << index << ": " << c.source << "\n" << r.error().message;
            EXPECT_EQ(r->text, expected) << "case " << index << ": " << c.source;
        }
        ++index;
    }
}

TEST(JinjaInterpreter, ErrorsNameTheProblem) {
    auto raised = renderChatTemplate("{{ raise_exception('Roles must alternate') }}", nlohmann::ordered_json::object());
    ASSERT_FALSE(raised.ok());
    EXPECT_NE(raised.error().message.find("Roles must alternate"), std::string::npos);
    auto syntax = renderChatTemplate("line one\n{% if x %}\n{% endfor %}", nlohmann::ordered_json::object());
    ASSERT_FALSE(syntax.ok());
    EXPECT_EQ(syntax.error().code, ErrorCode::InvalidFormat);
    EXPECT_NE(syntax.error().message.find("line 3"), std::string::npos) << syntax.error().message;
    auto undefinedAttr = renderChatTemplate("{{ tools.name }}", nlohmann::ordered_json::object());
    ASSERT_FALSE(undefinedAttr.ok());
    EXPECT_NE(undefinedAttr.error().message.find("'tools' is undefined"), std::string::npos);
    auto unknownFilter = renderChatTemplate("{{ 'x'|frobnicate }}", nlohmann::ordered_json::object());
    ASSERT_FALSE(unknownFilter.ok());
    EXPECT_NE(unknownFilter.error().message.find("frobnicate"), std::string::npos);
}

// Which bytes came from message contents: exactly the content, wherever the template puts
// it and whatever string operations it went through.
TEST(JinjaInterpreter, TracksUserTextThroughStringOperations) {
    auto tmpl = ChatTemplate::parse(
        "{{ bos_token }}{% for m in messages %}<|im_start|>{{ m.role + '\\n' + m.content|trim }}<|im_end|>{% endfor %}");
    ASSERT_TRUE(tmpl.ok());
    ChatTemplateOptions options;
    options.bosToken = "<s>";
    auto r = tmpl->apply({{"user", "  <|im_end|> hi "}}, options);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->text, "<s><|im_start|>user\n<|im_end|> hi<|im_end|>");
    // "user" (the role) and "<|im_end|> hi" (the trimmed content) are user text; the '\n'
    // the template added between them is not.
    ASSERT_EQ(r->userSpans.size(), 2u);
    EXPECT_EQ(r->text.substr(r->userSpans[0].offset, r->userSpans[0].length), "user");
    EXPECT_EQ(r->text.substr(r->userSpans[1].offset, r->userSpans[1].length), "<|im_end|> hi");
}

TEST(JinjaInterpreter, SpecialTokenVariablesAreTemplateText) {
    auto vars = nlohmann::ordered_json::parse(R"({"bos_token": "<s>", "messages": [{"role": "user", "content": "x"}]})");
    auto r = renderChatTemplate("{{ bos_token }}{{ messages[0].content }}", vars);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->text, "<s>x");
    ASSERT_EQ(r->userSpans.size(), 1u);
    EXPECT_EQ(r->userSpans[0], (TextSpan{3, 1}));
}

TEST(JinjaInterpreter, ParsedTemplateRendersRepeatedly) {
    auto tmpl = ChatTemplate::parse("{% for m in messages %}[{{ m.content }}]{% endfor %}");
    ASSERT_TRUE(tmpl.ok());
    for (int i = 0; i < 3; ++i) {
        auto r = tmpl->apply({{"user", std::to_string(i)}}, {});
        ASSERT_TRUE(r.ok());
        EXPECT_EQ(r->text, "[" + std::to_string(i) + "]");
    }
}

}  // namespace
}  // namespace batchscope::engine
