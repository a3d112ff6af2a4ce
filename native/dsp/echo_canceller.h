// The speex echo engine: speexdsp echo canceller followed by speex_preprocess (denoise and residual
// echo suppression fed with the canceller's state). The preprocessor's overlap makes the output lag
// the microphone by one frame (10 ms).
#pragma once

#include <speex/speex_echo.h>
#include <speex/speex_preprocess.h>

#include "echo_engine.h"

namespace speakerd {

class SpeexEchoEngine final : public EchoEngine {
 public:
  explicit SpeexEchoEngine(const EchoSettings& settings);  // throws std::runtime_error
  ~SpeexEchoEngine() override;
  SpeexEchoEngine(const SpeexEchoEngine&) = delete;
  SpeexEchoEngine& operator=(const SpeexEchoEngine&) = delete;

  void Process(const int16_t* mic, const int16_t* reference, int16_t* out) override;
  void Reset() override;
  const EchoStats& stats() const override { return tracker_.stats(); }
  int frame() const override { return settings_.frame; }
  const char* name() const override { return "speex"; }

 private:
  EchoSettings settings_;
  SpeexEchoState* echo_;
  SpeexPreprocessState* preprocess_;
  ErleTracker tracker_;
};

}  // namespace speakerd
