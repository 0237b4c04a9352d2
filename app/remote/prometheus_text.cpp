// SPDX-License-Identifier: GPL-3.0-or-later
#include "app/remote/prometheus_text.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <map>
#include <set>

namespace batchscope::app::remote {
namespace {

using engine::ErrorCode;
using engine::makeError;

bool isNameStart(char c, bool colon) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon && c == ':');
}
bool isNameChar(char c, bool colon) { return isNameStart(c, colon) || (c >= '0' && c <= '9'); }

bool validName(std::string_view s, bool colon) {
    if (s.empty() || !isNameStart(s[0], colon)) return false;
    return std::all_of(s.begin(), s.end(), [colon](char c) { return isNameChar(c, colon); });
}

void skipBlanks(std::string_view s, size_t& i) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
}

std::string_view takeToken(std::string_view s, size_t& i) {
    skipBlanks(s, i);
    const size_t start = i;
    while (i < s.size() && s[i] != ' ' && s[i] != '\t') ++i;
    return s.substr(start, i - start);
}

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
           });
}

/// A Go ParseFloat-compatible number: decimal or exponent form, NaN, [+-]Inf.
std::optional<double> parseValue(std::string_view s) {
    if (s.empty()) return std::nullopt;
    bool negative = false;
    std::string_view body = s;
    if (body[0] == '+' || body[0] == '-') {
        negative = body[0] == '-';
        body.remove_prefix(1);
    }
    if (iequals(body, "inf") || iequals(body, "infinity"))
        return negative ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
    if (iequals(body, "nan")) return std::numeric_limits<double>::quiet_NaN();
    if (body.empty() || !(std::isdigit(static_cast<unsigned char>(body[0])) || body[0] == '.')) return std::nullopt;
    double v = 0;
    const auto [end, ec] = std::from_chars(body.data(), body.data() + body.size(), v);
    if (ec != std::errc() || end != body.data() + body.size()) return std::nullopt;
    return negative ? -v : v;
}

std::string canonicalKey(const std::vector<std::pair<std::string, std::string>>& labels,
                         std::string_view skip = {}) {
    std::vector<std::pair<std::string, std::string>> sorted;
    for (const auto& l : labels)
        if (l.first != skip) sorted.push_back(l);
    std::sort(sorted.begin(), sorted.end());
    std::string key;
    for (const auto& [k, v] : sorted) key += k + '\x1f' + v + '\x1e';
    return key;
}

struct LineError {
    std::string message;
};

/// Parses `{a="b",c="d"}` starting at s[i] == '{'; leaves i after '}'.
std::optional<LineError> parseLabels(std::string_view s, size_t& i, MetricSample& out) {
    ++i;  // '{'
    std::set<std::string> seen;
    for (;;) {
        skipBlanks(s, i);
        if (i < s.size() && s[i] == '}') { ++i; return std::nullopt; }
        const size_t start = i;
        while (i < s.size() && isNameChar(s[i], false)) ++i;
        const std::string name(s.substr(start, i - start));
        if (!validName(name, false)) return LineError{"invalid label name near '" + std::string(s.substr(start, 20)) + "'"};
        if (!seen.insert(name).second) return LineError{"label '" + name + "' appears twice"};
        skipBlanks(s, i);
        if (i >= s.size() || s[i] != '=') return LineError{"expected '=' after label '" + name + "'"};
        ++i;
        skipBlanks(s, i);
        if (i >= s.size() || s[i] != '"') return LineError{"label '" + name + "': value must be quoted"};
        ++i;
        std::string value;
        bool closed = false;
        while (i < s.size()) {
            const char c = s[i++];
            if (c == '"') { closed = true; break; }
            if (c != '\\') { value += c; continue; }
            if (i >= s.size()) break;
            const char e = s[i++];
            if (e == '\\') value += '\\';
            else if (e == '"') value += '"';
            else if (e == 'n') value += '\n';
            else return LineError{"label '" + name + "': invalid escape '\\" + std::string(1, e) + "'"};
        }
        if (!closed) return LineError{"label '" + name + "': unterminated value"};
        out.labels.emplace_back(name, std::move(value));
        skipBlanks(s, i);
        if (i < s.size() && s[i] == ',') { ++i; continue; }
        if (i < s.size() && s[i] == '}') { ++i; return std::nullopt; }
        return LineError{"expected ',' or '}' after label '" + name + "'"};
    }
}

