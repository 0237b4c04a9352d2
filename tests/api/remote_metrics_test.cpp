// The console's engine-free parsers: Prometheus text exposition (strict), histogram quantiles,
// the vLLM name mapping (on a recorded vLLM /metrics exposition, tests/api/data/), server-sent
// events, and connection URLs.
// SPDX-License-Identifier: GPL-3.0-or-later
#include <QFile>
#include <QTest>
#include <cmath>

#include <QJsonArray>

#include "app/api/protocol.h"
#include "app/api/protocol_encode.h"
#include "app/remote/connection_spec.h"
#include "app/remote/remote_decode.h"
#include "app/remote/prometheus_text.h"
#include "app/remote/server_metrics_reader.h"
#include "app/remote/sse_parser.h"

using namespace batchscope::app::remote;

namespace {
std::string readFixture(const char* name) {
    QFile f(qEnvironmentVariable("BATCHSCOPE_SOURCE_DIR") + "/tests/api/data/" + name);
    if (!f.open(QIODevice::ReadOnly)) qWarning("missing fixture %s (is BATCHSCOPE_SOURCE_DIR set?)", qPrintable(f.fileName()));
    return f.readAll().toStdString();
}
bool near(std::optional<double> v, double expected) { return v && std::abs(*v - expected) < 1e-6; }
}  // namespace

class RemoteMetricsTest : public QObject {
    Q_OBJECT
private slots:
    void parsesRecordedVllmExposition() {
        const std::string text = readFixture("vllm_metrics_1.prom");
        QVERIFY(!text.empty());
        auto parsed = parsePrometheusText(text);
        QVERIFY2(parsed.ok(), parsed.ok() ? "" : parsed.error().message.c_str());
        const auto& families = parsed.value();
        const MetricFamily* running = findFamily(families, "vllm:num_requests_running");
        QVERIFY(running);
        QCOMPARE(int(running->type), int(MetricType::Gauge));
        QCOMPARE(running->help, std::string("Number of requests in model execution batches."));
        QCOMPARE(running->samples.size(), size_t(1));
        QCOMPARE(running->samples[0].label("model_name").value(), std::string("meta-llama/Llama-3.1-8B-Instruct"));
        QCOMPARE(running->samples[0].value, 3.0);
        const MetricFamily* success = findFamily(families, "vllm:request_success_total");
        QVERIFY(success);
        QCOMPARE(int(success->type), int(MetricType::Counter));
        QCOMPARE(success->samples.size(), size_t(2));
        QCOMPARE(sumSamples(*success, "vllm:request_success_total").value(), 10.0);
        const MetricFamily* ttft = findFamily(families, "vllm:time_to_first_token_seconds");
        QVERIFY(ttft);
        QCOMPARE(int(ttft->type), int(MetricType::Histogram));
        QCOMPARE(ttft->samples.size(), size_t(22 + 1 + 2));  // 22 bounds, +Inf, _count, _sum
        auto h = histogramOf(*ttft);
        QVERIFY(h.ok());
        QCOMPARE(h->count, 10.0);
        QCOMPARE(h->sum, 0.4);
        QVERIFY(std::isinf(h->buckets.back().first));
        QVERIFY(findFamily(families, "process_resident_memory_bytes"));
    }

    void histogramQuantileInterpolatesWithinTheBucket() {
        HistogramBuckets h;
        h.buckets = {{0.02, 2}, {0.04, 6}, {0.06, 8}, {0.08, 10}, {INFINITY, 10}};
        h.count = 10;
        // rank 5 lies in (0.02, 0.04] holding ranks 2..6: 0.02 + 0.02 * 3/4.
        QVERIFY(near(histogramQuantile(h, 0.5), 0.035));
        QVERIFY(near(histogramQuantile(h, 0.99), 0.06 + 0.02 * 1.9 / 2));
        QVERIFY(near(histogramQuantile(h, 0.1), 0.01));   // first bucket: lower bound 0
        QVERIFY(near(histogramQuantile(h, 1.0), 0.08));
        HistogramBuckets inf;  // observations beyond the last finite bound: that bound
        inf.buckets = {{1.0, 1}, {INFINITY, 4}};
        QVERIFY(near(histogramQuantile(inf, 0.9), 1.0));
        QVERIFY(!histogramQuantile(HistogramBuckets{{{1.0, 0}, {INFINITY, 0}}, 0, 0}, 0.5));
        QVERIFY(!histogramQuantile(h, 1.5));
        // Delta between scrapes; a reset returns the current buckets.
        HistogramBuckets later = h;
        later.buckets = {{0.02, 2}, {0.04, 6}, {0.06, 8}, {0.08, 14}, {INFINITY, 14}};
        later.count = 14;
        const HistogramBuckets d = histogramDelta(later, h);
        QCOMPARE(d.count, 4.0);
        QVERIFY(near(histogramQuantile(d, 0.5), 0.07));
        QCOMPARE(histogramDelta(h, later).count, 10.0);
    }

