#include "echo_engine.h"

#include <cmath>
#include <stdexcept>

#include "echo_canceller.h"
#ifdef SPEAKERD_WEBRTC_APM
#include "webrtc_echo.h"
#endif

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

void ErleTracker::Update(const int16_t* mic, const int16_t* reference, const int16_t* out) {
  const int n = frame_;
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

void ErleTracker::Reset() {
  mic_power_ = out_power_ = 0.0;
  converged_frames_ = 0;
  double_talk_frames_ = 0;
  stats_.erle_db.store(0.0f, std::memory_order_relaxed);
  stats_.converged.store(false, std::memory_order_relaxed);
}

const char* EchoEngineName(EchoEngineKind kind) { return kind == EchoEngineKind::kWebrtc ? "webrtc" : "speex"; }

bool ParseEchoEngine(const std::string& name, EchoEngineKind* kind) {
  if (name == "speex") {
    *kind = EchoEngineKind::kSpeex;
    return true;
  }
  if (name == "webrtc") {
    *kind = EchoEngineKind::kWebrtc;
    return true;
  }
  return false;
}

bool EchoEngineBuilt(EchoEngineKind kind) {
#ifdef SPEAKERD_WEBRTC_APM
  (void)kind;
  return true;
#else
  return kind == EchoEngineKind::kSpeex;
#endif
}

const char* WebrtcApmVersion() {
#if defined(SPEAKERD_WEBRTC_APM_1)
  return "1";
#elif defined(SPEAKERD_WEBRTC_APM)
  return "0.3";
#else
  return "";
#endif
}

std::unique_ptr<EchoEngine> CreateEchoEngine(EchoEngineKind kind, const EchoSettings& settings) {
  if (kind == EchoEngineKind::kSpeex) return std::make_unique<SpeexEchoEngine>(settings);
#ifdef SPEAKERD_WEBRTC_APM
  return std::make_unique<WebrtcEchoEngine>(settings);
#else
  throw std::runtime_error(
      "the webrtc echo engine is not built in (webrtc-audio-processing was not found when the addon was "
      "built); use aec.engine 'speex' or rebuild with libwebrtc-audio-processing-dev installed");
#endif
}

}  // namespace speakerd
