#include "dsp_wrap.h"

#include <speex/speex_resampler.h>

#include <vector>

#include "../device/alsa_duplex.h"
#include "args.h"
#include "echo_options.h"

namespace speakerd {

namespace {

struct RateAndFrame {
  int rate;
  int frame;
};

// The sample rate and frame length (10 ms unless given) in an offline DSP object's options.
RateAndFrame OptionRateAndFrame(const Napi::Object& o) {
  const int rate = OptionInt(o, "rate", 16000, 8000, 48000);
  return {rate, OptionInt(o, "frame", rate / 100, 16, 4800)};
}

// Checks that `mic` and `ref` have the same length, a whole number of `frame`-sample frames.
void RequireFramedPair(const Napi::CallbackInfo& info, const Napi::Int16Array& mic, const Napi::Int16Array& ref,
                       int frame) {
  if (mic.ElementLength() != ref.ElementLength()) {
    throw Napi::RangeError::New(info.Env(), "mic and reference must have the same length");
  }
  if (mic.ElementLength() % static_cast<size_t>(frame) != 0) {
    throw Napi::RangeError::New(info.Env(),
                                "mic length must be a multiple of the frame (" + std::to_string(frame) + ")");
  }
}

}  // namespace

Napi::Function EchoCancellerWrap::Define(Napi::Env env) {
  return DefineClass(
      env, "EchoCanceller",
      {InstanceMethod<&EchoCancellerWrap::Process>("process"), InstanceMethod<&EchoCancellerWrap::Reset>("reset"),
       InstanceMethod<&EchoCancellerWrap::Stats>("stats")});
}

EchoCancellerWrap::EchoCancellerWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<EchoCancellerWrap>(info) {
  if (info.Length() < 1 || !info[0].IsObject()) throw Napi::TypeError::New(info.Env(), "options must be an object");
  Napi::Object o = info[0].As<Napi::Object>();
  EchoSettings s;
  const RateAndFrame timing = OptionRateAndFrame(o);
  s.rate = timing.rate;
  s.frame = timing.frame;
  s.tail_ms = OptionInt(o, "tailMs", 250, 10, 1000);
  s.denoise = OptionBool(o, "denoise", true);
  s.echo_suppress_db = OptionInt(o, "echoSuppressDb", -40, -90, 0);
  s.echo_suppress_active_db = OptionInt(o, "echoSuppressActiveDb", -15, -90, 0);
  s.suppression = OptionSuppression(o, "suppression");
  s.reference_lead_ms = OptionInt(o, "referenceLeadMs", 20, 0, 200);
  s.near_talk_max_cut_db = OptionInt(o, "nearTalkMaxCutDb", kNearTalkNotEased, kNearTalkNotEased, 0);
  const EchoEngineKind kind = OptionEchoEngine(o, "engine");
  frame_ = s.frame;
  near_talk_max_cut_db_ = s.near_talk_max_cut_db;
  try {
    echo_ = CreateEchoEngine(kind, s);
  } catch (const std::exception& e) {
    throw CodedError(info.Env(), "ERR_ENGINE_INIT", e.what());
  }
}

Napi::Value EchoCancellerWrap::Process(const Napi::CallbackInfo& info) {
  Napi::Int16Array mic = RequireInt16Array(info, 0, "mic");
  Napi::Int16Array ref = RequireInt16Array(info, 1, "reference");
  RequireFramedPair(info, mic, ref, frame_);
  const size_t frames = mic.ElementLength() / static_cast<size_t>(frame_);
  // Optional: whether the user talks, per frame (the engine's double-talk decision), and where to put
  // the engine's eased power ratio per frame.
  const Napi::Uint8Array near_talk =
      OptionalFrameArray<Napi::Uint8Array>(info, 2, frames, napi_uint8_array, "nearTalk", "Uint8Array");
  Napi::Float32Array eased =
      OptionalFrameArray<Napi::Float32Array>(info, 3, frames, napi_float32_array, "easedPowerRatio", "Float32Array");
  Napi::Int16Array out = Napi::Int16Array::New(info.Env(), mic.ElementLength());
  for (size_t f = 0; f < frames; ++f) {
    const size_t i = f * static_cast<size_t>(frame_);
    if (!near_talk.IsEmpty()) echo_->SetNearTalk(near_talk[f] != 0);
    echo_->Process(mic.Data() + i, ref.Data() + i, out.Data() + i);
    if (!eased.IsEmpty()) eased[f] = static_cast<float>(echo_->eased_power_ratio());
  }
  return out;
}

Napi::Value EchoCancellerWrap::Reset(const Napi::CallbackInfo& info) {
  echo_->Reset();
  return info.Env().Undefined();
}

Napi::Value EchoCancellerWrap::Stats(const Napi::CallbackInfo& info) {
  Napi::Object out = Napi::Object::New(info.Env());
  out.Set("erleDb", echo_->stats().erle_db.load());
  out.Set("converged", echo_->stats().converged.load());
  out.Set("frames", static_cast<double>(echo_->stats().frames.load()));
  out.Set("engine", echo_->name());
  out.Set("userEase", UserEaseName(near_talk_max_cut_db_, *echo_));
  return out;
}

Napi::Function DelayEstimatorWrap::Define(Napi::Env env) {
  return DefineClass(env, "DelayEstimator",
                     {InstanceMethod<&DelayEstimatorWrap::Process>("process"),
                      InstanceMethod<&DelayEstimatorWrap::Estimate>("estimate")});
}

DelayEstimatorWrap::DelayEstimatorWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<DelayEstimatorWrap>(info) {
  if (info.Length() < 1 || !info[0].IsObject()) throw Napi::TypeError::New(info.Env(), "options must be an object");
  Napi::Object o = info[0].As<Napi::Object>();
  DelayEstimatorSettings s;
  s.rate = OptionInt(o, "rate", 16000, 8000, 48000);
  if (s.rate % 400 != 0) throw Napi::RangeError::New(info.Env(), "options.rate must be a multiple of 400 Hz");
  s.frame = s.rate / 100;
  s.max_delay_ms = OptionInt(o, "maxDelayMs", 500, 10, 1000);
  rate_ = s.rate;
  frame_ = s.frame;
  estimator_ = std::make_unique<DelayEstimator>(s);
}

Napi::Value DelayEstimatorWrap::Process(const Napi::CallbackInfo& info) {
  Napi::Int16Array mic = RequireInt16Array(info, 0, "mic");
  Napi::Int16Array ref = RequireInt16Array(info, 1, "reference");
  RequireFramedPair(info, mic, ref, frame_);
  for (size_t i = 0; i < mic.ElementLength(); i += static_cast<size_t>(frame_)) {
    estimator_->Process(mic.Data() + i, ref.Data() + i);
  }
  return info.Env().Undefined();
}

Napi::Value DelayEstimatorWrap::Estimate(const Napi::CallbackInfo& info) {
  const DelayEstimate& e = estimator_->estimate();
  const int samples = e.delay_samples.load();
  Napi::Object out = Napi::Object::New(info.Env());
  out.Set("delayMs", samples < 0 ? -1.0 : samples * 1000.0 / rate_);
  out.Set("confidence", e.confidence.load());
  out.Set("changes", static_cast<double>(e.changes.load()));
  return out;
}

EchoPostSettings ParseEchoPostSettings(const Napi::Object& o, int rate, int frame) {
  EchoPostSettings s;
  s.detector.rate = s.agc.rate = rate;
  s.detector.frame = s.suppressor.frame = s.agc.frame = frame;
  s.detector.tail_ms = OptionInt(o, "dtdTailMs", 500, 50, 2000);
  s.detector.hangover_ms = OptionInt(o, "dtdHangoverMs", s.detector.hangover_ms, 0, 2000);
  s.detector.onset_frames = OptionInt(o, "dtdOnsetFrames", 3, 1, 20);
  s.detector.near_margin_db =
      static_cast<float>(OptionInt(o, "dtdMarginDb", static_cast<int>(s.detector.near_margin_db), 0, 40));
  s.detector.output_lag_frames = OptionInt(o, "outputLagFrames", 1, 0, 4);
  s.suppressor.far_only_db = static_cast<float>(OptionInt(o, "suppressDb", -30, -80, 0));
  s.suppressor.double_talk_db = static_cast<float>(OptionInt(o, "suppressDoubleTalkDb", 0, -40, 0));
  s.agc_enabled = OptionBool(o, "agc", true);
  s.agc.target_dbfs = static_cast<float>(OptionInt(o, "agcTargetDbfs", -26, -60, -3));
  s.agc.max_gain_db = static_cast<float>(OptionInt(o, "agcMaxGainDb", 30, 0, 60));
  s.agc.gate = OptionBool(o, "agcGate", true);
  return s;
}

PlaybackShaperSettings ParsePlaybackShaperSettings(const Napi::Object& o, int rate, int frame) {
  PlaybackShaperSettings s;
  s.duck.rate = s.limiter.rate = rate;
  s.duck.frame = frame;
  s.duck.depth_db = static_cast<float>(OptionInt(o, "duckDb", 0, 0, 60));
  s.duck.engage_ms = OptionInt(o, "duckEngageMs", 60, 10, 2000);
  s.duck.hold_ms = OptionInt(o, "duckHoldMs", 300, 0, 10000);
  s.limiter.ceiling_dbfs = static_cast<float>(OptionInt(o, "maxOutputDbfs", 0, -60, 0));
  return s;
}

Napi::Function EchoPostFilterWrap::Define(Napi::Env env) {
  return DefineClass(env, "EchoPostFilter", {InstanceMethod<&EchoPostFilterWrap::Process>("process")});
}

EchoPostFilterWrap::EchoPostFilterWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<EchoPostFilterWrap>(info) {
  if (info.Length() < 1 || !info[0].IsObject()) throw Napi::TypeError::New(info.Env(), "options must be an object");
  Napi::Object o = info[0].As<Napi::Object>();
  const RateAndFrame timing = OptionRateAndFrame(o);
  frame_ = timing.frame;
  filter_ = std::make_unique<EchoPostFilter>(ParseEchoPostSettings(o, timing.rate, frame_));
}

// process(mic, reference, cancelled[, easedPowerRatio]): {out, states (TalkState per frame), nearRuns, easeRuns,
// agcGainDb, agcAppliedDb, suppressionDb}.
Napi::Value EchoPostFilterWrap::Process(const Napi::CallbackInfo& info) {
  Napi::Int16Array mic = RequireInt16Array(info, 0, "mic");
  Napi::Int16Array ref = RequireInt16Array(info, 1, "reference");
  Napi::Int16Array in = RequireInt16Array(info, 2, "cancelled");
  if (in.ElementLength() != ref.ElementLength() || in.ElementLength() != mic.ElementLength()) {
    throw Napi::RangeError::New(info.Env(), "mic, reference and cancelled must have the same length");
  }
  if (in.ElementLength() % static_cast<size_t>(frame_) != 0) {
    throw Napi::RangeError::New(info.Env(), "length must be a multiple of the frame (" + std::to_string(frame_) + ")");
  }
  const size_t frames = in.ElementLength() / static_cast<size_t>(frame_);
  // Optional: the canceller's eased power ratio per frame (EchoCanceller.process fills it).
  const Napi::Float32Array eased =
      OptionalFrameArray<Napi::Float32Array>(info, 3, frames, napi_float32_array, "easedPowerRatio", "Float32Array");
  Napi::Int16Array out = Napi::Int16Array::New(info.Env(), in.ElementLength());
  std::copy(in.Data(), in.Data() + in.ElementLength(), out.Data());
  Napi::Uint8Array states = Napi::Uint8Array::New(info.Env(), frames);
  Napi::Uint16Array near_runs = Napi::Uint16Array::New(info.Env(), frames);
  Napi::Uint16Array ease_runs = Napi::Uint16Array::New(info.Env(), frames);
  Napi::Float32Array agc = Napi::Float32Array::New(info.Env(), frames);
  Napi::Float32Array agc_applied = Napi::Float32Array::New(info.Env(), frames);
  Napi::Float32Array suppression = Napi::Float32Array::New(info.Env(), frames);
  for (size_t f = 0; f < frames; ++f) {
    const size_t at = f * static_cast<size_t>(frame_);
    filter_->Process(mic.Data() + at, ref.Data() + at, out.Data() + at, eased.IsEmpty() ? 1.0 : eased[f]);
    states[f] = static_cast<uint8_t>(filter_->state());
    near_runs[f] = static_cast<uint16_t>(std::min(filter_->near_run(), 65535));
    ease_runs[f] = static_cast<uint16_t>(std::min(filter_->ease_run(), 65535));
    agc[f] = filter_->agc_gain_db();
    agc_applied[f] = filter_->agc_applied_db();
    suppression[f] = filter_->suppression_db();
  }
  Napi::Object result = Napi::Object::New(info.Env());
  result.Set("out", out);
  result.Set("states", states);
  result.Set("nearRuns", near_runs);
  result.Set("easeRuns", ease_runs);
  result.Set("agcGainDb", agc);
  result.Set("agcAppliedDb", agc_applied);
  result.Set("suppressionDb", suppression);
  return result;
}

Napi::Function PlaybackShaperWrap::Define(Napi::Env env) {
  return DefineClass(env, "PlaybackShaper", {InstanceMethod<&PlaybackShaperWrap::Process>("process")});
}

PlaybackShaperWrap::PlaybackShaperWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<PlaybackShaperWrap>(info) {
  if (info.Length() < 1 || !info[0].IsObject()) throw Napi::TypeError::New(info.Env(), "options must be an object");
  Napi::Object o = info[0].As<Napi::Object>();
  const RateAndFrame timing = OptionRateAndFrame(o);
  frame_ = timing.frame;
  shaper_ = std::make_unique<PlaybackShaper>(ParsePlaybackShaperSettings(o, timing.rate, frame_));
}

// process(speaker, states, nearRuns): {out, ducked (per frame)}; states/nearRuns as EchoPostFilter gives.
Napi::Value PlaybackShaperWrap::Process(const Napi::CallbackInfo& info) {
  Napi::Int16Array speaker = RequireInt16Array(info, 0, "speaker");
  if (info.Length() < 3 || !info[1].IsTypedArray() || !info[2].IsTypedArray()) {
    throw Napi::TypeError::New(info.Env(), "states and nearRuns must be typed arrays");
  }
  Napi::Uint8Array states = info[1].As<Napi::Uint8Array>();
  Napi::Uint16Array near_runs = info[2].As<Napi::Uint16Array>();
  if (speaker.ElementLength() % static_cast<size_t>(frame_) != 0) {
    throw Napi::RangeError::New(info.Env(), "length must be a multiple of the frame (" + std::to_string(frame_) + ")");
  }
  const size_t frames = speaker.ElementLength() / static_cast<size_t>(frame_);
  if (states.ElementLength() != frames || near_runs.ElementLength() != frames) {
    throw Napi::RangeError::New(info.Env(), "states and nearRuns need one entry per frame");
  }
  Napi::Int16Array out = Napi::Int16Array::New(info.Env(), speaker.ElementLength());
  std::copy(speaker.Data(), speaker.Data() + speaker.ElementLength(), out.Data());
  Napi::Uint8Array ducked = Napi::Uint8Array::New(info.Env(), frames);
  const int engage = shaper_->ducker().engage_frames();
  for (size_t f = 0; f < frames; ++f) {
    const TalkState state = static_cast<TalkState>(states[f]);
    const bool over_far = state == TalkState::kDoubleTalk && near_runs[f] >= engage;
    shaper_->Process(out.Data() + f * static_cast<size_t>(frame_), over_far, NearPresent(state));
    ducked[f] = shaper_->ducker().active() ? 1 : 0;
  }
  Napi::Object result = Napi::Object::New(info.Env());
  result.Set("out", out);
  result.Set("ducked", ducked);
  return result;
}

Napi::Value ResampleBuffer(const Napi::CallbackInfo& info) {
  Napi::Int16Array in = RequireInt16Array(info, 0, "samples");
  const int in_rate = RequireInt(info, 1, "inRate", 1000, 384000);
  const int out_rate = RequireInt(info, 2, "outRate", 1000, 384000);
  const int quality = RequireInt(info, 3, "quality", 0, 10);
  const size_t in_len = in.ElementLength();
  const size_t out_len = static_cast<size_t>((static_cast<uint64_t>(in_len) * out_rate + in_rate - 1) / in_rate);
  if (in_rate == out_rate) {
    Napi::Int16Array copy = Napi::Int16Array::New(info.Env(), in_len);
    std::copy(in.Data(), in.Data() + in_len, copy.Data());
    return copy;
  }
  int err = 0;
  SpeexResamplerState* st = speex_resampler_init(1, in_rate, out_rate, quality, &err);
  if (st == nullptr) throw CodedError(info.Env(), "ERR_RESAMPLER", speex_resampler_strerror(err));
  speex_resampler_skip_zeros(st);
  const int latency = speex_resampler_get_input_latency(st);
  // Feed the input, then enough zeros to push the filter's tail out.
  std::vector<int16_t> padded(in.Data(), in.Data() + in_len);
  padded.resize(in_len + static_cast<size_t>(latency) * 2 + 1, 0);
  std::vector<int16_t> out(out_len + 16, 0);
  spx_uint32_t consumed = static_cast<spx_uint32_t>(padded.size());
  spx_uint32_t produced = static_cast<spx_uint32_t>(out.size());
  speex_resampler_process_int(st, 0, padded.data(), &consumed, out.data(), &produced);
  speex_resampler_destroy(st);
  Napi::Int16Array result = Napi::Int16Array::New(info.Env(), out_len);
  for (size_t i = 0; i < out_len; ++i) result[i] = i < produced ? out[i] : 0;
  return result;
}

Napi::Value ListDevices(const Napi::CallbackInfo& info) {
  std::vector<AlsaDeviceInfo> devices;
  std::string message;
  if (AlsaDuplex::ListDevices(&devices, &message) < 0) throw CodedError(info.Env(), "ERR_DEVICE_LIST", message);
  Napi::Array out = Napi::Array::New(info.Env(), devices.size());
  for (size_t i = 0; i < devices.size(); ++i) {
    Napi::Object d = Napi::Object::New(info.Env());
    d.Set("name", devices[i].name);
    d.Set("description", devices[i].description);
    d.Set("direction", devices[i].direction);
    out.Set(static_cast<uint32_t>(i), d);
  }
  return out;
}

}  // namespace speakerd
