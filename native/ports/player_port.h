// Plays a mono PCM buffer (a decoded WAV file) once or in a loop.
#pragma once

#include <vector>

#include "port.h"

namespace speakerd {

class PlayerPort final : public Port {
 public:
  PlayerPort(int rate, std::vector<int16_t> samples, bool loop)
      : Port(rate), samples_(std::move(samples)), loop_(loop) {}

  bool GetFrame(int16_t* out) override {
    const size_t total = samples_.size();
    if (finished_ || total == 0) return false;
    size_t filled = 0;
    while (filled < static_cast<size_t>(frame())) {
      const size_t want = frame() - filled;
      const size_t left = total - position_;
      const size_t n = want < left ? want : left;
      std::copy(samples_.data() + position_, samples_.data() + position_ + n, out + filled);
      filled += n;
      position_ += n;
      if (position_ == total) {
        Post(EventType::kEof, ++loops_);
        if (!loop_) {
          finished_ = true;
          break;
        }
        position_ = 0;
      }
    }
    for (size_t i = filled; i < static_cast<size_t>(frame()); ++i) out[i] = 0;
    counters().rx_frames.fetch_add(1, std::memory_order_relaxed);
    return true;
  }

  bool CanTransmitToBridge() const override { return true; }
  bool CanReceiveFromBridge() const override { return false; }

 private:
  const std::vector<int16_t> samples_;
  const bool loop_;
  size_t position_ = 0;
  int64_t loops_ = 0;
  bool finished_ = false;
};

}  // namespace speakerd
