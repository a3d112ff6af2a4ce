#include "webrtc_echo.h"

#include <cstring>
#include <stdexcept>
#include <string>

#ifdef SPEAKERD_WEBRTC_APM_1
#include <modules/audio_processing/include/audio_processing.h>
#else
#include <webrtc/modules/audio_processing/include/audio_processing.h>
#include <webrtc/modules/interface/module_common_types.h>

#include <cmath>

#include "aec2_nlp_ease.h"
#endif

namespace speakerd {

namespace {

bool SupportedRate(int rate) { return rate == 8000 || rate == 16000 || rate == 32000 || rate == 48000; }

void Check(int err, const char* what) {
  if (err != 0)
    throw std::runtime_error(std::string("webrtc audio processing: ") + what + " failed (" + std::to_string(err) + ")");
}

}  // namespace

#ifdef SPEAKERD_WEBRTC_APM_1

struct WebrtcEchoEngine::Apm {
  // 1.3's AudioProcessingBuilder::Create() returns a raw pointer to a reference-counted object (later
  // releases return the scoped_refptr itself): holding it here releases it in either case.
  rtc::scoped_refptr<webrtc::AudioProcessing> apm;
  webrtc::StreamConfig stream;
  std::unique_ptr<int16_t[]> reverse_out;  // ProcessReverseStream's output, unused (no render processing)
};

// AEC3 has no suppression levels (its suppressor tunes itself; tuning it by hand needs
// EchoCanceller3Factory, whose header 1.3 does not install), so EchoSettings::suppression does not apply.
WebrtcEchoEngine::WebrtcEchoEngine(const EchoSettings& settings)
    : settings_(settings), apm_(new Apm), tracker_(settings.frame) {
  if (!SupportedRate(settings.rate) || settings.frame != settings.rate / 100) {
    throw std::runtime_error("the webrtc echo engine needs 10 ms frames at 8000, 16000, 32000 or 48000 Hz");
  }
  apm_->apm = webrtc::AudioProcessingBuilder().Create();
  if (!apm_->apm) throw std::runtime_error("webrtc audio processing failed to initialise");
  webrtc::AudioProcessing::Config config;
  config.echo_canceller.enabled = true;
  config.echo_canceller.mobile_mode = false;
  config.high_pass_filter.enabled = true;
  config.noise_suppression.enabled = settings.denoise;
  config.noise_suppression.level = webrtc::AudioProcessing::Config::NoiseSuppression::kModerate;
  config.gain_controller1.enabled = false;
  config.gain_controller2.enabled = false;
  config.residual_echo_detector.enabled = false;  // on by default: a statistic nobody reads, at a cost
  apm_->apm->ApplyConfig(config);
  apm_->stream = webrtc::StreamConfig(settings.rate, 1);
  const webrtc::StreamConfig& s = apm_->stream;
  webrtc::ProcessingConfig formats;
  formats.input_stream() = s;
  formats.output_stream() = s;
  formats.reverse_input_stream() = s;
  formats.reverse_output_stream() = s;
  Check(apm_->apm->Initialize(formats), "Initialize");
  apm_->reverse_out.reset(new int16_t[settings.frame]());
  // One silent frame each way: any lazy set-up for the stream format happens here, not on the audio thread.
  std::unique_ptr<int16_t[]> silence(new int16_t[settings.frame]());
  Check(apm_->apm->ProcessReverseStream(silence.get(), s, s, apm_->reverse_out.get()), "first reverse frame");
  Check(apm_->apm->set_stream_delay_ms(settings.reference_lead_ms), "stream delay");
  Check(apm_->apm->ProcessStream(silence.get(), s, s, silence.get()), "first frame");
}

WebrtcEchoEngine::~WebrtcEchoEngine() = default;

// AEC3 tunes its own suppressor: nothing here eases it.
bool WebrtcEchoEngine::eases_user() const { return false; }

void WebrtcEchoEngine::Process(const int16_t* mic, const int16_t* reference, int16_t* out) {
  const webrtc::StreamConfig& s = apm_->stream;
  apm_->apm->ProcessReverseStream(reference, s, s, apm_->reverse_out.get());
  // AEC3 finds the delay itself: the lead is passed as AEC2 gets it, but AEC3 without an external delay
  // estimator ignores it (1.3: the same output with 0, 20, 50 and 200 ms).
  apm_->apm->set_stream_delay_ms(settings_.reference_lead_ms);
  apm_->apm->ProcessStream(mic, s, s, out);
  tracker_.Update(mic, reference, out);
}

void WebrtcEchoEngine::Reset() { tracker_.Reset(); }

#else

struct WebrtcEchoEngine::Apm {
  std::unique_ptr<webrtc::AudioProcessing> apm;
  webrtc::AudioFrame far;
  webrtc::AudioFrame near;
  Aec2NlpEase* ease = nullptr;  // null when easing is off or no slot was free
  float ease_floor = 0.0f;      // the suppressor's least gain per bin while the user talks
  double ease_pending = 1.0;    // the last call's ratio, for the next frame out (the output lags)
  ~Apm() { Aec2NlpEase::Detach(ease); }
};

namespace {

webrtc::EchoCancellation::SuppressionLevel Level(EchoSuppression s) {
  switch (s) {
    case EchoSuppression::kLow: return webrtc::EchoCancellation::kLowSuppression;
    case EchoSuppression::kModerate: return webrtc::EchoCancellation::kModerateSuppression;
    case EchoSuppression::kHigh: return webrtc::EchoCancellation::kHighSuppression;
  }
  return webrtc::EchoCancellation::kLowSuppression;
}

void PrepareFrame(webrtc::AudioFrame* frame, int rate, int samples) {
  frame->sample_rate_hz_ = rate;
  frame->num_channels_ = 1;
  frame->samples_per_channel_ = static_cast<size_t>(samples);
  std::memset(frame->data_, 0, sizeof(frame->data_));
}

}  // namespace

WebrtcEchoEngine::WebrtcEchoEngine(const EchoSettings& settings)
    : settings_(settings), apm_(new Apm), tracker_(settings.frame) {
  if (!SupportedRate(settings.rate) || settings.frame != settings.rate / 100) {
    throw std::runtime_error("the webrtc echo engine needs 10 ms frames at 8000, 16000, 32000 or 48000 Hz");
  }
  webrtc::Config config;
  config.Set<webrtc::ExtendedFilter>(new webrtc::ExtendedFilter(true));
  config.Set<webrtc::DelayAgnostic>(new webrtc::DelayAgnostic(true));
  apm_->apm.reset(webrtc::AudioProcessing::Create(config));
  if (!apm_->apm) throw std::runtime_error("webrtc audio processing failed to initialise");
  webrtc::AudioProcessing& apm = *apm_->apm;
  Check(apm.Initialize(settings.rate, settings.rate, settings.rate, webrtc::AudioProcessing::kMono,
                       webrtc::AudioProcessing::kMono, webrtc::AudioProcessing::kMono),
        "Initialize");
  Check(apm.high_pass_filter()->Enable(true), "high-pass filter");
  Check(apm.echo_cancellation()->enable_drift_compensation(false), "drift compensation");
  Check(apm.echo_cancellation()->set_suppression_level(Level(settings.suppression)), "suppression level");
  Check(apm.echo_cancellation()->Enable(true), "echo cancellation");
  Check(apm.noise_suppression()->set_level(webrtc::NoiseSuppression::kModerate), "noise suppression level");
  Check(apm.noise_suppression()->Enable(settings.denoise), "noise suppression");
  Check(apm.gain_control()->Enable(false), "gain control");
  Check(apm.voice_detection()->Enable(false), "voice detection");
  PrepareFrame(&apm_->far, settings.rate, settings.frame);
  PrepareFrame(&apm_->near, settings.rate, settings.frame);
  Check(apm.ProcessReverseStream(&apm_->far), "first reverse frame");
  Check(apm.set_stream_delay_ms(settings.reference_lead_ms), "stream delay");
  Check(apm.ProcessStream(&apm_->near), "first frame");
  // Without the library's export (or a free slot) the engine runs as the library has it: eases_user()
  // says so, and status shows it (aec.userEase 'unsupported').
  if (settings.near_talk_max_cut_db > kNearTalkNotEased) {
    apm_->ease = Aec2NlpEase::Attach(apm.echo_cancellation()->aec_core());
    apm_->ease_floor = static_cast<float>(std::pow(10.0, settings.near_talk_max_cut_db / 20.0));
  }
}

bool WebrtcEchoEngine::eases_user() const { return apm_->ease != nullptr; }

WebrtcEchoEngine::~WebrtcEchoEngine() = default;

void WebrtcEchoEngine::Process(const int16_t* mic, const int16_t* reference, int16_t* out) {
  const size_t bytes = sizeof(int16_t) * static_cast<size_t>(settings_.frame);
  std::memcpy(apm_->far.data_, reference, bytes);
  apm_->apm->ProcessReverseStream(&apm_->far);
  std::memcpy(apm_->near.data_, mic, bytes);
  apm_->apm->set_stream_delay_ms(settings_.reference_lead_ms);
  if (apm_->ease != nullptr) apm_->ease->SetFloor(near_talk_ ? apm_->ease_floor : 0.0f);
  apm_->apm->ProcessStream(&apm_->near);
  // AEC2's output lags its input by about 13 ms: the frame it returns now was suppressed mostly in the
  // previous call, so that call's ratio is the one that belongs to it.
  eased_power_ratio_ = apm_->ease_pending;
  apm_->ease_pending = apm_->ease != nullptr ? apm_->ease->TakePassedRatio() : 1.0;
  std::memcpy(out, apm_->near.data_, bytes);
  tracker_.Update(mic, reference, out);
}

void WebrtcEchoEngine::Reset() {
  // Disabling and enabling again re-initialises the existing AEC handle (WebRtcAec_Init) in place.
  apm_->apm->echo_cancellation()->Enable(false);
  apm_->apm->echo_cancellation()->Enable(true);
  tracker_.Reset();
}

#endif

}  // namespace speakerd
