// The audio engine: one real-time thread that reads a capture period, runs the device edge
// (downmix, resample, echo cancellation), ticks the conference bridge once and writes the mixed
// playback period. A control thread does everything that may block or allocate: opening and
// reopening the sound device with backoff, freeing removed ports and delivering events to JS.
#pragma once

#include <semaphore.h>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "../bridge/conference_bridge.h"
#include "../common/spsc_ring.h"
#include "../device/alsa_duplex.h"
#include "../dsp/delay_estimator.h"
#include "../dsp/echo_canceller.h"
#include "../dsp/echo_engine.h"
#include "../dsp/echo_post_filter.h"
#include "../dsp/playback_shaper.h"
#include "../dsp/resampler.h"
#include "../net/tx_tap.h"
#include "../ports/port.h"

namespace speakerd {

struct EngineOptions {
  bool use_alsa = false;      // false: the null device, a silent microphone and a discarding speaker
  bool manual_clock = false;  // true: no audio thread; JS advances time with Step() (tests)
  int bridge_rate = 16000;
  AlsaSettings alsa;  // alsa.rate is the device rate (also used by the null device)
  int capture_quality = 5;
  int playback_quality = 5;
  bool aec = true;
  EchoEngineKind aec_engine = EchoEngineKind::kSpeex;
  EchoSuppression aec_suppression = EchoSuppression::kLow;  // webrtc engine only
  int aec_near_talk_max_cut_db = kNearTalkNotEased;         // webrtc AEC2 only (EchoSettings)
  int aec_tail_ms = 250;
  int aec_delay_ms = -1;       // playback-to-capture delay; -1: estimated (snd_pcm_delay until then)
  int aec_max_delay_ms = 500;  // longest echo path delay the estimator searches
  int aec_margin_ms = 20;      // the reference leads the echo by this much
  bool denoise = true;
  EchoPostSettings post;          // after the canceller: double-talk detector, suppression, AGC
  PlaybackShaperSettings shaper;  // before the reference tap: ducking, output ceiling
  bool realtime = true;           // ask for SCHED_FIFO (silently stays normal when not permitted)
  int realtime_priority = 50;
  int retry_min_ms = 500;  // device reopen backoff
  int retry_max_ms = 10000;
};

enum class DeviceState : int { kNull = 0, kOpen = 1, kRetrying = 2, kClosed = 3 };

// Where the echo path delay the reference is aligned with comes from.
enum class DelaySource : int { kNone = 0, kConfig = 1, kDevice = 2, kEstimate = 3 };

// Engine-wide counters, written by the audio thread.
// (Ticks are counted in EngineClock::frames, which a watcher may read after the engine is gone.)
struct EngineCounters {
  std::atomic<uint64_t> xruns{0};
  std::atomic<uint64_t> device_errors{0};
  std::atomic<uint64_t> events_dropped{0};
  std::atomic<uint64_t> tick_ns_max{0};
  std::atomic<uint64_t> tick_ns_total{0};
  std::atomic<int> aec_delay_samples{-1};          // measured with snd_pcm_delay (and the resamplers)
  std::atomic<int> aec_applied_delay_samples{-1};  // what the reference is aligned with (before the margin)
  std::atomic<int> aec_delay_source{0};            // DelaySource
  std::atomic<int> device_state{0};
  std::atomic<int> device_rate{0};           // the open device's rate (0: none open)
  std::atomic<int> device_period_frames{0};  // its capture period as granted, frames at device_rate (0: none open)
  std::atomic<bool> realtime{false};
};

// The audio clock as a watcher sees it: frames counted by the audio thread and the time the engine
// was stopped. Shared (std::shared_ptr) so that a watcher on another thread (the systemd watchdog
// pinger) can keep reading it after the engine is closed and freed, without a use-after-free.
struct EngineClock {
  std::atomic<uint64_t> frames{0};
  std::atomic<int64_t> stopped_ns{0};  // CLOCK_MONOTONIC of Stop(); 0 while the engine is open
};

// What the control thread tells JS.
struct EngineNotice {
  Event event;
  std::string code;  // for device failures: "ERR_DEVICE_OPEN", "ERR_DEVICE_LOST"
  std::string message;
};

class Engine : private EventSink {
 public:
  using NoticeCallback = std::function<void(const EngineNotice&)>;

  // Throws std::runtime_error when the DSP cannot be set up.
  Engine(const EngineOptions& options, NoticeCallback notify);
  ~Engine() override;
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  void Start();
  void Stop();
  // Manual clock only: runs `ticks` ticks on the calling thread.
  void Step(int ticks);
  // Stops the audio clock for `ms` as a hung audio thread would (tests of the watchdog).
  void StallForTest(int ms);

