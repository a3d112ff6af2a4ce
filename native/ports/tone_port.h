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
    if (!started_) StartSegment();
    first_.Renormalise();
    second_.Renormalise();
    for (int i = 0; i < frame(); ++i) {
      if (finished_) {
        out[i] = 0;
        continue;
      }
      const ToneSegment& seg = segments_[segment_];
      float value = 0.0f;
      if (seg.freq1 > 0.0f && seg.amplitude > 0.0f) {
        double v = first_.Next();
        if (seg.freq2 > 0.0f) v = 0.5 * (v + second_.Next());
        value = static_cast<float>(v) * seg.amplitude * Envelope(seg.samples) * 32767.0f;
      }
      out[i] = SaturateFloat(value);
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

  // A sine by rotating a phasor: two multiply-adds a sample instead of a sin() call; its length is
  // renormalised once a frame so rounding cannot make it grow or fade.
  struct Oscillator {
    double c = 1.0, s = 0.0, step_c = 1.0, step_s = 0.0;
    void Start(double freq, int rate) {
      const double w = 6.283185307179586 * freq / rate;
      c = 1.0;
      s = 0.0;
      step_c = std::cos(w);
      step_s = std::sin(w);
    }
    double Next() {
      const double value = s;
      const double next_c = c * step_c - s * step_s;
      s = s * step_c + c * step_s;
      c = next_c;
      return value;
    }
    void Renormalise() {
      const double norm = std::sqrt(c * c + s * s);
      if (norm > 0.0) {
        c /= norm;
        s /= norm;
      }
    }
  };

  void StartSegment() {
    started_ = true;
    offset_ = 0;
    first_.Start(segments_[segment_].freq1, rate());
    second_.Start(segments_[segment_].freq2, rate());
  }

  void NextSegment() {
    if (++segment_ >= segments_.size()) {
      if (!loop_) {
        finished_ = true;
        Post(EventType::kToneDone);
        return;
      }
      segment_ = 0;
    }
    StartSegment();
  }

  const std::vector<ToneSegment> segments_;
  const bool loop_;
  const uint32_t fade_;
  size_t segment_ = 0;
  uint32_t offset_ = 0;
  Oscillator first_;
  Oscillator second_;
  bool started_ = false;
  bool finished_ = false;
};

}  // namespace speakerd
