#include "conference_bridge.h"

#include <cstring>

#include "../dsp/level_meter.h"

namespace speakerd {

namespace {

// Attenuation recovers towards unity by this fraction of the remaining distance per tick (~100 ms).
constexpr float kGainRelease = 0.1f;
// Within this distance of unity the gain snaps to exactly 1 (unity audio must pass bit-exact).
constexpr float kGainSnap = 1e-4f;

void ApplyLevel(int16_t* samples, int n, float level) {
  if (level == 1.0f) return;
  for (int i = 0; i < n; ++i) samples[i] = SaturateFloat(static_cast<float>(samples[i]) * level);
}

}  // namespace

ConferenceBridge::ConferenceBridge(int rate, size_t op_capacity)
    : rate_(rate), frame_(rate / kTicksPerSecond), ops_(op_capacity), garbage_(kMaxSlots * 2) {}

void ConferenceBridge::ApplyOps() {
  BridgeOp op;
  while (ops_.Pop(&op)) {
    if (op.slot < 0 || op.slot >= kMaxSlots) continue;
    switch (op.type) {
      case BridgeOp::Type::kAdd: Add(op.slot, op.port); break;
      case BridgeOp::Type::kRemove: Remove(op.slot); break;
      case BridgeOp::Type::kConnect: Connect(op.slot, op.sink, op.level); break;
      case BridgeOp::Type::kDisconnect: Disconnect(op.slot, op.sink); break;
    }
  }
}

void ConferenceBridge::Add(int slot, Port* port) {
  Slot& s = slots_[slot];
  if (s.port != nullptr) Remove(slot);
  s.port = port;
  s.listener_count = 0;
  s.transmitter_count = 0;
  s.source_silent = true;
  s.gain = 1.0f;
  levels_[slot].rx_meter.store(0, std::memory_order_relaxed);
  levels_[slot].tx_meter.store(0, std::memory_order_relaxed);
}

void ConferenceBridge::Remove(int slot) {
  Slot& s = slots_[slot];
  if (s.port == nullptr) return;
  for (int i = 0; i < kMaxSlots; ++i) {
    if (slots_[i].port != nullptr) Disconnect(i, slot);
  }
  while (s.listener_count > 0) Disconnect(slot, s.listeners[0]);
  // The garbage ring holds twice the slot count and the control thread, woken after the tick, empties
  // it; were it ever full the port would be leaked rather than freed on the audio thread.
  garbage_.Push(s.port);
  ++removed_;
  s.port = nullptr;
}

void ConferenceBridge::Connect(int source, int sink, float level) {
  if (sink < 0 || sink >= kMaxSlots) return;
  Slot& src = slots_[source];
  if (src.port == nullptr || slots_[sink].port == nullptr) return;
  for (int i = 0; i < src.listener_count; ++i) {
    if (src.listeners[i] == sink) {
      src.listener_levels[i] = level;
      return;
    }
  }
  src.listeners[src.listener_count] = sink;
  src.listener_levels[src.listener_count] = level;
  ++src.listener_count;
  ++slots_[sink].transmitter_count;
}

void ConferenceBridge::Disconnect(int source, int sink) {
  if (sink < 0 || sink >= kMaxSlots) return;
  Slot& src = slots_[source];
  for (int i = 0; i < src.listener_count; ++i) {
    if (src.listeners[i] != sink) continue;
    src.listeners[i] = src.listeners[src.listener_count - 1];
    src.listener_levels[i] = src.listener_levels[src.listener_count - 1];
    --src.listener_count;
    --slots_[sink].transmitter_count;
    return;
  }
}

void ConferenceBridge::Tick() {
  ApplyOps();
  for (int i = 0; i < kMaxSlots; ++i) {
    Slot& s = slots_[i];
    s.mixed = false;
    // Meters of a port that is no longer connected fall to silence instead of keeping their last value.
    if (s.listener_count == 0) levels_[i].rx_meter.store(0, std::memory_order_relaxed);
    if (s.transmitter_count == 0) levels_[i].tx_meter.store(0, std::memory_order_relaxed);
  }
  for (int i = 0; i < kMaxSlots; ++i) {
    if (slots_[i].port != nullptr && slots_[i].listener_count > 0) PullSource(i);
  }
  for (int i = 0; i < kMaxSlots; ++i) {
    if (slots_[i].port != nullptr && slots_[i].transmitter_count > 0) PushSink(i);
  }
}

void ConferenceBridge::PullSource(int slot) {
  Slot& s = slots_[slot];
  Port* port = s.port;
  if (!port->CanTransmitToBridge()) return;
  Resampler* resampler = port->to_bridge();
  if (!port->GetFrame(port_buffer_)) {
    const bool had_sound = !s.source_silent;
    s.source_silent = true;
    if (!had_sound || resampler == nullptr) {
      levels_[slot].rx_meter.store(0, std::memory_order_relaxed);
      return;
    }
    // The burst just ended: push its tail out of the resampler with one frame of silence, then clear
    // the filter so the next burst does not start with stale history.
    std::memset(port_buffer_, 0, sizeof(int16_t) * port->frame());
    resampler->Process(port_buffer_, port->frame(), bridge_buffer_, frame_);
    resampler->Reset();
  } else {
    s.source_silent = false;
    if (resampler != nullptr) resampler->Process(port_buffer_, port->frame(), bridge_buffer_, frame_);
  }
  // Ports at another rate always have a resampler, so without one the port frame is a bridge frame.
  int16_t* samples = resampler != nullptr ? bridge_buffer_ : port_buffer_;
  ApplyLevel(samples, frame_, levels_[slot].rx_level.load(std::memory_order_relaxed));
  levels_[slot].rx_meter.store(MeasureLevel(samples, frame_), std::memory_order_relaxed);
  for (int l = 0; l < s.listener_count; ++l) {
    Slot& sink = slots_[s.listeners[l]];
    const float level = s.listener_levels[l];
    if (!sink.mixed) {
      std::memset(sink.mix, 0, sizeof(int32_t) * frame_);
      sink.mixed = true;
    }
    if (level == 1.0f) {
      for (int i = 0; i < frame_; ++i) sink.mix[i] += samples[i];
    } else {
      for (int i = 0; i < frame_; ++i) sink.mix[i] += static_cast<int32_t>(samples[i] * level);
    }
  }
}

void ConferenceBridge::PushSink(int slot) {
  Slot& s = slots_[slot];
  Port* port = s.port;
  if (!port->CanReceiveFromBridge()) return;
  int16_t* out = bridge_buffer_;
  if (!s.mixed) {
    std::memset(out, 0, sizeof(int16_t) * frame_);
  } else {
    int32_t peak = 0;
    for (int i = 0; i < frame_; ++i) {
      const int32_t v = s.mix[i] < 0 ? -s.mix[i] : s.mix[i];
      if (v > peak) peak = v;
    }
    // -32768 alone is representable: only a larger magnitude is an overflow.
    const float target = peak > 32768 ? 32767.0f / static_cast<float>(peak) : 1.0f;
    float next = s.gain + (1.0f - s.gain) * kGainRelease;
    if (next > 1.0f - kGainSnap) next = 1.0f;  // float steps stall short of 1: land on unity exactly
    if (next > target) next = target;          // attack at once, release slowly
    if (next == 1.0f && s.gain == 1.0f) {
      for (int i = 0; i < frame_; ++i) out[i] = Saturate16(s.mix[i]);
    } else {
      // Ramp across the frame on release; step at once on attack so the frame cannot overflow.
      const float start = next < s.gain ? next : s.gain;
      const float step = (next - start) / static_cast<float>(frame_);
      for (int i = 0; i < frame_; ++i) {
        out[i] = SaturateFloat(static_cast<float>(s.mix[i]) * (start + step * static_cast<float>(i)));
      }
    }
    s.gain = next;
  }
  ApplyLevel(out, frame_, levels_[slot].tx_level.load(std::memory_order_relaxed));
  levels_[slot].tx_meter.store(MeasureLevel(out, frame_), std::memory_order_relaxed);
  if (port->from_bridge() != nullptr) {
    port->from_bridge()->Process(out, frame_, port_buffer_, port->put_frame());
    port->PutFrame(port_buffer_);
  } else {
    port->PutFrame(out);
  }
}

}  // namespace speakerd
