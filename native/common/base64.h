// Base64 (RFC 4648, with padding) of PCM16 samples as little-endian bytes, written straight into a
// caller's buffer. Streaming: samples may arrive in several spans (a ring's wraparound); the 1-2
// bytes that do not fill a 3-byte group wait for the next span. No allocation.
#pragma once

#include <cstddef>
#include <cstdint>

namespace speakerd {

class Pcm16Base64Writer {
 public:
  explicit Pcm16Base64Writer(uint8_t* out) : out_(out), begin_(out) {}

  // Encoded length of `samples` PCM16 samples.
  static size_t EncodedSize(size_t samples) { return (samples * 2 + 2) / 3 * 4; }

  void Feed(const int16_t* samples, size_t count) {
    for (size_t i = 0; i < count; ++i) {
      const uint16_t v = static_cast<uint16_t>(samples[i]);
      Byte(static_cast<uint8_t>(v & 0xff));
      Byte(static_cast<uint8_t>(v >> 8));
    }
  }

  // Writes the last group with its padding; returns the bytes written in all.
  size_t Finish() {
    if (pending_ == 1) {
      Put(group_ >> 18, (group_ >> 12) & 63);
      *out_++ = '=';
      *out_++ = '=';
    } else if (pending_ == 2) {
      Put(group_ >> 18, (group_ >> 12) & 63);
      *out_++ = kAlphabet[(group_ >> 6) & 63];
      *out_++ = '=';
    }
    pending_ = 0;
    group_ = 0;
    return static_cast<size_t>(out_ - begin_);
  }

 private:
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

  void Byte(uint8_t b) {
    group_ |= static_cast<uint32_t>(b) << (16 - 8 * pending_);
    if (++pending_ < 3) return;
    Put(group_ >> 18, (group_ >> 12) & 63);
    *out_++ = kAlphabet[(group_ >> 6) & 63];
    *out_++ = kAlphabet[group_ & 63];
    pending_ = 0;
    group_ = 0;
  }

  void Put(uint32_t a, uint32_t b) {
    *out_++ = kAlphabet[a & 63];
    *out_++ = kAlphabet[b];
  }

  uint8_t* out_;
  uint8_t* const begin_;
  uint32_t group_ = 0;
  int pending_ = 0;
};

}  // namespace speakerd