std::optional<MetricType> parseType(std::string_view t) {
    if (t == "counter") return MetricType::Counter;
    if (t == "gauge") return MetricType::Gauge;
    if (t == "histogram") return MetricType::Histogram;
    if (t == "summary") return MetricType::Summary;
    if (t == "untyped") return MetricType::Untyped;
    return std::nullopt;
}

bool endsWith(std::string_view s, std::string_view suffix) {
    return s.size() > suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

class Parser {
public:
    engine::Result<std::vector<MetricFamily>> run(std::string_view text) {
        size_t lineNo = 0, pos = 0;
        while (pos < text.size()) {
            size_t end = text.find('\n', pos);
            if (end == std::string_view::npos) end = text.size();
            std::string_view line = text.substr(pos, end - pos);
            pos = end + 1;
            ++lineNo;
            if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
            std::optional<LineError> err = parseLine(line);
            if (err) return makeError(ErrorCode::InvalidFormat, "metrics line " + std::to_string(lineNo) + ": " + err->message);
        }
        for (const MetricFamily& f : m_families)
            if (f.type == MetricType::Histogram) {
                auto h = histogramOf(f);
                if (!h) return h.error();
            }
        return std::move(m_families);
    }

private:
    std::optional<LineError> parseLine(std::string_view line) {
        size_t i = 0;
        skipBlanks(line, i);
        if (i == line.size()) return std::nullopt;
        if (line[i] == '#') return parseComment(line.substr(i + 1));
        return parseSample(line.substr(i));
    }

    std::optional<LineError> parseComment(std::string_view s) {
        size_t i = 0;
        const std::string_view keyword = takeToken(s, i);
        if (keyword != "HELP" && keyword != "TYPE") return std::nullopt;  // a plain comment
        const std::string name(takeToken(s, i));
        if (!validName(name, true)) return LineError{"invalid metric name '" + name + "' in " + std::string(keyword)};
        skipBlanks(s, i);
        const std::string_view rest = s.substr(i);
        MetricFamily& f = family(name);
        const size_t index = m_index.at(name);
        if (keyword == "HELP") {
            if (m_hasHelp.count(index)) return LineError{"second HELP for '" + name + "'"};
            m_hasHelp.insert(index);
            std::string help;
            for (size_t k = 0; k < rest.size(); ++k) {
                if (rest[k] == '\\' && k + 1 < rest.size() && (rest[k + 1] == '\\' || rest[k + 1] == 'n')) {
                    help += rest[k + 1] == 'n' ? '\n' : '\\';
                    ++k;
                } else {
                    help += rest[k];
                }
            }
            f.help = std::move(help);
            return std::nullopt;
        }
        const auto type = parseType(rest);
        if (!type) return LineError{"unknown metric type '" + std::string(rest) + "' for '" + name + "'"};
        if (m_typed.count(index)) return LineError{"second TYPE for '" + name + "'"};
        if (!f.samples.empty()) return LineError{"TYPE for '" + name + "' after its samples"};
        m_typed.insert(index);
        f.type = *type;
        return std::nullopt;
    }

    std::optional<LineError> parseSample(std::string_view s) {
        size_t i = 0;
        while (i < s.size() && isNameChar(s[i], true)) ++i;
        MetricSample sample;
        sample.name = std::string(s.substr(0, i));
        if (!validName(sample.name, true)) return LineError{"invalid metric name near '" + std::string(s.substr(0, 40)) + "'"};
        if (i < s.size() && s[i] == '{')
            if (auto err = parseLabels(s, i, sample)) return LineError{sample.name + ": " + err->message};
        if (i < s.size() && s[i] != ' ' && s[i] != '\t')
            return LineError{sample.name + ": expected a blank before the value"};
        const std::string_view valueText = takeToken(s, i);
        const auto value = parseValue(valueText);
        if (!value) return LineError{sample.name + ": value '" + std::string(valueText) + "' is not a number"};
        sample.value = *value;
        const std::string_view ts = takeToken(s, i);
        if (!ts.empty()) {
            long long t = 0;
            const auto [end, ec] = std::from_chars(ts.data(), ts.data() + ts.size(), t);
            if (ec != std::errc() || end != ts.data() + ts.size())
                return LineError{sample.name + ": timestamp '" + std::string(ts) + "' is not an integer"};
            sample.timestampMs = t;
        }
        skipBlanks(s, i);
        if (i != s.size()) return LineError{sample.name + ": unexpected text after the value"};
        return addSample(std::move(sample));
    }

    std::optional<LineError> addSample(MetricSample sample) {
        const std::string owner = ownerOf(sample.name);
        MetricFamily& f = family(owner);
        const size_t index = m_index.at(owner);
        if (m_current && *m_current != index) {
            if (m_closed.count(index)) return LineError{"samples of '" + owner + "' are not grouped together"};
            m_closed.insert(*m_current);
        }
        m_current = index;
        if (!m_series[index].insert(sample.name + '\x1d' + canonicalKey(sample.labels)).second)
            return LineError{"duplicate series " + sample.name + " with the same labels"};
        if (f.type == MetricType::Histogram && endsWith(sample.name, "_bucket") && !sample.label("le"))
            return LineError{sample.name + ": histogram bucket without an 'le' label"};
        f.samples.push_back(std::move(sample));
        return std::nullopt;
    }

    /// The family a sample name belongs to: a declared family of that exact name, or the
    /// histogram/summary/counter it is a suffixed series of; otherwise an untyped family.
    std::string ownerOf(const std::string& name) const {
        auto typed = [this](const std::string& base, std::initializer_list<MetricType> types) {
            const auto it = m_index.find(base);
            if (it == m_index.end() || !m_typed.count(it->second)) return false;
            const MetricType t = m_families[it->second].type;
            return std::find(types.begin(), types.end(), t) != types.end();
        };
        if (m_index.count(name)) return name;
        for (const char* suffix : {"_bucket", "_sum", "_count", "_total"}) {
            if (!endsWith(name, suffix)) continue;
            const std::string base = name.substr(0, name.size() - std::string_view(suffix).size());
            const std::string_view sfx(suffix);
            if (sfx == "_bucket" && typed(base, {MetricType::Histogram})) return base;
            if ((sfx == "_sum" || sfx == "_count") && typed(base, {MetricType::Histogram, MetricType::Summary})) return base;
            if (sfx == "_total" && typed(base, {MetricType::Counter})) return base;
        }
        return name;
    }

    MetricFamily& family(const std::string& name) {
        const auto it = m_index.find(name);
        if (it != m_index.end()) return m_families[it->second];
        m_index.emplace(name, m_families.size());
        m_families.push_back(MetricFamily{name, MetricType::Untyped, {}, {}});
        return m_families.back();
    }

    std::vector<MetricFamily> m_families;
    std::map<std::string, size_t> m_index;
    std::set<size_t> m_typed, m_hasHelp, m_closed;
    std::map<size_t, std::set<std::string>> m_series;
    std::optional<size_t> m_current;
};

}  // namespace

