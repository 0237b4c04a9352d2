// Display names and colours of engine enums for the UI (kept here so ui/ needs no engine code).
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <QColor>
#include <QString>
#include <QStringList>

#include "engine/core/types.h"

namespace batchscope::engine {
struct RequestSnapshot;
}

namespace batchscope::ui {

/// Human-readable names ("Queued", "High", "max tokens"); pure functions, any thread.
QString stateText(engine::RequestState s);
QString priorityText(engine::Priority p);
QString finishReasonText(engine::FinishReason r);
QString waitReasonText(engine::WaitReason r);
/// The full reason with its numbers ("behind 3 requests that go first", "KV memory: ...").
QString waitReasonText(const engine::RequestSnapshot& r);
/// Priorities in enum order (index == numeric value), for combo boxes.
QStringList priorityNames();

/// Local copies of engine::isTerminal / terminalStateFor, so ui/ links no engine code.
bool isTerminalState(engine::RequestState s);
engine::RequestState terminalStateOf(engine::FinishReason r);

/// Colour of a request state, readable on both light and dark palettes.
QColor stateColor(engine::RequestState s);
/// A stable, distinct colour per request id (golden-ratio hue walk), for owners in charts.
QColor requestColor(std::uint64_t id);

}  // namespace batchscope::ui
