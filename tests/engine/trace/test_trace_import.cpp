// Trace importers (Azure, BurstGPT, workload CSV) on the sample files and on malformed input:
// every error names the line and column.
// SPDX-License-Identifier: GPL-3.0-or-later
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <sstream>

#include "engine/trace/trace_import.h"
#include "engine/trace/workload_csv.h"

namespace batchscope::engine {
namespace {

std::string sample(const std::string& name) {
    const char* env = std::getenv("BATCHSCOPE_SOURCE_DIR");
    const std::string root = env != nullptr ? env : BATCHSCOPE_SOURCE_DIR;
    return (std::filesystem::path(root) / "tests/engine/trace/data" / name).string();
}

Result<ImportedTrace> importText(const std::string& text, TraceFormat format = TraceFormat::Auto) {
    std::istringstream in(text);
    return importTrace(in, "t.csv", TraceImportOptions{format, 0});
}

std::string errorOf(const std::string& text, TraceFormat format = TraceFormat::Auto) {
    auto r = importText(text, format);
    EXPECT_FALSE(r.ok()) << "expected an error for:\n" << text;
    return r.ok() ? std::string() : r.error().message;
}

TEST(TraceImport, AzureSample) {
    auto r = importTrace(sample("azure_sample.csv"));
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->format, TraceFormat::Azure);
    ASSERT_EQ(r->requests.size(), 10u);
    EXPECT_EQ(r->rows, 10);
    EXPECT_EQ(r->skippedZeroTokens, 0);
    EXPECT_DOUBLE_EQ(r->requests[0].arrivalSeconds, 0.0);
    EXPECT_EQ(r->requests[0].promptTokens, 374);
    EXPECT_EQ(r->requests[0].outputTokens, 44);
    // 18:15:50.9951690 - 18:15:46.6805900 = 4.314579 s, to the 100 ns of the trace.
    EXPECT_NEAR(r->requests[1].arrivalSeconds, 4.314579, 1e-9);
    EXPECT_NEAR(r->requests.back().arrivalSeconds, 16.2694101, 1e-9);  // across the minute
    EXPECT_EQ(r->requests.back().promptTokens, 640);
    for (std::size_t i = 1; i < r->requests.size(); ++i)
        EXPECT_LE(r->requests[i - 1].arrivalSeconds, r->requests[i].arrivalSeconds);
}

TEST(TraceImport, BurstGptSampleSkipsFailedRequests) {
    auto r = importTrace(sample("burstgpt_sample.csv"));
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->format, TraceFormat::BurstGpt);
    EXPECT_EQ(r->rows, 8);
    EXPECT_EQ(r->skippedZeroTokens, 1);  // GPT-4 at 118 s with 0 response tokens
    ASSERT_EQ(r->requests.size(), 7u);
    EXPECT_DOUBLE_EQ(r->requests[0].arrivalSeconds, 0.0);  // 5 s in the file
    EXPECT_DOUBLE_EQ(r->requests[1].arrivalSeconds, 40.0);
    EXPECT_EQ(r->requests[2].promptTokens, 130);
    EXPECT_EQ(r->requests[2].client, "ChatGPT");
    EXPECT_DOUBLE_EQ(r->requests[5].arrivalSeconds, 205.5);
    EXPECT_EQ(r->requests[6].client, "GPT-4");
}

TEST(TraceImport, WorkloadCsvSample) {
    auto r = importTrace(sample("workload_sample.csv"));
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->format, TraceFormat::Workload);
    ASSERT_EQ(r->requests.size(), 6u);
    EXPECT_EQ(r->requests[1].priority, 2);
    EXPECT_EQ(r->requests[2].priority, 1);  // "normal"
    EXPECT_EQ(r->requests[2].client, "carol, the tester");
    EXPECT_EQ(r->requests[1].prefixBlockHashes, (std::vector<std::uint64_t>{0xa1, 0xb2}));
    ASSERT_TRUE(r->requests[4].cancelAfterSeconds.has_value());
    EXPECT_DOUBLE_EQ(*r->requests[4].cancelAfterSeconds, 0.1);
    EXPECT_FALSE(r->requests[0].cancelAfterSeconds.has_value());
}

