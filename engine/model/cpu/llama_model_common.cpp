// SPDX-License-Identifier: GPL-3.0-or-later
#include "engine/model/cpu/llama_model_common.h"

#include "engine/model/model_quantizer.h"

#include <algorithm>
#include <filesystem>

#include "engine/chat/chat_format.h"
#include "engine/tokenizer/byte_tokenizer.h"
#include "engine/tokenizer/tokenizer_factory.h"

namespace batchscope::engine::cpu {

Result<std::unique_ptr<Tokenizer>> llamaTokenizerFromGguf(const GgufFile& file, std::int32_t vocab) {
    if (file.find("tokenizer.ggml.model") != nullptr) {
        auto tok = createTokenizerFromGguf(file);
        if (!tok) return tok.error();
        if ((*tok)->vocabSize() > vocab)
            return makeError(ErrorCode::InvalidFormat, "tokenizer has " + std::to_string((*tok)->vocabSize()) +
                                                           " tokens, token_embd.weight only " + std::to_string(vocab) + " rows");
        return tok;
    }
    if (vocab < 258)
        return makeError(ErrorCode::InvalidFormat, "no tokenizer metadata, and the vocabulary of " + std::to_string(vocab) +
                                                       " tokens is too small for the byte tokenizer (258)");
    return std::unique_ptr<Tokenizer>(std::make_unique<ByteTokenizer>(vocab));
}

ModelInfo describeLlamaModel(const GgufFile& file, const LlamaWeights& w, const Tokenizer& tok,
                             std::string_view backend, std::uint64_t weightBytes) {
    ModelInfo info;
    const auto& c = w.config;
    info.path = file.path() == "<memory>" ? "" : file.path();
    info.name = file.getString("general.name").value_or(
        info.path.empty() ? "in-memory model" : std::filesystem::path(info.path).stem().string());
    info.architecture = std::string(modelArchName(c.arch));
    info.backend = std::string(backend);
    info.parameterCount = c.parameterCount(w.tiedOutput);
    info.fileSizeBytes = file.fileSize();
    info.weightBytes = weightBytes;
    info.contextLength = c.contextLength;
    info.vocabSize = c.vocabSize;
    info.embeddingDim = c.dim;
    info.layerCount = c.layers;
    info.headCount = c.heads;
    info.kvHeadCount = c.kvHeads;
    info.feedForwardDim = c.ffnDim;
    info.tokenizerKind = std::string(tok.kind());
    ChatModelHints hints{info.name, [&tok](std::string_view piece) { return tok.pieceId(piece).has_value(); }};
    ResolvedChatTemplate chat = resolveChatTemplate(file.getString("tokenizer.chat_template"), hints);
    info.chatTemplate = std::move(chat.text);
    info.chatTemplateSource = std::move(chat.source);
    if (auto bos = tok.bosId()) info.bosToken = tok.tokenPiece(*bos);
    if (auto eos = tok.eosId()) info.eosToken = tok.tokenPiece(*eos);
    for (const auto& t : file.tensors()) ++info.tensorTypeCounts[std::string(ggmlTypeName(t.type))];
    if (auto ft = file.getInt("general.file_type")) info.fileType = std::string(fileTypeName(*ft));
    return info;
}

std::string checkLlamaSequenceStep(const LlamaConfig& c, const SequenceStep& s, std::int32_t blockSize,
                                   std::int32_t numBlocks) {
    const auto n = static_cast<std::int64_t>(s.tokens.size());
    if (n == 0) return "empty token slice";
    if (s.startPosition < 0) return "negative start position " + std::to_string(s.startPosition);
    const std::int64_t end = s.startPosition + n;
    if (end > c.contextLength)
        return "positions up to " + std::to_string(end - 1) + " exceed the model's context length of " +
               std::to_string(c.contextLength) + " tokens";
    for (std::int64_t i = 0; i < n; ++i) {
        const TokenId t = s.tokens[static_cast<std::size_t>(i)];
        if (t < 0 || t >= c.vocabSize)
            return "token id " + std::to_string(t) + " at position " + std::to_string(s.startPosition + i) +
                   " is outside the vocabulary of " + std::to_string(c.vocabSize) + " tokens";
    }
    const std::int64_t blocksNeeded = (end + blockSize - 1) / blockSize;
    if (static_cast<std::int64_t>(s.blockTable.size()) < blocksNeeded)
        return "block table has " + std::to_string(s.blockTable.size()) + " blocks, " +
               std::to_string(blocksNeeded) + " needed for " + std::to_string(end) + " positions";
    // With every layer local, blocks wholly before the first position's window are never read
    // and may have been released (-1).
    const std::int64_t firstLive = c.allLayersLocal() ? std::max<std::int64_t>(0, s.startPosition - c.slidingWindow + 1) / blockSize : 0;
    for (std::int64_t b = firstLive; b < blocksNeeded; ++b) {
        const BlockId id = s.blockTable[static_cast<std::size_t>(b)];
        if (id < 0 || id >= numBlocks)
            return "block id " + std::to_string(id) + " outside the pool of " + std::to_string(numBlocks) + " blocks";
    }
    return {};
}

}  // namespace batchscope::engine::cpu
