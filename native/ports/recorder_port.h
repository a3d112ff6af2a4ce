// Hands what the bridge transmits to a JS writer through a bounded ring; counts what a slow disk drops.
#pragma once

#include "../common/spsc_ring.h"
#include "port.h"

namespace speakerd {

class RecorderPort final : public Port {
 public:
  RecorderPort(int rate, size_t capacity_samples, size_t notify_samples)
      : Port(rate), ring_(capacity_samples), notify_samples_(notify_samples) {}

  void PutFrame(const int16_t* in) override {
    const size_t written = ring_.Write(in, put_frame());
    if (written < static_cast<size_t>(put_frame())) {
      counters().dropped.fetch_add(put_frame() - written, std::memory_order_relaxed);
    }
    counters().tx_frames.fetch_add(1, std::memory_order_relaxed);
    if (ring_.size() >= notify_samples_ && !notified_.exchange(true, std::memory_order_acq_rel)) {
      Post(EventType::kRecorderData, static_cast<int64_t>(ring_.size()));
    }
  }

  // JS thread: takes up to max samples out of the ring.
  size_t Read(int16_t* dst, size_t max) {
    const size_t n = ring_.Read(dst, max);
    notified_.store(false, std::memory_order_release);
    return n;
  }
  size_t buffered() const { return ring_.size(); }

  bool CanTransmitToBridge() const override { return false; }
  bool CanReceiveFromBridge() const override { return true; }

 private:
  SpscRing<int16_t> ring_;
  const size_t notify_samples_;
  std::atomic<bool> notified_{false};
};

}  // namespace speakerd
