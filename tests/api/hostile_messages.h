// A table of malformed and hostile client messages with the error code each must get.
// Shared by the protocol unit test and the live-server test.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <QByteArray>
#include <QString>
#include <vector>

namespace batchscope::app::api::test {

struct HostileCase {
    const char* name;
    QByteArray frame;
    const char* code;         ///< expected error code
    const char* mentions;     ///< text the message must contain ("" = no check)
};

/// contextLength is the limit for max_tokens the server announces (the tests use 256).
inline std::vector<HostileCase> hostileMessages() {
    const QByteArray longId = "\"" + QByteArray(200, 'i') + "\"";
    const QByteArray longStop = "\"" + QByteArray(300, 's') + "\"";
    const QByteArray deep = QByteArray(2000, '[') + QByteArray(2000, ']');
    return {
        {"empty", "", "invalid_json", ""},
        {"garbage", "hello there", "invalid_json", ""},
        {"truncated", "{\"type\":\"ping\"", "invalid_json", ""},
        {"trailing comma", "{\"type\":\"ping\",}", "invalid_json", ""},
        {"single quotes", "{'type':'ping'}", "invalid_json", ""},
        {"NaN literal", "{\"type\":\"generate\",\"prompt\":\"x\",\"temperature\":NaN}", "invalid_json", ""},
        {"huge exponent", "{\"type\":\"generate\",\"prompt\":\"x\",\"max_tokens\":1e400}", "invalid_json", ""},
        {"deep nesting", deep, "invalid_json", ""},
        {"array", "[1,2,3]", "invalid_request", "object"},
        {"string", "\"ping\"", "invalid_json", ""},  // Qt 6.4 parses only objects and arrays
        {"number", "42", "invalid_json", ""},
        {"null", "null", "invalid_json", ""},
        {"missing type", "{\"id\":1}", "invalid_request", "type"},
        {"type not string", "{\"type\":5}", "invalid_request", "type"},
        {"unknown type", "{\"type\":\"launch_missiles\"}", "unknown_type", "launch_missiles"},
        {"id object", "{\"type\":\"ping\",\"id\":{}}", "invalid_request", "id"},
        {"id fraction", "{\"type\":\"ping\",\"id\":1.5}", "invalid_request", "id"},
        {"id too long", "{\"type\":\"ping\",\"id\":" + longId + "}", "invalid_request", "id"},
        {"ping extra field", "{\"type\":\"ping\",\"extra\":1}", "invalid_request", "extra"},
        {"generate no prompt", "{\"type\":\"generate\"}", "invalid_request", "prompt"},
        {"prompt number", "{\"type\":\"generate\",\"prompt\":5}", "invalid_request", "prompt"},
        {"prompt null", "{\"type\":\"generate\",\"prompt\":null}", "invalid_request", "prompt"},
        {"prompt empty", "{\"type\":\"generate\",\"prompt\":\"\"}", "invalid_request", "prompt"},
        {"max_tokens zero", "{\"type\":\"generate\",\"prompt\":\"x\",\"max_tokens\":0}", "invalid_request", "max_tokens"},
        {"max_tokens negative", "{\"type\":\"generate\",\"prompt\":\"x\",\"max_tokens\":-5}", "invalid_request", "max_tokens"},
        {"max_tokens huge", "{\"type\":\"generate\",\"prompt\":\"x\",\"max_tokens\":1e300}", "invalid_request", "max_tokens"},
        {"max_tokens over context", "{\"type\":\"generate\",\"prompt\":\"x\",\"max_tokens\":257}", "invalid_request", "max_tokens"},
        {"max_tokens fraction", "{\"type\":\"generate\",\"prompt\":\"x\",\"max_tokens\":2.5}", "invalid_request", "max_tokens"},
        {"max_tokens string", "{\"type\":\"generate\",\"prompt\":\"x\",\"max_tokens\":\"10\"}", "invalid_request", "max_tokens"},
        {"temperature negative", "{\"type\":\"generate\",\"prompt\":\"x\",\"temperature\":-1}", "invalid_request", "temperature"},
        {"temperature string", "{\"type\":\"generate\",\"prompt\":\"x\",\"temperature\":\"hot\"}", "invalid_request", "temperature"},
        {"top_p zero", "{\"type\":\"generate\",\"prompt\":\"x\",\"top_p\":0}", "invalid_request", "top_p"},
        {"top_p above one", "{\"type\":\"generate\",\"prompt\":\"x\",\"top_p\":1.5}", "invalid_request", "top_p"},
        {"top_k negative", "{\"type\":\"generate\",\"prompt\":\"x\",\"top_k\":-1}", "invalid_request", "top_k"},
        {"min_p negative", "{\"type\":\"generate\",\"prompt\":\"x\",\"min_p\":-0.1}", "invalid_request", "min_p"},
        {"repetition_penalty zero", "{\"type\":\"generate\",\"prompt\":\"x\",\"repetition_penalty\":0}", "invalid_request", "repetition_penalty"},
        {"seed negative", "{\"type\":\"generate\",\"prompt\":\"x\",\"seed\":-1}", "invalid_request", "seed"},
        {"seed above 2^53", "{\"type\":\"generate\",\"prompt\":\"x\",\"seed\":1e17}", "invalid_request", "seed"},
        {"timeout negative", "{\"type\":\"generate\",\"prompt\":\"x\",\"timeout_ms\":-100}", "invalid_request", "timeout_ms"},
        {"stream string", "{\"type\":\"generate\",\"prompt\":\"x\",\"stream\":\"yes\"}", "invalid_request", "stream"},
        {"stop not array", "{\"type\":\"generate\",\"prompt\":\"x\",\"stop\":\"END\"}", "invalid_request", "stop"},
        {"stop entry number", "{\"type\":\"generate\",\"prompt\":\"x\",\"stop\":[1]}", "invalid_request", "stop[0]"},
        {"stop entry empty", "{\"type\":\"generate\",\"prompt\":\"x\",\"stop\":[\"\"]}", "invalid_request", "stop[0]"},
        {"stop entry too long", "{\"type\":\"generate\",\"prompt\":\"x\",\"stop\":[" + longStop + "]}", "invalid_request", "stop[0]"},
        {"too many stops", "{\"type\":\"generate\",\"prompt\":\"x\",\"stop\":[\"a\",\"b\",\"c\",\"d\",\"e\",\"f\",\"g\",\"h\",\"i\"]}", "invalid_request", "stop"},
        {"priority unknown", "{\"type\":\"generate\",\"prompt\":\"x\",\"priority\":\"urgent\"}", "invalid_request", "priority"},
        {"priority out of range", "{\"type\":\"generate\",\"prompt\":\"x\",\"priority\":7}", "invalid_request", "priority"},
        {"generate unknown field", "{\"type\":\"generate\",\"prompt\":\"x\",\"evil\":true}", "invalid_request", "evil"},
        {"cancel no id", "{\"type\":\"cancel\"}", "invalid_request", "request_id"},
        {"cancel id string", "{\"type\":\"cancel\",\"request_id\":\"7\"}", "invalid_request", "request_id"},
        {"cancel id zero", "{\"type\":\"cancel\",\"request_id\":0}", "invalid_request", "request_id"},
        {"cancel unknown request", "{\"type\":\"cancel\",\"request_id\":999999}", "not_found", "999999"},
        {"set_priority no priority", "{\"type\":\"set_priority\",\"request_id\":1}", "invalid_request", "priority"},
        {"set_priority unknown request", "{\"type\":\"set_priority\",\"request_id\":999999,\"priority\":\"high\"}", "not_found", ""},
        {"subscribe unknown topic", "{\"type\":\"subscribe\",\"topics\":[\"secrets\"]}", "invalid_request", "topics"},
        {"subscribe no topics", "{\"type\":\"subscribe\"}", "invalid_request", "topics"},
        {"subscribe interval tiny", "{\"type\":\"subscribe\",\"topics\":[\"metrics\"],\"interval_ms\":1}", "invalid_request", "interval_ms"},
        {"hello wrong protocol", "{\"type\":\"hello\",\"protocol\":\"batchscope.v0\"}", "invalid_request", "protocol"},
    };
}

}  // namespace batchscope::app::api::test
