// libFuzzer target: the GGUF parser (header, metadata, tensor table) and, for files that parse,
// the tokenizer factory reading `tokenizer.ggml.*` metadata. Any input must give a value or a
// clear error, never a crash, an out-of-bounds read or a hang.
// SPDX-License-Identifier: GPL-3.0-or-later
#include <spdlog/spdlog.h>

#include <cstdint>
#include <string_view>
#include <vector>

#include "engine/model/gguf_file.h"
#include "engine/tokenizer/tokenizer_factory.h"

using namespace batchscope::engine;

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    spdlog::set_level(spdlog::level::off);  // the loaders' warnings would flood the fuzzer's log
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto file = GgufFile::fromBytes(std::vector<std::uint8_t>(data, data + size));
    if (!file) {
        if (file.error().message.empty()) __builtin_trap();  // every rejection must say why
        return 0;
    }
    auto tokenizer = createTokenizerFromGguf(*file.value());
    if (tokenizer) {
        const auto ids = tokenizer.value()->encode("Hello world! 123 \xc3\xa9\xe4\xb8\xad", true);
        (void)tokenizer.value()->decode(ids);
    } else if (tokenizer.error().message.empty()) {
        __builtin_trap();
    }
    return 0;
}
