// Acoustic echo canceller at the device edge: speexdsp echo canceller followed by speex_preprocess
// (denoise and residual echo suppression fed with the canceller's state). The preprocessor's overlap
// makes the output lag the microphone by one frame (10 ms).
#pragma once

#include <speex/speex_echo.h>
#include <speex/speex_preprocess.h>

#include <atomic>
#include <cstdint>

namespace speakerd {

struct EchoSettings {
  int rate = 16000;
  int frame = 160;           // samples per call (10 ms)
  int tail_ms = 250;         // adaptive filter length
  bool denoise = true;       // also enables residual echo suppression (speexdsp applies it only then)
  int echo_suppress_db = -40;         // residual echo attenuation, far end alone
  int echo_suppress_active_db = -15;  // residual echo attenuation during double talk
};

// Running estimate of how much echo is removed, updated on the audio thread, read from any thread.
// It is updated only while the far end plays. A frame in which the canceller suddenly removes 20 dB
// less than the estimate says is taken for the user talking over the device and left out, for up to
// 3 s; past that the echo path itself has changed and the estimate follows it down.
struct EchoStats {
  std::atomic<float> erle_db{0.0f};
  std::atomic<bool> converged{false};
  std::atomic<uint64_t> frames{0};
};

class EchoCanceller {
 public:
  explicit EchoCanceller(const EchoSettings& settings);  // throws std::runtime_error
  ~EchoCanceller();
  EchoCanceller(const EchoCanceller&) = delete;
  EchoCanceller& operator=(const EchoCanceller&) = delete;

  // Removes the echo of `reference` (what the speaker played, aligned) from `mic`. Real-time safe.
  void Process(const int16_t* mic, const int16_t* reference, int16_t* out);
  // Forgets the adapted filter (after the echo path changed, e.g. a device reopen).
  void Reset();
  const EchoStats& stats() const { return stats_; }
  int frame() const { return settings_.frame; }

 private:
  void UpdateStats(const int16_t* mic, const int16_t* reference, const int16_t* out);

  EchoSettings settings_;
  SpeexEchoState* echo_;
  SpeexPreprocessState* preprocess_;
  EchoStats stats_;
  double mic_power_ = 0.0;
  double out_power_ = 0.0;
  int converged_frames_ = 0;
  int double_talk_frames_ = 0;  // consecutive frames left out as double talk
};

}  // namespace speakerd
