// Offline access to the DSP blocks, for tests, benchmarks and decoding files on the JS thread.
#pragma once

#include <napi.h>

#include <memory>

#include "../dsp/echo_canceller.h"

namespace speakerd {

// JavaScript class `EchoCanceller`: the engine's canceller run on whole buffers.
class EchoCancellerWrap : public Napi::ObjectWrap<EchoCancellerWrap> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit EchoCancellerWrap(const Napi::CallbackInfo& info);

 private:
  Napi::Value Process(const Napi::CallbackInfo& info);
  Napi::Value Stats(const Napi::CallbackInfo& info);
  std::unique_ptr<EchoCanceller> echo_;
  int frame_ = 0;
};

// resample(samples: Int16Array, inRate, outRate, quality): Int16Array, the whole signal converted
// (the filter's delay is removed, so output sample i lines up with input time i / outRate).
Napi::Value ResampleBuffer(const Napi::CallbackInfo& info);

// listDevices(): the ALSA PCM devices this machine knows.
Napi::Value ListDevices(const Napi::CallbackInfo& info);

}  // namespace speakerd