std::optional<std::string> MetricSample::label(std::string_view key) const {
    for (const auto& [k, v] : labels)
        if (k == key) return v;
    return std::nullopt;
}

engine::Result<std::vector<MetricFamily>> parsePrometheusText(std::string_view text) {
    return Parser().run(text);
}

const MetricFamily* findFamily(const std::vector<MetricFamily>& families, std::string_view name) {
    for (const MetricFamily& f : families)
        if (f.name == name) return &f;
    return nullptr;
}

std::optional<double> sumSamples(const MetricFamily& family, std::string_view sampleName) {
    std::optional<double> total;
    for (const MetricSample& s : family.samples)
        if (s.name == sampleName) total = total.value_or(0) + s.value;
    return total;
}

engine::Result<HistogramBuckets> histogramOf(const MetricFamily& family) {
    const std::string bucketName = family.name + "_bucket", countName = family.name + "_count",
                      sumName = family.name + "_sum";
    auto bad = [&](const std::string& why) {
        return makeError(ErrorCode::InvalidFormat, "histogram " + family.name + ": " + why);
    };
    std::map<std::string, std::vector<std::pair<double, double>>> series;
    std::map<std::string, double> counts;
    HistogramBuckets out;
    for (const MetricSample& s : family.samples) {
        if (s.name == bucketName) {
            const auto le = parseValue(s.label("le").value_or(""));
            if (!le || std::isnan(*le)) return bad("bucket le '" + s.label("le").value_or("") + "' is not a number");
            series[canonicalKey(s.labels, "le")].emplace_back(*le, s.value);
        } else if (s.name == countName) {
            counts[canonicalKey(s.labels)] = s.value;
            out.count += s.value;
        } else if (s.name == sumName) {
            out.sum += s.value;
        }
    }
    bool first = true;
    for (auto& [key, buckets] : series) {
        for (size_t k = 1; k < buckets.size(); ++k) {
            if (!(buckets[k].first > buckets[k - 1].first)) return bad("bucket bounds are not ascending");
            if (buckets[k].second < buckets[k - 1].second) return bad("bucket counts are not cumulative");
        }
        if (buckets.empty() || !std::isinf(buckets.back().first)) return bad("no +Inf bucket");
        const auto c = counts.find(key);
        if (c != counts.end() && c->second != buckets.back().second)
            return bad("_count differs from the +Inf bucket");
        if (first) {
            out.buckets = buckets;
            first = false;
            continue;
        }
        if (buckets.size() != out.buckets.size()) return bad("series have different buckets");
        for (size_t k = 0; k < buckets.size(); ++k) {
            if (buckets[k].first != out.buckets[k].first) return bad("series have different buckets");
            out.buckets[k].second += buckets[k].second;
        }
    }
    if (counts.empty() && !out.buckets.empty()) out.count = out.buckets.back().second;
    return out;
}

