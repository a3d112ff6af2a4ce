// Tone and chime generator for earcons: a sequence of one- or two-frequency segments with short
// raised-cosine fades so no segment starts or ends with a click.
#pragma once

#include <cmath>
#include <vector>

#include "port.h"

namespace speakerd {

struct ToneSegment {
  float freq1 = 0.0f;      // Hz; 0 means silence
  float freq2 = 0.0f;      // Hz; 0 means a single tone
  float amplitude = 0.0f;  // 0..1 of full scale
  uint32_t samples = 0;
};

class TonePort final : public Port {
 public:
  TonePort(int rate, std::vector<ToneSegment> segments, bool loop)
      : Port(rate), segments_(std::move(segments)), loop_(loop), fade_(rate / 200) {}

  bool GetFrame(int16_t* out) override {
    if (finished_ || segments_.empty()) return false;
    const double two_pi = 6.283185307179586;
    for (int i = 0; i < frame(); ++i) {
      if (finished_) {
        out[i] = 0;
        continue;
      }
      const ToneSegment& seg = segments_[segment_];
      float value = 0.0f;
      if (seg.freq1 > 0.0f && seg.amplitude > 0.0f) {
        double s = std::sin(phase1_);
        if (seg.freq2 > 0.0f) s = 0.5 * (s + std::sin(phase2_));
        value = static_cast<float>(s) * seg.amplitude * Envelope(seg.samples) * 32767.0f;
      }
      out[i] = SaturateFloat(value);
      phase1_ = std::fmod(phase1_ + two_pi * seg.freq1 / rate(), two_pi);
      phase2_ = std::fmod(phase2_ + two_pi * seg.freq2 / rate(), two_pi);
      if (++offset_ >= seg.samples) NextSegment();
    }
    counters().rx_frames.fetch_add(1, std::memory_order_relaxed);
    return true;
  }

  bool CanTransmitToBridge() const override { return true; }
  bool CanReceiveFromBridge() const override { return false; }

 private:
  float Envelope(uint32_t length) const {
    const uint32_t fade = fade_ * 2 > length ? length / 2 : fade_;
    if (fade == 0) return 1.0f;
    uint32_t edge = offset_ < fade ? offset_ : (length - 1 - offset_ < fade ? length - 1 - offset_ : fade);
    if (edge >= fade) return 1.0f;
    return 0.5f - 0.5f * std::cos(3.14159265f * static_cast<float>(edge) / static_cast<float>(fade));
  }

  void NextSegment() {
    offset_ = 0;
    phase1_ = phase2_ = 0.0;
    if (++segment_ < segments_.size()) return;
    if (loop_) {
      segment_ = 0;
      return;
    }
    finished_ = true;
    Post(EventType::kToneDone);
  }

  const std::vector<ToneSegment> segments_;
  const bool loop_;
  const uint32_t fade_;
  size_t segment_ = 0;
  uint32_t offset_ = 0;
  double phase1_ = 0.0;
  double phase2_ = 0.0;
  bool finished_ = false;
};

}  // namespace speakerd
