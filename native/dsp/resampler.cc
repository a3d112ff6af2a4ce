#include "resampler.h"

#include <stdexcept>
#include <string>

namespace speakerd {

Resampler::Resampler(int in_rate, int out_rate, int quality) : in_rate_(in_rate), out_rate_(out_rate) {
  int err = 0;
  state_ = speex_resampler_init(1, in_rate, out_rate, quality, &err);
  if (state_ == nullptr || err != RESAMPLER_ERR_SUCCESS) {
    throw std::runtime_error(std::string("speexdsp resampler: ") + speex_resampler_strerror(err));
  }
  speex_resampler_skip_zeros(state_);
}

Resampler::~Resampler() { speex_resampler_destroy(state_); }

void Resampler::Process(const int16_t* in, uint32_t in_len, int16_t* out, uint32_t out_len) {
  uint32_t consumed = in_len;
  uint32_t produced = out_len;
  speex_resampler_process_int(state_, 0, in, &consumed, out, &produced);
  // After skip_zeros the first calls may produce less than a frame: pad at the front so the
  // stream stays frame-locked (the filter's own delay is reported by OutputLatency()).
  if (produced < out_len) {
    const uint32_t missing = out_len - produced;
    for (uint32_t i = out_len; i-- > missing;) out[i] = out[i - missing];
    for (uint32_t i = 0; i < missing; ++i) out[i] = 0;
  }
}

void Resampler::Reset() { speex_resampler_reset_mem(state_); }

int Resampler::OutputLatency() const { return speex_resampler_get_output_latency(state_); }

}  // namespace speakerd
