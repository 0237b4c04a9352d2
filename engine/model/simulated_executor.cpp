// SPDX-License-Identifier: GPL-3.0-or-later
#include "engine/model/simulated_executor.h"

#include <algorithm>
#include <stdexcept>
#include <string_view>
#include <thread>

#include "engine/chat/chat_format.h"

namespace batchscope::engine {

namespace {
std::uint64_t splitmix(std::uint64_t x) {
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

void spendTime(double us, bool busy) {
    if (us <= 0) return;
    const auto until = std::chrono::steady_clock::now() + std::chrono::nanoseconds(std::int64_t(us * 1000));
    if (busy) {
        while (std::chrono::steady_clock::now() < until) {}
    } else {
        std::this_thread::sleep_until(until);
    }
}
}  // namespace

SimulatedExecutor::SimulatedExecutor(const SimulatedExecutorConfig& config)
    : m_config(config), m_tokenizer(config.vocabSize) {}

std::size_t SimulatedExecutor::kvBytesPerBlock(std::int32_t blockSize) const {
    return std::size_t(m_config.kvBytesPerToken) * std::size_t(blockSize);
}

void SimulatedExecutor::configureKvCache(std::int32_t numBlocks, std::int32_t) { m_numBlocks = numBlocks; }

StepResult SimulatedExecutor::execute(const ModelBatch& batch) {
    StepResult result;
    result.nextTokens.resize(batch.sequences.size());
    const std::int32_t tokens = batch.tokenCount();
    for (std::size_t i = 0; i < batch.sequences.size(); ++i) {
        const SequenceStep& s = batch.sequences[i];
        for (BlockId b : s.blockTable.first(std::min<std::size_t>(s.blockTable.size(),
                 std::size_t((s.startPosition + std::int32_t(s.tokens.size()) + batch.blockSize - 1) / batch.blockSize))))
            if (b < 0 || b >= m_numBlocks) throw std::out_of_range("simulated executor: block id out of range");
        if (!s.needsNextToken) continue;
        const std::uint64_t r = splitmix(m_config.seed ^ splitmix(s.requestId * 0x100000001b3ULL + std::uint64_t(s.sampleIndex)));
        const double u = double(r >> 11) * (1.0 / 9007199254740992.0);
        if (u < m_config.eosProbability) {
            result.nextTokens[i] = ByteTokenizer::kEos;
        } else {
            const auto span = std::uint64_t(std::max(1, m_config.vocabSize - 258));
            result.nextTokens[i] = TokenId(258 + splitmix(r) % span);
        }
    }
    ++m_steps;
    m_tokens += tokens;
    spendTime(m_config.stepOverheadUs + m_config.perTokenUs * tokens +
              m_config.perSequenceUs * double(batch.sequences.size()), m_config.busyWait);
    return result;
}

ModelInfo SimulatedExecutor::modelInfo() const {
    ModelInfo info;
    info.name = "simulated";
    info.architecture = "simulated";
    info.backend = "simulated";
    info.contextLength = m_config.contextLength;
    info.vocabSize = m_config.vocabSize;
    info.tokenizerKind = "byte";
    info.chatTemplate = builtinChatTemplate("chatml").value_or("");
    info.chatTemplateSource = "built-in: chatml (simulated model)";
    return info;
}

FailingModelExecutor::FailingModelExecutor(std::int32_t failCount, ModelExecutor& inner)
    : DelegatingExecutor(inner), m_failCount(failCount) {}

StepResult FailingModelExecutor::execute(const ModelBatch& batch) {
    if (m_failures < m_failCount) {
        ++m_failures;
        throw std::runtime_error("Simulated model error");
    }
    return m_inner.execute(batch);
}

FailingPrefillExecutor::FailingPrefillExecutor(ModelExecutor& inner, Predicate predicate)
    : DelegatingExecutor(inner), m_predicate(std::move(predicate)) {
    if (!m_predicate) {
        m_predicate = [](const SequenceStep& s) {
            const std::string_view marker = "FAIL";
            const auto it = std::search(s.history.begin(), s.history.end(), marker.begin(), marker.end(),
                                        [](TokenId t, char c) { return t == TokenId(static_cast<unsigned char>(c)); });
            return it != s.history.end();
        };
    }
}

StepResult FailingPrefillExecutor::execute(const ModelBatch& batch) {
    StepResult result = m_inner.execute(batch);
    result.sequenceErrors.resize(batch.sequences.size());
    for (std::size_t i = 0; i < batch.sequences.size(); ++i) {
        const SequenceStep& s = batch.sequences[i];
        const bool prefill = s.tokens.size() > 1 || s.startPosition == 0;
        if (prefill && m_predicate(s)) {
            result.sequenceErrors[i] = "prefill failed for request " + std::to_string(s.requestId) +
                                       ": simulated prefill failure";
            result.nextTokens[i].reset();
        }
    }
    return result;
}

}  // namespace batchscope::engine
