#include "echo_canceller.h"

#include <stdexcept>

namespace speakerd {

SpeexEchoEngine::SpeexEchoEngine(const EchoSettings& settings) : settings_(settings), tracker_(settings.frame) {
  const int tail = settings.rate * settings.tail_ms / 1000;
  echo_ = speex_echo_state_init(settings.frame, tail);
  if (echo_ == nullptr) throw std::runtime_error("speexdsp echo canceller failed to initialise");
  int rate = settings.rate;
  speex_echo_ctl(echo_, SPEEX_ECHO_SET_SAMPLING_RATE, &rate);
  preprocess_ = speex_preprocess_state_init(settings.frame, settings.rate);
  if (preprocess_ == nullptr) {
    speex_echo_state_destroy(echo_);
    throw std::runtime_error("speexdsp preprocessor failed to initialise");
  }
  int on = settings.denoise ? 1 : 0;
  int off = 0;
  speex_preprocess_ctl(preprocess_, SPEEX_PREPROCESS_SET_DENOISE, &on);
  speex_preprocess_ctl(preprocess_, SPEEX_PREPROCESS_SET_AGC, &off);
  speex_preprocess_ctl(preprocess_, SPEEX_PREPROCESS_SET_DEREVERB, &off);
  int suppress = settings.echo_suppress_db;
  int suppress_active = settings.echo_suppress_active_db;
  speex_preprocess_ctl(preprocess_, SPEEX_PREPROCESS_SET_ECHO_SUPPRESS, &suppress);
  speex_preprocess_ctl(preprocess_, SPEEX_PREPROCESS_SET_ECHO_SUPPRESS_ACTIVE, &suppress_active);
  speex_preprocess_ctl(preprocess_, SPEEX_PREPROCESS_SET_ECHO_STATE, echo_);
}

SpeexEchoEngine::~SpeexEchoEngine() {
  speex_preprocess_state_destroy(preprocess_);
  speex_echo_state_destroy(echo_);
}

void SpeexEchoEngine::Process(const int16_t* mic, const int16_t* reference, int16_t* out) {
  speex_echo_cancellation(echo_, mic, reference, out);
  speex_preprocess_run(preprocess_, out);
  tracker_.Update(mic, reference, out);
}

void SpeexEchoEngine::Reset() {
  speex_echo_state_reset(echo_);
  tracker_.Reset();
}

}  // namespace speakerd