    void rejectsMalformedExpositions_data() {
        QTest::addColumn<QString>("text");
        QTest::addColumn<QString>("expected");
        QTest::newRow("bad name") << "9abc 1\n" << "line 1";
        QTest::newRow("value") << "a 1x\n" << "not a number";
        QTest::newRow("no value") << "a\n" << "not a number";
        QTest::newRow("unterminated") << "a{b=\"c} 1\n" << "unterminated";
        QTest::newRow("unquoted") << "a{b=c} 1\n" << "quoted";
        QTest::newRow("escape") << "a{b=\"\\x\"} 1\n" << "invalid escape";
        QTest::newRow("dup label") << "a{b=\"1\",b=\"2\"} 1\n" << "twice";
        QTest::newRow("trailing") << "a 1 2 3\n" << "unexpected text";
        QTest::newRow("timestamp") << "a 1 1.5\n" << "timestamp";
        QTest::newRow("type twice") << "# TYPE a gauge\n# TYPE a gauge\n" << "line 2: second TYPE";
        QTest::newRow("type late") << "a 1\n# TYPE a gauge\n" << "after its samples";
        QTest::newRow("bad type") << "# TYPE a histo\n" << "unknown metric type";
        QTest::newRow("ungrouped") << "a 1\nb 1\na{x=\"1\"} 2\n" << "line 3: samples of 'a' are not grouped";
        QTest::newRow("duplicate") << "a{x=\"1\"} 1\na{x=\"1\"} 2\n" << "duplicate series";
        QTest::newRow("no le") << "# TYPE h histogram\nh_bucket 1\n" << "without an 'le'";
        QTest::newRow("no inf") << "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_count 1\n" << "no +Inf bucket";
        QTest::newRow("not cumulative") << "# TYPE h histogram\nh_bucket{le=\"1\"} 3\nh_bucket{le=\"+Inf\"} 2\n"
                                        << "not cumulative";
        QTest::newRow("count") << "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_count 3\n" << "_count differs";
    }
    void rejectsMalformedExpositions() {
        QFETCH(QString, text);
        QFETCH(QString, expected);
        auto parsed = parsePrometheusText(text.toStdString());
        QVERIFY(!parsed.ok());
        QVERIFY2(QString::fromStdString(parsed.error().message).contains(expected),
                 parsed.error().message.c_str());
    }

    void acceptsTheFormatsCorners() {
        auto parsed = parsePrometheusText(
            "# a plain comment\n\n  # HELP x A \\\\ help\\nline\nx{a=\"q\\\"\\n\\\\\",} +Inf 1700000000000\r\n"
            "y NaN\nz -1.5e-3\n# TYPE c counter\nc_total 4\n");
        QVERIFY2(parsed.ok(), parsed.ok() ? "" : parsed.error().message.c_str());
        const MetricFamily* x = findFamily(parsed.value(), "x");
        QCOMPARE(x->help, std::string("A \\ help\nline"));
        QCOMPARE(x->samples[0].label("a").value(), std::string("q\"\n\\"));
        QVERIFY(std::isinf(x->samples[0].value));
        QCOMPARE(x->samples[0].timestampMs.value(), 1700000000000LL);
        QVERIFY(std::isnan(findFamily(parsed.value(), "y")->samples[0].value));
        QCOMPARE(findFamily(parsed.value(), "z")->samples[0].value, -1.5e-3);
        QCOMPARE(sumSamples(*findFamily(parsed.value(), "c"), "c_total").value(), 4.0);
    }

