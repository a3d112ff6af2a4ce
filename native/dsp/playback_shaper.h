// The playback side's help to the echo canceller, applied to what is played BEFORE the reference is
// taken (the canceller must see exactly what the loudspeaker gets):
// - Ducker: while the user talks over a reply, the reply is lowered by a set depth (short attack), until
//   the user stops (+ a hold), then it comes back slowly. Off at depth 0.
// - OutputLimiter: a peak ceiling below the loudspeaker's compression (instant attack, smooth release),
//   so the echo path stays linear. Off when no ceiling is set.
// Real-time safe.
#pragma once

#include <atomic>
#include <cstdint>

namespace speakerd {

struct DuckSettings {
  int rate = 16000;
  int frame = 160;
  float depth_db = 0.0f;  // 0 = off
  int engage_ms = 60;     // the user must have been talking over the reply this long
  int hold_ms = 300;      // stays ducked this long after the user stops
  int attack_ms = 20;
  int release_ms = 500;
};

class Ducker {
 public:
  explicit Ducker(const DuckSettings& settings);
  // `user_over_far`: the user has talked over the far end for engage_ms; `user_present`: still talking.
  void Process(int16_t* frame, bool user_over_far, bool user_present);
  bool active() const { return active_.load(std::memory_order_relaxed); }
  int engage_frames() const { return engage_frames_; }

 private:
  DuckSettings settings_;
  float depth_gain_;
  float attack_coeff_;
  float release_coeff_;
  int engage_frames_;
  int hold_frames_;
  int hold_ = 0;
  float gain_ = 1.0f;
  std::atomic<bool> active_{false};
};

struct LimiterSettings {
  int rate = 16000;
  float ceiling_dbfs = 0.0f;  // 0 = off
  int release_ms = 80;
};

class OutputLimiter {
 public:
  explicit OutputLimiter(const LimiterSettings& settings);
  void Process(int16_t* frame, int n);
  // The deepest gain reduction in the last frame, in dB (<= 0).
  float reduction_db() const { return reduction_db_.load(std::memory_order_relaxed); }

 private:
  bool enabled_;
  float ceiling_;
  float release_coeff_;
  float envelope_ = 0.0f;
  std::atomic<float> reduction_db_{0.0f};
};

struct PlaybackShaperSettings {
  DuckSettings duck;
  LimiterSettings limiter;
};

class PlaybackShaper {
 public:
  explicit PlaybackShaper(const PlaybackShaperSettings& settings)
      : frame_(settings.duck.frame), ducker_(settings.duck), limiter_(settings.limiter) {}
  void Process(int16_t* frame, bool user_over_far, bool user_present) {
    ducker_.Process(frame, user_over_far, user_present);
    limiter_.Process(frame, frame_);
  }
  const Ducker& ducker() const { return ducker_; }
  const OutputLimiter& limiter() const { return limiter_; }

 private:
  int frame_;
  Ducker ducker_;
  OutputLimiter limiter_;
};

}  // namespace speakerd
