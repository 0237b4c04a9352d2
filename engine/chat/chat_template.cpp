// SPDX-License-Identifier: GPL-3.0-or-later
#include "engine/chat/chat_template.h"

#include <cstring>

#include <nlohmann/json.hpp>

#include "engine/chat/jinja_json.h"
#include "engine/chat/jinja_parser.h"

namespace batchscope::engine {
namespace {

// Mask bytes are 0 (template) or 1 (user): memchr finds each run's ends.
std::vector<TextSpan> userSpans(const jinja::MarkedString& s) {
    std::vector<TextSpan> spans;
    const std::uint8_t* base = s.mask.data();
    const std::size_t n = s.mask.size();
    for (std::size_t i = 0; i < n;) {
        const void* one = std::memchr(base + i, 1, n - i);
        if (!one) break;
        const std::size_t start = static_cast<std::size_t>(static_cast<const std::uint8_t*>(one) - base);
        const void* zero = std::memchr(base + start, 0, n - start);
        i = zero ? static_cast<std::size_t>(static_cast<const std::uint8_t*>(zero) - base) : n;
        spans.push_back({start, i - start});
    }
    return spans;
}

}  // namespace

Result<ChatTemplate> ChatTemplate::parse(std::string_view source) {
    try {
        ChatTemplate t;
        t.m_source = std::make_shared<const std::string>(source);
        t.m_ast = std::make_shared<const jinja::TemplateAst>(jinja::parseTemplate(source));
        return t;
    } catch (const jinja::TemplateError& e) {
        return makeError(ErrorCode::InvalidFormat, std::string("chat template: ") + e.what());
    } catch (const std::exception& e) {
        return makeError(ErrorCode::Internal, std::string("chat template: ") + e.what());
    }
}

Result<RenderedPrompt> ChatTemplate::renderVariables(const jinja::Variables& vars,
                                                     const jinja::RenderOptions& options) const {
    try {
        jinja::Evaluator ev(options, vars);
        jinja::MarkedString out = ev.run(*m_ast);
        RenderedPrompt prompt;
        prompt.userSpans = userSpans(out);
        prompt.text = std::move(out.text);
        return prompt;
    } catch (const jinja::TemplateError& e) {
        return makeError(ErrorCode::InvalidArgument, std::string("chat template: ") + e.what());
    } catch (const std::bad_alloc&) {
        return makeError(ErrorCode::InvalidArgument, "chat template: out of memory while rendering");
    } catch (const std::exception& e) {
        return makeError(ErrorCode::Internal, std::string("chat template: ") + e.what());
    }
}

Result<RenderedPrompt> ChatTemplate::apply(const std::vector<ChatMessage>& messages,
                                           const ChatTemplateOptions& options) const {
    jinja::ValueList list;
    list.reserve(messages.size());
    for (const auto& m : messages) {
        auto d = std::make_shared<jinja::Dict>();
        d->entries.reserve(2);  // distinct keys: no lookup needed
        d->entries.emplace_back("role", jinja::Value::string(m.role, true));
        d->entries.emplace_back("content", jinja::Value::string(m.content, true));
        list.push_back(jinja::Value::dict(std::move(d)));
    }
    jinja::Variables vars;
    vars["messages"] = jinja::Value::list(std::move(list));
    vars["add_generation_prompt"] = jinja::Value::boolean(options.addGenerationPrompt);
    vars["bos_token"] = jinja::Value::string(options.bosToken, false);
    vars["eos_token"] = jinja::Value::string(options.eosToken, false);
    return renderVariables(vars, options.render);
}

Result<RenderedPrompt> ChatTemplate::render(const nlohmann::ordered_json& variables,
                                            const jinja::RenderOptions& options) const {
    if (!variables.is_object()) return makeError(ErrorCode::InvalidArgument, "chat template variables must be a JSON object");
    jinja::Variables vars;
    try {
        for (auto it = variables.begin(); it != variables.end(); ++it) {
            bool special = it.key().ends_with("_token") && it.value().is_string();
            vars[it.key()] = jinja::valueFromJson(it.value(), !special);
        }
    } catch (const jinja::TemplateError& e) {
        return makeError(ErrorCode::InvalidArgument, std::string("chat template variables: ") + e.what());
    }
    return renderVariables(vars, options);
}

Result<RenderedPrompt> renderChatTemplate(std::string_view templateText, const nlohmann::ordered_json& variables,
                                          const jinja::RenderOptions& options) {
    auto t = ChatTemplate::parse(templateText);
    if (!t) return t.error();
    return t->render(variables, options);
}

}  // namespace batchscope::engine
