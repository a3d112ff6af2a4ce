// A media port: a passive element of the conference bridge (pjmedia's model).
//
// TX and RX are named from the bridge's point of view: GetFrame() is what the bridge receives from the
// port (rx: a microphone, a player), PutFrame() what the bridge transmits to it (tx: a speaker, a
// recorder, the AI service). Both run on the audio thread and must not lock, allocate, log or call JS.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include "../common/audio_types.h"
#include "../dsp/resampler.h"

namespace speakerd {

// Events a port raises on the audio thread; they reach JavaScript through the engine's event ring.
enum class EventType : uint16_t {
  kEof = 1,               // player reached the end of its file (a = times looped so far)
  kToneDone = 2,          // tone sequence finished
  kTxReady = 3,           // ring port holds at least one batch of outgoing audio (a: waiting, b: write position)
  kDrained = 4,           // ring port played everything up to the drain mark (a = samples played)
  kUnderrun = 5,          // ring port ran dry while playing (a = underrun count)
  kFlushed = 6,           // ring port flush applied (a = samples played when it was applied)
  kRecorderData = 7,      // recorder ring is filling up: drain it
  kDeviceOpen = 8,        // control thread: the sound device opened
  kDeviceOpenFailed = 9,  // control thread: opening failed (a = -errno, b = ms until the next try)
  kDeviceLost = 10,       // control thread: the device failed while running (a = -errno)
};

struct Event {
  EventType type;
  uint32_t port_id;
  int64_t a;
  int64_t b;
  int64_t time_us = 0;  // CLOCK_MONOTONIC when posted (the tick it happened on), set by the engine
};

class EventSink {
 public:
  virtual ~EventSink() = default;
  virtual void Post(const Event& event) = 0;
};

// Counters every port keeps; written on the audio thread, read from any thread.
struct PortCounters {
  std::atomic<uint64_t> rx_frames{0};
  std::atomic<uint64_t> tx_frames{0};
  std::atomic<uint64_t> underruns{0};
  std::atomic<uint64_t> dropped{0};
};

class Port {
 public:
  // `rate` is the rate of what the port transmits to the bridge (GetFrame), `put_rate` that of what it
  // receives (PutFrame); they differ for a service that listens at 16 kHz and speaks at 24 kHz.
  Port(int rate, int put_rate)
      : rate_(rate), frame_(rate / kTicksPerSecond), put_rate_(put_rate), put_frame_(put_rate / kTicksPerSecond) {}
  explicit Port(int rate) : Port(rate, rate) {}
  virtual ~Port() = default;
  Port(const Port&) = delete;
  Port& operator=(const Port&) = delete;

  // Fills frame() samples; returns false when the port has nothing to say this tick.
  virtual bool GetFrame(int16_t* out) {
    (void)out;
    return false;
  }
  // Receives put_frame() samples.
  virtual void PutFrame(const int16_t* in) { (void)in; }
  // Whether the port can be a source (rx) or a sink (tx) of the bridge.
  virtual bool CanTransmitToBridge() const = 0;
  virtual bool CanReceiveFromBridge() const = 0;

  // Called on the JS thread before the port joins a bridge at bridge_rate: builds edge resamplers.
  void PrepareForBridge(int bridge_rate, int quality) {
    if (CanTransmitToBridge() && rate_ != bridge_rate) {
      to_bridge_ = std::make_unique<Resampler>(rate_, bridge_rate, quality);
    }
    if (CanReceiveFromBridge() && put_rate_ != bridge_rate) {
      from_bridge_ = std::make_unique<Resampler>(bridge_rate, put_rate_, quality);
    }
  }

  int rate() const { return rate_; }
  int frame() const { return frame_; }
  int put_rate() const { return put_rate_; }
  int put_frame() const { return put_frame_; }
  uint32_t id() const { return id_; }
  void Attach(uint32_t id, EventSink* events) {
    id_ = id;
    events_ = events;
  }
  Resampler* to_bridge() const { return to_bridge_.get(); }
  Resampler* from_bridge() const { return from_bridge_.get(); }
  PortCounters& counters() { return counters_; }

 protected:
  void Post(EventType type, int64_t a = 0, int64_t b = 0) {
    if (events_ != nullptr) events_->Post(Event{type, id_, a, b});
  }

 private:
  const int rate_;
  const int frame_;
  const int put_rate_;
  const int put_frame_;
  uint32_t id_ = 0;
  EventSink* events_ = nullptr;
  std::unique_ptr<Resampler> to_bridge_;
  std::unique_ptr<Resampler> from_bridge_;
  PortCounters counters_;
};

}  // namespace speakerd