TEST(TraceImport, WorkloadCsvRoundTripsExactly) {
    std::vector<WorkloadRequest> in(3);
    in[0] = {0.0, 17, 3, 0, std::nullopt, {}, "a"};
    in[1] = {0.1 + 0.2, 4096, 1, 3, 1.0 / 3.0, {0xdeadbeefcafef00dULL, 1}, "x,\"y\""};
    in[2] = {1.0000001, 1, 100000, 2, 0.0, {}, ""};
    std::ostringstream out;
    writeWorkloadCsv(out, in);
    auto back = importText(out.str());
    ASSERT_TRUE(back.ok()) << back.error().message << "\n" << out.str();
    ASSERT_EQ(back->requests.size(), 3u);
    for (std::size_t i = 0; i < 3; ++i) {
        const auto& a = in[i];
        const auto& b = back->requests[i];
        EXPECT_EQ(a.arrivalSeconds, b.arrivalSeconds) << i;  // shortest exact form: bit-identical
        EXPECT_EQ(a.promptTokens, b.promptTokens);
        EXPECT_EQ(a.outputTokens, b.outputTokens);
        EXPECT_EQ(a.priority, b.priority);
        EXPECT_EQ(a.cancelAfterSeconds, b.cancelAfterSeconds);
        EXPECT_EQ(a.prefixBlockHashes, b.prefixBlockHashes);
        EXPECT_EQ(a.client, b.client);
    }
}

TEST(TraceImport, UnsortedRowsAreSortedAndRelative) {
    auto r = importText("Timestamp,Model,Request tokens,Response tokens,Total tokens,Log Type\n"
                        "20,m,5,5,10,x\n10,m,6,6,12,x\n30,m,7,7,14,x\n");
    ASSERT_TRUE(r.ok()) << r.error().message;
    ASSERT_EQ(r->requests.size(), 3u);
    EXPECT_EQ(r->requests[0].promptTokens, 6);
    EXPECT_DOUBLE_EQ(r->requests[1].arrivalSeconds, 10.0);
    EXPECT_DOUBLE_EQ(r->requests[2].arrivalSeconds, 20.0);
}

TEST(TraceImport, LimitReadsTheFirstRows) {
    std::istringstream in("arrival_seconds,prompt_tokens,output_tokens\n0,1,1\n1,2,2\n2,3,3\n");
    auto r = importTrace(in, "t.csv", TraceImportOptions{TraceFormat::Auto, 2});
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->requests.size(), 2u);
    EXPECT_EQ(r->rows, 2);
}

TEST(TraceImport, CrLfQuotesAndBlankLines) {
    auto r = importText("\xEF\xBB\xBFTIMESTAMP,ContextTokens,GeneratedTokens\r\n\r\n"
                        "\"2023-11-16 18:15:46\",\"10\", 5\r\n2023-11-16T18:15:47.5Z,3,4\r\n");
    ASSERT_TRUE(r.ok()) << r.error().message;
    ASSERT_EQ(r->requests.size(), 2u);
    EXPECT_DOUBLE_EQ(r->requests[1].arrivalSeconds, 1.5);
}

