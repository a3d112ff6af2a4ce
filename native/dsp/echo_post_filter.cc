#include "echo_post_filter.h"

namespace speakerd {

EchoPostFilter::EchoPostFilter(const EchoPostSettings& settings)
    : detector_(settings.detector),
      suppressor_(settings.suppressor),
      agc_enabled_(settings.agc_enabled),
      agc_(settings.agc) {}

void EchoPostFilter::Process(const int16_t* mic, const int16_t* reference, int16_t* frame) {
  const TalkState state = detector_.Process(mic, reference, frame);
  suppressor_.Process(frame, state);
  suppression_db_.store(suppressor_.gain_db(), std::memory_order_relaxed);
  if (agc_enabled_) agc_.Process(frame, state, detector_.noise_power());
}

void EchoPostFilter::Reset() {
  detector_.Reset();
  suppressor_.Reset();
}

}  // namespace speakerd
