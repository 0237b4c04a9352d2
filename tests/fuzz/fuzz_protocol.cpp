// libFuzzer target: the WebSocket API's client-message decoder and validator (Qt JSON). Every
// frame must decode to a message or to an error that names the problem.
// SPDX-License-Identifier: GPL-3.0-or-later
#include <QByteArray>
#include <cstdint>

#include "app/api/protocol.h"

using namespace batchscope::app::api;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const QByteArray frame = QByteArray::fromRawData(reinterpret_cast<const char*>(data), qsizetype(size));
    DecodeLimits limits;
    limits.contextLength = 4096;
    limits.maxPromptBytes = 4096;  // small, so the fuzzer reaches the length checks
    const DecodeResult result = decodeClientMessage(frame, limits);
    if (!result.ok() && result.error->message.isEmpty()) __builtin_trap();
    if (result.ok() && result.message.type == MessageType::Generate &&
        result.message.generate.prompt.toUtf8().size() > limits.maxPromptBytes)
        __builtin_trap();  // a prompt over the limit got through
    DecodeLimits unbounded;  // the defaults, no context length
    (void)decodeClientMessage(frame, unbounded);
    return 0;
}
