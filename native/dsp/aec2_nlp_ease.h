// Eases AEC2's non-linear processor (webrtc-audio-processing 0.3) while the user talks over the far
// end. On its own, AEC2's suppressor cuts a user talking over the reply by 7-30 dB (docs/audio.md):
// it cannot tell the user from residual echo. speakerd's own double-talk detector can, so while it
// hears the user the suppressor's gain in each frequency bin is kept at or above a floor; the linear
// filter still removes the echo, and ducking lowers what is left.
//
// AEC2 offers no such control in its public API. It calls its suppression step through an exported
// function pointer (WebRtcAec_OverdriveAndSuppress, set per CPU: C, SSE2 or NEON) with the AEC
// instance as its first argument; Install() wraps whatever that pointer holds, and the wrapper eases
// only the instances attached here, while their floor is set. Everything else runs unchanged.
// The wrapper records, per instance, how much the suppressor would have passed and how much passed,
// so that the detector can judge the frame as if nothing had been eased.
//
// Thread safety: Attach/Detach and Install run where engines are created; SetFloor, Take and the
// wrapper run on the thread that runs the instance's ProcessStream (the audio thread). Lock-free and
// allocation-free after Attach. Install writes the library's pointer, which the library itself
// rewrites each time it creates an instance: an instance running meanwhile goes through one step or
// the other for a block, eased or not.
#pragma once

#include <atomic>

struct AecCore;

namespace speakerd {

class Aec2NlpEase {
 public:
  // Takes one of 64 slots for `core` (EchoCancellation::aec_core()) and installs the wrapper; null
  // when all are taken or the library does not export its suppression step.
  static Aec2NlpEase* Attach(AecCore* core);
  // Gives the slot back; the instance is no longer eased.
  static void Detach(Aec2NlpEase* ease);
  // Puts the wrapper in front of AEC2's current suppression step. AEC2 resets the pointer each time
  // it creates an instance, so Attach runs this after every creation. Idempotent.
  static void Install();

  // Minimum gain per bin from now on (linear, 0..1); 0 = AEC2's suppressor as it is.
  void SetFloor(float floor) { floor_.store(floor, std::memory_order_relaxed); }
  // The power the suppressor would have passed since the last call over what it passed (<= 1; 1
  // when nothing was eased), and starts again.
  double TakePassedRatio();

  // For the wrapper: the instance, the floor, and what one block would have passed and passed.
  AecCore* core() const { return core_.load(std::memory_order_acquire); }
  float floor() const { return floor_.load(std::memory_order_relaxed); }
  void Record(double suppressed, double passed) {
    suppressed_ += suppressed;
    passed_ += passed;
  }

 private:
  std::atomic<AecCore*> core_{nullptr};
  std::atomic<float> floor_{0.0f};
  double suppressed_ = 0.0;
  double passed_ = 0.0;
};

}  // namespace speakerd