    void mapsVllmMetricsAcrossTwoScrapes() {
        ServerMetricsReader reader;
        auto first = reader.addScrape(readFixture("vllm_metrics_1.prom"), 10.0);
        QVERIFY2(first.ok(), first.ok() ? "" : first.error().message.c_str());
        QCOMPARE(reader.flavour(), std::string("vllm"));
        QCOMPARE(reader.modelName(), std::string("meta-llama/Llama-3.1-8B-Instruct"));
        const auto& a = first.value();
        QVERIFY(near(a.running, 3) && near(a.waiting, 2) && near(a.kvUsagePercent, 25));
        QVERIFY(!a.promptTokensPerSecond);  // rates need two scrapes
        QVERIFY(near(a.preemptionsTotal, 1));
        // First scrape: all observations so far (hand-computed from the fixture's buckets).
        QVERIFY(near(a.ttftMs.p50, 35) && near(a.ttftMs.p99, 79) && near(a.ttftMs.p95, 75));
        QVERIFY(near(a.interTokenMs.p50, 17.5) && near(a.interTokenMs.p99, 70));
        QVERIFY(near(a.endToEndMs.p50, 800) && near(a.endToEndMs.p99, 1475));

        auto second = reader.addScrape(readFixture("vllm_metrics_2.prom"), 12.0);
        QVERIFY(second.ok());
        const auto& b = second.value();
        QVERIFY(near(b.running, 5) && near(b.waiting, 0) && near(b.kvUsagePercent, 50));
        QVERIFY(near(b.promptTokensPerSecond, 200));       // (1400 - 1000) / 2 s
        QVERIFY(near(b.generationTokensPerSecond, 500));   // (6000 - 5000) / 2 s
        QVERIFY(near(b.preemptionsPerSecond, 1));          // (3 - 1) / 2 s
        // The window holds only the 10 new TTFT observations, all in (0.1, 0.25].
        QVERIFY(near(b.ttftMs.p50, 175) && near(b.ttftMs.p99, 248.5));
        QVERIFY(near(b.interTokenMs.p50, 87.5));
        QVERIFY(near(b.endToEndMs.p50, 1750));

        auto broken = reader.addScrape("vllm:num_requests_running{model_name=\"x\" 1\n", 13.0);
        QVERIFY(!broken.ok());
        QVERIFY(QString::fromStdString(broken.error().message).contains("line 1"));
    }

    void readsOtherServersNames() {
        ServerMetricsReader reader;
        auto s = reader.addScrape("# TYPE llamacpp:requests_processing gauge\nllamacpp:requests_processing 2\n"
                                  "# TYPE llamacpp:requests_deferred gauge\nllamacpp:requests_deferred 1\n"
                                  "# TYPE llamacpp:kv_cache_usage_ratio gauge\nllamacpp:kv_cache_usage_ratio 0.5\n"
                                  "# TYPE llamacpp:tokens_predicted_total counter\nllamacpp:tokens_predicted_total 10\n",
                                  1.0);
        QVERIFY(s.ok());
        QCOMPARE(reader.flavour(), std::string("llama.cpp"));
        QVERIFY(near(s->running, 2) && near(s->waiting, 1) && near(s->kvUsagePercent, 50));
        QVERIFY(!s->ttftMs.p50);
    }

    // Recorded expositions of SGLang, TGI and llama.cpp's server (tests/api/data/*.prom; each
    // file's header names where its names and formatting come from). Expected percentiles are
    // printed by tests/api/data/gen_server_metrics.py, computed there independently.
    void mapsSglangMetricsAcrossTwoScrapes() {
        ServerMetricsReader reader;
        auto first = reader.addScrape(readFixture("sglang_metrics_1.prom"), 10.0);
        QVERIFY2(first.ok(), first.ok() ? "" : first.error().message.c_str());
        QCOMPARE(reader.flavour(), std::string("sglang"));
        QCOMPARE(reader.modelName(), std::string("meta-llama/Llama-3.1-8B-Instruct"));
        const auto& a = first.value();
        QVERIFY(near(a.running, 162) && near(a.waiting, 26) && near(a.kvUsagePercent, 28));
        QVERIFY(near(a.ttftMs.p50, 300) && near(a.ttftMs.p99, 725));
        QVERIFY(near(a.interTokenMs.p50, 21.9375) && near(a.interTokenMs.p99, 37.5));
        QVERIFY(near(a.endToEndMs.p50, 1200) && near(a.endToEndMs.p99, 3800));
        QVERIFY(near(a.preemptionsTotal, 4));  // sglang:num_retracted_requests_total
        QVERIFY2(a.unavailable.empty(), a.unavailable.empty() ? "" : a.unavailable.front().c_str());
        auto second = reader.addScrape(readFixture("sglang_metrics_2.prom"), 12.0);
        QVERIFY(second.ok());
        const auto& b = second.value();
        QVERIFY(near(b.running, 170) && near(b.waiting, 30) && near(b.kvUsagePercent, 41));
        QVERIFY(near(b.promptTokensPerSecond, 10000));    // (8.148902e+06 - 8.128902e+06) / 2 s
        QVERIFY(near(b.generationTokensPerSecond, 3000));  // (7.563572e+06 - 7.557572e+06) / 2 s
        QVERIFY(near(b.preemptionsPerSecond, 3));          // (10 - 4) / 2 s
        QVERIFY(near(b.ttftMs.p50, 875) && near(b.interTokenMs.p50, 22.5) && near(b.endToEndMs.p99, 3980));
    }

