// What follows the echo canceller on the capture side, in one call per frame: the double-talk
// detector, the residual echo suppressor it drives, then the AGC. Real-time safe.
#pragma once

#include <atomic>
#include <cstdint>

#include "agc.h"
#include "double_talk.h"
#include "residual_suppressor.h"

namespace speakerd {

struct EchoPostSettings {
  DoubleTalkSettings detector;
  ResidualSuppressorSettings suppressor;
  bool agc_enabled = true;
  AgcSettings agc;
};

class EchoPostFilter {
 public:
  explicit EchoPostFilter(const EchoPostSettings& settings);
  // `frame` is the canceller's output (in place); `mic` and `reference` what it was given with it;
  // `eased_power_ratio` the engine's (EchoEngine::eased_power_ratio): the detector judges the frame's
  // power times it, as if the engine's suppressor had not been eased for the user.
  void Process(const int16_t* mic, const int16_t* reference, int16_t* frame, double eased_power_ratio = 1.0);
  // After the canceller was reset: forget the echo path, keep the user's level.
  void Reset();
  TalkState state() const { return detector_.state(); }
  // Whether the user has been talking over the far end for at least `frames` frames in a row.
  bool NearOverFar(int frames) const {
    return detector_.state() == TalkState::kDoubleTalk && detector_.near_run() >= frames;
  }
  int near_run() const { return detector_.near_run(); }
  int ease_run() const { return detector_.ease_run(); }
  const DoubleTalkStats& detector_stats() const { return detector_.stats(); }
  float agc_gain_db() const { return agc_enabled_ ? agc_.gain_db() : 0.0f; }
  // The AGC's gain on the last frame: the learnt one while the user talks, at most unity between words.
  float agc_applied_db() const { return agc_enabled_ ? agc_.applied_db() : 0.0f; }
  float suppression_db() const { return suppression_db_.load(std::memory_order_relaxed); }

 private:
  DoubleTalkDetector detector_;
  ResidualSuppressor suppressor_;
  bool agc_enabled_;
  Agc agc_;
  std::atomic<float> suppression_db_{0.0f};
};

}  // namespace speakerd
