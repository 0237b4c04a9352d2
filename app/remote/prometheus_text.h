// A strict parser of the Prometheus text exposition format (version 0.0.4, what vLLM, SGLang,
// TGI and llama.cpp's server answer on GET /metrics), and histogram quantiles from its buckets.
// Plain C++ (no Qt, no I/O): the OpenAI-compatible remote source feeds it the scraped body.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/core/result.h"

namespace batchscope::app::remote {

enum class MetricType { Untyped, Counter, Gauge, Histogram, Summary };

struct MetricSample {
    std::string name;  ///< full sample name, e.g. "vllm:e2e_request_latency_seconds_bucket"
    std::vector<std::pair<std::string, std::string>> labels;  ///< in the order written, unescaped
    double value = 0;  ///< NaN and ±Inf allowed
    std::optional<long long> timestampMs;
    /// The value of label `key`, or nullopt.
    std::optional<std::string> label(std::string_view key) const;
};

/// One metric family: the samples under one `# TYPE` (or one untyped name), in file order.
struct MetricFamily {
    std::string name;
    MetricType type = MetricType::Untyped;
    std::string help;
    std::vector<MetricSample> samples;
};

/// Every family of one exposition, in file order. Errors (InvalidFormat) name the line number
/// and what was wrong: a bad metric or label name, an unterminated or badly escaped label
/// value, a value that is not a number, a second TYPE or HELP for one name, a TYPE after that
/// metric's samples, samples of one family split by another family, a duplicate series, or an
/// inconsistent histogram (no le label, buckets not ascending or not cumulative, no +Inf
/// bucket, _count different from the +Inf bucket).
engine::Result<std::vector<MetricFamily>> parsePrometheusText(std::string_view text);

/// The family named `name` (nullptr if absent).
const MetricFamily* findFamily(const std::vector<MetricFamily>& families, std::string_view name);

/// Cumulative histogram buckets of one family, summed over every series (label set) of it.
struct HistogramBuckets {
    std::vector<std::pair<double, double>> buckets;  ///< (upper bound le, cumulative count), ascending, last +Inf
    double sum = 0;
    double count = 0;
};

/// Sums the family's series bucket by bucket (series must share their le bounds).
engine::Result<HistogramBuckets> histogramOf(const MetricFamily& family);

/// The observations between two scrapes: current minus previous, bucket by bucket. A counter
/// reset (any bucket went down, or the bounds differ) returns `current` itself.
HistogramBuckets histogramDelta(const HistogramBuckets& current, const HistogramBuckets& previous);

/// The q-quantile (0 <= q <= 1) estimated as Prometheus's histogram_quantile() does: find the
/// bucket holding rank q*count and interpolate linearly between its bounds (the first bucket's
/// lower bound is 0 when its upper bound is positive). A rank in the +Inf bucket returns the
/// highest finite bound. nullopt when there are no observations.
std::optional<double> histogramQuantile(const HistogramBuckets& histogram, double q);

/// Sum of the values of every sample named `sampleName` in the family (nullopt when none).
std::optional<double> sumSamples(const MetricFamily& family, std::string_view sampleName);

}  // namespace batchscope::app::remote