TEST(TraceImport, MalformedRowsNameLineAndColumn) {
    const std::string azure = "TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46.68,10,5\n";
    EXPECT_EQ(errorOf(azure + "2023-11-16 18:15:47,12,abc\n"),
              "t.csv: line 3, column 3 (GeneratedTokens): expected a whole number, got 'abc'");
    EXPECT_EQ(errorOf(azure + "yesterday,12,3\n"),
              "t.csv: line 3, column 1 (TIMESTAMP): expected a date and time like '2023-11-16 18:15:46.6805900', "
              "got 'yesterday'");
    EXPECT_EQ(errorOf(azure + "2023-13-16 18:15:47,12,3\n").substr(0, 36), "t.csv: line 3, column 1 (TIMESTAMP):");
    EXPECT_EQ(errorOf(azure + "2023-11-16 18:15:47,-4,3\n"),
              "t.csv: line 3, column 2 (ContextTokens): must be in [0, 1073741824], got '-4'");
    EXPECT_EQ(errorOf(azure + "2023-11-16 18:15:47,12\n"),
              "t.csv: line 3, column 3 (GeneratedTokens): missing (the row has only 2 fields)");
    EXPECT_EQ(errorOf(azure + "\n\n2023-11-16 18:15:47,\"12,3\n"),
              "t.csv: line 5, column 2: unterminated quote (a quoted field must end on its line)");
    const std::string burst = "Timestamp,Model,Request tokens,Response tokens,Total tokens,Log Type\n";
    EXPECT_EQ(errorOf(burst + "5,ChatGPT,472,18,490,Conversation log\nnan,ChatGPT,1,1,2,x\n"),
              "t.csv: line 3, column 1 (Timestamp): expected a number, got 'nan'");
    EXPECT_EQ(errorOf(burst + "5,ChatGPT,4.5,18,490,Conversation log\n"),
              "t.csv: line 2, column 3 (Request tokens): expected a whole number, got '4.5'");
    EXPECT_EQ(errorOf("arrival_seconds,prompt_tokens,output_tokens,priority\n0,1,1,urgent\n"),
              "t.csv: line 2, column 4 (priority): expected 0..3 or low/normal/high/critical, got 'urgent'");
    EXPECT_EQ(errorOf("arrival_seconds,prompt_tokens,output_tokens\n0,0,1\n"),
              "t.csv: line 2, column 2 (prompt_tokens): must be in [1, 1073741824], got '0'");
}

TEST(TraceImport, HeaderErrors) {
    EXPECT_EQ(errorOf(""), "t.csv: empty file (no header row)");
    EXPECT_NE(errorOf("a,b,c\n1,2,3\n").find("t.csv: line 1: not a known trace header"), std::string::npos);
    EXPECT_EQ(errorOf("TIMESTAMP,Tokens\n", TraceFormat::Azure),
              "t.csv: line 1: missing column 'ContextTokens' (the header has: TIMESTAMP, Tokens)");
    EXPECT_EQ(errorOf("arrival_seconds,prompt_tokens,output_tokens\n"),
              "t.csv: no requests (0 data rows, 0 of them with 0 prompt or output tokens)");
    auto missing = importTrace("/nonexistent/trace.csv");
    ASSERT_FALSE(missing.ok());
    EXPECT_EQ(missing.error().message, "cannot open trace '/nonexistent/trace.csv'");
}

TEST(TraceImport, TimestampParsing) {
    EXPECT_EQ(parseTraceTimestamp("1970-01-01 00:00:00"), 0);
    EXPECT_EQ(parseTraceTimestamp("1970-01-02 00:00:01.5"), 86401500000000LL);
    EXPECT_EQ(parseTraceTimestamp("2023-11-16 18:15:46.6805900"), 1700158546680590000LL);
    EXPECT_EQ(parseTraceTimestamp("2024-02-29T00:00:00+00:00"), 1709164800000000000LL);
    EXPECT_FALSE(parseTraceTimestamp("2023-11-16 18:15"));
    EXPECT_FALSE(parseTraceTimestamp("2023-11-16 18:15:46.1234567891"));
    EXPECT_FALSE(parseTraceTimestamp("2023-11-16 18:15:46+02:00"));
    EXPECT_FALSE(parseTraceTimestamp("2023-11-16 18:15:46."));
}

TEST(TraceImport, FormatNames) {
    EXPECT_EQ(traceFormatFromName("azure"), TraceFormat::Azure);
    EXPECT_EQ(traceFormatFromName("burstgpt"), TraceFormat::BurstGpt);
    EXPECT_EQ(traceFormatFromName("csv"), TraceFormat::Workload);
    EXPECT_FALSE(traceFormatFromName("parquet"));
    EXPECT_STREQ(traceFormatName(TraceFormat::BurstGpt), "burstgpt");
}

}  // namespace
}  // namespace batchscope::engine
