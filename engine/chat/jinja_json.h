// JSON <-> interpreter values: Python json.dumps formatting for `tojson`, and conversion of
// caller data (nlohmann::json) into template variables.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <nlohmann/json_fwd.hpp>

#include "engine/chat/jinja_value.h"

namespace batchscope::engine::jinja {

/// Converts JSON into a template value (ordered_json: object keys keep their order, as
/// Python dicts do). Strings are marked as user text when `user` (data
/// that must never be parsed for special tokens). Depth is capped at 64; deeper input
/// throws TemplateError.
Value valueFromJson(const nlohmann::ordered_json& j, bool user);

}  // namespace batchscope::engine::jinja
