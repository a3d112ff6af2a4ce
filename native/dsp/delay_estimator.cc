#include "delay_estimator.h"

#include <cmath>
#include <cstring>
#include <stdexcept>

namespace speakerd {

namespace {

constexpr int kBands = 2;
constexpr int kBlocksPerSecond = 400;  // 2.5 ms blocks
// Forgetting of the correlations: about 4 s of far-end activity.
constexpr float kForget = 1.0f / 1600.0f;
// A reference block above about -50 dBFS counts as the far end playing.
constexpr float kFarActivePower = 32768.0f * 32768.0f * 1e-5f;
// Floor of the block powers before the logarithm (about -80 dBFS): silence is not structure.
constexpr float kPowerFloor = 32768.0f * 32768.0f * 1e-8f;
// Moves smaller than this are ignored; larger ones must hold for kHoldEvaluations in a row.
constexpr float kSmallMoveMs = 2.0f;
constexpr int kHoldEvaluations = 3;
// How much better (normalised correlation) a new lag must score than the one in use to replace it.
constexpr float kMoveMargin = 0.05f;

}  // namespace

DelayEstimator::DelayEstimator(const DelayEstimatorSettings& settings) : settings_(settings) {
  if (settings.rate % kBlocksPerSecond != 0 || settings.frame % (settings.rate / kBlocksPerSecond) != 0) {
    throw std::invalid_argument("delay estimator: the rate must be a multiple of 400 Hz and the frame of 2.5 ms");
  }
  if (settings.max_delay_ms < 10 || settings.max_delay_ms > 2000) {
    throw std::invalid_argument("delay estimator: max_delay_ms must be from 10 to 2000");
  }
  block_ = settings.rate / kBlocksPerSecond;
  lags_ = settings.max_delay_ms * kBlocksPerSecond / 1000 + 1;
  const int frames_per_second = settings.rate / settings.frame;
  evaluate_every_ = settings.update_ms * frames_per_second / 1000;
  if (evaluate_every_ < 1) evaluate_every_ = 1;
  reference_history_.reset(new float[static_cast<size_t>(kBands) * lags_]());
  correlation_.reset(new float[static_cast<size_t>(kBands) * lags_]());
  reference_energy_.reset(new float[static_cast<size_t>(kBands) * lags_]());
  Reset();
}

void DelayEstimator::Reset() {
  const size_t n = static_cast<size_t>(kBands) * lags_;
  std::memset(reference_history_.get(), 0, sizeof(float) * n);
  std::memset(correlation_.get(), 0, sizeof(float) * n);
  std::memset(reference_energy_.get(), 0, sizeof(float) * n);
  mic_energy_[0] = mic_energy_[1] = 0.0f;
  history_head_ = 0;
  mic_features_ = Features{};
  reference_features_ = Features{};
  blocks_since_far_ = 1 << 30;
  frames_to_evaluate_ = evaluate_every_;
  far_since_evaluation_ = false;
  delay_ = -1;
  candidate_ = -1.0f;
  candidate_holds_ = 0;
  estimate_.delay_samples.store(-1, std::memory_order_relaxed);
  estimate_.confidence.store(0.0f, std::memory_order_relaxed);
}

float DelayEstimator::Extract(const int16_t* x, Features* state, float* out) {
  float low = 0.0f;
  float high = 0.0f;
  int16_t previous = state->last;
  for (int i = 0; i < block_; ++i) {
    const float v = static_cast<float>(x[i]);
    const float d = v - static_cast<float>(previous);
    low += v * v;
    high += d * d;
    previous = x[i];
  }
  state->last = previous;
  const float power = low / static_cast<float>(block_);
  const float bands[kBands] = {std::log(power + kPowerFloor),
                               std::log(high / static_cast<float>(block_) + kPowerFloor)};
  for (int b = 0; b < kBands; ++b) {
    if (!state->primed) state->previous[b] = bands[b];
    const float rise = bands[b] - state->previous[b];
    state->previous[b] = bands[b];
    out[b] = rise > 0.0f ? rise : 0.0f;
  }
  state->primed = true;
  return power;
}

void DelayEstimator::Process(const int16_t* mic, const int16_t* reference) {
  for (int offset = 0; offset < settings_.frame; offset += block_) {
    float reference_feature[kBands];
    float mic_feature[kBands];
    const float reference_power = Extract(reference + offset, &reference_features_, reference_feature);
    Extract(mic + offset, &mic_features_, mic_feature);
    history_head_ = history_head_ == 0 ? lags_ - 1 : history_head_ - 1;
    for (int b = 0; b < kBands; ++b)
      reference_history_[static_cast<size_t>(b) * lags_ + history_head_] = reference_feature[b];
    blocks_since_far_ = reference_power >= kFarActivePower ? 0 : blocks_since_far_ + 1;
    // Only while the far end played within the lag range can the microphone hold its echo.
    if (blocks_since_far_ < lags_) {
      Accumulate(mic_feature);
      far_since_evaluation_ = true;
    }
  }
  if (--frames_to_evaluate_ <= 0) {
    frames_to_evaluate_ = evaluate_every_;
    if (far_since_evaluation_) Evaluate();
    far_since_evaluation_ = false;
  }
}

void DelayEstimator::Accumulate(const float* mic_feature) {
  for (int b = 0; b < kBands; ++b) {
    const float m = mic_feature[b];
    mic_energy_[b] += kForget * (m * m - mic_energy_[b]);
    const float* history = reference_history_.get() + static_cast<size_t>(b) * lags_;
    float* correlation = correlation_.get() + static_cast<size_t>(b) * lags_;
    float* energy = reference_energy_.get() + static_cast<size_t>(b) * lags_;
    // history[(head + lag) % lags_] is the reference feature `lag` blocks ago.
    int index = history_head_;
    for (int lag = 0; lag < lags_; ++lag) {
      const float r = history[index];
      correlation[lag] += kForget * (m * r - correlation[lag]);
      energy[lag] += kForget * (r * r - energy[lag]);
      if (++index == lags_) index = 0;
    }
  }
}

void DelayEstimator::Evaluate() {
  auto score = [this](int lag) {
    float sum = 0.0f;
    for (int b = 0; b < kBands; ++b) {
      const size_t i = static_cast<size_t>(b) * lags_ + static_cast<size_t>(lag);
      const float norm = std::sqrt(mic_energy_[b] * reference_energy_[i]);
      sum += norm > 1e-9f ? correlation_[i] / norm : 0.0f;
    }
    return sum / kBands;
  };
  int best = 0;
  float best_score = -1.0f;
  for (int lag = 0; lag < lags_; ++lag) {
    const float s = score(lag);
    if (s > best_score) {
      best_score = s;
      best = lag;
    }
  }
  if (best_score < settings_.min_confidence) return;
  float refined = static_cast<float>(best);
  if (best > 0 && best < lags_ - 1) {
    const float left = score(best - 1);
    const float right = score(best + 1);
    const float curvature = left - 2.0f * best_score + right;
    if (curvature < 0.0f) refined += 0.5f * (left - right) / curvature;
  }
  const float samples = refined * static_cast<float>(block_);
  const float small_move = kSmallMoveMs * static_cast<float>(settings_.rate) / 1000.0f;
  const float confidence = best_score > 1.0f ? 1.0f : best_score;
  if (delay_ >= 0 && std::fabs(samples - static_cast<float>(delay_)) < small_move) {
    // The same delay: only its confidence is refreshed, the alignment stays put.
    candidate_holds_ = 0;
    candidate_ = -1.0f;
    estimate_.confidence.store(confidence, std::memory_order_relaxed);
    return;
  }
  if (delay_ >= 0) {
    // A move must also win clearly over the lag in use, so that a broad (reverberant) peak that
    // wobbles does not move the alignment.
    const int current = static_cast<int>(std::lround(static_cast<float>(delay_) / static_cast<float>(block_)));
    if (current < lags_ && best_score - score(current) < kMoveMargin) {
      candidate_holds_ = 0;
      candidate_ = -1.0f;
      return;
    }
  }
  // A first estimate, or a move, must hold for kHoldEvaluations in a row.
  const bool same = candidate_ >= 0.0f && std::fabs(samples - candidate_) <= static_cast<float>(block_);
  candidate_holds_ = same ? candidate_holds_ + 1 : 1;
  candidate_ = samples;
  if (candidate_holds_ < kHoldEvaluations) return;
  candidate_holds_ = 0;
  candidate_ = -1.0f;
  const int rounded = static_cast<int>(std::lround(samples));
  if (rounded != delay_) estimate_.changes.fetch_add(1, std::memory_order_relaxed);
  delay_ = rounded;
  estimate_.delay_samples.store(rounded, std::memory_order_relaxed);
  estimate_.confidence.store(confidence, std::memory_order_relaxed);
}

}  // namespace speakerd
