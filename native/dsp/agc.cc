#include "agc.h"

#include <algorithm>
#include <cmath>

namespace speakerd {

namespace {

constexpr double kFullScalePower = 32768.0 * 32768.0;
// The peak guard keeps a frame's peak below this after the gain.
constexpr float kPeakLimit = 0.9f * 32767.0f;

}  // namespace

Agc::Agc(const AgcSettings& settings)
    : settings_(settings),
      level_alpha_(static_cast<float>(settings.frame) * 1000.0f / settings.rate /
                   std::max(10, settings.level_window_ms)),
      slew_per_frame_(settings.slew_db_per_s * settings.frame / settings.rate),
      release_frames_(std::max(1, settings.release_ms * settings.rate / 1000 / settings.frame)),
      speech_ratio_(std::pow(10.0f, settings.speech_margin_db / 10.0f)),
      fast_frames_(settings.fast_start_ms * settings.rate / 1000 / settings.frame),
      current_db_(settings.initial_gain_db),
      applied_now_db_(settings.initial_gain_db) {
  Reset();
}

void Agc::Reset() {
  level_power_ = 0.0;
  learnt_frames_ = 0;
  current_db_ = std::clamp(settings_.initial_gain_db, settings_.min_gain_db, settings_.max_gain_db);
  applied_now_db_ = current_db_;
  release_step_db_ = 0.0f;
  release_left_ = 0;
  gain_ = std::pow(10.0f, current_db_ / 20.0f);
  gain_db_.store(current_db_, std::memory_order_relaxed);
  applied_db_.store(current_db_, std::memory_order_relaxed);
}

void Agc::Process(int16_t* frame, bool user_speech, bool user_present, double noise_power, double level_scale) {
  const int n = settings_.frame;
  double power = 0.0;
  int peak = 0;
  for (int i = 0; i < n; ++i) {
    power += static_cast<double>(frame[i]) * frame[i];
    peak = std::max(peak, std::abs(static_cast<int>(frame[i])));
  }
  power = power / n * level_scale;
  if (user_speech && power > noise_power * speech_ratio_) {
    level_power_ = level_power_ == 0.0 ? power : level_power_ + level_alpha_ * (power - level_power_);
    const float level_db = static_cast<float>(10.0 * std::log10(level_power_ / kFullScalePower));
    const float wanted = std::clamp(settings_.target_dbfs - level_db, settings_.min_gain_db, settings_.max_gain_db);
    const float slew =
        learnt_frames_++ < fast_frames_ ? settings_.fast_start_factor * slew_per_frame_ : slew_per_frame_;
    current_db_ += std::clamp(wanted - current_db_, -slew, slew);
    gain_db_.store(current_db_, std::memory_order_relaxed);
  }
  // The gate: the learnt gain at once while the user is present, else down towards unity (never up).
  const float closed_db = std::min(current_db_, 0.0f);
  if (!settings_.gate || user_present) {
    applied_now_db_ = current_db_;
    release_step_db_ = 0.0f;
    release_left_ = 0;
  } else if (applied_now_db_ > closed_db) {
    // Closing: from where the gain stands to unity in release_frames_ equal steps.
    if (release_step_db_ == 0.0f) {
      release_step_db_ = (applied_now_db_ - closed_db) / static_cast<float>(release_frames_);
      release_left_ = release_frames_;
    }
    applied_now_db_ = --release_left_ <= 0 ? closed_db : std::max(closed_db, applied_now_db_ - release_step_db_);
  } else {
    applied_now_db_ = closed_db;
  }
  applied_db_.store(applied_now_db_, std::memory_order_relaxed);
  float target = std::pow(10.0f, applied_now_db_ / 20.0f);
  // Peak guard: this frame only, the learnt gain stays.
  if (peak > 0 && peak * target > kPeakLimit) target = kPeakLimit / static_cast<float>(peak);
  const float step = (target - gain_) / static_cast<float>(n);
  float g = gain_;
  for (int i = 0; i < n; ++i) {
    g += step;
    frame[i] = static_cast<int16_t>(std::clamp(std::lround(frame[i] * g), -32768L, 32767L));
  }
  gain_ = target;
}

}  // namespace speakerd
