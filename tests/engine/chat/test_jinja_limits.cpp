// The interpreter is sandboxed and bounded: hostile or broken templates get an error value,
// never a crash, a hang or unbounded memory. Includes deterministic fuzz-style runs over
// random mutations of the real templates.
// SPDX-License-Identifier: GPL-3.0-or-later
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <random>

#include "tests/engine/chat/chat_test_data.h"

namespace batchscope::engine {
namespace {

jinja::RenderOptions tightLimits() {
    jinja::RenderOptions o;
    o.limits.maxOutputBytes = 1u << 20;
    o.limits.maxAllocatedBytes = 8u << 20;
    o.limits.maxLoopIterations = 20'000;
    o.limits.maxCollectionSize = 20'000;
    o.limits.timeout = std::chrono::milliseconds(2000);
    o.now = testdata::kReferenceNow;
    return o;
}

Result<RenderedPrompt> renderHostile(const std::string& source) {
    return renderChatTemplate(source, nlohmann::ordered_json::parse(R"({"messages": [{"role": "user", "content": "hi"}]})"),
                              tightLimits());
}

void expectErrorContaining(const std::string& source, const std::string& fragment) {
    auto r = renderHostile(source);
    ASSERT_FALSE(r.ok()) << "should fail: " << source.substr(0, 120);
    EXPECT_NE(r.error().message.find(fragment), std::string::npos) << r.error().message;
}

std::string repeat(const std::string& s, int n) {
    std::string out;
    for (int i = 0; i < n; ++i) out += s;
    return out;
}

TEST(JinjaLimits, DeepNestingIsAnErrorNotAStackOverflow) {
    expectErrorContaining("{{ " + repeat("(", 5000) + "1" + repeat(")", 5000) + " }}", "nested");
    expectErrorContaining(repeat("{% if true %}", 5000) + "x" + repeat("{% endif %}", 5000), "nested");
    expectErrorContaining("{{ " + repeat("[", 5000) + repeat("]", 5000) + " }}", "nested");
    expectErrorContaining("{{ 1" + repeat(" + 1", 100000) + " }}", "nested");
    expectErrorContaining("{{ 'x'" + repeat("|trim", 100000) + " }}", "nested");
    expectErrorContaining("{{ " + repeat("not ", 100000) + "x }}", "nested");
    expectErrorContaining("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}", "macro calls nested");
    expectErrorContaining("{% set ns = namespace(l=[]) %}{% for i in range(1000) %}{% set ns.l = [ns.l] %}{% endfor %}",
                          "nested deeper");
}

TEST(JinjaLimits, LongLoopsStopAtTheIterationCap) {
    expectErrorContaining("{% for i in range(1000000000) %}x{% endfor %}", "elements");
    expectErrorContaining("{% for a in range(1000) %}{% for b in range(1000) %}{% endfor %}{% endfor %}", "loop iterations");
}

TEST(JinjaLimits, TimeLimitStopsExpensiveTemplates) {
    jinja::RenderOptions o = tightLimits();
    o.limits.maxLoopIterations = 1'000'000'000;
    o.limits.timeout = std::chrono::milliseconds(50);
    // ~10^8 iterations if unbounded: far past 50 ms on any machine.
    auto r = renderChatTemplate(
        "{% for a in range(10000) %}{% for b in range(10000) %}{% endfor %}{% endfor %}", nlohmann::ordered_json::object(), o);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().message.find("longer than"), std::string::npos) << r.error().message;
}

TEST(JinjaLimits, HugeOutputsAndStringsAreRefused) {
    expectErrorContaining("{% for i in range(20000) %}{{ 'x' * 1000 }}{% endfor %}", "bytes");
    expectErrorContaining("{{ 'x' * 1000000000000 }}", "bytes");
    expectErrorContaining("{{ [1] * 1000000000 }}", "elements");
    expectErrorContaining(
        "{% set ns = namespace(s='x') %}{% for i in range(100) %}{% set ns.s = ns.s + ns.s %}{% endfor %}", "bytes");
    // Shared sub-lists: tiny to build, exponential to print.
    expectErrorContaining(
        "{% set ns = namespace(l=[1]) %}{% for i in range(60) %}{% set ns.l = [ns.l, ns.l] %}{% endfor %}{{ ns.l }}",
        "too large");
    expectErrorContaining(
        "{% set ns = namespace(l=[1]) %}{% for i in range(60) %}{% set ns.l = [ns.l, ns.l] %}{% endfor %}{{ ns.l|tojson }}",
        "too large");
}

TEST(JinjaLimits, CyclesAndChainsOfNamespacesAreReleasedSafely) {
    auto cycle = renderHostile("{% set ns = namespace() %}{% set ns.self = ns %}{{ ns == ns }}{{ ns.self.self is defined }}");
    ASSERT_TRUE(cycle.ok()) << cycle.error().message;
    EXPECT_EQ(cycle->text, "TrueTrue");
    // A 20000-long chain of namespaces built by mutation (no nesting visible at creation).
    auto chain = renderHostile(
        "{% set ns = namespace(cur=namespace()) %}{% for i in range(20000) %}{% set c = ns.cur %}"
        "{% set c.next = namespace() %}{% set ns.cur = c.next %}{% endfor %}done");
    ASSERT_TRUE(chain.ok()) << chain.error().message;
    EXPECT_EQ(chain->text, "done");
}

TEST(JinjaLimits, TemplatesSeeOnlyWhatWeGive) {
    // Python internals, Jinja's own globals and environment objects are not reachable.
    auto r = renderHostile(
        "[{{ ''.__class__ }}][{{ messages.__class__ }}][{{ cycler }}][{{ lipsum }}][{{ config }}][{{ self }}]"
        "[{{ range.__globals__ is defined }}][{{ namespace.__init__ is defined }}]");
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->text, "[][][][][][][False][False]");
    EXPECT_FALSE(renderHostile("{{ ''.__class__.__mro__ }}").ok());
    EXPECT_FALSE(renderHostile("{{ messages.append(1) }}").ok());
    EXPECT_FALSE(renderHostile("{% include 'x' %}").ok());
    EXPECT_FALSE(renderHostile("{% import 'os' as os %}").ok());
}