    void mapsTgiMetricsAcrossTwoScrapes() {
        ServerMetricsReader reader;
        auto first = reader.addScrape(readFixture("tgi_metrics_1.prom"), 10.0);
        QVERIFY2(first.ok(), first.ok() ? "" : first.error().message.c_str());
        QCOMPARE(reader.flavour(), std::string("tgi"));
        const auto& a = first.value();
        QVERIFY(near(a.running, 12) && near(a.waiting, 3));
        auto close = [](std::optional<double> v, double e) { return v && std::abs(*v - e) < 1e-3; };
        QVERIFY(close(a.interTokenMs.p50, 27.710473) && close(a.interTokenMs.p99, 49.380062));
        QVERIFY(close(a.endToEndMs.p50, 1597.925494) && close(a.endToEndMs.p99, 2847.50323));
        // What TGI cannot feed, each with the reason.
        QVERIFY(!a.kvUsagePercent && !a.ttftMs.p50 && !a.preemptionsTotal);
        const QString why = QString::fromStdString([&] { std::string j; for (auto& n : a.unavailable) j += n + "|"; return j; }());
        QVERIFY2(why.contains("TTFT: TGI exports no time-to-first-token histogram"), qPrintable(why));
        QVERIFY2(why.contains("KV-cache usage: TGI exports none"), qPrintable(why));
        QVERIFY2(why.contains("preemptions: TGI exports no preemption counter"), qPrintable(why));
        QCOMPARE(int(a.unavailable.size()), 3);
        auto second = reader.addScrape(readFixture("tgi_metrics_2.prom"), 12.0);
        QVERIFY(second.ok());
        const auto& b = second.value();
        QVERIFY(near(b.running, 16) && near(b.waiting, 7));
        // Token rates from the _sum of the per-request token histograms.
        QVERIFY(near(b.generationTokensPerSecond, 2000));  // (34000 - 30000) / 2 s
        QVERIFY(near(b.promptTokensPerSecond, 1280));      // (17560 - 15000) / 2 s
        QVERIFY(close(b.interTokenMs.p50, 93.522846) && close(b.endToEndMs.p50, 5392.998541));
    }

    void mapsLlamaCppMetricsAcrossTwoScrapes() {
        ServerMetricsReader reader;
        auto first = reader.addScrape(readFixture("llamacpp_metrics_1.prom"), 10.0);
        QVERIFY2(first.ok(), first.ok() ? "" : first.error().message.c_str());
        QCOMPARE(reader.flavour(), std::string("llama.cpp"));
        const auto& a = first.value();
        QVERIFY(near(a.running, 1) && near(a.waiting, 0));
        QVERIFY(!a.kvUsagePercent && !a.ttftMs.p50 && !a.interTokenMs.p50 && !a.endToEndMs.p50);
        std::string why;
        for (const auto& n : a.unavailable) why += n + "|";
        QVERIFY2(QString::fromStdString(why).contains("llamacpp:kv_cache_usage_ratio (removed"), why.c_str());
        QVERIFY2(QString::fromStdString(why).contains("TTFT: llama.cpp's server exports no latency histograms"), why.c_str());
        QVERIFY2(QString::fromStdString(why).contains("preemptions: llama.cpp's server does not preempt"), why.c_str());
        QCOMPARE(int(a.unavailable.size()), 5);  // KV, preemptions, TTFT, ITL, e2e
        auto second = reader.addScrape(readFixture("llamacpp_metrics_2.prom"), 12.0);
        QVERIFY(second.ok());
        const auto& b = second.value();
        QVERIFY(near(b.running, 2) && near(b.waiting, 1));
        QVERIFY(near(b.promptTokensPerSecond, 512));      // (97665 - 96641) / 2 s
        QVERIFY(near(b.generationTokensPerSecond, 300));  // (23810 - 23210) / 2 s
    }

