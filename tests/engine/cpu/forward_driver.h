// SPDX-License-Identifier: GPL-3.0-or-later
// Drives a CPU executor like the scheduler (mixed prefill chunks and decodes over block tables)
// and records every logits row with its position, for the forward-pass tests.
#pragma once
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <span>
#include <vector>

#include "engine/model/cpu/cpu_llama_executor.h"

namespace {

using namespace batchscope::engine;

constexpr std::int32_t kBlockSize = 4;
constexpr std::int32_t kNumBlocks = 96;

struct Seq {
    std::vector<TokenId> tokens;  // prompt + generated
    std::int32_t computed = 0;    // positions whose K/V are in the cache
    std::vector<BlockId> blocks;
};

// Drives an executor like the scheduler and records every logits row with its position.
class Driver {
public:
    /// Each sequence gets blocks for `positions` positions.
    explicit Driver(CpuLlamaExecutor& ex, std::int32_t positions = 64) : m_ex(ex), m_positions(positions) {}

    Seq& add(std::vector<TokenId> prompt, std::vector<BlockId> sharedPrefixBlocks = {}, std::int32_t computed = 0) {
        Seq s;
        s.tokens = std::move(prompt);
        s.blocks = std::move(sharedPrefixBlocks);
        s.computed = computed;
        while (static_cast<std::int32_t>(s.blocks.size()) * kBlockSize < m_positions) s.blocks.push_back(m_nextBlock++);
        m_seqs.push_back(std::move(s));
        return m_seqs.back();
    }

    // chunks[i] = tokens to compute for sequence i this step (0 = not in this step).
    void step(const std::vector<std::int32_t>& chunks) {
        ModelBatch batch;
        batch.blockSize = kBlockSize;
        std::vector<std::size_t> which;
        for (std::size_t i = 0; i < chunks.size(); ++i) {
            if (chunks[i] == 0) continue;
            Seq& s = m_seqs[i];
            SequenceStep st;
            st.requestId = i + 1;
            st.tokens = std::span<const TokenId>(s.tokens).subspan(static_cast<std::size_t>(s.computed),
                                                                   static_cast<std::size_t>(chunks[i]));
            st.startPosition = s.computed;
            st.blockTable = s.blocks;
            st.needsNextToken = m_logitsEveryChunk || s.computed + chunks[i] == static_cast<std::int32_t>(s.tokens.size());
            st.sampling.temperature = 0.0f;
            st.history = s.tokens;
            batch.sequences.push_back(st);
            which.push_back(i);
        }
        std::vector<float> logits;
        const StepResult r = m_ex.executeWithLogits(batch, &logits);
        int row = 0;
        const auto vocab = static_cast<std::size_t>(m_ex.config().vocabSize);
        for (std::size_t b = 0; b < which.size(); ++b) {
            Seq& s = m_seqs[which[b]];
            ASSERT_TRUE(r.sequenceErrors.size() <= b || r.sequenceErrors[b].empty()) << r.sequenceErrors[b];
            s.computed += chunks[which[b]];
            if (!batch.sequences[b].needsNextToken) continue;
            ASSERT_TRUE(r.nextTokens[b].has_value());
            m_rows[which[b]][s.computed - 1] = std::vector<float>(logits.begin() + static_cast<long>(row * vocab),
                                                                  logits.begin() + static_cast<long>((row + 1) * vocab));
            ++row;
            if (s.computed == static_cast<std::int32_t>(s.tokens.size())) s.tokens.push_back(*r.nextTokens[b]);
        }
    }

    // Max over recorded rows of max|a - ref| / max|ref|.
    // `ref(tokens)`: logits after every position of tokens.
    template <class Ref>
    double maxRelativeError(const Ref& ref) const {
        double worst = 0;
        for (const auto& [i, rows] : m_rows) {
            const auto refLogits = ref(std::vector<int>(m_seqs[i].tokens.begin(), m_seqs[i].tokens.end()));
            for (const auto& [pos, row] : rows) {
                double err = 0, mag = 0;
                for (std::size_t v = 0; v < row.size(); ++v) {
                    err = std::max(err, std::fabs(row[v] - refLogits[static_cast<std::size_t>(pos)][v]));
                    mag = std::max(mag, std::fabs(refLogits[static_cast<std::size_t>(pos)][v]));
                }
                worst = std::max(worst, err / mag);
            }
        }
        return worst;
    }

    std::size_t rowCount() const {
        std::size_t n = 0;
        for (const auto& [i, rows] : m_rows) n += rows.size();
        return n;
    }
    std::vector<Seq>& seqs() { return m_seqs; }
    /// Also record logits at the end of prompt chunks that do not finish the prompt.
    void setLogitsEveryChunk(bool on) { m_logitsEveryChunk = on; }
    /// Recorded rows: sequence index -> position -> vocab logits.
    const std::map<std::size_t, std::map<std::int32_t, std::vector<float>>>& rows() const { return m_rows; }

private:
    CpuLlamaExecutor& m_ex;
    std::vector<Seq> m_seqs;
    BlockId m_nextBlock = 0;
    bool m_logitsEveryChunk = false;
    std::int32_t m_positions;
    std::map<std::size_t, std::map<std::int32_t, std::vector<float>>> m_rows;
};

std::vector<TokenId> prompt(int n, int salt) {
    std::vector<TokenId> t(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) t[static_cast<std::size_t>(i)] = (i * 37 + salt * 101 + 5) % 300;
    return t;
}

}  // namespace
