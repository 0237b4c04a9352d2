// SPDX-License-Identifier: GPL-3.0-or-later
#include "engine/tokenizer/tokenizer.h"

namespace batchscope::engine {

std::string Tokenizer::decode(std::span<const TokenId> ids) const {
    std::string out;
    for (TokenId id : ids) out += tokenBytes(id);
    if (stripsLeadingSpace() && !out.empty() && out.front() == ' ') out.erase(0, 1);
    return out;
}

std::vector<TokenId> Tokenizer::endOfGenerationIds() const {
    if (auto eos = eosId()) return {*eos};
    return {};
}

}  // namespace batchscope::engine
