// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/display_text.h"

#include <cmath>

#include "engine/core/wait_description.h"
#include "engine/metrics/scheduler_snapshot.h"

namespace batchscope::ui {

using engine::FinishReason;
using engine::Priority;
using engine::RequestState;
using engine::WaitReason;

QString stateText(RequestState s) {
    switch (s) {
    case RequestState::Queued: return QStringLiteral("Queued");
    case RequestState::Prefilling: return QStringLiteral("Prefilling");
    case RequestState::Decoding: return QStringLiteral("Decoding");
    case RequestState::Preempted: return QStringLiteral("Preempted");
    case RequestState::Finished: return QStringLiteral("Finished");
    case RequestState::Cancelled: return QStringLiteral("Cancelled");
    case RequestState::Failed: return QStringLiteral("Failed");
    case RequestState::TimedOut: return QStringLiteral("Timed out");
    }
    return QStringLiteral("?");
}

QString priorityText(Priority p) {
    switch (p) {
    case Priority::Low: return QStringLiteral("Low");
    case Priority::Normal: return QStringLiteral("Normal");
    case Priority::High: return QStringLiteral("High");
    case Priority::Critical: return QStringLiteral("Critical");
    }
    return QStringLiteral("Normal");
}

QStringList priorityNames() {
    QStringList names;
    for (int i = 0; i < engine::kPriorityCount; ++i) names << priorityText(static_cast<Priority>(i));
    return names;
}

QString finishReasonText(FinishReason r) {
    switch (r) {
    case FinishReason::None: return {};
    case FinishReason::Eos: return QStringLiteral("end of sequence");
    case FinishReason::MaxTokens: return QStringLiteral("max tokens");
    case FinishReason::StopString: return QStringLiteral("stop string");
    case FinishReason::MaxLength: return QStringLiteral("max length");
    case FinishReason::Cancelled: return QStringLiteral("cancelled");
    case FinishReason::Timeout: return QStringLiteral("timeout");
    case FinishReason::Error: return QStringLiteral("error");
    }
    return {};
}

QString waitReasonText(WaitReason r) {
    switch (r) {
    case WaitReason::None: return {};
    case WaitReason::NoKvBlocks: return QStringLiteral("no free KV blocks");
    case WaitReason::TokenBudget: return QStringLiteral("token budget spent");
    case WaitReason::BatchFull: return QStringLiteral("batch full");
    case WaitReason::BehindRequests: return QStringLiteral("behind other requests");
    case WaitReason::Paused: return QStringLiteral("paused");
    case WaitReason::WaitingForBatch: return QStringLiteral("waiting for batch");
    case WaitReason::Preempted: return QStringLiteral("preempted");
    }
    return {};
}

QString waitReasonText(const engine::RequestSnapshot& r) {
    return QString::fromStdString(engine::describeWait(r.waitReason, r.waitDetail));
}

bool isTerminalState(RequestState s) {
    return s == RequestState::Finished || s == RequestState::Cancelled ||
           s == RequestState::Failed || s == RequestState::TimedOut;
}

RequestState terminalStateOf(FinishReason r) {
    switch (r) {
    case FinishReason::Cancelled: return RequestState::Cancelled;
    case FinishReason::Timeout: return RequestState::TimedOut;
    case FinishReason::Error: return RequestState::Failed;
    default: return RequestState::Finished;
    }
}

QColor stateColor(RequestState s) {
    switch (s) {
    case RequestState::Queued: return QColor(0x8a, 0x8f, 0x98);
    case RequestState::Prefilling: return QColor(0xe0, 0x8e, 0x0b);
    case RequestState::Decoding: return QColor(0x1f, 0x8f, 0xd6);
    case RequestState::Preempted: return QColor(0xc2, 0x4c, 0xd0);
    case RequestState::Finished: return QColor(0x2e, 0xa0, 0x43);
    case RequestState::Cancelled: return QColor(0x9a, 0x6b, 0x3c);
    case RequestState::Failed: return QColor(0xd7, 0x3a, 0x49);
    case RequestState::TimedOut: return QColor(0xcf, 0x5f, 0x1f);
    }
    return QColor(Qt::gray);
}

QColor requestColor(std::uint64_t id) {
    const double golden = 0.618033988749895;
    const double hue = std::fmod(0.13 + double(id) * golden, 1.0);
    return QColor::fromHsvF(float(hue), 0.55f, 0.85f);
}

}  // namespace batchscope::ui
