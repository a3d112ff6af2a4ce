#include "echo_post_filter.h"

namespace speakerd {

namespace {

constexpr int kAgcLearnAfterFrames = 5;
// Over the far end, a longer run: residual echo taken for the user comes in short runs (5 frames let
// the gain drift up 1.4 dB over 20 s of the far end alone in the enclosure, seed 3).
constexpr int kAgcLearnOverFarAfterFrames = 7;

}  // namespace

EchoPostFilter::EchoPostFilter(const EchoPostSettings& settings)
    : detector_(settings.detector),
      suppressor_(settings.suppressor),
      agc_enabled_(settings.agc_enabled),
      agc_(settings.agc) {}

void EchoPostFilter::Process(const int16_t* mic, const int16_t* reference, int16_t* frame, double eased_power_ratio) {
  const TalkState state = detector_.Process(mic, reference, frame, eased_power_ratio);
  suppressor_.Process(frame, state);
  suppression_db_.store(suppressor_.gain_db(), std::memory_order_relaxed);
  // The AGC learns from the user alone 50 ms into a run of frames the detector gives to the user, and
  // from the user over the far end 70 ms into one: the user's first words are often a barge-in, and a
  // gain that waited for the user alone would send them at the microphone's level (in the enclosure
  // 9 dB, in the living room 25 dB under the target). Over the far end the frame also holds the
  // canceller's residual, 10 dB or more under the user once it has converged (a slight overestimate).
  const int run = detector_.near_run();
  const bool user_speech = (state == TalkState::kNearOnly && run >= kAgcLearnAfterFrames) ||
                           (state == TalkState::kDoubleTalk && run >= kAgcLearnOverFarAfterFrames);
  if (agc_enabled_) agc_.Process(frame, user_speech, NearPresent(state), detector_.noise_power(), eased_power_ratio);
}

void EchoPostFilter::Reset() {
  detector_.Reset();
  suppressor_.Reset();
}

}  // namespace speakerd