HistogramBuckets histogramDelta(const HistogramBuckets& current, const HistogramBuckets& previous) {
    if (current.buckets.size() != previous.buckets.size()) return current;
    HistogramBuckets d;
    for (size_t k = 0; k < current.buckets.size(); ++k) {
        if (current.buckets[k].first != previous.buckets[k].first) return current;
        const double v = current.buckets[k].second - previous.buckets[k].second;
        if (v < 0) return current;  // counter reset
        d.buckets.emplace_back(current.buckets[k].first, v);
    }
    d.count = current.count - previous.count;
    d.sum = current.sum - previous.sum;
    if (d.count < 0) return current;
    return d;
}

std::optional<double> histogramQuantile(const HistogramBuckets& h, double q) {
    if (h.buckets.empty() || !(q >= 0 && q <= 1)) return std::nullopt;
    const double total = h.buckets.back().second;
    if (!(total > 0)) return std::nullopt;
    const double rank = q * total;
    for (size_t k = 0; k < h.buckets.size(); ++k) {
        const auto [upper, cumulative] = h.buckets[k];
        if (cumulative < rank) continue;
        if (std::isinf(upper)) return k == 0 ? 0.0 : h.buckets[k - 1].first;
        const double lower = k == 0 ? std::min(0.0, upper) : h.buckets[k - 1].first;
        const double below = k == 0 ? 0.0 : h.buckets[k - 1].second;
        const double inBucket = cumulative - below;
        if (inBucket <= 0) return upper;
        return lower + (upper - lower) * (rank - below) / inBucket;
    }
    return h.buckets.back().first;
}

}  // namespace batchscope::app::remote
