// CUDA_CHECK / CUBLAS_CHECK: turn CUDA runtime and cuBLAS failures into exceptions.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <stdexcept>
#include <string>

// Internal to gpu/: includes CUDA headers, so no header the engine or the app sees includes it.
namespace batchscope::gpu {

/// A failed CUDA or cuBLAS call: what() = "file:line: call: error name: description".
/// The scheduler catches it as a failed step.
class CudaError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

[[noreturn]] void throwCudaError(cudaError_t err, const char* call, const char* file, int line);
[[noreturn]] void throwCublasError(cublasStatus_t st, const char* call, const char* file, int line);

}  // namespace batchscope::gpu

#define CUDA_CHECK(call)                                                                    \
    do {                                                                                    \
        const cudaError_t batchscopeErr_ = (call);                                          \
        if (batchscopeErr_ != cudaSuccess)                                                  \
            ::batchscope::gpu::throwCudaError(batchscopeErr_, #call, __FILE__, __LINE__);   \
    } while (0)

#define CUBLAS_CHECK(call)                                                                  \
    do {                                                                                    \
        const cublasStatus_t batchscopeSt_ = (call);                                        \
        if (batchscopeSt_ != CUBLAS_STATUS_SUCCESS)                                         \
            ::batchscope::gpu::throwCublasError(batchscopeSt_, #call, __FILE__, __LINE__);  \
    } while (0)

/// Checks the launch of the kernel just queued (configuration errors; faults show up later).
#define CUDA_CHECK_LAUNCH() CUDA_CHECK(cudaGetLastError())
