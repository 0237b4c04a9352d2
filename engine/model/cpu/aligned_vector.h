// A std::vector whose storage starts on a 64-byte (cache-line) boundary.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <cstddef>
#include <new>
#include <vector>

namespace batchscope::engine::cpu {

/// Alignment of activation and KV buffers, in bytes. Why: the AVX-512 kernels load 64-byte
/// vectors along rows whose length is a multiple of 16 floats; with malloc's 16-byte alignment
/// every such load straddles two cache lines, which cost ~15 % of the F32 GEMM rate here
/// (docs/cpu-runtime.md, "Performance pass 3").
inline constexpr std::size_t kCacheLineBytes = 64;

/// Minimal allocator for AlignedVector (stateless; all instances compare equal).
template <class T>
struct CacheLineAllocator {
    using value_type = T;
    CacheLineAllocator() noexcept = default;
    template <class U>
    CacheLineAllocator(const CacheLineAllocator<U>&) noexcept {}
    T* allocate(std::size_t n) {
        return static_cast<T*>(::operator new(n * sizeof(T), std::align_val_t{kCacheLineBytes}));
    }
    void deallocate(T* p, std::size_t n) noexcept {
        ::operator delete(p, n * sizeof(T), std::align_val_t{kCacheLineBytes});
    }
    template <class U>
    bool operator==(const CacheLineAllocator<U>&) const noexcept { return true; }
};

template <class T>
using AlignedVector = std::vector<T, CacheLineAllocator<T>>;

}  // namespace batchscope::engine::cpu
