#include "aec2_nlp_ease.h"

#include <cstring>

// webrtc-audio-processing 0.3, modules/audio_processing/aec/aec_core_internal.h (not installed): AEC2
// works on blocks of 64 samples, 65 frequency bins; its suppression step takes the instance, the
// per-bin gains (hNl, raised by it to the overdrive power), the feedback gain, and the error
// spectrum (efw, real and imaginary rows; it multiplies the imaginary row by -hNl: Ooura's FFT sign).
// After the step, AEC2 adds comfort noise in proportion to what hNl removed, and inverts the FFT.
extern "C" {
typedef void (*SpeakerdAec2Suppress)(AecCore* aec, float hNl[65], const float hNlFb, float efw[2][65]);
// Weak: a build of the library that does not export it links, and runs without easing.
extern SpeakerdAec2Suppress WebRtcAec_OverdriveAndSuppress __attribute__((weak));
}

namespace speakerd {

namespace {

constexpr int kBins = 65;
constexpr int kSlots = 64;

Aec2NlpEase g_slots[kSlots];
std::atomic<SpeakerdAec2Suppress> g_original{nullptr};

Aec2NlpEase* Find(AecCore* aec) {
  for (Aec2NlpEase& slot : g_slots) {
    if (slot.core() == aec) return &slot;
  }
  return nullptr;
}

void EasedSuppress(AecCore* aec, float hNl[kBins], const float hNlFb, float efw[2][kBins]) {
  const SpeakerdAec2Suppress original = g_original.load(std::memory_order_acquire);
  Aec2NlpEase* ease = Find(aec);
  const float floor = ease != nullptr ? ease->floor() : 0.0f;
  if (floor <= 0.0f) {
    original(aec, hNl, hNlFb, efw);
    return;
  }
  float error[2][kBins];
  std::memcpy(error, efw, sizeof error);
  original(aec, hNl, hNlFb, efw);
  double suppressed = 0.0;
  double passed = 0.0;
  for (int i = 0; i < kBins; ++i) {
    suppressed += static_cast<double>(efw[0][i]) * efw[0][i] + static_cast<double>(efw[1][i]) * efw[1][i];
    if (hNl[i] < floor) {
      hNl[i] = floor;  // comfort noise then fills only what the floor removes
      efw[0][i] = error[0][i] * floor;
      efw[1][i] = -error[1][i] * floor;
    }
    passed += static_cast<double>(efw[0][i]) * efw[0][i] + static_cast<double>(efw[1][i]) * efw[1][i];
  }
  ease->Record(suppressed, passed);
}

}  // namespace

void Aec2NlpEase::Install() {
  if (&WebRtcAec_OverdriveAndSuppress == nullptr) return;
  const SpeakerdAec2Suppress current = WebRtcAec_OverdriveAndSuppress;
  if (current == nullptr || current == &EasedSuppress) return;
  g_original.store(current, std::memory_order_release);
  WebRtcAec_OverdriveAndSuppress = &EasedSuppress;
}

Aec2NlpEase* Aec2NlpEase::Attach(AecCore* core) {
  if (core == nullptr) return nullptr;
  Install();
  if (g_original.load(std::memory_order_acquire) == nullptr) return nullptr;
  for (Aec2NlpEase& slot : g_slots) {
    AecCore* expected = nullptr;
    if (slot.core_.compare_exchange_strong(expected, core, std::memory_order_acq_rel)) {
      slot.floor_.store(0.0f, std::memory_order_relaxed);
      slot.suppressed_ = slot.passed_ = 0.0;
      return &slot;
    }
  }
  return nullptr;
}

void Aec2NlpEase::Detach(Aec2NlpEase* ease) {
  if (ease == nullptr) return;
  ease->floor_.store(0.0f, std::memory_order_relaxed);
  ease->core_.store(nullptr, std::memory_order_release);
}

double Aec2NlpEase::TakePassedRatio() {
  const double ratio = passed_ > 0.0 && suppressed_ < passed_ ? suppressed_ / passed_ : 1.0;
  suppressed_ = passed_ = 0.0;
  return ratio;
}

}  // namespace speakerd
