// Lock-free single-producer single-consumer ring buffer.
//
// One thread writes, one thread reads; neither ever blocks, locks or allocates after construction.
// Positions are monotonic 64-bit counters, so "how much was ever written/read" is always known
// (the playout ring uses them to mark flush and drain points without races).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>

#include <sys/mman.h>
#include <unistd.h>

namespace speakerd {

inline size_t NextPowerOfTwo(size_t n) {
  size_t p = 1;
  while (p < n) p <<= 1;
  return p;
}

template <typename T>
class SpscRing {
 public:
  explicit SpscRing(size_t min_capacity)
      : capacity_(NextPowerOfTwo(min_capacity < 2 ? 2 : min_capacity)),
        mask_(capacity_ - 1),
        // Not value-initialised: only what the producer wrote is ever read, and a large buffer's pages
        // (mmap'ed by malloc) then become resident only as audio is written into them, so a ring sized
        // for the longest reply costs memory only for the replies that come.
        buffer_(new T[capacity_]) {}

  SpscRing(const SpscRing&) = delete;
  SpscRing& operator=(const SpscRing&) = delete;

  size_t capacity() const { return capacity_; }
  uint64_t write_position() const { return write_.load(std::memory_order_acquire); }
  uint64_t read_position() const { return read_.load(std::memory_order_acquire); }
  size_t size() const { return static_cast<size_t>(write_position() - read_position()); }
  size_t free_space() const { return capacity_ - size(); }

  // Producer: copies up to n items; returns how many fitted.
  size_t Write(const T* src, size_t n) {
    const uint64_t w = write_.load(std::memory_order_relaxed);
    const uint64_t r = read_.load(std::memory_order_acquire);
    const size_t room = capacity_ - static_cast<size_t>(w - r);
    if (n > room) n = room;
    const size_t start = static_cast<size_t>(w & mask_);
    const size_t first = n < capacity_ - start ? n : capacity_ - start;
    std::memcpy(buffer_.get() + start, src, first * sizeof(T));
    std::memcpy(buffer_.get(), src + first, (n - first) * sizeof(T));
    write_.store(w + n, std::memory_order_release);
    return n;
  }

  // Consumer: copies up to n items out; returns how many were read.
  size_t Read(T* dst, size_t n) {
    const uint64_t r = read_.load(std::memory_order_relaxed);
    const uint64_t w = write_.load(std::memory_order_acquire);
    const size_t avail = static_cast<size_t>(w - r);
    if (n > avail) n = avail;
    const size_t start = static_cast<size_t>(r & mask_);
    const size_t first = n < capacity_ - start ? n : capacity_ - start;
    std::memcpy(dst, buffer_.get() + start, first * sizeof(T));
    std::memcpy(dst + first, buffer_.get(), (n - first) * sizeof(T));
    read_.store(r + n, std::memory_order_release);
    return n;
  }

  // Consumer: hands the oldest n items (exactly n, or nothing when fewer are waiting) to `fn` in at
  // most two contiguous spans, `fn(const T* items, size_t count)`, then consumes them. No copy.
  template <typename Fn>
  bool ReadSpans(size_t n, Fn&& fn) {
    const uint64_t r = read_.load(std::memory_order_relaxed);
    const uint64_t w = write_.load(std::memory_order_acquire);
    if (static_cast<size_t>(w - r) < n) return false;
    const size_t start = static_cast<size_t>(r & mask_);
    const size_t first = n < capacity_ - start ? n : capacity_ - start;
    fn(static_cast<const T*>(buffer_.get() + start), first);
    if (n > first) fn(static_cast<const T*>(buffer_.get()), n - first);
    read_.store(r + n, std::memory_order_release);
    return true;
  }

  // Consumer: moves the read position forward to pos (never past what was written).
  void SkipTo(uint64_t pos) {
    const uint64_t r = read_.load(std::memory_order_relaxed);
    const uint64_t w = write_.load(std::memory_order_acquire);
    if (pos > w) pos = w;
    if (pos > r) read_.store(pos, std::memory_order_release);
  }

  // Producer, while the ring is empty (the consumer then reads nothing): gives the whole pages of the
  // storage back to the kernel (they read as zeros and become resident again as audio is written).
  // Returns the bytes released (0 when the ring is not empty).
  size_t ReleasePages() {
    if (size() != 0) return 0;
    const uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
    const uintptr_t begin = (reinterpret_cast<uintptr_t>(buffer_.get()) + page - 1) & ~(page - 1);
    const uintptr_t end = (reinterpret_cast<uintptr_t>(buffer_.get() + capacity_)) & ~(page - 1);
    if (end <= begin) return 0;
    if (madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED) != 0) return 0;
    return static_cast<size_t>(end - begin);
  }

  bool Push(const T& item) { return Write(&item, 1) == 1; }
  bool Pop(T* item) { return Read(item, 1) == 1; }

 private:
  const size_t capacity_;
  const size_t mask_;
  std::unique_ptr<T[]> buffer_;
  alignas(64) std::atomic<uint64_t> write_{0};
  alignas(64) std::atomic<uint64_t> read_{0};
};

}  // namespace speakerd
