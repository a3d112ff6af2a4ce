#include "echo_canceller.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <stdexcept>

namespace speakerd {

namespace {

double Power(const int16_t* x, int n) {
  double sum = 0.0;
  for (int i = 0; i < n; ++i) sum += static_cast<double>(x[i]) * x[i];
  return sum / n;
}

// Far end counts as active above about -50 dBFS.
constexpr double kFarActivePower = 32768.0 * 32768.0 * 1e-5;
// Exponential smoothing of the powers: about 0.5 s at 10 ms frames.
constexpr double kSmoothing = 0.02;
constexpr float kConvergedErleDb = 10.0f;
constexpr int kConvergedHoldFrames = 100;
// A frame cancelling this much less than the running estimate is taken for double talk...
constexpr float kDoubleTalkDropDb = 20.0f;
// ...for at most this many consecutive frames (3 s); beyond that the echo path has changed.
constexpr int kDoubleTalkMaxFrames = 300;

}  // namespace

EchoCanceller::EchoCanceller(const EchoSettings& settings) : settings_(settings) {
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

EchoCanceller::~EchoCanceller() {
  speex_preprocess_state_destroy(preprocess_);
  speex_echo_state_destroy(echo_);
}

void EchoCanceller::Process(const int16_t* mic, const int16_t* reference, int16_t* out) {
  speex_echo_cancellation(echo_, mic, reference, out);
  speex_preprocess_run(preprocess_, out);
  UpdateStats(mic, reference, out);
}

void EchoCanceller::Reset() {
  speex_echo_state_reset(echo_);
  mic_power_ = out_power_ = 0.0;
  converged_frames_ = 0;
  double_talk_frames_ = 0;
  stats_.erle_db.store(0.0f, std::memory_order_relaxed);
  stats_.converged.store(false, std::memory_order_relaxed);
}

void EchoCanceller::UpdateStats(const int16_t* mic, const int16_t* reference, const int16_t* out) {
  const int n = settings_.frame;
  stats_.frames.fetch_add(1, std::memory_order_relaxed);
  if (Power(reference, n) < kFarActivePower) return;
  const double mic_power = Power(mic, n);
  const double out_power = Power(out, n);
  const float frame_erle = static_cast<float>(10.0 * std::log10((mic_power + 1.0) / (out_power + 1.0)));
  const float estimate = stats_.erle_db.load(std::memory_order_relaxed);
  if (estimate > kConvergedErleDb && frame_erle < estimate - kDoubleTalkDropDb &&
      ++double_talk_frames_ <= kDoubleTalkMaxFrames) {
    return;
  }
  double_talk_frames_ = 0;
  mic_power_ += kSmoothing * (mic_power - mic_power_);
  out_power_ += kSmoothing * (out_power - out_power_);
  const float erle = static_cast<float>(10.0 * std::log10((mic_power_ + 1.0) / (out_power_ + 1.0)));
  stats_.erle_db.store(erle, std::memory_order_relaxed);
  converged_frames_ = erle >= kConvergedErleDb ? converged_frames_ + 1 : 0;
  stats_.converged.store(converged_frames_ >= kConvergedHoldFrames, std::memory_order_relaxed);
}

}  // namespace speakerd