  ConferenceBridge& bridge() { return bridge_; }
  const EngineOptions& options() const { return options_; }
  const EngineCounters& counters() const { return counters_; }
  // The frame counter and open/stopped state, shareable with threads that may outlive the engine.
  std::shared_ptr<const EngineClock> clock() const { return clock_; }
  const EchoStats* echo_stats() const { return echo_ ? &echo_->stats() : nullptr; }
  const char* echo_engine_name() const { return echo_ ? echo_->name() : ""; }
  // The echo engine's easing for the user as status names it (UserEaseName); "off" without one.
  const char* echo_user_ease() const { return echo_ ? UserEaseName(options_.aec_near_talk_max_cut_db, *echo_) : "off"; }
  const DelayEstimate* delay_estimate() const { return delay_estimator_ ? &delay_estimator_->estimate() : nullptr; }
  const EchoPostFilter* post_filter() const { return post_.get(); }
  const PlaybackShaper& playback_shaper() const { return shaper_; }
  PortCounters& device_counters();
  // Where ports report their events.
  EventSink* event_sink() { return this; }
  // Wakes the control thread (after JS queued work for it).
  void Wake() { sem_post(&wake_); }
  // Routes the kTxReady events of ring port `port_id` to `tap` while it has a consumer (null: none).
  void SetTxTap(uint32_t port_id, std::shared_ptr<TxTap> tap);

 private:
  class DevicePort;

  void Post(const Event& event) override;
  void AudioLoop();
  void ControlLoop();
  void ControlDevice(uint64_t now_ms);
  void Tick();
  void TakePendingDevice();
  void LoseDevice(int err);
  void WaitNullClock();
  void ProcessCapture();
  // The reference for this capture frame: the playback history aligned with the echo path.
  const int16_t* AlignedReference(const int16_t* mic);
  // The echo path delay in bridge samples (before the margin) and where it comes from.
  int EchoPathDelay(DelaySource* source) const;
  void ReadHistory(int delay, int16_t* out) const;
  void ProcessPlayback();
  // Control thread: hands a kTxReady event to its port's native consumer; false when it has none.
  bool RouteTx(const Event& event);

  const EngineOptions options_;
  NoticeCallback notify_;
  ConferenceBridge bridge_;
  DevicePort* device_port_;
  std::unique_ptr<EchoEngine> echo_;
  std::unique_ptr<DelayEstimator> delay_estimator_;
  std::unique_ptr<EchoPostFilter> post_;
  PlaybackShaper shaper_;
  std::unique_ptr<Resampler> capture_resampler_;
  std::unique_ptr<Resampler> playback_resampler_;
  SpscRing<Event> events_;
  sem_t wake_;
  EngineCounters counters_;
  const std::shared_ptr<EngineClock> clock_ = std::make_shared<EngineClock>();

  // Device hand-off: the control thread opens into pending_, the audio thread takes it into active_;
  // a failed device goes back through failed_ with its error to be closed off the audio clock.
  std::atomic<AlsaDuplex*> pending_{nullptr};
  AlsaDuplex* active_ = nullptr;
  std::atomic<AlsaDuplex*> failed_{nullptr};
  std::atomic<int> failed_error_{0};
  int measure_countdown_ = 0;

  // Buffers, all sized up front.
  std::unique_ptr<int16_t[]> capture_interleaved_;
  std::unique_ptr<int16_t[]> playback_interleaved_;
  std::unique_ptr<int16_t[]> device_mono_;
  std::unique_ptr<int16_t[]> mic_raw_;  // microphone at the bridge rate, before echo cancellation
  std::unique_ptr<int16_t[]> mic_;      // after echo cancellation: what slot 0 transmits
  std::unique_ptr<int16_t[]> reference_;
  std::unique_ptr<int16_t[]> history_;  // what was written to playback, at the bridge rate
  size_t history_size_ = 0;
  uint64_t history_written_ = 0;
  uint64_t removed_seen_ = 0;  // the bridge's removed() when the control thread was last woken for it
  int device_frame_ = 0;       // samples per period of the device in use (audio thread)
  bool resampling_ = false;    // the device runs at another rate than the bridge (audio thread)

  std::mutex taps_mutex_;  // JS and control threads
  std::shared_ptr<TxTap> taps_[kMaxSlots];

  std::atomic<bool> running_{false};
  bool stopped_ = false;  // JS thread only: Stop() ran (also for an engine never started)
  std::atomic<int64_t> stall_until_ns_{0};
  std::thread audio_thread_;
  std::thread control_thread_;
  int64_t null_clock_next_ns_ = 0;
};

}  // namespace speakerd
