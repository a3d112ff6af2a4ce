// Offline access to the DSP blocks, for tests, benchmarks and decoding files on the JS thread.
#pragma once

#include <napi.h>

#include <memory>

#include "../dsp/delay_estimator.h"
#include "../dsp/echo_canceller.h"
#include "../dsp/echo_engine.h"
#include "../dsp/echo_post_filter.h"
#include "../dsp/playback_shaper.h"

namespace speakerd {

// JavaScript class `EchoCanceller`: one of the engine's echo engines run on whole buffers.
class EchoCancellerWrap : public Napi::ObjectWrap<EchoCancellerWrap> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit EchoCancellerWrap(const Napi::CallbackInfo& info);

 private:
  Napi::Value Process(const Napi::CallbackInfo& info);
  Napi::Value Reset(const Napi::CallbackInfo& info);
  Napi::Value Stats(const Napi::CallbackInfo& info);
  std::unique_ptr<EchoEngine> echo_;
  int near_talk_max_cut_db_ = kNearTalkNotEased;  // as asked (stats' userEase)
  int frame_ = 0;
};

// JavaScript class `DelayEstimator`: the engine's echo path delay estimator run on whole buffers.
class DelayEstimatorWrap : public Napi::ObjectWrap<DelayEstimatorWrap> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit DelayEstimatorWrap(const Napi::CallbackInfo& info);

 private:
  Napi::Value Process(const Napi::CallbackInfo& info);
  Napi::Value Estimate(const Napi::CallbackInfo& info);
  std::unique_ptr<DelayEstimator> estimator_;
  int rate_ = 0;
  int frame_ = 0;
};

// JavaScript class `EchoPostFilter`: the engine's post filter (double-talk detector, residual echo
// suppression, AGC) run on whole buffers of canceller output with the reference it was given.
class EchoPostFilterWrap : public Napi::ObjectWrap<EchoPostFilterWrap> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit EchoPostFilterWrap(const Napi::CallbackInfo& info);

 private:
  Napi::Value Process(const Napi::CallbackInfo& info);
  std::unique_ptr<EchoPostFilter> filter_;
  int frame_ = 0;
};

// JavaScript class `PlaybackShaper`: the engine's playback side (ducking, output ceiling) on whole
// buffers, driven per frame by the post filter's decisions.
class PlaybackShaperWrap : public Napi::ObjectWrap<PlaybackShaperWrap> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit PlaybackShaperWrap(const Napi::CallbackInfo& info);

 private:
  Napi::Value Process(const Napi::CallbackInfo& info);
  std::unique_ptr<PlaybackShaper> shaper_;
  int frame_ = 0;
};

// Parses the post filter's options (shared by the engine and the offline class).
EchoPostSettings ParseEchoPostSettings(const Napi::Object& o, int rate, int frame);
// Parses the playback shaper's options (shared by the engine and the offline class).
PlaybackShaperSettings ParsePlaybackShaperSettings(const Napi::Object& o, int rate, int frame);

// resample(samples: Int16Array, inRate, outRate, quality): Int16Array, the whole signal converted
// (the filter's delay is removed, so output sample i lines up with input time i / outRate).
Napi::Value ResampleBuffer(const Napi::CallbackInfo& info);

// listDevices(): the ALSA PCM devices this machine knows.
Napi::Value ListDevices(const Napi::CallbackInfo& info);

}  // namespace speakerd
