// Options shared by the engine and the offline echo canceller: which echo engine, how hard WebRTC
// suppresses, and what the build has.
#pragma once

#include <napi.h>

#include <string>

#include "../dsp/echo_engine.h"
#include "args.h"

namespace speakerd {

// options[key]: 'speex' (default) or 'webrtc'. An engine this build lacks is Error{code:
// 'ERR_AEC_ENGINE_UNAVAILABLE'} naming what the build has.
inline EchoEngineKind OptionEchoEngine(const Napi::Object& o, const char* key) {
  const std::string name = OptionString(o, key, "speex");
  EchoEngineKind kind;
  if (!ParseEchoEngine(name, &kind)) {
    throw Napi::RangeError::New(o.Env(), std::string("options.") + key + " must be 'speex' or 'webrtc'");
  }
  if (!EchoEngineBuilt(kind)) {
    throw CodedError(o.Env(), "ERR_AEC_ENGINE_UNAVAILABLE",
                     "echo engine '" + name +
                         "' is not built into this addon (webrtc-audio-processing was not found at build time); "
                         "built: speex");
  }
  return kind;
}

// options[key]: 'low' (default), 'moderate' or 'high'.
inline EchoSuppression OptionSuppression(const Napi::Object& o, const char* key) {
  const std::string name = OptionString(o, key, "low");
  if (name == "low") return EchoSuppression::kLow;
  if (name == "moderate") return EchoSuppression::kModerate;
  if (name == "high") return EchoSuppression::kHigh;
  throw Napi::RangeError::New(o.Env(), std::string("options.") + key + " must be 'low', 'moderate' or 'high'");
}

// buildInfo(): { echoEngines: ['speex', ...], webrtcApm: '' | '0.3' | '1' }.
inline Napi::Value BuildInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Array engines = Napi::Array::New(env);
  uint32_t n = 0;
  for (EchoEngineKind kind : {EchoEngineKind::kSpeex, EchoEngineKind::kWebrtc}) {
    if (EchoEngineBuilt(kind)) engines.Set(n++, EchoEngineName(kind));
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("echoEngines", engines);
  out.Set("webrtcApm", WebrtcApmVersion());
  return out;
}

}  // namespace speakerd
