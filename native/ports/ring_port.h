// The bridge's door to JavaScript-fed media (used by the AI port).
//
// TX ring: what the bridge transmits to this port (the echo-cancelled microphone) is handed to JS in
// batches; a kTxReady event says a batch is waiting. RX ring: audio JS receives from the network is
// played out with a prebuffer threshold. Flush and drain are marks at absolute ring positions set by
// JS (the producer), so neither can race with audio written after them:
//   flush  - everything written before the mark is discarded on the next tick (barge-in);
//   drain  - everything written before the mark plays without waiting for the prebuffer, and the
//            frame that reaches it is padded with silence, so no tail of one reply joins the next.
// Marks are applied while the port has a listener (GetFrame() runs only then).
//
// A native consumer of the TX ring (the native uplink) is woken by the audio thread itself, through
// an eventfd the port owns (it lives as long as the port, so the audio thread never writes a closed
// fd): no kTxReady event, and no wakeup of the engine's control thread, per batch.
#pragma once

#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "../common/spsc_ring.h"
#include "port.h"

namespace speakerd {

struct RingSettings {
  size_t tx_capacity = 0;  // samples
  size_t rx_capacity = 0;  // samples
  size_t batch = 0;        // samples per kTxReady
  size_t prebuffer = 0;    // samples needed before playback starts
};

class RingPort final : public Port {
 public:
  // `rate`: the incoming audio played into the bridge; `tx_rate`: what the bridge sends to JS.
  RingPort(int rate, int tx_rate, const RingSettings& s)
      : Port(rate, tx_rate),
        tx_(s.tx_capacity),
        rx_(s.rx_capacity),
        batch_(s.batch),
        prebuffer_(s.prebuffer),
        tx_wake_fd_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {}
  ~RingPort() override {
    if (tx_wake_fd_ >= 0) close(tx_wake_fd_);
  }
  RingPort(const RingPort&) = delete;
  RingPort& operator=(const RingPort&) = delete;

  // ---- audio thread ----
  void PutFrame(const int16_t* in) override {
    const size_t written = tx_.Write(in, put_frame());
    if (written < static_cast<size_t>(put_frame())) {
      counters().dropped.fetch_add(put_frame() - written, std::memory_order_relaxed);
    }
    counters().tx_frames.fetch_add(1, std::memory_order_relaxed);
    if (tx_.size() >= batch_ && !tx_notified_.exchange(true, std::memory_order_acq_rel)) {
      if (tx_direct_.load(std::memory_order_acquire)) {
        WakeConsumer();
      } else {
        // a: samples waiting; b: the write position then.
        Post(EventType::kTxReady, static_cast<int64_t>(tx_.size()), static_cast<int64_t>(tx_.write_position()));
      }
    }
  }

  bool GetFrame(int16_t* out) override {
    ApplyFlush();
    const uint64_t read = rx_.read_position();
    const uint64_t avail = rx_.write_position() - read;
    const uint64_t drain_request = drain_requests_.load(std::memory_order_acquire);
    const uint64_t drain = drain_mark_.load(std::memory_order_acquire);
    const bool drain_pending = drain_request != drain_seen_;
    const bool draining = drain_pending && drain > read;
    if (!playing_) {
      if (drain_pending && drain <= read) ReportDrained(drain_request);  // nothing left before the mark
      if (avail == 0 || (!draining && avail < prebuffer_.load(std::memory_order_relaxed))) return false;
      playing_ = true;
      playing_state_.store(true, std::memory_order_relaxed);
    }
    uint64_t limit = static_cast<uint64_t>(frame());
    if (draining && drain - read < limit) limit = drain - read;
    const size_t n = rx_.Read(out, static_cast<size_t>(limit));
    for (int i = static_cast<int>(n); i < frame(); ++i) out[i] = 0;
    played_.fetch_add(n, std::memory_order_relaxed);
    counters().rx_frames.fetch_add(1, std::memory_order_relaxed);
    if (draining && rx_.read_position() == drain) {
      StopPlaying();
      ReportDrained(drain_request);
    } else if (n < static_cast<size_t>(frame())) {
      StopPlaying();
      const uint64_t count = counters().underruns.fetch_add(1, std::memory_order_relaxed) + 1;
      Post(EventType::kUnderrun, static_cast<int64_t>(count));
    }
    return n > 0;
  }

  bool CanTransmitToBridge() const override { return true; }
  bool CanReceiveFromBridge() const override { return true; }

  // ---- JS thread ----
  size_t ReadTx(int16_t* dst, size_t max) {
    const size_t n = tx_.Read(dst, max);
    tx_notified_.store(false, std::memory_order_release);
    return n;
  }
  // Hands exactly `n` waiting samples to `fn` (in at most two spans, straight from the ring) and
  // consumes them; false, reading nothing, when fewer are waiting.
  template <typename Fn>
  bool ReadTxSpans(size_t n, Fn&& fn) {
    const bool read = tx_.ReadSpans(n, fn);
    tx_notified_.store(false, std::memory_order_release);
    return read;
  }
  // A consumer that stops reading (the native uplink handing the ring back to JS) re-arms kTxReady, so
  // that the next consumer hears of audio already waiting.
  void RearmTx() { tx_notified_.store(false, std::memory_order_release); }

