// Module entry: the binding that src/media/native-binding.ts loads.
#include <napi.h>

#include "dsp_wrap.h"
#include "echo_options.h"
#include "engine_wrap.h"
#include "evdev.h"
#include "net_wrap.h"
#include "notify.h"
#include "spi.h"
#include "watchdog.h"

namespace speakerd {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("Engine", EngineWrap::Define(env));
  exports.Set("EchoCanceller", EchoCancellerWrap::Define(env));
  exports.Set("DelayEstimator", DelayEstimatorWrap::Define(env));
  exports.Set("buildInfo", Napi::Function::New(env, BuildInfo, "buildInfo"));
  exports.Set("EchoPostFilter", EchoPostFilterWrap::Define(env));
  exports.Set("PlaybackShaper", PlaybackShaperWrap::Define(env));
  exports.Set("resample", Napi::Function::New(env, ResampleBuffer, "resample"));
  exports.Set("listDevices", Napi::Function::New(env, ListDevices, "listDevices"));
  exports.Set("notify", Napi::Function::New(env, Notify, "notify"));
  exports.Set("peerCredentials", Napi::Function::New(env, PeerCredentials, "peerCredentials"));
  exports.Set("NotifyReceiver", NotifyReceiverWrap::Define(env));
  exports.Set("Watchdog", WatchdogWrap::Define(env));
  exports.Set("spiConfigure", Napi::Function::New(env, SpiConfigure, "spiConfigure"));
  exports.Set("NetLink", NetLinkWrap::Define(env));
  exports.Set("evdevSwitches", Napi::Function::New(env, EvdevSwitches, "evdevSwitches"));
  return exports;
}

}  // namespace speakerd

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) { return speakerd::Init(env, exports); }

NODE_API_MODULE(speakerd, InitModule)
