// One interface for the echo cancellers the engine can run at the device edge: each removes the echo
// of a reference (what the speaker played, aligned by the engine) from the microphone, on 10 ms frames
// at the bridge rate, with its own residual suppression. speex (speexdsp) is always built; webrtc
// (webrtc-audio-processing) only when pkg-config found the library at build time.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

namespace speakerd {

enum class EchoEngineKind : int { kSpeex = 0, kWebrtc = 1 };

// How hard WebRTC's non-linear processor suppresses residual echo (a higher level costs double talk).
enum class EchoSuppression : int { kLow = 0, kModerate = 1, kHigh = 2 };

// EchoSettings::near_talk_max_cut_db that leaves the suppressor as the library has it.
constexpr int kNearTalkNotEased = -60;

struct EchoSettings {
  int rate = 16000;
  int frame = 160;                    // samples per call (10 ms)
  int tail_ms = 250;                  // adaptive filter length (speex; WebRTC's AEC2 has its own)
  bool denoise = true;                // noise suppression (speex: also enables its residual echo suppression)
  int echo_suppress_db = -40;         // speex: residual echo attenuation, far end alone
  int echo_suppress_active_db = -15;  // speex: residual echo attenuation during double talk
  EchoSuppression suppression = EchoSuppression::kLow;  // webrtc
  int reference_lead_ms = 20;  // webrtc: how far the engine's reference leads the echo (stream delay)
  // webrtc AEC2: the most its suppressor cuts per frequency bin while the user talks; at or below
  // kNearTalkNotEased, not eased (aec2_nlp_ease.h).
  int near_talk_max_cut_db = kNearTalkNotEased;
};

// Running estimate of how much echo is removed, updated on the audio thread, read from any thread.
// It is updated only while the far end plays. A frame in which the canceller suddenly removes 20 dB
// less than the estimate says is taken for the user talking over the device and left out, for up to
// 3 s; past that the echo path itself has changed and the estimate follows it down.
struct EchoStats {
  std::atomic<float> erle_db{0.0f};
  std::atomic<bool> converged{false};
  std::atomic<uint64_t> frames{0};
};

// Keeps EchoStats from the microphone, reference and output of each frame (audio thread only).
class ErleTracker {
 public:
  explicit ErleTracker(int frame) : frame_(frame) {}
  void Update(const int16_t* mic, const int16_t* reference, const int16_t* out);
  void Reset();
  const EchoStats& stats() const { return stats_; }

 private:
  int frame_;
  EchoStats stats_;
  double mic_power_ = 0.0;
  double out_power_ = 0.0;
  int converged_frames_ = 0;
  int double_talk_frames_ = 0;  // consecutive frames left out as double talk
};

class EchoEngine {
 public:
  virtual ~EchoEngine() = default;
  // Removes the echo of `reference` from `mic` (one frame each) into `out`. Real-time safe.
  virtual void Process(const int16_t* mic, const int16_t* reference, int16_t* out) = 0;
  // Forgets the adapted filter (after the echo path changed, e.g. a device reopen). Real-time safe.
  virtual void Reset() = 0;
  // Whether the user talks now (the double-talk detector's last decision): an engine whose own
  // suppressor can be eased cuts less while it is true (webrtc AEC2). Real-time safe.
  virtual void SetNearTalk(bool near) { (void)near; }
  // The power the engine's own suppressor would have passed in the last Process() over what it
  // passed: 1 unless it was eased. The double-talk detector judges the frame as if it had not been.
  virtual double eased_power_ratio() const { return 1.0; }
  // Whether SetNearTalk eases the engine's own suppressor: EchoSettings::near_talk_max_cut_db asked for
  // it and the engine can (webrtc AEC2 with a library that exports its suppression step).
  virtual bool eases_user() const { return false; }
  virtual const EchoStats& stats() const = 0;
  virtual int frame() const = 0;
  virtual const char* name() const = 0;
};

// Whether `engine` eases its own suppressor for the user, as status names it: "off" when
// `near_talk_max_cut_db` does not ask for it, "on", or "unsupported" (asked, but the engine cannot).
inline const char* UserEaseName(int near_talk_max_cut_db, const EchoEngine& engine) {
  if (near_talk_max_cut_db <= kNearTalkNotEased) return "off";
  return engine.eases_user() ? "on" : "unsupported";
}

// "speex" or "webrtc".
const char* EchoEngineName(EchoEngineKind kind);
// Parses a name; false when it names no engine.
bool ParseEchoEngine(const std::string& name, EchoEngineKind* kind);
// Whether this build has the engine.
bool EchoEngineBuilt(EchoEngineKind kind);
// What the build has of the WebRTC library: "" (none), "0.3" or "1" (pkg-config module version).
const char* WebrtcApmVersion();
// Creates an engine. Throws std::runtime_error when it is not built in or cannot be set up.
std::unique_ptr<EchoEngine> CreateEchoEngine(EchoEngineKind kind, const EchoSettings& settings);

}  // namespace speakerd
