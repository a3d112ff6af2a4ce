// Fixed-ratio streaming resampler on speexdsp: one frame in, one frame out, state kept across calls.
#pragma once

#include <speex/speex_resampler.h>

#include <cstdint>

namespace speakerd {

class Resampler {
 public:
  // Throws std::runtime_error when speexdsp rejects the rates or quality (never on the audio thread).
  Resampler(int in_rate, int out_rate, int quality);
  ~Resampler();
  Resampler(const Resampler&) = delete;
  Resampler& operator=(const Resampler&) = delete;

  // Converts in_len samples into exactly out_len samples. Real-time safe.
  void Process(const int16_t* in, uint32_t in_len, int16_t* out, uint32_t out_len);
  // Samples of delay the filter adds, at the output rate.
  int OutputLatency() const;
  // Clears the filter history (real-time safe: no allocation).
  void Reset();
  int in_rate() const { return in_rate_; }
  int out_rate() const { return out_rate_; }

 private:
  SpeexResamplerState* state_;
  int in_rate_;
  int out_rate_;
};

}  // namespace speakerd
