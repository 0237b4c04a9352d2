// SPDX-License-Identifier: GPL-3.0-or-later
// probeCuda() on any machine: a usable device is described, an unusable one comes with a
// reason, loading then fails cleanly, and the CPU runtime works either way.
#include <gtest/gtest.h>

#include <cstdlib>

#include "engine/model/cpu/cpu_llama_executor.h"
#include "engine/model/cpu/random_llama_gguf.h"
#include "gpu/cuda_backend.h"
#include "gpu/cuda_llama_executor.h"

using namespace batchscope;
using engine::ErrorCode;

namespace {

std::vector<std::uint8_t> tinyModel() {
    auto bytes = engine::cpu::makeRandomLlamaGguf(*engine::cpu::llamaShapeByName("tiny"), engine::GgmlType::F16, 5);
    EXPECT_TRUE(bytes.ok());
    return bytes.ok() ? std::move(*bytes) : std::vector<std::uint8_t>{};
}

}  // namespace

TEST(CudaProbe, DescribesTheDeviceOrSaysWhyNot) {
    const gpu::CudaAvailability a = gpu::probeCuda();
    std::printf("probeCuda: %s\n", a.summary().c_str());
    if (a.usable) {
        EXPECT_TRUE(a.reason.empty());
        ASSERT_FALSE(a.devices.empty());
        EXPECT_FALSE(a.devices[0].name.empty());
        EXPECT_GE(a.devices[0].computeMajor, 8);
        EXPECT_GT(a.devices[0].totalBytes, 0u);
        EXPECT_GT(a.driverVersion, 0);
        return;
    }
    EXPECT_FALSE(a.reason.empty());
    EXPECT_NE(a.summary().find(a.reason), std::string::npos);
    EXPECT_GT(a.runtimeVersion, 0);  // the runtime is linked in even where no driver exists
}

TEST(CudaProbe, LoadingWithoutAUsableDeviceFailsWithTheReason) {
    const gpu::CudaAvailability a = gpu::probeCuda();
    if (a.usable) GTEST_SKIP() << "a usable CUDA device exists: " << a.summary();
    auto fromPath = gpu::loadCudaLlamaExecutor("/nonexistent/model.gguf");
    ASSERT_FALSE(fromPath.ok());
    EXPECT_EQ(fromPath.error().code, ErrorCode::Unsupported);
    EXPECT_NE(fromPath.error().message.find(a.reason), std::string::npos) << fromPath.error().message;
    auto fromBytes = gpu::CudaLlamaExecutor::create(engine::GgufFile::fromBytes(tinyModel()).value());
    ASSERT_FALSE(fromBytes.ok());
    EXPECT_EQ(fromBytes.error().code, ErrorCode::Unsupported);
}

TEST(CudaProbe, NonexistentDeviceIsUnusable) {
    const gpu::CudaAvailability a = gpu::probeCuda(1000);
    EXPECT_FALSE(a.usable);
    EXPECT_FALSE(a.reason.empty());
}

TEST(CudaProbe, CpuRuntimeWorksWhateverTheProbeSays) {
    auto ex = engine::CpuLlamaExecutor::create(engine::GgufFile::fromBytes(tinyModel()).value(), 1);
    ASSERT_TRUE(ex.ok()) << ex.error().message;
    (*ex)->configureKvCache(8, 16);
    const std::vector<engine::TokenId> prompt{1, 2, 3, 4, 5};
    const std::vector<engine::BlockId> blocks{3};
    engine::ModelBatch batch;
    engine::SequenceStep s;
    s.requestId = 1;
    s.tokens = prompt;
    s.blockTable = blocks;
    s.needsNextToken = true;
    s.sampling.temperature = 0.0f;
    s.history = prompt;
    batch.sequences.push_back(s);
    const engine::StepResult r = (*ex)->execute(batch);
    ASSERT_EQ(r.nextTokens.size(), 1u);
    ASSERT_TRUE(r.nextTokens[0].has_value());
    EXPECT_GE(*r.nextTokens[0], 0);
    EXPECT_LT(*r.nextTokens[0], 300);
}

TEST(CudaProbe, OptionsFromEnvironmentIgnoreMalformedValues) {
    ::setenv("BATCHSCOPE_CUDA_DEVICE", "1", 1);
    ::setenv("BATCHSCOPE_CUDA_KV_FRACTION", "0.5", 1);
    gpu::CudaOptions o = gpu::cudaOptionsFromEnvironment();
    EXPECT_EQ(o.deviceIndex, 1);
    EXPECT_DOUBLE_EQ(o.kvCacheFraction, 0.5);
    ::setenv("BATCHSCOPE_CUDA_DEVICE", "x1", 1);
    ::setenv("BATCHSCOPE_CUDA_KV_FRACTION", "1.5", 1);
    o = gpu::cudaOptionsFromEnvironment();
    EXPECT_EQ(o.deviceIndex, gpu::CudaOptions{}.deviceIndex);
    EXPECT_DOUBLE_EQ(o.kvCacheFraction, gpu::CudaOptions{}.kvCacheFraction);
    ::unsetenv("BATCHSCOPE_CUDA_DEVICE");
    ::unsetenv("BATCHSCOPE_CUDA_KV_FRACTION");
}

TEST(CudaProbe, EngineLoaderFailsCleanlyWithoutAUsableDevice) {
    const gpu::CudaAvailability a = gpu::probeCuda();
    if (a.usable) GTEST_SKIP() << "a usable CUDA device exists: " << a.summary();
    engine::ExecutorOptions options;
    options.modelPath = "/nonexistent/model.gguf";
    options.device = engine::DeviceKind::Cuda;
    auto r = gpu::loadCudaExecutorForEngine(options, {}, {});
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::Unsupported);
}