// Random byte-level and token-level mutations of the real templates: every render either
// succeeds or returns an error; none throws, crashes or runs past the limits.
TEST(JinjaFuzz, MutatedReferenceTemplatesNeverCrashOrHang) {
    if (!std::filesystem::exists(testdata::chatTemplateDir())) {
        GTEST_SKIP() << "chat template test data not found at " << testdata::chatTemplateDir() << " (../shared is absent)";
    }
    std::vector<std::string> templates;
    for (const auto& entry : std::filesystem::directory_iterator(testdata::chatTemplateDir())) {
        if (entry.path().extension() == ".jinja") templates.push_back(testdata::readFile(entry.path()));
    }
    ASSERT_FALSE(templates.empty());
    const std::vector<std::string> pieces = {"{%", "%}", "{{", "}}", "{#", "#}", "-%}", "{%-", "(", ")", "[", "]",
                                             "'", "\"", "|", ".", ",", " for x in messages ", " endfor ", " if ",
                                             " endif ", " else ", "loop.", "range(100000)", " * 99999", "\\",
                                             "{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}", "\n", " not ", "~"};
    auto vars = nlohmann::ordered_json::parse(
        R"({"messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "u <|im_end|>"},
            {"role": "assistant", "content": "a"}], "add_generation_prompt": true, "bos_token": "<s>"})");
    std::mt19937 rng(20260726);
    int ok = 0;
    int failed = 0;
    for (int iter = 0; iter < 1500; ++iter) {
        std::string t = templates[rng() % templates.size()];
        const int mutations = 1 + static_cast<int>(rng() % 4);
        for (int m = 0; m < mutations && !t.empty(); ++m) {
            std::size_t pos = rng() % t.size();
            switch (rng() % 4) {
            case 0: t.erase(pos, 1 + rng() % 16); break;
            case 1: t.insert(pos, pieces[rng() % pieces.size()]); break;
            case 2: t.insert(pos, t.substr(rng() % t.size(), rng() % 64)); break;
            default: t[pos] = static_cast<char>(rng() % 256); break;
            }
        }
        auto r = renderChatTemplate(t, vars, tightLimits());
        if (r.ok()) {
            ++ok;
            EXPECT_LE(r->text.size(), tightLimits().limits.maxOutputBytes);
        } else {
            ++failed;
            EXPECT_FALSE(r.error().message.empty());
            EXPECT_NE(r.error().code, ErrorCode::Internal) << r.error().message;
        }
    }
    EXPECT_EQ(ok + failed, 1500);
    EXPECT_GT(ok, 0);      // some mutations keep the template valid...
    EXPECT_GT(failed, 0);  // ...and some break it
}

}  // namespace
}  // namespace batchscope::engine
