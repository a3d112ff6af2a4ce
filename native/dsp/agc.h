// Automatic gain control after the echo canceller: brings the user's speech to a nominal level for the
// service. It learns the level only on frames the double-talk detector gives to the user (and that stand
// clear of the noise floor); on every other frame, residual echo among them, the gain holds, so echo is
// never what the gain is raised for. Bounded gain, a slew limit, a per-frame peak guard. Real-time safe.
#pragma once

#include <atomic>
#include <cstdint>

#include "double_talk.h"

namespace speakerd {

struct AgcSettings {
  int rate = 16000;
  int frame = 160;
  float target_dbfs = -26.0f;   // speech level the gain aims at (RMS over active speech)
  float max_gain_db = 30.0f;
  float min_gain_db = -12.0f;
  float initial_gain_db = 0.0f;
  float slew_db_per_s = 12.0f;  // most the gain moves per second of user speech
  int level_window_ms = 500;    // the speech level's averaging time
  float speech_margin_db = 10.0f;  // a user frame counts as speech this far above the noise floor
};

class Agc {
 public:
  explicit Agc(const AgcSettings& settings);
  // One frame in place. `noise_power` is the input's noise floor (mean square, PCM16 scale).
  void Process(int16_t* frame, TalkState state, double noise_power);
  void Reset();
  float gain_db() const { return gain_db_.load(std::memory_order_relaxed); }

 private:
  AgcSettings settings_;
  float level_alpha_;
  float slew_per_frame_;
  float speech_ratio_;
  double level_power_ = 0.0;  // 0 until the first user speech frame
  float gain_ = 1.0f;         // linear, at the end of the last frame
  float current_db_;
  std::atomic<float> gain_db_{0.0f};
};

}  // namespace speakerd
