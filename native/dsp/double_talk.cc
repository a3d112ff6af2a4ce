#include "double_talk.h"

#include <algorithm>
#include <cmath>

namespace speakerd {

namespace {

constexpr double kFullScalePower = 32768.0 * 32768.0;
// The noise floor follows a quieter output at once (smoothed) and a louder one by 1 dB per second.
constexpr double kNoiseDown = 0.3;
constexpr double kNoiseUpPerFrame = 1.0023;
// The learnt ratios are running medians (log10): the mean of the first frames, then steps of 0.05 dB
// per frame (5 dB/s, as fast as a canceller converges).
constexpr int kLeakWarmFrames = 50;
constexpr double kMedianStep = 0.005;
// Frames this far above the threshold (log10, 10 dB) are surely the user and not learnt from; below it
// everything is, so the median cannot run away from the frames it no longer sees.
constexpr double kLearnCeiling = 1.0;
// The far end talks now when the reference's power is within 6 dB of its envelope (else: a tail).
constexpr double kTalkingWithinEnvelope = 0.25;
// The user raises the microphone at least 4 dB above its noise floor (the floor of white noise in 10 ms
// frames sits about 1 dB under its mean).
constexpr double kMicAboveNoise = 2.5;
// A frame teaches the detector when the microphone is 10 dB above its noise floor.
constexpr double kLearnAboveNoise = 10.0;
// As the far end starts again after silence, the canceller passes its first echo for several frames
// (70-90 ms in the enclosure: its suppressor has not seen the far end yet).
constexpr int kRestartFrames = 10;

double Power(const int16_t* x, int n) {
  double sum = 0.0;
  for (int i = 0; i < n; ++i) sum += static_cast<double>(x[i]) * x[i];
  return sum / n;
}

double DbToPower(double db) { return std::pow(10.0, db / 10.0); }

// A noise floor: follows a quieter frame at once (smoothed), a louder one by 1 dB per second.
void TrackFloor(double power, double* floor) {
  if (*floor == 0.0 || power < *floor) {
    *floor = *floor == 0.0 ? power : *floor + kNoiseDown * (power - *floor);
  } else {
    *floor *= kNoiseUpPerFrame;
  }
}

}  // namespace

DoubleTalkDetector::DoubleTalkDetector(const DoubleTalkSettings& settings) : settings_(settings) {
  const double frame_ms = 1000.0 * settings.frame / settings.rate;
  env_decay_ = static_cast<float>(DbToPower(-60.0 * frame_ms / std::max(10, settings.tail_ms)));
  far_active_power_ = static_cast<float>(kFullScalePower * DbToPower(settings.far_active_dbfs));
  near_ratio_min_ = static_cast<float>(settings.near_margin_db / 10.0);
  noise_ratio_ = static_cast<float>(DbToPower(settings.noise_margin_db));
  hangover_frames_ = static_cast<int>(std::lround(settings.hangover_ms / frame_ms));
  lag_ = std::clamp(settings.output_lag_frames, 0, kMaxLag);
}

void DoubleTalkDetector::Reset() {
  std::fill(ref_power_, ref_power_ + kMaxLag + 1, 0.0);
  std::fill(mic_power_, mic_power_ + kMaxLag + 1, 0.0);
  ref_env_ = noise_ = mic_noise_ = 0.0;
  for (int k = 0; k < 2; ++k) leak_[k] = residual_[k] = Learnt();
  hold_ = near_run_ = ease_run_ = far_run_ = 0;
  state_ = TalkState::kIdle;
  stats_.state.store(0, std::memory_order_relaxed);
}

void DoubleTalkDetector::Learnt::Learn(double x) {
  if (frames < kLeakWarmFrames) {
    mean += (x - mean) / (frames + 1);
  } else {
    mean += x > mean ? kMedianStep : -kMedianStep;
  }
  ++frames;
}

double DoubleTalkDetector::Learnt::Threshold(double margin) const { return frames == 0 ? 1e9 : mean + margin; }

TalkState DoubleTalkDetector::Process(const int16_t* mic, const int16_t* reference, const int16_t* out,
                                      double out_power_scale) {
  const int n = settings_.frame;
  // The powers of the frame the output belongs to (the canceller delays its output).
  ref_power_[ring_pos_] = Power(reference, n);
  mic_power_[ring_pos_] = Power(mic, n) + 1.0;
  const int lagged = (ring_pos_ + kMaxLag + 1 - lag_) % (kMaxLag + 1);
  const double ref_power = ref_power_[lagged];
  const double mic_power = mic_power_[lagged];
  ring_pos_ = (ring_pos_ + 1) % (kMaxLag + 1);
  ref_env_ = std::max(ref_power, ref_env_ * env_decay_);
  const bool far_active = ref_env_ > far_active_power_;
  far_run_ = far_active ? far_run_ + 1 : 0;
  // No new decision for the user while the far end starts again (one already made holds through it).
  const bool restarting = far_active && far_run_ <= kRestartFrames && hold_ == 0;

  const double out_power = Power(out, n) * out_power_scale + 1.0;
  TrackFloor(out_power, &noise_);
  TrackFloor(mic_power, &mic_noise_);

  const double x = std::log10(out_power / mic_power);
  const double r = std::log10(out_power / (ref_env_ + 1.0));
  // Above the noise at both ends of the canceller (its noise suppression makes the output's floor
  // fluctuate: output alone would mistake noise for the user).
  const bool above_noise = out_power > noise_ * noise_ratio_ && mic_power > mic_noise_ * kMicAboveNoise;
  // The reverberant tail outlasts `far_active`: the residual criterion applies as long as the envelope
  // says echo could still be there.
  const int k = ref_power > kTalkingWithinEnvelope * ref_env_ ? 0 : 1;
  Learnt& leak = leak_[k];
  Learnt& residual = residual_[k];
  const double margin = near_ratio_min_;
  const bool near_raw = !restarting && above_noise && (residual.frames == 0 || r > residual.Threshold(margin)) &&
                        (!far_active || x > leak.Threshold(margin));

  // Learnt while the echo stands clear of the microphone's noise, and not from frames the canceller
  // eased for the user (their scaled power says what its suppressor made of the user, not of the echo).
  if (far_active && mic_power > kLearnAboveNoise * mic_noise_ && out_power_scale >= 1.0) {
    if (leak.frames == 0 || x < leak.Threshold(margin) + kLearnCeiling) leak.Learn(x);
    if (residual.frames == 0 || r < residual.Threshold(margin) + kLearnCeiling) residual.Learn(r);
  }

  near_run_ = near_raw ? near_run_ + 1 : 0;
  // The canceller is eased only for the user over the far end's voice: in its dips and reverberant tail
  // the canceller's residual rises against its fading input (its filter is shorter than the room's
  // response), and frames there that the detector takes for the user would let the echo through.
  ease_run_ = near_raw && far_active && k == 0 ? ease_run_ + 1 : 0;
  if (near_run_ >= settings_.onset_frames) {
    hold_ = hangover_frames_;
  } else if (hold_ > 0) {
    --hold_;
  }
  const bool near = hold_ > 0;
  if (near) {
    state_ = far_active ? TalkState::kDoubleTalk : TalkState::kNearOnly;
  } else {
    state_ = far_active ? TalkState::kFarOnly : TalkState::kIdle;
  }
  stats_.state.store(static_cast<int>(state_), std::memory_order_relaxed);
  return state_;
}

}  // namespace speakerd
