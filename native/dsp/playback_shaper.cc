#include "playback_shaper.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

namespace speakerd {

namespace {

float DbToGain(float db) { return std::pow(10.0f, db / 20.0f); }

// One-pole coefficient reaching 63 % of a step in `ms`.
float Coefficient(int ms, int rate) { return 1.0f - std::exp(-1000.0f / (std::max(1, ms) * static_cast<float>(rate))); }

int FramesOf(int ms, int rate, int frame) { return static_cast<int>(std::lround(ms * rate / 1000.0 / frame)); }

}  // namespace

Ducker::Ducker(const DuckSettings& settings)
    : settings_(settings),
      depth_gain_(DbToGain(-std::fabs(settings.depth_db))),
      attack_coeff_(Coefficient(settings.attack_ms, settings.rate)),
      release_coeff_(Coefficient(settings.release_ms, settings.rate)),
      engage_frames_(std::max(1, FramesOf(settings.engage_ms, settings.rate, settings.frame))),
      hold_frames_(FramesOf(settings.hold_ms, settings.rate, settings.frame)) {}

void Ducker::Process(int16_t* frame, bool user_over_far, bool user_present) {
  if (settings_.depth_db == 0.0f) return;
  const bool ducked = hold_ > 0;
  if (user_over_far || (ducked && user_present)) {
    hold_ = hold_frames_ + 1;
  } else if (hold_ > 0) {
    --hold_;
  }
  active_.store(hold_ > 0, std::memory_order_relaxed);
  const float target = hold_ > 0 ? depth_gain_ : 1.0f;
  if (target == 1.0f && gain_ >= 0.9999f) {
    gain_ = 1.0f;
    return;
  }
  const float coeff = target < gain_ ? attack_coeff_ : release_coeff_;
  for (int i = 0; i < settings_.frame; ++i) {
    gain_ += coeff * (target - gain_);
    frame[i] = static_cast<int16_t>(std::lround(frame[i] * gain_));
  }
}

OutputLimiter::OutputLimiter(const LimiterSettings& settings)
    : enabled_(settings.ceiling_dbfs < 0.0f),
      ceiling_(32767.0f * DbToGain(settings.ceiling_dbfs)),
      release_coeff_(std::exp(-1000.0f / (std::max(1, settings.release_ms) * static_cast<float>(settings.rate)))) {}

void OutputLimiter::Process(int16_t* frame, int n) {
  if (!enabled_) return;
  float least = 1.0f;
  for (int i = 0; i < n; ++i) {
    const float x = static_cast<float>(frame[i]);
    envelope_ = std::max(std::fabs(x), envelope_ * release_coeff_);
    if (envelope_ <= ceiling_) continue;
    // The envelope is never below |x|: the output is never above the ceiling.
    const float gain = ceiling_ / envelope_;
    least = std::min(least, gain);
    frame[i] = static_cast<int16_t>(std::lround(x * gain));
  }
  reduction_db_.store(20.0f * std::log10(least), std::memory_order_relaxed);
}

}  // namespace speakerd
