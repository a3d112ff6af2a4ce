// Signal level meter: mean absolute amplitude of a frame mapped to 0..255 on a mu-law-like curve,
// the same scale pjmedia's conference bridge reports.
#pragma once

#include <cstdint>
#include <cstdlib>

namespace speakerd {

inline uint8_t LinearToLevel(uint32_t mean_abs) {
  // Inverted G.711 mu-law of the mean amplitude: 0 for silence, 255 near full scale.
  static const int kSegmentEnd[8] = {0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF, 0x3FFF, 0x7FFF};
  int pcm = static_cast<int>(mean_abs > 32635 ? 32635 : mean_abs) + 0x84;
  int seg = 0;
  while (seg < 8 && pcm > kSegmentEnd[seg]) ++seg;
  if (seg >= 8) return 255;
  const int ulaw = (seg << 4) | ((pcm >> (seg + 3)) & 0xF);
  // ulaw 0 -> silence, 0x7F -> full scale
  const int level = (ulaw * 255) / 0x7F;
  return static_cast<uint8_t>(level > 255 ? 255 : level);
}

inline uint8_t MeasureLevel(const int16_t* samples, int count) {
  if (count <= 0) return 0;
  uint64_t sum = 0;
  for (int i = 0; i < count; ++i) sum += static_cast<uint32_t>(std::abs(static_cast<int>(samples[i])));
  const uint32_t mean = static_cast<uint32_t>(sum / static_cast<uint64_t>(count));
  return mean == 0 ? 0 : LinearToLevel(mean);
}

}  // namespace speakerd