    void readsOlderNamesOfEachServer() {
        // vLLM V0's KV gauge and TPOT histogram; SGLang's older TPOT name (its docs' example).
        ServerMetricsReader reader;
        auto s = reader.addScrape("# TYPE vllm:gpu_cache_usage_perc gauge\nvllm:gpu_cache_usage_perc 0.5\n"
                                  "# TYPE sglang:time_per_output_token_seconds histogram\n"
                                  "sglang:time_per_output_token_seconds_bucket{le=\"0.1\"} 2\n"
                                  "sglang:time_per_output_token_seconds_bucket{le=\"+Inf\"} 2\n"
                                  "sglang:time_per_output_token_seconds_sum 0.1\n"
                                  "sglang:time_per_output_token_seconds_count 2\n",
                                  1.0);
        QVERIFY(s.ok());
        QVERIFY(near(s->kvUsagePercent, 50) && near(s->interTokenMs.p50, 50));
    }

    void parsesServerSentEventsInAnyChunking() {
        const std::string stream = ": keep-alive\r\ndata: {\"a\":1}\r\n\r\nevent: x\ndata: line1\ndata:line2\nid: 7\n\n"
                                   "data: [DONE]\r\r";
        for (size_t chunk : {size_t(1), size_t(2), size_t(5), stream.size()}) {
            SseParser parser;
            std::vector<SseParser::Event> events;
            for (size_t i = 0; i < stream.size(); i += chunk)
                for (auto& e : parser.feed(std::string_view(stream).substr(i, chunk))) events.push_back(e);
            QCOMPARE(events.size(), size_t(3));
            QCOMPARE(events[0].data, std::string("{\"a\":1}"));
            QCOMPARE(events[1].event, std::string("x"));
            QCOMPARE(events[1].data, std::string("line1\nline2"));
            QCOMPARE(events[1].id, std::string("7"));
            QCOMPARE(events[2].data, std::string("[DONE]"));
        }
        SseParser bounded(16);
        bounded.feed(std::string(40, 'x'));
        QVERIFY(bounded.failed());
    }

    void kvBlocksTopicRoundTrips() {
        using batchscope::engine::KvBlockView;
        batchscope::engine::SchedulerSnapshot snap;
        snap.blockSize = 16;
        for (int i = 0; i < 100; ++i) {
            KvBlockView b;
            if (i < 10) b = {KvBlockView::State::Owned, 1, 7};
            else if (i < 13) b = {KvBlockView::State::Owned, 2, 9};
            else if (i < 20) b = {KvBlockView::State::Cached, 0, batchscope::engine::kInvalidRequestId};
            snap.blocks.push_back(b);
        }
        const QJsonObject event = batchscope::app::api::makeKvBlocksEvent(snap);
        QCOMPARE(event.value("runs").toArray().size(), 4);  // run-length encoded
        const auto back = blocksFromJson(event);
        QVERIFY(batchscope::app::api::sameBlocks(back, snap.blocks));
        QCOMPARE(back[11].owner, batchscope::engine::RequestId(9));
        QCOMPARE(int(back[11].refCount), 2);
        QVERIFY(batchscope::app::api::topicNames(batchscope::app::api::TopicKvBlocks).contains("kv_blocks"));
        // Malformed: runs that overrun the total, an unknown state, an absurd size.
        QJsonObject bad = event;
        bad.insert("total_blocks", 50);
        QVERIFY(blocksFromJson(bad).empty());
        bad = event;
        bad.insert("runs", QJsonArray{QJsonArray{5, 0, 0, 100}});
        QVERIFY(blocksFromJson(bad).empty());
        bad.insert("total_blocks", 1e12);
        QVERIFY(blocksFromJson(bad).empty());
    }

    void parsesConnectionUrls() {
        auto ws = parseConnection("ws://127.0.0.1:8765", "tok-tok-tok-tok-tok");
        QVERIFY(ws.ok());
        QCOMPARE(int(ws->kind), int(ServerKind::Batchscope));
        auto http = parseConnection("http://10.0.0.5:8000", "");
        QVERIFY(http.ok());
        QCOMPARE(int(http->kind), int(ServerKind::OpenAi));
        QVERIFY(!parseConnection("ws://127.0.0.1:8765", "").ok());                  // token required
        QVERIFY(!parseConnection("ftp://x:1", "t").ok());
        QVERIFY(!parseConnection("not a url", "t").ok());
        QVERIFY(!parseConnection("http://h:1", "t", "batchscope").ok());
        QVERIFY(!parseConnection("ws://h:1", "t", "openai").ok());
        QVERIFY(!parseConnection("ws://h", "t").ok());                              // no port
    }
};

QTEST_GUILESS_MAIN(RemoteMetricsTest)
#include "remote_metrics_test.moc"
