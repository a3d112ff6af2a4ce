// The webrtc echo engine: WebRTC's audio processing module on the engine's aligned reference.
// With webrtc-audio-processing 0.3 (Debian 12): AEC2 with the extended filter and delay-agnostic
// mode, a configurable suppression level, optional noise suppression, a high-pass filter. With the
// 1.x API (SPEAKERD_WEBRTC_APM_1, Yocto's meta-multimedia): AEC3 and the same noise suppression.
// Everything is allocated in the constructor, which also runs one silent frame through so that the
// module's lazy (re)initialisation for the stream format happens there and not on the audio thread.
// Built only when binding.gyp found the library (SPEAKERD_WEBRTC_APM).
#pragma once

#include <memory>

#include "echo_engine.h"

namespace speakerd {

class WebrtcEchoEngine final : public EchoEngine {
 public:
  explicit WebrtcEchoEngine(const EchoSettings& settings);  // throws std::runtime_error
  ~WebrtcEchoEngine() override;
  WebrtcEchoEngine(const WebrtcEchoEngine&) = delete;
  WebrtcEchoEngine& operator=(const WebrtcEchoEngine&) = delete;

  void Process(const int16_t* mic, const int16_t* reference, int16_t* out) override;
  // 0.3: re-initialises the echo canceller's state in place (no allocation). 1.x: AEC3 re-adapts by
  // itself and has no in-place reset, so only the statistics restart.
  void Reset() override;
  // AEC2: eases its suppressor while the user talks (settings.near_talk_max_cut_db, aec2_nlp_ease.h).
  void SetNearTalk(bool near) override { near_talk_ = near; }
  double eased_power_ratio() const override { return eased_power_ratio_; }
  bool eases_user() const override;
  const EchoStats& stats() const override { return tracker_.stats(); }
  int frame() const override { return settings_.frame; }
  const char* name() const override { return "webrtc"; }

 private:
  struct Apm;
  EchoSettings settings_;
  std::unique_ptr<Apm> apm_;
  ErleTracker tracker_;
  bool near_talk_ = false;
  double eased_power_ratio_ = 1.0;
};

}  // namespace speakerd
