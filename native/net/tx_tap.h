// A ring port's microphone side handed to a native consumer (the native uplink) instead of JS.
//
// A consumer polls a dup of the port's own eventfd, which the audio thread writes for each batch once
// the consumer has made the port direct (RingPort::SetTxDirect). Where the port has no eventfd, the
// engine's control thread routes the port's kTxReady events here instead (it writes the consumer's
// eventfd rather than posting to JS). The consumer reads the ring only under
// `mutex`; the engine clears `ring` under the same mutex before the port is removed or the engine
// closes, so a consumer never touches a port that is gone. No part of this runs on the audio thread.
#pragma once

#include <sys/eventfd.h>
#include <unistd.h>

#include <cstdint>
#include <mutex>

#include "../ports/ring_port.h"

namespace speakerd {

struct TxTap {
  std::mutex mutex;
  RingPort* ring = nullptr;  // null once the port is gone
  uint32_t port_id = 0;
  int rate = 0;  // samples per second of the TX side
  // Set while a consumer is attached: where kTxReady wakes it, and the last event: the tick's time
  // and the ring's write position then, which date every sample (the sample at position p was
  // captured (write_position - p) samples before event_time_us).
  int wake_fd = -1;
  uint64_t event_seq = 0;
  int64_t event_time_us = 0;
  int64_t event_write_position = 0;

  // Control thread: takes a kTxReady event; false when no consumer is attached (JS gets it).
  bool Route(int64_t time_us, int64_t write_position) {
    std::lock_guard<std::mutex> lock(mutex);
    if (wake_fd < 0) return false;
    ++event_seq;
    event_time_us = time_us;
    event_write_position = write_position;
    const uint64_t one = 1;
    if (write(wake_fd, &one, sizeof one) < 0) {
      // The counter is full only if the consumer stopped reading it; the event is still recorded.
    }
    return true;
  }
};

}  // namespace speakerd
