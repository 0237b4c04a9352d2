// Typed, validating reads of one JSON message object for the protocol decoder: the first
// failure is kept (naming the field) and later reads become no-ops.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <QJsonArray>
#include <QJsonObject>
#include <QJsonValue>
#include <QStringList>
#include <cmath>
#include <initializer_list>
#include <optional>

#include "app/api/protocol.h"

namespace batchscope::app::api::detail {

/// Reads typed fields from one message object; the first failure is kept and later reads
/// become no-ops, so decoders read straight through and check `failed()` once.
class FieldReader {
public:
    explicit FieldReader(const QJsonObject& object) : m_object(object) {}

    bool failed() const { return m_error.has_value(); }
    const std::optional<ApiError>& error() const { return m_error; }
    void fail(ApiErrorCode code, const QString& message) {
        if (!m_error) m_error = ApiError{code, message};
    }
    void invalid(const QString& field, const QString& what) {
        fail(ApiErrorCode::InvalidRequest, field + QStringLiteral(": ") + what);
    }

    /// Rejects any field not in `allowed` (plus "type" and "id"), naming it.
    void onlyFields(const QString& type, std::initializer_list<const char*> allowed) {
        for (auto it = m_object.begin(); it != m_object.end() && !failed(); ++it) {
            const QString key = it.key();
            if (key == QLatin1String("type") || key == QLatin1String("id")) continue;
            bool known = false;
            for (const char* name : allowed) known = known || key == QLatin1String(name);
            if (!known)
                invalid(key.left(64), QStringLiteral("unknown field in '%1'").arg(type));
        }
    }

    bool has(const char* key) const { return m_object.contains(QLatin1String(key)); }

    /// A string of at most maxBytes UTF-8 bytes. Returns false when absent or invalid.
    bool string(const char* key, qsizetype maxBytes, QString* out, bool required,
                ApiErrorCode tooLongCode = ApiErrorCode::InvalidRequest) {
        if (failed()) return false;
        const QJsonValue v = m_object.value(QLatin1String(key));
        if (v.isUndefined()) {
            if (required) invalid(key, QStringLiteral("required string is missing"));
            return false;
        }
        if (!v.isString()) return typeError(key, "a string", v);
        const QString s = v.toString();
        // A UTF-16 unit encodes to at most 3 UTF-8 bytes: skip the conversion when short.
        const qsizetype bytes = s.size() * 3 <= maxBytes ? s.size() : s.toUtf8().size();
        if (bytes > maxBytes) {
            fail(tooLongCode, QStringLiteral("%1: %2 bytes exceeds the limit of %3")
                                  .arg(QLatin1String(key)).arg(bytes).arg(maxBytes));
            return false;
        }
        *out = s;
        return true;
    }

    /// An integer-valued finite number in [min, max]. Returns false when absent or invalid.
    bool integer(const char* key, double min, double max, double* out, bool required) {
        if (failed()) return false;
        const QJsonValue v = m_object.value(QLatin1String(key));
        if (v.isUndefined()) {
            if (required) invalid(key, QStringLiteral("required integer is missing"));
            return false;
        }
        if (!v.isDouble()) return typeError(key, "an integer", v);
        const double d = v.toDouble();
        if (!std::isfinite(d) || std::floor(d) != d) {
            invalid(key, QStringLiteral("expected an integer, got %1").arg(d));
            return false;
        }
        return inRange(key, d, min, max, out);
    }

    /// A finite number in [min, max]; minExclusive makes the lower bound exclusive.
    bool number(const char* key, double min, double max, double* out, bool minExclusive = false) {
        if (failed()) return false;
        const QJsonValue v = m_object.value(QLatin1String(key));
        if (v.isUndefined()) return false;
        if (!v.isDouble()) return typeError(key, "a number", v);
        const double d = v.toDouble();
        if (!std::isfinite(d)) {
            invalid(key, QStringLiteral("must be a finite number"));
            return false;
        }
        if (minExclusive && d <= min) {
            invalid(key, QStringLiteral("must be greater than %1, got %2").arg(min).arg(d));
            return false;
        }
        return inRange(key, d, min, max, out);
    }

    bool boolean(const char* key, bool* out) {
        if (failed()) return false;
        const QJsonValue v = m_object.value(QLatin1String(key));
        if (v.isUndefined()) return false;
        if (!v.isBool()) return typeError(key, "a boolean", v);
        *out = v.toBool();
        return true;
    }

    /// An array of strings, each 1..maxBytes UTF-8 bytes, at most maxItems of them.
    bool stringList(const char* key, int maxItems, qsizetype maxBytes, QStringList* out) {
        if (failed()) return false;
        const QJsonValue v = m_object.value(QLatin1String(key));
        if (v.isUndefined()) return false;
        if (!v.isArray()) return typeError(key, "an array of strings", v);
        const QJsonArray array = v.toArray();
        if (array.size() > maxItems) {
            invalid(key, QStringLiteral("at most %1 entries allowed, got %2")
                             .arg(maxItems).arg(array.size()));
            return false;
        }
        QStringList list;
        for (qsizetype i = 0; i < array.size(); ++i) {
            const QString field = QStringLiteral("%1[%2]").arg(QLatin1String(key)).arg(i);
            if (!array.at(i).isString()) {
                invalid(field, QStringLiteral("expected a string"));
                return false;
            }
            const QString s = array.at(i).toString();
            const qsizetype bytes = s.toUtf8().size();
            if (bytes == 0 || bytes > maxBytes) {
                invalid(field, QStringLiteral("must be 1..%1 bytes, got %2").arg(maxBytes).arg(bytes));
                return false;
            }
            list << s;
        }
        *out = list;
        return true;
    }

    /// A priority: a name ("low", "normal", "high", "critical") or its number 0..3.
    bool priority(const char* key, engine::Priority* out, bool required) {
        if (failed()) return false;
        const QJsonValue v = m_object.value(QLatin1String(key));
        if (v.isUndefined()) {
            if (required) invalid(key, QStringLiteral("required priority is missing"));
            return false;
        }
        if (v.isString()) {
            const auto p = engine::parsePriority(v.toString().toStdString());
            if (!p) {
                invalid(key, QStringLiteral("expected one of low, normal, high, critical"));
                return false;
            }
            *out = *p;
            return true;
        }
        double d = 0;
        if (!integer(key, 0, engine::kPriorityCount - 1, &d, true)) return false;
        *out = static_cast<engine::Priority>(static_cast<int>(d));
        return true;
    }

private:
    bool typeError(const char* key, const char* expected, const QJsonValue& got) {
        static const char* names[] = {"null", "boolean", "number", "string", "array", "object"};
        const int t = got.type() == QJsonValue::Null ? 0 : got.type() == QJsonValue::Bool ? 1
                    : got.type() == QJsonValue::Double ? 2 : got.type() == QJsonValue::String ? 3
                    : got.type() == QJsonValue::Array ? 4 : 5;
        invalid(key, QStringLiteral("expected %1, got %2")
                         .arg(QLatin1String(expected), QLatin1String(names[t])));
        return false;
    }
    bool inRange(const char* key, double d, double min, double max, double* out) {
        if (d < min || d > max) {
            invalid(key, QStringLiteral("must be in [%1, %2], got %3")
                             .arg(min, 0, 'g', 17).arg(max, 0, 'g', 17).arg(d, 0, 'g', 17));
            return false;
        }
        *out = d;
        return true;
    }

    QJsonObject m_object;
    std::optional<ApiError> m_error;
};

}  // namespace batchscope::app::api::detail
