// WebSocket framing (RFC 6455) for the native uplink: the header of a masked client frame, a tracker
// of frame boundaries in the client byte stream `ws` writes (so that natively framed audio goes in
// only between two of its frames), and a filter of the server byte stream that takes out the pongs
// answering the native uplink's probes (everything else passes to `ws` unchanged).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace speakerd {

constexpr uint8_t kWsText = 0x1;
constexpr uint8_t kWsBinary = 0x2;
constexpr uint8_t kWsClose = 0x8;
constexpr uint8_t kWsPing = 0x9;
constexpr uint8_t kWsPong = 0xA;

// Writes the header of a final, masked client frame of `payload` bytes with `mask` into `out` (at
// least 14 bytes); returns its length.
inline size_t WriteClientHeader(uint8_t* out, uint8_t opcode, uint64_t payload, const uint8_t mask[4]) {
  size_t n = 0;
  out[n++] = static_cast<uint8_t>(0x80 | opcode);
  if (payload < 126) {
    out[n++] = static_cast<uint8_t>(0x80 | payload);
  } else if (payload <= 0xffff) {
    out[n++] = 0x80 | 126;
    out[n++] = static_cast<uint8_t>(payload >> 8);
    out[n++] = static_cast<uint8_t>(payload);
  } else {
    out[n++] = 0x80 | 127;
    for (int i = 7; i >= 0; --i) out[n++] = static_cast<uint8_t>(payload >> (8 * i));
  }
  std::memcpy(out + n, mask, 4);
  return n + 4;
}

// XORs `data` with the 4-byte `mask` (RFC 6455 5.3), starting at mask byte 0.
inline void ApplyMask(uint8_t* data, size_t size, const uint8_t mask[4]) {
  uint32_t word;
  std::memcpy(&word, mask, 4);
  size_t i = 0;
  for (; i + 4 <= size; i += 4) {
    uint32_t v;
    std::memcpy(&v, data + i, 4);
    v ^= word;
    std::memcpy(data + i, &v, 4);
  }
  for (; i < size; ++i) data[i] ^= mask[i & 3];
}

// Length of a frame header from its first two bytes (client frames carry a 4-byte mask key).
inline size_t HeaderLength(uint8_t second) {
  const uint8_t len7 = second & 0x7f;
  return 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0) + ((second & 0x80) ? 4 : 0);
}

inline uint64_t PayloadLength(const uint8_t* header) {
  const uint8_t len7 = header[1] & 0x7f;
  if (len7 < 126) return len7;
  uint64_t v = 0;
  const int bytes = len7 == 126 ? 2 : 8;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | header[2 + i];
  return v;
}

// Follows the frames of a byte stream fed in order; says whether the stream stands between frames.
class FrameBoundaries {
 public:
  // Consumes up to `size` bytes, stopping at the end of a frame; returns the bytes consumed.
  size_t Consume(const uint8_t* data, size_t size) {
    size_t used = 0;
    while (used < size) {
      if (payload_left_ > 0) {
        const size_t take = size - used < payload_left_ ? size - used : static_cast<size_t>(payload_left_);
        payload_left_ -= take;
        used += take;
        if (payload_left_ == 0) return used;
        continue;
      }
      header_[header_size_++] = data[used++];
      if (header_size_ < 2 || header_size_ < HeaderLength(header_[1])) continue;
      payload_left_ = PayloadLength(header_);
      if ((header_[0] & 0x0f) == kWsClose) closing_ = true;
      header_size_ = 0;
      if (payload_left_ == 0) return used;
    }
    return used;
  }

  bool between_frames() const { return header_size_ == 0 && payload_left_ == 0; }
  // The stream carried a close frame: nothing may follow it (RFC 6455 5.5.1).
  bool closing() const { return closing_; }

 private:
  uint8_t header_[14] = {};
  size_t header_size_ = 0;
  uint64_t payload_left_ = 0;
  bool closing_ = false;
};

