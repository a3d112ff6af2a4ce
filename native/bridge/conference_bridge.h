// Conference bridge in pjmedia's model: passive ports in slots, clocked by the sound card.
//
// Every tick each source port with listeners is read once, converted to the bridge rate at its edge,
// scaled by its rx level and added (32-bit) into the mix of every listener with the connection's level.
// Each sink then gets its mix with smoothed overflow attenuation, clipping and its tx level, converted
// back to its own rate. Structural changes (add, remove, connect, disconnect) come from JS through a
// lock-free queue and are applied at the start of the next tick; removed ports go back to JS through
// another queue to be freed there. Nothing on the tick locks, allocates, logs or calls JS.
#pragma once

#include <atomic>
#include <cstdint>

#include "../common/audio_types.h"
#include "../common/spsc_ring.h"
#include "../ports/port.h"

namespace speakerd {

struct BridgeOp {
  enum class Type : uint8_t { kAdd, kRemove, kConnect, kDisconnect } type;
  int slot;
  int sink;
  float level;
  Port* port;
};

// Per-slot levels and meters, shared between JS (levels) and the audio thread (meters).
struct SlotLevels {
  std::atomic<float> rx_level{1.0f};
  std::atomic<float> tx_level{1.0f};
  std::atomic<uint8_t> rx_meter{0};
  std::atomic<uint8_t> tx_meter{0};
};

class ConferenceBridge {
 public:
  ConferenceBridge(int rate, size_t op_capacity);
  ConferenceBridge(const ConferenceBridge&) = delete;
  ConferenceBridge& operator=(const ConferenceBridge&) = delete;

  int rate() const { return rate_; }
  int frame() const { return frame_; }

  // ---- JS thread ----
  bool Enqueue(const BridgeOp& op) { return ops_.Push(op); }
  SlotLevels& levels(int slot) { return levels_[slot]; }
  // Ports removed by the audio thread, to be deleted off the audio clock (by the control thread).
  bool PopGarbage(Port** port) { return garbage_.Pop(port); }

  // ---- audio thread ----
  void Tick();
  // Applies queued operations; Tick() calls it first. Also used when the engine shuts down.
  void ApplyOps();
  // Ports removed so far (each waits in the garbage ring): a change tells the engine to wake its
  // control thread, which frees them.
  uint64_t removed() const { return removed_; }

 private:
  struct Slot {
    Port* port = nullptr;
    int listeners[kMaxSlots];
    float listener_levels[kMaxSlots];
    int listener_count = 0;
    int transmitter_count = 0;
    bool source_silent = true;  // last GetFrame() returned nothing
    bool mixed = false;         // received a frame in this tick's mix
    float gain = 1.0f;          // overflow attenuation, smoothed
    int32_t mix[kMaxFrame];
  };

  void Add(int slot, Port* port);
  void Remove(int slot);
  void Connect(int source, int sink, float level);
  void Disconnect(int source, int sink);
  void PullSource(int slot);
  void PushSink(int slot);

  const int rate_;
  const int frame_;
  SpscRing<BridgeOp> ops_;
  SpscRing<Port*> garbage_;
  uint64_t removed_ = 0;
  SlotLevels levels_[kMaxSlots];
  Slot slots_[kMaxSlots];
  int16_t port_buffer_[kMaxFrame];
  int16_t bridge_buffer_[kMaxFrame];
};

}  // namespace speakerd
