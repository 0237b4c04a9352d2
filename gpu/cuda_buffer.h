// Owning device and pinned host buffers (RAII over cudaMalloc / cudaMallocHost).
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <cstddef>
#include <utility>

// Internal to gpu/ (no CUDA header needed here, but only gpu/ sources use it).
namespace batchscope::gpu {

/// Device memory of `bytes` bytes, uninitialised. Move-only. Allocation failure throws
/// CudaError naming the size; free never throws. Threading: not thread-safe.
class DeviceBuffer {
public:
    DeviceBuffer() = default;
    explicit DeviceBuffer(std::size_t bytes);
    ~DeviceBuffer();
    DeviceBuffer(DeviceBuffer&& o) noexcept : m_ptr(std::exchange(o.m_ptr, nullptr)), m_bytes(std::exchange(o.m_bytes, 0)) {}
    DeviceBuffer& operator=(DeviceBuffer&& o) noexcept;
    DeviceBuffer(const DeviceBuffer&) = delete;
    DeviceBuffer& operator=(const DeviceBuffer&) = delete;

    void* get() const { return m_ptr; }
    template <typename T>
    T* as(std::size_t byteOffset = 0) const {
        return reinterpret_cast<T*>(static_cast<char*>(m_ptr) + byteOffset);
    }
    std::size_t size() const { return m_bytes; }
    /// Reallocates (contents lost) when smaller than `bytes`; grows by at least 1.5x.
    void reserve(std::size_t bytes);

private:
    void* m_ptr = nullptr;
    std::size_t m_bytes = 0;
};

/// Page-locked host memory (fast, truly asynchronous copies). Same rules as DeviceBuffer.
class PinnedBuffer {
public:
    PinnedBuffer() = default;
    ~PinnedBuffer();
    PinnedBuffer(PinnedBuffer&& o) noexcept : m_ptr(std::exchange(o.m_ptr, nullptr)), m_bytes(std::exchange(o.m_bytes, 0)) {}
    PinnedBuffer& operator=(PinnedBuffer&&) = delete;
    PinnedBuffer(const PinnedBuffer&) = delete;
    PinnedBuffer& operator=(const PinnedBuffer&) = delete;

    template <typename T>
    T* as(std::size_t byteOffset = 0) const {
        return reinterpret_cast<T*>(static_cast<char*>(m_ptr) + byteOffset);
    }
    std::size_t size() const { return m_bytes; }
    void reserve(std::size_t bytes);

private:
    void* m_ptr = nullptr;
    std::size_t m_bytes = 0;
};

/// Rounds up to a multiple of 256 bytes (alignment of sub-allocations in one buffer).
constexpr std::size_t alignUp(std::size_t bytes) { return (bytes + 255) / 256 * 256; }

}  // namespace batchscope::gpu
