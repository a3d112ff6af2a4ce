// Shared constants and small helpers for the audio engine.
#pragma once

#include <cstdint>

namespace speakerd {

// Every clock tick carries 10 ms of audio.
constexpr int kTicksPerSecond = 100;
constexpr int kTickMs = 1000 / kTicksPerSecond;
// Largest rate any port or device may run at; buffers are sized for it up front.
constexpr int kMaxRate = 192000;
constexpr int kMaxFrame = kMaxRate / kTicksPerSecond;
constexpr int kMaxChannels = 8;
// Bridge slots, slot 0 being the sound device.
constexpr int kMaxSlots = 32;

inline int16_t Saturate16(int32_t v) { return v > 32767 ? 32767 : (v < -32768 ? -32768 : static_cast<int16_t>(v)); }

inline int16_t SaturateFloat(float v) {
  return v >= 32767.0f ? 32767 : (v <= -32768.0f ? -32768 : static_cast<int16_t>(v));
}

}  // namespace speakerd
