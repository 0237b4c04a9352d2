#!/usr/bin/env python3
# Renders the small interpreter test cases with Python jinja2, set up as Hugging Face's
# apply_chat_template sets it up, and prints them as the C++ table of
# tests/engine/chat/test_jinja_interpreter.cpp (kCases). Debian: python3-jinja2.
# SPDX-License-Identifier: GPL-3.0-or-later
import json, jinja2, jinja2.ext
from jinja2.sandbox import ImmutableSandboxedEnvironment
def raise_exception(m): raise jinja2.exceptions.TemplateError(m)
def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)
def make():
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[jinja2.ext.loopcontrols])
    env.filters['tojson'] = tojson
    env.globals['raise_exception'] = raise_exception
    env.globals['strftime_now'] = lambda f: __import__('datetime').datetime(2026,7,26,12).strftime(f)
    return env
def render(src, **vars):
    try:
        return make().from_string(src).render(**vars)
    except Exception as e:
        return "ERROR: " + str(e)

CASES = [
 ("{{ 'a' + 'b' }}|{{ 1 + 2 * 3 }}|{{ (1 + 2) * 3 }}|{{ 7 // 2 }}|{{ -7 // 2 }}|{{ -7 % 3 }}|{{ 2 ** 10 }}|{{ 7 / 2 }}", {}),
 ("{{ 1 == 1.0 }} {{ 'a' ~ 1 ~ none }} {{ true and 'x' }} {{ false or 0 }} {{ not none }}", {}),
 ("{{ [1, 'a', none, true, 1.5] }} {{ {'k': [1, 2], 'j': {'x': 'y'}} }}", {}),
 ("{{ 0.1 }} {{ 1e16 }} {{ 1.0 }} {{ 123456789.125 }} {{ 1e-5 }} {{ 3.0 / 7 }}", {}),
 ("{% for x in items %}{{ loop.index0 }}{{ loop.index }}{{ loop.first }}{{ loop.last }}{{ loop.length }}{{ loop.revindex }}{% endfor %}", {"items": ["a","b","c"]}),
 ("{% for x in items %}{{ x }}{% else %}empty{% endfor %}", {"items": []}),
 ("{% for x in items if x > 1 %}{{ x }}{{ loop.index }}{% endfor %}", {"items": [1,2,3]}),
 ("{% for k, v in d|items %}{{ k }}={{ v }};{% endfor %}{% for k in d %}{{ k }}{% endfor %}", {"d": {"b": 1, "a": 2}}),
 ("{% for x in range(10) %}{% if x == 2 %}{% continue %}{% endif %}{% if x == 5 %}{% break %}{% endif %}{{ x }}{% endfor %}", {}),
 ("{% for x in items %}{{ loop.previtem }}-{{ loop.nextitem }}|{% endfor %}", {"items": [1,2,3]}),
 ("{% set ns = namespace(n=0, s='') %}{% for x in [1,2,3] %}{% set ns.n = ns.n + x %}{% set t = x %}{% endfor %}{{ ns.n }}{{ t is defined }}", {}),
 ("{% set a, b = [1, 2] %}{{ a }}{{ b }}{% set c %}block {{ a }}{% endset %}[{{ c }}]", {}),
 ("{% macro greet(name, punct='!') %}Hi {{ name }}{{ punct }}{% endmacro %}{{ greet('Bob') }} {{ greet('Al', punct='?') }}", {}),
 ("{% macro fact(n) %}{% if n <= 1 %}1{% else %}{{ n }}*{{ fact(n - 1) }}{% endif %}{% endmacro %}{{ fact(5) }}", {}),
 ("{{ '  hi  '|trim }}|{{ 'xxhixx'|trim('x') }}|{{ [1,2,3]|length }}|{{ 'héllo'|length }}|{{ 'Hello'|upper }}{{ 'Hello'|lower }}", {}),
 ("{{ {'a': 'é', 'b': [1, 2.5, none, true]}|tojson }}|{{ {'a': {'b': []}, 'c': {}}|tojson(indent=2) }}", {}),
 ("{{ undefined_var|default('d') }}|{{ ''|default('e', true) }}|{{ ['a','b']|join(', ') }}|{{ 'aXbX'|replace('X', '-') }}", {}),
 ("{{ [3,1,2]|first }}{{ [3,1,2]|last }}{{ 'abc'|first }}{{ 12|string ~ 'x' }}{{ 'ab'|list }}{{ [3,1,2]|sort }}{{ [1,2]|reverse|list }}", {}),
 ("{{ 'hello world'.title() }}|{{ 'a,b,,c'.split(',') }}|{{ ' a  b '.split() }}|{{ 'abc'.startswith('ab') }}{{ 'abc'.endswith(('x','c')) }}|{{ '  x '.strip() }}|{{ 'a-b-c'.rsplit('-', 1) }}", {}),
 ("{{ 'abcdef'[1:3] }}|{{ 'abcdef'[::-1] }}|{{ [1,2,3,4][1:] }}|{{ [1,2,3,4][-2:] }}|{{ 'héllo'[1] }}|{{ [1,2,3][-1] }}|{{ 'abcdef'[::2] }}", {}),
 ("{{ x is defined }}{{ y is defined }}{{ none is none }}{{ 'a' is string }}{{ {} is mapping }}{{ [] is iterable }}{{ 3 is odd }}{{ 4 is divisibleby 2 }}{{ 1 is number }}{{ x is not none }}", {"x": 1}),
 ("{{ 'yes' if cond else 'no' }}{{ 'only' if false }}|{{ 1 if 0 else 2 if 1 else 3 }}", {"cond": True}),
 ("{{ 'a' in 'cat' }}{{ 2 in [1,2] }}{{ 'k' in {'k': 1} }}{{ 'z' not in 'cat' }}", {}),
 ("{{ raise_exception('boom: ' ~ 3) }}", {}),
 ("{{ strftime_now('%d %b %Y') }}", {}),
 ("  {% if true %}\n    x\n  {% endif %}\n  {{ 'y' }}  \n{#- c -#}\n  z\n", {}),
 ("a  {%- if true -%}  b  {%- endif -%}  c\n{{- ' d ' -}}\ne", {}),
 ("{% raw %}{{ not evaluated }}{% endraw %}|{{ 'a\\nb\\t\\u00e9\\x41' }}|{{ \"q'\" }}", {}),
 ("{{ text|indent(2) }}|{{ text|indent(2, first=true) }}", {"text": "a\nb\n\nc"}),
 ("{{ d.get('a') }}{{ d.get('z', 'dflt') }}{{ d.keys()|list }}{{ d['a'] }}{{ d.a }}{{ d.missing is defined }}", {"d": {"a": 1}}),
 ("{{ users|map(attribute='name')|join(',') }}|{{ users|selectattr('admin')|map(attribute='name')|list }}|{{ [1,2,3,4]|select('odd')|list }}|{{ [1,2,3,4]|reject('odd')|list }}", {"users": [{"name": "a", "admin": True}, {"name": "b", "admin": False}]}),
 ("{{ messages[0]['content'] }}{{ messages[5] is defined }}{{ (messages|length) > 0 }}", {"messages": [{"role": "user", "content": "hi"}]}),
 ("{% if a %}A{% elif b %}B{% else %}C{% endif %}{% if not a and not b %}N{% endif %}", {"a": False, "b": True}),
 ("{{ [1,2] + [3] }}{{ 'ab' * 3 }}{{ -3|abs }}{{ '42'|int + 1 }}{{ '1.5'|float }}{{ 3.14159|round(2) }}{{ [1,2,3]|sum }}{{ [4,2,9]|max }}{{ [1,1,2]|unique|list }}", {}),
 ("{% filter upper %}shout {{ 'x' }}{% endfilter %}", {}),
 ("{{ x.y }}", {}),
 ("{{ 1 + 'a' }}", {}),
 ("{% for %}", {}),
 ("{{ content.split('</think>')[-1] }}|{{ 'a b'.replace(' ', '_') }}|{{ 'x'.join(['1','2']) }}|{{ 'Hello'.lower().startswith('he') }}", {"content": "<think>t</think>answer"}),
 ("{% for a, b in [[1, 2], [3, 4]] %}{{ a + b }}{% endfor %}{% for x in 'ab' %}{{ x }}{% endfor %}{{ loop is defined }}", {}),
 ("{{ {'b': 1, 'a': 2}|tojson(sort_keys=true) }}{% for k, v in {'b': 1, 'a': 2}|dictsort %}{{ k }}{{ v }}{% endfor %}{{ 'a\"b\\\\c\\n'|tojson }}", {}),
 ("{{ x }}{% set x = 2 %}{{ x }}{% for i in [1] %}{% set x = 3 %}{{ x }}{% endfor %}{{ x }}", {"x": 1}),
]

def cstr(s):
    out='"'
    for ch in s.encode('utf-8'):
        c=chr(ch)
        if c=='"': out+='\\"'
        elif c=='\\': out+='\\\\'
        elif c=='\n': out+='\\n'
        elif c=='\t': out+='\\t'
        elif ch<0x20 or ch>=0x7f: out+='\\x%02x""'%ch
        else: out+=c
    return out+'"'
for src, vars in CASES:
    r = render(src, **vars)
    print('    {%s,\n     R"json(%s)json",\n     %s},' % (cstr(src), json.dumps(vars), cstr(r)))
