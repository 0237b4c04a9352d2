// SPDX-License-Identifier: GPL-3.0-or-later
#include <cuda_runtime.h>

#include <cstdio>

#include "gpu/cuda_backend.h"

namespace batchscope::gpu {

namespace {

std::string gib(std::size_t bytes) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f GiB", static_cast<double>(bytes) / (1u << 30));
    return buf;
}

std::string describe(cudaError_t err) {
    return std::string(cudaGetErrorName(err)) + " (" + cudaGetErrorString(err) + ")";
}

}  // namespace

std::string CudaAvailability::summary() const {
    if (!usable) return "CUDA unusable: " + reason;
    std::string out;
    for (const auto& d : devices) {
        if (!out.empty()) out += "; ";
        out += "device " + std::to_string(d.index) + ": " + d.name + ", cc " + std::to_string(d.computeMajor) + "." +
               std::to_string(d.computeMinor) + ", " + (d.freeBytes ? gib(d.freeBytes) + " free of " : "") +
               gib(d.totalBytes);
    }
    return out;
}

CudaAvailability probeCuda(int deviceIndex, std::size_t minFreeBytes) {
    CudaAvailability a;
    (void)cudaRuntimeGetVersion(&a.runtimeVersion);
    if (cudaDriverGetVersion(&a.driverVersion) != cudaSuccess || a.driverVersion == 0) {
        a.driverVersion = 0;
        a.reason = "no CUDA driver: libcuda.so could not be loaded (no NVIDIA driver installed)";
        (void)cudaGetLastError();
        return a;
    }
    int count = 0;
    if (const cudaError_t err = cudaGetDeviceCount(&count); err != cudaSuccess) {
        a.reason = "no CUDA device: cudaGetDeviceCount returned " + describe(err);
        (void)cudaGetLastError();
        return a;
    }
    if (count == 0) {
        a.reason = "no CUDA device: cudaGetDeviceCount found 0 devices";
        return a;
    }
    for (int i = 0; i < count; ++i) {
        cudaDeviceProp prop{};
        if (cudaGetDeviceProperties(&prop, i) != cudaSuccess) continue;
        CudaDeviceInfo d;
        d.index = i;
        d.name = prop.name;
        d.computeMajor = prop.major;
        d.computeMinor = prop.minor;
        d.totalBytes = prop.totalGlobalMem;
        d.multiprocessors = prop.multiProcessorCount;
        int previous = 0;
        // cudaMemGetInfo needs a context on the device, which costs device memory: only on the
        // device asked about (others report 0 free bytes).
        if (i == deviceIndex && cudaGetDevice(&previous) == cudaSuccess && cudaSetDevice(i) == cudaSuccess) {
            std::size_t freeBytes = 0, totalBytes = 0;
            if (cudaMemGetInfo(&freeBytes, &totalBytes) == cudaSuccess) d.freeBytes = freeBytes;
            (void)cudaSetDevice(previous);
        }
        (void)cudaGetLastError();
        a.devices.push_back(d);
    }
    if (deviceIndex < 0 || deviceIndex >= static_cast<int>(a.devices.size())) {
        a.reason = "CUDA device " + std::to_string(deviceIndex) + " does not exist (" +
                   std::to_string(a.devices.size()) + " usable device(s))";
        return a;
    }
    const CudaDeviceInfo& d = a.devices[static_cast<std::size_t>(deviceIndex)];
    if (d.computeMajor < 8) {
        a.reason = d.name + " has compute capability " + std::to_string(d.computeMajor) + "." +
                   std::to_string(d.computeMinor) + "; the CUDA backend needs 8.0 or newer";
        return a;
    }
    if (d.freeBytes < minFreeBytes) {
        a.reason = d.name + " has too little free memory: " + gib(d.freeBytes) + " free, " + gib(minFreeBytes) +
                   " needed";
        return a;
    }
    a.usable = true;
    return a;
}

}  // namespace batchscope::gpu
