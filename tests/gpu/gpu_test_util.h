// SPDX-License-Identifier: GPL-3.0-or-later
// Shared helpers of the CUDA tests: skip without a usable device.
#pragma once
#include <gtest/gtest.h>

#include "gpu/cuda_backend.h"

/// Skips the current test (with probeCuda()'s reason) when no usable CUDA device exists.
#define SKIP_WITHOUT_CUDA()                                                                        \
    do {                                                                                           \
        const ::batchscope::gpu::CudaAvailability cudaAvail_ = ::batchscope::gpu::probeCuda(0, 256u << 20); \
        if (!cudaAvail_.usable) GTEST_SKIP() << cudaAvail_.reason;                                 \
    } while (0)
