// Estimates the delay of the real echo path (playback to capture, including converters and the air
// path that snd_pcm_delay does not see) by cross-correlating band-energy envelopes of the reference
// and the microphone over a bounded range of lags.
//
// Every 2.5 ms block gives two features per signal: how much the log energy of the block and of its
// first difference (a high band) rose since the block before (falls count as 0). Onsets are what a
// room does not move; the level itself, smeared by a long reverberant tail, would pull the peak late
// (by 4 ms on the engine's test path), and a late reference is the one error speex cannot recover
// from. Their products are accumulated per lag with
// exponential forgetting (about 4 s) while the far end plays; a few times a second the normalised
// correlation's peak, refined by parabolic interpolation, becomes a candidate. A candidate needs a
// confidence (the normalised correlation at the peak, 0 to 1) of at least min_confidence and must hold
// for three evaluations in a row; once there is an estimate, a move must also be 2 ms or more and
// score clearly better than the lag in use (a broad reverberant peak that wobbles moves nothing).
// Far-end silence leaves everything as it is. Real-time safe: all memory is allocated up front.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

namespace speakerd {

struct DelayEstimatorSettings {
  int rate = 16000;
  int frame = 160;         // samples per Process() call (10 ms)
  int max_delay_ms = 500;  // largest lag searched
  int update_ms = 250;     // how often the peak is evaluated
  float min_confidence = 0.35f;
};

// What the estimator found, written on the audio thread, read from any thread.
struct DelayEstimate {
  std::atomic<int> delay_samples{-1};   // -1: no estimate yet
  std::atomic<float> confidence{0.0f};  // of the current estimate
  std::atomic<uint64_t> changes{0};     // how often the estimate moved
};

class DelayEstimator {
 public:
  explicit DelayEstimator(const DelayEstimatorSettings& settings);  // throws std::invalid_argument
  DelayEstimator(const DelayEstimator&) = delete;
  DelayEstimator& operator=(const DelayEstimator&) = delete;

  // One frame of the microphone and of the reference as played at the same time (lag 0). Real-time safe.
  void Process(const int16_t* mic, const int16_t* reference);
  // Forgets everything (the echo path changed: a device reopen).
  void Reset();
  // The estimate in samples (-1 while there is none). Audio thread.
  int delay_samples() const { return delay_; }
  const DelayEstimate& estimate() const { return estimate_; }

 private:
  struct Features {
    float previous[2] = {0.0f, 0.0f};  // log energies of the block before
    int16_t last = 0;
    bool primed = false;
  };
  // The rectified rise of the band log energies of one block into out[2]; returns its mean power.
  float Extract(const int16_t* x, Features* state, float* out);
  void Accumulate(const float* mic_feature);
  void Evaluate();

  DelayEstimatorSettings settings_;
  int block_ = 0;                               // samples per block
  int lags_ = 0;                                // lags searched: 0 .. lags_ - 1 blocks
  int evaluate_every_ = 0;                      // frames
  std::unique_ptr<float[]> reference_history_;  // 2 bands x lags_ ring of reference features
  std::unique_ptr<float[]> correlation_;        // 2 bands x lags_
  std::unique_ptr<float[]> reference_energy_;   // 2 bands x lags_
  float mic_energy_[2] = {0.0f, 0.0f};
  int history_head_ = 0;
  Features mic_features_;
  Features reference_features_;
  int blocks_since_far_ = 1 << 30;
  int frames_to_evaluate_ = 0;
  bool far_since_evaluation_ = false;
  int delay_ = -1;
  float candidate_ = -1.0f;
  int candidate_holds_ = 0;
  DelayEstimate estimate_;
};

}  // namespace speakerd
