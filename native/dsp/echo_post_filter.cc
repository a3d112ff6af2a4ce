#include "echo_post_filter.h"

namespace speakerd {

namespace {

constexpr int kAgcLearnAfterFrames = 5;

}  // namespace

EchoPostFilter::EchoPostFilter(const EchoPostSettings& settings)
    : detector_(settings.detector),
      suppressor_(settings.suppressor),
      agc_enabled_(settings.agc_enabled),
      agc_(settings.agc) {}

void EchoPostFilter::Process(const int16_t* mic, const int16_t* reference, int16_t* frame) {
  const TalkState state = detector_.Process(mic, reference, frame);
  suppressor_.Process(frame, state);
  suppression_db_.store(suppressor_.gain_db(), std::memory_order_relaxed);
  // The AGC learns from the user alone (in double talk the frame also holds residual echo), 50 ms on.
  const bool user_speech = state == TalkState::kNearOnly && detector_.near_run() >= kAgcLearnAfterFrames;
  if (agc_enabled_) agc_.Process(frame, user_speech, detector_.noise_power());
}

void EchoPostFilter::Reset() {
  detector_.Reset();
  suppressor_.Reset();
}

}  // namespace speakerd
