// SPDX-License-Identifier: GPL-3.0-or-later
#include "engine/core/result.h"

namespace batchscope::engine {

const char* errorCodeName(ErrorCode code) {
    switch (code) {
    case ErrorCode::InvalidArgument: return "invalid_argument";
    case ErrorCode::QueueFull: return "queue_full";
    case ErrorCode::PromptTooLong: return "prompt_too_long";
    case ErrorCode::NotFound: return "not_found";
    case ErrorCode::InvalidFormat: return "invalid_format";
    case ErrorCode::Unsupported: return "unsupported";
    case ErrorCode::Cancelled: return "cancelled";
    case ErrorCode::Internal: return "internal";
    }
    return "internal";
}

}  // namespace batchscope::engine
