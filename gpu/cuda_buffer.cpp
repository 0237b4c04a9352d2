// SPDX-License-Identifier: GPL-3.0-or-later
#include "gpu/cuda_buffer.h"

#include <algorithm>

#include "gpu/cuda_check.h"

namespace batchscope::gpu {

namespace {

std::string mib(std::size_t bytes) { return std::to_string((bytes + (1u << 20) - 1) >> 20) + " MiB"; }

}  // namespace

void throwCudaError(cudaError_t err, const char* call, const char* file, int line) {
    throw CudaError(std::string(file) + ":" + std::to_string(line) + ": " + call + ": " + cudaGetErrorName(err) +
                    ": " + cudaGetErrorString(err));
}

void throwCublasError(cublasStatus_t st, const char* call, const char* file, int line) {
    throw CudaError(std::string(file) + ":" + std::to_string(line) + ": " + call + ": " + cublasGetStatusName(st) +
                    ": " + cublasGetStatusString(st));
}

DeviceBuffer::DeviceBuffer(std::size_t bytes) {
    if (bytes == 0) return;
    const cudaError_t err = cudaMalloc(&m_ptr, bytes);
    if (err != cudaSuccess) {
        m_ptr = nullptr;
        (void)cudaGetLastError();  // clear the (non-sticky) allocation error
        throw CudaError("cannot allocate " + mib(bytes) + " of device memory: " + cudaGetErrorString(err));
    }
    m_bytes = bytes;
}

DeviceBuffer::~DeviceBuffer() {
    if (m_ptr) (void)cudaFree(m_ptr);
}

DeviceBuffer& DeviceBuffer::operator=(DeviceBuffer&& o) noexcept {
    if (this != &o) {
        if (m_ptr) (void)cudaFree(m_ptr);
        m_ptr = std::exchange(o.m_ptr, nullptr);
        m_bytes = std::exchange(o.m_bytes, 0);
    }
    return *this;
}

void DeviceBuffer::reserve(std::size_t bytes) {
    if (bytes <= m_bytes) return;
    const std::size_t want = std::max(bytes, m_bytes + m_bytes / 2);
    *this = DeviceBuffer();  // free first: the old contents are not kept
    *this = DeviceBuffer(want);
}

PinnedBuffer::~PinnedBuffer() {
    if (m_ptr) (void)cudaFreeHost(m_ptr);
}

void PinnedBuffer::reserve(std::size_t bytes) {
    if (bytes <= m_bytes) return;
    const std::size_t want = std::max(bytes, m_bytes + m_bytes / 2);
    if (m_ptr) (void)cudaFreeHost(m_ptr);
    m_ptr = nullptr;
    m_bytes = 0;
    const cudaError_t err = cudaMallocHost(&m_ptr, want);
    if (err != cudaSuccess) {
        m_ptr = nullptr;
        (void)cudaGetLastError();
        throw CudaError("cannot allocate " + mib(want) + " of pinned host memory: " + cudaGetErrorString(err));
    }
    m_bytes = want;
}

}  // namespace batchscope::gpu
