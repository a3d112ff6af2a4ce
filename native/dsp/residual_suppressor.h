// Broadband residual echo suppressor after the echo canceller, driven by the double-talk detector:
// strong while only the far end plays (what is left there is residual echo and the loudspeaker's
// distortion, which no linear filter removes), none while the user talks (alone or over the far end),
// so the user is not cut during barge-in. The gain opens within the frame the user appears in and
// closes again at a bounded rate. Real-time safe.
#pragma once

#include <cstdint>

#include "double_talk.h"

namespace speakerd {

struct ResidualSuppressorSettings {
  int frame = 160;
  float far_only_db = -30.0f;       // gain while the far end plays alone; 0 = off
  float double_talk_db = 0.0f;      // gain while the user talks over the far end
  float close_db_per_frame = 3.0f;  // how fast the gain falls back (it rises at once)
};

class ResidualSuppressor {
 public:
  explicit ResidualSuppressor(const ResidualSuppressorSettings& settings);
  // Applies the gain for `state` to one frame in place.
  void Process(int16_t* frame, TalkState state);
  void Reset() { gain_ = 1.0f; }
  // The gain applied at the end of the last frame, in dB (0 = open).
  float gain_db() const;

 private:
  ResidualSuppressorSettings settings_;
  float far_only_gain_;
  float double_talk_gain_;
  float close_step_;
  float gain_ = 1.0f;
};

}  // namespace speakerd
