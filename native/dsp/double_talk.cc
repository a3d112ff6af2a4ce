#include "double_talk.h"

#include <algorithm>
#include <cmath>

namespace speakerd {

namespace {

constexpr double kFullScalePower = 32768.0 * 32768.0;
// The noise floor follows a quieter output at once (smoothed) and a louder one by 1 dB per second.
constexpr double kNoiseDown = 0.3;
constexpr double kNoiseUpPerFrame = 1.0023;
// Learning rate of the leakage (log10 domain): 1/n for the first frames, then this.
constexpr double kLeakRate = 0.02;
constexpr int kLeakWarmFrames = 50;
constexpr double kLeakSpreadMin = 0.05;
// Far-end frames in a row that look like the user before the leakage is taken to have changed (3 s).
constexpr int kBlockedMaxFrames = 300;
// A frame teaches the leakage when its reference power is within 6 dB of the envelope.
constexpr double kLearnWithinEnvelope = 0.25;
// ... and the microphone is 10 dB above its noise floor.
constexpr double kLearnAboveNoise = 10.0;

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
  leak_log_ = 0.0;
  leak_spread_ = 0.3;
  learnt_frames_ = blocked_frames_ = hold_ = near_run_ = 0;
  state_ = TalkState::kIdle;
  stats_.state.store(0, std::memory_order_relaxed);
}

TalkState DoubleTalkDetector::Process(const int16_t* mic, const int16_t* reference, const int16_t* out) {
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

  const double out_power = Power(out, n) + 1.0;
  TrackFloor(out_power, &noise_);
  TrackFloor(mic_power, &mic_noise_);

  const double x = std::log10(out_power / mic_power);
  const double margin_log = std::max(static_cast<double>(near_ratio_min_), 3.0 * leak_spread_);
  const bool above_noise = out_power > noise_ * noise_ratio_;
  const bool near_raw = above_noise && (!far_active || x > leak_log_ + margin_log);

  // Learnt where the far end is talking now and its echo stands clear of the microphone's noise.
  if (far_active && ref_power > kLearnWithinEnvelope * ref_env_ && mic_power > kLearnAboveNoise * mic_noise_) {
    if (!near_raw || ++blocked_frames_ > kBlockedMaxFrames) {
      if (!near_raw) blocked_frames_ = 0;
      const double rate = learnt_frames_ < kLeakWarmFrames ? 1.0 / (learnt_frames_ + 1) : kLeakRate;
      if (learnt_frames_ == 0) {
        leak_log_ = x;
      } else {
        leak_spread_ += rate * (std::fabs(x - leak_log_) - leak_spread_);
        leak_spread_ = std::max(leak_spread_, kLeakSpreadMin);
        leak_log_ += rate * (x - leak_log_);
      }
      ++learnt_frames_;
    }
  }

  near_run_ = near_raw ? near_run_ + 1 : 0;
  if (near_raw) {
    hold_ = hangover_frames_;
  } else if (hold_ > 0) {
    --hold_;
  }
  const bool near = near_raw || hold_ > 0;
  if (near) {
    state_ = far_active ? TalkState::kDoubleTalk : TalkState::kNearOnly;
  } else {
    state_ = far_active ? TalkState::kFarOnly : TalkState::kIdle;
  }
  stats_.state.store(static_cast<int>(state_), std::memory_order_relaxed);
  stats_.leak_db.store(static_cast<float>(10.0 * leak_log_), std::memory_order_relaxed);
  stats_.noise_dbfs.store(static_cast<float>(10.0 * std::log10(noise_ / kFullScalePower)), std::memory_order_relaxed);
  return state_;
}

}  // namespace speakerd
