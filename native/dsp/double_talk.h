// Double-talk detector after the echo canceller: per 10 ms frame, who is talking (nobody, the far end
// alone, the user alone, both). The far end plays while the reference's decaying envelope (the room's
// reverberation) is above a floor. While it plays, the canceller's output over its input (the frame's
// echo leakage, in dB) and over the envelope are compared with their running medians (learnt apart for
// frames where the far end talks and for the tails between its words):
// the user's voice passes the canceller, so it raises the leakage well above the learnt one even 15 dB
// below the echo and through a distorting loudspeaker (the distortion is in the learnt leakage). While
// the far end is silent, output well above its noise floor is the user. Decisions hold for a hangover.
// Real-time safe: no allocation after construction.
#pragma once

#include <atomic>
#include <cstdint>

namespace speakerd {

enum class TalkState : int { kIdle = 0, kFarOnly = 1, kNearOnly = 2, kDoubleTalk = 3 };

// Whether the user is talking in `state` (alone or over the far end).
inline bool NearPresent(TalkState state) { return state == TalkState::kNearOnly || state == TalkState::kDoubleTalk; }

struct DoubleTalkSettings {
  int rate = 16000;
  int frame = 160;              // samples per call (10 ms)
  int output_lag_frames = 1;    // the canceller's output lags its input by this many frames
  int tail_ms = 500;            // the reference envelope decays 60 dB over this (room reverberation)
  float far_active_dbfs = -60;  // reference envelope above this counts as the far end playing
  float near_margin_db = 15;    // margin over the learnt medians for the user
  float noise_margin_db = 9;    // ... and over the output's noise floor
  int onset_frames = 3;         // frames in a row that must show the user before a decision for it
  int hangover_ms = 300;        // a user decision holds this long after the last frame that showed it
};

// Live figures for status, written on the audio thread, read anywhere.
struct DoubleTalkStats {
  std::atomic<int> state{0};  // TalkState
};

class DoubleTalkDetector {
 public:
  explicit DoubleTalkDetector(const DoubleTalkSettings& settings);

  // One frame: the canceller's input `mic`, its aligned `reference` and its output `out`, whose power
  // is taken times `out_power_scale` (the canceller's suppressor was eased for the user: what it
  // would have passed).
  TalkState Process(const int16_t* mic, const int16_t* reference, const int16_t* out, double out_power_scale = 1.0);
  // Forgets what was learnt (after the canceller was reset).
  void Reset();
  TalkState state() const { return state_; }
  // Frames in a row the raw (pre-hangover) decision has shown the user.
  int near_run() const { return near_run_; }
  // Frames in a row the raw decision has shown the user while the far end talked (not in a pause, nor
  // in its reverberant tail): the frames on which the canceller may be eased for the user.
  int ease_run() const { return ease_run_; }
  double noise_power() const { return noise_; }
  const DoubleTalkStats& stats() const { return stats_; }

 private:
  static constexpr int kMaxLag = 4;

  DoubleTalkSettings settings_;
  float env_decay_;
  float far_active_power_;
  float near_ratio_min_;
  float noise_ratio_;
  int hangover_frames_;
  int lag_;
  double ref_power_[kMaxLag + 1] = {};
  double mic_power_[kMaxLag + 1] = {};
  double mic_noise_ = 0.0;
  int ring_pos_ = 0;
  double ref_env_ = 0.0;
  double noise_ = 0.0;
  // A log10 ratio learnt while the far end plays: its running median.
  struct Learnt {
    double mean = 0.0;
    int frames = 0;
    void Learn(double x);
    double Threshold(double margin) const;
  };
  // Learnt apart for frames where the far end talks now [0] and for its reverberant tails [1] (the
  // canceller leaves relatively more there: its filter is often shorter than the room's response).
  Learnt leak_[2];      // canceller output over its input
  Learnt residual_[2];  // canceller output over the reference envelope
  int hold_ = 0;
  int near_run_ = 0;
  int ease_run_ = 0;
  int far_run_ = 0;  // frames in a row the far end has played
  TalkState state_ = TalkState::kIdle;
  DoubleTalkStats stats_;
};

}  // namespace speakerd
