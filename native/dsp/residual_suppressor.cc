#include "residual_suppressor.h"

#include <algorithm>
#include <cmath>

namespace speakerd {

namespace {

float DbToGain(float db) { return std::pow(10.0f, db / 20.0f); }

int16_t Saturate(float x) { return static_cast<int16_t>(std::clamp(std::lround(x), -32768L, 32767L)); }

}  // namespace

ResidualSuppressor::ResidualSuppressor(const ResidualSuppressorSettings& settings)
    : settings_(settings),
      far_only_gain_(DbToGain(settings.far_only_db)),
      double_talk_gain_(DbToGain(settings.double_talk_db)),
      close_step_(DbToGain(-std::fabs(settings.close_db_per_frame))) {}

float ResidualSuppressor::gain_db() const { return 20.0f * std::log10(std::max(gain_, 1e-6f)); }

void ResidualSuppressor::Process(int16_t* frame, TalkState state) {
  float target = 1.0f;
  if (state == TalkState::kFarOnly) target = far_only_gain_;
  if (state == TalkState::kDoubleTalk) target = double_talk_gain_;
  if (target < gain_) target = std::max(target, gain_ * close_step_);
  const int n = settings_.frame;
  if (target == 1.0f && gain_ == 1.0f) return;
  // A linear ramp across the frame avoids clicks.
  const float step = (target - gain_) / static_cast<float>(n);
  float g = gain_;
  for (int i = 0; i < n; ++i) {
    g += step;
    frame[i] = Saturate(frame[i] * g);
  }
  gain_ = target;
}

}  // namespace speakerd