// Filters the server's byte stream: the HTTP response head passes, and after a 101 response every
// frame passes except pongs whose payload starts with `tag`: those are handed to `on_probe` (payload
// without the tag) and removed. Frames before the response end are not looked at.
class ServerStreamFilter {
 public:
  explicit ServerStreamFilter(char tag) : tag_(tag) {}

  // Appends to `out` what passes of `data`; calls on_probe(std::string) for each probe pong taken out.
  template <typename OnProbe>
  void Feed(const uint8_t* data, size_t size, std::vector<uint8_t>* out, OnProbe&& on_probe) {
    size_t i = 0;
    while (i < size) {
      if (state_ == State::kHead) {
        const uint8_t b = data[i++];
        out->push_back(b);
        if (status_.size() < 12) status_.push_back(static_cast<char>(b));
        head_match_ = (b == kHeadEnd[head_match_]) ? head_match_ + 1 : (b == '\r' ? 1 : 0);
        if (head_match_ == 4) HeadEnd();
        continue;
      }
      if (state_ == State::kRaw) {
        out->insert(out->end(), data + i, data + size);
        return;
      }
      if (payload_left_ > 0) {
        const size_t take = size - i < payload_left_ ? size - i : static_cast<size_t>(payload_left_);
        if (holding_) {
          held_.insert(held_.end(), data + i, data + i + take);
        } else {
          out->insert(out->end(), data + i, data + i + take);
        }
        i += take;
        payload_left_ -= take;
        if (payload_left_ == 0 && holding_) Release(out, on_probe);
        continue;
      }
      header_[header_size_++] = data[i++];
      if (header_size_ < 2 || header_size_ < HeaderLength(header_[1])) continue;
      payload_left_ = PayloadLength(header_);
      // A pong of a probe is short and unmasked: held until whole, then taken out or passed on.
      holding_ =
          (header_[0] & 0x0f) == kWsPong && (header_[1] & 0x80) == 0 && payload_left_ > 0 && payload_left_ <= 125;
      if (holding_) {
        held_.assign(header_, header_ + header_size_);
      } else {
        out->insert(out->end(), header_, header_ + header_size_);
      }
      header_size_ = 0;
      if (payload_left_ == 0 && holding_) Release(out, on_probe);
    }
  }

 private:
  enum class State { kHead, kFrames, kRaw };
  static constexpr char kHeadEnd[] = "\r\n\r\n";

  // A response head ended: frames follow a 101; an interim response (100, 103, ...) is followed by
  // another head, as Node's HTTP client reads it; anything else is passed on as it is.
  void HeadEnd() {
    const bool informational = status_.size() == 12 && status_.rfind("HTTP/1.1 1", 0) == 0;
    if (informational && status_.compare(10, 2, "01") == 0) {
      state_ = State::kFrames;
    } else if (informational) {
      status_.clear();
      head_match_ = 0;
    } else {
      state_ = State::kRaw;
    }
  }

  template <typename OnProbe>
  void Release(std::vector<uint8_t>* out, OnProbe&& on_probe) {
    holding_ = false;
    const size_t header = HeaderLength(held_[1]);
    // A probe's pong is the tag and 1-19 digits; any other pong passes to ws.
    const size_t digits = held_.size() - header - 1;
    bool probe = held_.size() > header + 1 && held_[header] == static_cast<uint8_t>(tag_) && digits <= 19;
    for (size_t i = header + 1; probe && i < held_.size(); ++i) probe = held_[i] >= '0' && held_[i] <= '9';
    if (probe) {
      on_probe(std::string(held_.begin() + static_cast<std::ptrdiff_t>(header) + 1, held_.end()));
    } else {
      out->insert(out->end(), held_.begin(), held_.end());
    }
    held_.clear();
  }

  const char tag_;
  State state_ = State::kHead;
  std::string status_;
  int head_match_ = 0;
  uint8_t header_[14] = {};
  size_t header_size_ = 0;
  uint64_t payload_left_ = 0;
  bool holding_ = false;
  std::vector<uint8_t> held_;
};

}  // namespace speakerd