  // ---- a native consumer (under its TxTap's mutex, while the port exists) ----
  // The fd the audio thread writes when a batch is waiting and the consumer is direct (-1: the
  // eventfd could not be made; the consumer is then woken through kTxReady). Dup it to poll it.
  int tx_wake_fd() const { return tx_wake_fd_; }
  // Whether the audio thread wakes the consumer itself (true) or posts kTxReady (false).
  bool SetTxDirect(bool direct) {
    direct = direct && tx_wake_fd_ >= 0;
    tx_direct_.store(direct, std::memory_order_release);
    return direct;
  }
  // The last direct wakeup: the tick's time (CLOCK_MONOTONIC, us) and the ring's write position then,
  // which date every sample; false before the first one (or while the audio thread, preempted, is
  // half-way through writing it).
  bool TxWakeDate(int64_t* time_us, int64_t* write_position) const {
    for (int tries = 0; tries < 1000; ++tries) {
      const uint64_t before = wake_seq_.load(std::memory_order_acquire);
      if (before == 0) return false;
      if (before & 1) continue;
      const int64_t time = wake_time_us_.load(std::memory_order_relaxed);
      const int64_t position = wake_position_.load(std::memory_order_relaxed);
      std::atomic_thread_fence(std::memory_order_acquire);
      if (wake_seq_.load(std::memory_order_relaxed) != before) continue;
      *time_us = time;
      *write_position = position;
      return true;
    }
    return false;
  }
  size_t WriteRx(const int16_t* src, size_t n) { return rx_.Write(src, n); }
  // Between replies: the playout ring's pages go back to the kernel when nothing is buffered, so a ring
  // sized for the longest reply holds memory only while a reply plays. Returns the bytes released.
  size_t TrimRx() { return rx_.ReleasePages(); }
  // Each call is answered by one kFlushed / kDrained event, even when there was nothing to discard or
  // to play. Calls that pile up within one tick are answered together, and a drain whose mark a later
  // flush passed is cancelled (its reply was discarded): only the flush is answered.
  void Flush() {
    flush_mark_.store(rx_.write_position(), std::memory_order_release);
    flush_requests_.fetch_add(1, std::memory_order_acq_rel);
  }
  void Drain() {
    drain_mark_.store(rx_.write_position(), std::memory_order_release);
    drain_requests_.fetch_add(1, std::memory_order_acq_rel);
  }
  void SetPrebuffer(size_t samples) { prebuffer_.store(samples, std::memory_order_relaxed); }

  size_t tx_buffered() const { return tx_.size(); }
  uint64_t tx_read_position() const { return tx_.read_position(); }
  uint64_t tx_write_position() const { return tx_.write_position(); }
  size_t rx_buffered() const { return rx_.size(); }
  size_t rx_capacity() const { return rx_.capacity(); }
  uint64_t rx_read_position() const { return rx_.read_position(); }
  uint64_t rx_write_position() const { return rx_.write_position(); }
  uint64_t played() const { return played_.load(std::memory_order_relaxed); }
  bool playing() const { return playing_state_.load(std::memory_order_relaxed); }

 private:
  void ApplyFlush() {
    const uint64_t request = flush_requests_.load(std::memory_order_acquire);
    if (request == flush_seen_) return;
    flush_seen_ = request;
    const uint64_t mark = flush_mark_.load(std::memory_order_acquire);
    rx_.SkipTo(mark);
    // A drain marked before the flush point belongs to the discarded reply: it is cancelled.
    if (drain_mark_.load(std::memory_order_acquire) <= mark)
      drain_seen_ = drain_requests_.load(std::memory_order_acquire);
    StopPlaying();
    Post(EventType::kFlushed, static_cast<int64_t>(played_.load(std::memory_order_relaxed)));
  }

  // Audio thread: dates the batch (a sequence lock: the consumer reads time and position as a pair)
  // and wakes the consumer. A write to an eventfd nobody reads only adds to its counter.
  void WakeConsumer() {
    timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    const uint64_t seq = wake_seq_.load(std::memory_order_relaxed);
    wake_seq_.store(seq + 1, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_release);
    wake_time_us_.store(static_cast<int64_t>(now.tv_sec) * 1000000 + now.tv_nsec / 1000, std::memory_order_relaxed);
    wake_position_.store(static_cast<int64_t>(tx_.write_position()), std::memory_order_relaxed);
    wake_seq_.store(seq + 2, std::memory_order_release);
    const uint64_t one = 1;
    if (write(tx_wake_fd_, &one, sizeof one) < 0) {
      // Full only if the consumer stopped reading it: it is awake already.
    }
  }

  void StopPlaying() {
    playing_ = false;
    playing_state_.store(false, std::memory_order_relaxed);
  }

  void ReportDrained(uint64_t request) {
    drain_seen_ = request;
    Post(EventType::kDrained, static_cast<int64_t>(played_.load(std::memory_order_relaxed)));
  }

  SpscRing<int16_t> tx_;
  SpscRing<int16_t> rx_;
  const size_t batch_;
  std::atomic<size_t> prebuffer_;
  std::atomic<bool> tx_notified_{false};
  const int tx_wake_fd_;
  std::atomic<bool> tx_direct_{false};
  std::atomic<uint64_t> wake_seq_{0};  // odd while the audio thread writes the date below
  std::atomic<int64_t> wake_time_us_{0};
  std::atomic<int64_t> wake_position_{0};
  std::atomic<uint64_t> flush_mark_{0};
  std::atomic<uint64_t> flush_requests_{0};
  std::atomic<uint64_t> drain_mark_{0};
  std::atomic<uint64_t> drain_requests_{0};
  std::atomic<uint64_t> played_{0};
  std::atomic<bool> playing_state_{false};
  bool playing_ = false;     // audio thread only
  uint64_t flush_seen_ = 0;  // audio thread only: flush requests already applied
  uint64_t drain_seen_ = 0;  // audio thread only: drain requests already reported
};

}  // namespace speakerd
