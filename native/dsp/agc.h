// Automatic gain control after the echo canceller: brings the user's speech to a nominal level for the
// service. It learns the level only on frames its caller vouches for as the user's speech (the post
// filter: the user alone or over the far end, for 50 ms in a row) that stand clear of the noise floor;
// on every other frame (residual echo among them) the gain holds, so echo is never what the gain is
// raised for. The learnt gain is applied only while the user is present (the caller says so, hangover
// included); between the user's words a gain above unity falls back to unity, so the noise floor and
// whatever echo is left are sent at the microphone's level and not lifted by up to 30 dB into a
// service's speech detector (an expander: it opens within one frame, closes over `release_ms`).
// Bounded gain, a slew limit, a per-frame peak guard. Real-time safe.
#pragma once

#include <atomic>
#include <cstdint>

namespace speakerd {

struct AgcSettings {
  int rate = 16000;
  int frame = 160;
  float target_dbfs = -26.0f;  // speech level the gain aims at (RMS over active speech)
  float max_gain_db = 30.0f;
  float min_gain_db = -12.0f;
  float initial_gain_db = 0.0f;
  float slew_db_per_s = 12.0f;     // most the gain moves per second of user speech...
  int fast_start_ms = 1000;        // ... fast_start_factor times that over the first second of speech
  float fast_start_factor = 6.0f;  // it hears (the first words are often a barge-in, see echo_post_filter.cc)
  int level_window_ms = 500;       // the speech level's averaging time
  float speech_margin_db = 10.0f;  // a user frame counts as speech this far above the noise floor
  bool gate = true;                // apply a gain above unity only while the user is present
  int release_ms = 150;            // the gain falls from the learnt one to unity over this
};

class Agc {
 public:
  explicit Agc(const AgcSettings& settings);
  // One frame in place. `user_speech`: the frame may be learnt from; `user_present`: the user is
  // talking (or was, within the caller's hangover), so the learnt gain applies; `noise_power` is the
  // input's noise floor (mean square, PCM16 scale); the frame's power is learnt times `level_scale`
  // (the canceller's eased power ratio: the level the user would have had with its suppressor as is).
  void Process(int16_t* frame, bool user_speech, bool user_present, double noise_power, double level_scale = 1.0);
  void Reset();
  // The learnt gain (what the user's speech gets).
  float gain_db() const { return gain_db_.load(std::memory_order_relaxed); }
  // The gain applied to the last frame before its peak guard (the learnt one, or less between words).
  float applied_db() const { return applied_db_.load(std::memory_order_relaxed); }

 private:
  AgcSettings settings_;
  float level_alpha_;
  float slew_per_frame_;
  int release_frames_;
  float release_step_db_ = 0.0f;  // per frame, set as the gate starts to close
  int release_left_ = 0;          // frames of the release still to go
  float speech_ratio_;
  double level_power_ = 0.0;  // 0 until the first user speech frame
  int learnt_frames_ = 0;
  int fast_frames_;
  float gain_ = 1.0f;  // linear, at the end of the last frame
  float current_db_;
  float applied_now_db_;  // the gate's gain, at the end of the last frame
  std::atomic<float> gain_db_{0.0f};
  std::atomic<float> applied_db_{0.0f};
};

}  // namespace speakerd
