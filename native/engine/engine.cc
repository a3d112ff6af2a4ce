#include "engine.h"

#include <pthread.h>
#include <sched.h>
#include <time.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace speakerd {

namespace {

int64_t MonotonicNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000LL + ts.tv_nsec;
}

// Reference history kept for echo alignment: two seconds at the bridge rate.
constexpr int kHistorySeconds = 2;
// Ticks after a device opens before its queues are measured (they settle after the first writes).
constexpr int kMeasureAfterTicks = 20;
// The control thread's wait: between reopen attempts of a lost device, and otherwise (a backstop).
constexpr long kRetryPollMs = 100;
constexpr long kIdleWaitMs = 1000;

}  // namespace

// Slot 0: the sound device. Its rx is the echo-cancelled microphone, its tx the speaker.
class Engine::DevicePort final : public Port {
 public:
  DevicePort(int rate, int16_t* mic) : Port(rate), mic_(mic), speaker_(new int16_t[rate / kTicksPerSecond]()) {}
  bool GetFrame(int16_t* out) override {
    std::memcpy(out, mic_, sizeof(int16_t) * frame());
    counters().rx_frames.fetch_add(1, std::memory_order_relaxed);
    return true;
  }
  void PutFrame(const int16_t* in) override {
    std::memcpy(speaker_.get(), in, sizeof(int16_t) * frame());
    counters().tx_frames.fetch_add(1, std::memory_order_relaxed);
  }
  bool CanTransmitToBridge() const override { return true; }
  bool CanReceiveFromBridge() const override { return true; }
  void ClearSpeaker() { std::memset(speaker_.get(), 0, sizeof(int16_t) * frame()); }
  int16_t* speaker() { return speaker_.get(); }

 private:
  const int16_t* mic_;
  std::unique_ptr<int16_t[]> speaker_;
};

Engine::Engine(const EngineOptions& options, NoticeCallback notify)
    : options_(options),
      notify_(std::move(notify)),
      bridge_(options.bridge_rate, 1024),
      shaper_(options.shaper),
      events_(4096) {
  const int bridge_frame = options.bridge_rate / kTicksPerSecond;
  device_frame_ = static_cast<int>(options.alsa.rate) / kTicksPerSecond;
  resampling_ = options.bridge_rate != static_cast<int>(options.alsa.rate);
  // A device may open at the configured rate or (alsa.preferred_rate) at the bridge rate: room for both.
  const size_t max_frame = static_cast<size_t>(device_frame_ > bridge_frame ? device_frame_ : bridge_frame);
  capture_interleaved_.reset(new int16_t[max_frame * options.alsa.capture_channels]());
  playback_interleaved_.reset(new int16_t[max_frame * options.alsa.playback_channels]());
  device_mono_.reset(new int16_t[max_frame]());
  mic_.reset(new int16_t[bridge_frame]());
  mic_raw_.reset(new int16_t[bridge_frame]());
  reference_.reset(new int16_t[bridge_frame]());
  history_size_ = NextPowerOfTwo(static_cast<size_t>(options.bridge_rate) * kHistorySeconds);
  history_.reset(new int16_t[history_size_]());
  if (options.bridge_rate != static_cast<int>(options.alsa.rate)) {
    capture_resampler_ = std::make_unique<Resampler>(options.alsa.rate, options.bridge_rate, options.capture_quality);
    playback_resampler_ = std::make_unique<Resampler>(options.bridge_rate, options.alsa.rate, options.playback_quality);
  }
  if (options.aec) {
    EchoSettings echo;
    echo.rate = options.bridge_rate;
    echo.frame = bridge_frame;
    echo.tail_ms = options.aec_tail_ms;
    echo.denoise = options.denoise;
    echo.suppression = options.aec_suppression;
    echo.reference_lead_ms = options.aec_margin_ms;
    echo.near_talk_max_cut_db = options.aec_near_talk_max_cut_db;
    echo_ = CreateEchoEngine(options.aec_engine, echo);
    DelayEstimatorSettings estimator;
    estimator.rate = options.bridge_rate;
    estimator.frame = bridge_frame;
    estimator.max_delay_ms = options.aec_max_delay_ms;
    // A bridge rate that is not a multiple of 400 Hz (no whole 2.5 ms blocks) runs without the estimator.
    if (options.bridge_rate % 400 == 0) delay_estimator_ = std::make_unique<DelayEstimator>(estimator);
    post_ = std::make_unique<EchoPostFilter>(options.post);
  }
  if (sem_init(&wake_, 0, 0) != 0) throw std::runtime_error("cannot create the engine's semaphore");
  device_port_ = new DevicePort(options.bridge_rate, mic_.get());
  device_port_->Attach(0, this);
  bridge_.Enqueue(BridgeOp{BridgeOp::Type::kAdd, 0, 0, 1.0f, device_port_});
  bridge_.ApplyOps();
  counters_.device_state.store(static_cast<int>(options.use_alsa ? DeviceState::kRetrying : DeviceState::kNull));
}

PortCounters& Engine::device_counters() { return device_port_->counters(); }

Engine::~Engine() {
  Stop();
  sem_destroy(&wake_);
}

void Engine::Start() {
  if (stopped_ || running_.exchange(true)) return;
  null_clock_next_ns_ = MonotonicNs();
  control_thread_ = std::thread([this] { ControlLoop(); });
  if (!options_.manual_clock) audio_thread_ = std::thread([this] { AudioLoop(); });
}

void Engine::Stop() {
  if (stopped_) return;
  stopped_ = true;
  running_.store(false);
  sem_post(&wake_);
  if (audio_thread_.joinable()) audio_thread_.join();
  if (control_thread_.joinable()) control_thread_.join();
  delete active_;
  delete pending_.exchange(nullptr);
  delete failed_.exchange(nullptr);
  active_ = nullptr;
  counters_.device_state.store(static_cast<int>(DeviceState::kClosed));
  clock_->stopped_ns.store(MonotonicNs(), std::memory_order_release);
  bridge_.ApplyOps();
  for (int slot = 0; slot < kMaxSlots; ++slot) {
    bridge_.Enqueue(BridgeOp{BridgeOp::Type::kRemove, slot, 0, 0.0f, nullptr});
    bridge_.ApplyOps();
    Port* port;
    while (bridge_.PopGarbage(&port)) delete port;
  }
}

void Engine::Post(const Event& event) {
  Event stamped = event;
  stamped.time_us = MonotonicNs() / 1000;
  if (!events_.Push(stamped)) counters_.events_dropped.fetch_add(1, std::memory_order_relaxed);
  sem_post(&wake_);
}

void Engine::SetTxTap(uint32_t port_id, std::shared_ptr<TxTap> tap) {
  std::lock_guard<std::mutex> lock(taps_mutex_);
  taps_[port_id & (kMaxSlots - 1)] = std::move(tap);
}

bool Engine::RouteTx(const Event& event) {
  std::shared_ptr<TxTap> tap;
  {
    std::lock_guard<std::mutex> lock(taps_mutex_);
    tap = taps_[event.port_id & (kMaxSlots - 1)];
  }
  return tap && tap->port_id == event.port_id && tap->Route(event.time_us, event.b);
}

void Engine::StallForTest(int ms) {
  stall_until_ns_.store(MonotonicNs() + static_cast<int64_t>(ms) * 1000000LL, std::memory_order_relaxed);
}

void Engine::Step(int ticks) {
  for (int i = 0; i < ticks && running_.load(std::memory_order_relaxed); ++i) {
    TakePendingDevice();
    if (active_ != nullptr) {
      uint64_t xruns = 0;
      const int err = active_->ReadTick(capture_interleaved_.get(), &xruns);
      counters_.xruns.fetch_add(xruns, std::memory_order_relaxed);
      if (err < 0) LoseDevice(err);
    }
    if (active_ == nullptr) {
      std::memset(capture_interleaved_.get(), 0,
                  sizeof(int16_t) * static_cast<size_t>(device_frame_) * options_.alsa.capture_channels);
    }
    Tick();
    if (active_ != nullptr) {
      uint64_t xruns = 0;
      const int err = active_->WriteTick(playback_interleaved_.get(), &xruns);
      counters_.xruns.fetch_add(xruns, std::memory_order_relaxed);
      if (err < 0) LoseDevice(err);
    }
  }
}

void Engine::AudioLoop() {
  pthread_setname_np(pthread_self(), "speakerd-audio");
  if (options_.realtime) {
    sched_param param{};
    param.sched_priority = options_.realtime_priority;
    counters_.realtime.store(pthread_setschedparam(pthread_self(), SCHED_FIFO, &param) == 0);
  }
  while (running_.load(std::memory_order_relaxed)) {
    if (MonotonicNs() < stall_until_ns_.load(std::memory_order_relaxed)) {
      // Deliberate stall (watchdog tests): the clock stops as a hung audio thread would.
      const timespec nap{0, 10000000L};
      nanosleep(&nap, nullptr);
      continue;
    }
    TakePendingDevice();
    if (active_ == nullptr) {
      WaitNullClock();
      if (!running_.load(std::memory_order_relaxed)) break;
    }
    Step(1);
  }
}

void Engine::WaitNullClock() {
  const int64_t period_ns = 1000000000LL / kTicksPerSecond;
  const int64_t now = MonotonicNs();
  // After a long stall (or leaving a real device) restart the schedule instead of racing to catch up.
  if (now - null_clock_next_ns_ > 5 * period_ns) null_clock_next_ns_ = now;
  null_clock_next_ns_ += period_ns;
  timespec ts;
  ts.tv_sec = static_cast<time_t>(null_clock_next_ns_ / 1000000000LL);
  ts.tv_nsec = static_cast<long>(null_clock_next_ns_ % 1000000000LL);
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR) {
  }
}

void Engine::TakePendingDevice() {
  if (active_ != nullptr) return;
  AlsaDuplex* device = pending_.exchange(nullptr, std::memory_order_acq_rel);
  if (device == nullptr) return;
  active_ = device;
  // The device may run at the bridge rate (nothing to resample) or at the configured one.
  device_frame_ = static_cast<int>(device->settings().tick_frames);
  resampling_ = static_cast<int>(device->settings().rate) != options_.bridge_rate;
  counters_.device_rate.store(static_cast<int>(device->settings().rate));
  counters_.device_period_frames.store(static_cast<int>(device->period_frames()));
  counters_.device_state.store(static_cast<int>(DeviceState::kOpen));
  measure_countdown_ = kMeasureAfterTicks;
  if (echo_) echo_->Reset();
  if (delay_estimator_) delay_estimator_->Reset();
  if (post_) post_->Reset();
  const int err = active_->Prefill();
  if (err < 0) LoseDevice(err);
}

void Engine::LoseDevice(int err) {
  failed_error_.store(err, std::memory_order_relaxed);
  failed_.store(active_, std::memory_order_release);
  active_ = nullptr;
  counters_.device_state.store(static_cast<int>(DeviceState::kRetrying));
  counters_.device_rate.store(0);
  counters_.device_period_frames.store(0);
  counters_.device_errors.fetch_add(1, std::memory_order_relaxed);
  null_clock_next_ns_ = MonotonicNs();
  sem_post(&wake_);
}

void Engine::Tick() {
  const int64_t start = MonotonicNs();
  ProcessCapture();
  device_port_->ClearSpeaker();
  bridge_.Tick();
  if (bridge_.removed() != removed_seen_) {
    // A port left the bridge: the control thread frees it (off the audio clock).
    removed_seen_ = bridge_.removed();
    sem_post(&wake_);
  }
  ProcessPlayback();
  if (active_ != nullptr && measure_countdown_ > 0 && --measure_countdown_ == 0) {
    const long frames = active_->MeasuredDelay();
    if (frames >= 0) {
      const long device_rate = static_cast<long>(active_->settings().rate);
      long samples = frames * options_.bridge_rate / device_rate;
      if (resampling_) {
        // Both resamplers delay the echo path too: capture's in bridge samples, playback's in device ones.
        samples += capture_resampler_->OutputLatency();
        samples += playback_resampler_->OutputLatency() * options_.bridge_rate / device_rate;
      }
      counters_.aec_delay_samples.store(static_cast<int>(samples), std::memory_order_relaxed);
    }
  }
  const uint64_t elapsed = static_cast<uint64_t>(MonotonicNs() - start);
  counters_.tick_ns_total.fetch_add(elapsed, std::memory_order_relaxed);
  if (elapsed > counters_.tick_ns_max.load(std::memory_order_relaxed)) {
    counters_.tick_ns_max.store(elapsed, std::memory_order_relaxed);
  }
  clock_->frames.fetch_add(1, std::memory_order_relaxed);
}

void Engine::ProcessCapture() {
  const int channels = static_cast<int>(options_.alsa.capture_channels);
  const int16_t* in = capture_interleaved_.get();
  for (int i = 0; i < device_frame_; ++i) {
    int32_t sum = 0;
    for (int c = 0; c < channels; ++c) sum += in[i * channels + c];
    device_mono_[i] = static_cast<int16_t>(sum / channels);
  }
  const int frame = bridge_.frame();
  int16_t* raw = mic_raw_.get();
  if (resampling_) {
    capture_resampler_->Process(device_mono_.get(), device_frame_, raw, frame);
  } else {
    std::memcpy(raw, device_mono_.get(), sizeof(int16_t) * frame);
  }
  if (!echo_) {
    std::memcpy(mic_.get(), raw, sizeof(int16_t) * frame);
    return;
  }
  const int16_t* reference = AlignedReference(raw);
  // The engine's own suppressor is eased only while the detector's raw decision shows the user, for as
  // many frames as make a decision: not through its hangover, where the echo would come through alone,
  // and only over the far end's voice, not in its dips or tail (DoubleTalkDetector::ease_run).
  echo_->SetNearTalk(NearPresent(post_->state()) && post_->ease_run() >= options_.post.detector.onset_frames);
  echo_->Process(raw, reference, mic_.get());
  post_->Process(raw, reference, mic_.get(), echo_->eased_power_ratio());
}

int Engine::EchoPathDelay(DelaySource* source) const {
  if (options_.aec_delay_ms >= 0) {
    *source = DelaySource::kConfig;
    return options_.aec_delay_ms * options_.bridge_rate / 1000;
  }
  if (delay_estimator_ && delay_estimator_->delay_samples() >= 0) {
    *source = DelaySource::kEstimate;
    // The estimator is fed the frame played one tick ago: its lag counts from there.
    return bridge_.frame() + delay_estimator_->delay_samples();
  }
  const int measured = counters_.aec_delay_samples.load(std::memory_order_relaxed);
  *source = measured >= 0 ? DelaySource::kDevice : DelaySource::kNone;
  return measured;
}

const int16_t* Engine::AlignedReference(const int16_t* mic) {
  const int frame = bridge_.frame();
  if (delay_estimator_) {
    ReadHistory(frame, reference_.get());
    delay_estimator_->Process(mic, reference_.get());
  }
  DelaySource source;
  int delay = EchoPathDelay(&source);
  counters_.aec_applied_delay_samples.store(delay, std::memory_order_relaxed);
  counters_.aec_delay_source.store(static_cast<int>(source), std::memory_order_relaxed);
  delay -= options_.aec_margin_ms * options_.bridge_rate / 1000;
  if (delay < frame) delay = frame;
  if (delay > static_cast<int>(history_size_) - frame) delay = static_cast<int>(history_size_) - frame;
  ReadHistory(delay, reference_.get());
  return reference_.get();
}

void Engine::ReadHistory(int delay, int16_t* out) const {
  const uint64_t mask = history_size_ - 1;
  const uint64_t begin = history_written_ - static_cast<uint64_t>(delay);
  const bool available = history_written_ >= static_cast<uint64_t>(delay);
  for (int i = 0; i < bridge_.frame(); ++i)
    out[i] = available ? history_[(begin + static_cast<uint64_t>(i)) & mask] : 0;
}

void Engine::ProcessPlayback() {
  const int frame = bridge_.frame();
  int16_t* speaker = device_port_->speaker();
  shaper_.Process(speaker, post_ && post_->NearOverFar(shaper_.ducker().engage_frames()),
                  post_ && NearPresent(post_->state()));
  const uint64_t mask = history_size_ - 1;
  for (int i = 0; i < frame; ++i) history_[(history_written_ + static_cast<uint64_t>(i)) & mask] = speaker[i];
  history_written_ += static_cast<uint64_t>(frame);
  const int16_t* mono = speaker;
  if (resampling_) {
    playback_resampler_->Process(speaker, frame, device_mono_.get(), device_frame_);
    mono = device_mono_.get();
  }
  const int channels = static_cast<int>(options_.alsa.playback_channels);
  int16_t* out = playback_interleaved_.get();
  for (int i = 0; i < device_frame_; ++i) {
    for (int c = 0; c < channels; ++c) out[i * channels + c] = mono[i];
  }
}

void Engine::ControlLoop() {
  pthread_setname_np(pthread_self(), "speakerd-ctl");
  uint64_t retry_at_ms = 0;
  int backoff_ms = options_.retry_min_ms;
  bool device_in_use = false;
  while (running_.load(std::memory_order_relaxed)) {
    timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    // Events, removed ports and device failures wake this thread at once; the timeout paces device
    // retries, and otherwise is only a backstop (the thread does not wake on a timer while all is well).
    const bool retrying = options_.use_alsa && !device_in_use;
    deadline.tv_nsec += (retrying ? kRetryPollMs : kIdleWaitMs) * 1000000L;
    while (deadline.tv_nsec >= 1000000000L) {
      deadline.tv_sec += 1;
      deadline.tv_nsec -= 1000000000L;
    }
    sem_timedwait(&wake_, &deadline);
    Event event;
    while (events_.Pop(&event)) {
      if (event.type == EventType::kTxReady && RouteTx(event)) continue;
      notify_(EngineNotice{event, "", ""});
    }
    Port* port;
    while (bridge_.PopGarbage(&port)) delete port;
    if (!options_.use_alsa) continue;
    const uint64_t now_ms = static_cast<uint64_t>(MonotonicNs() / 1000000LL);
    if (AlsaDuplex* failed = failed_.exchange(nullptr, std::memory_order_acq_rel)) {
      delete failed;
      device_in_use = false;
      retry_at_ms = now_ms + static_cast<uint64_t>(options_.retry_min_ms);
      backoff_ms = options_.retry_min_ms * 2;
      const int err = failed_error_.load(std::memory_order_relaxed);
      notify_(EngineNotice{Event{EventType::kDeviceLost, 0, err, 0, MonotonicNs() / 1000}, "ERR_DEVICE_LOST",
                           std::string("sound device lost: ") + snd_strerror(err)});
    }
    if (device_in_use || now_ms < retry_at_ms || !running_.load()) continue;
    auto device = std::make_unique<AlsaDuplex>();
    std::string message;
    // Threads a plugin starts while the device opens (the jack plugin's JACK client) inherit this
    // thread's name: give them their own, so that per-thread accounting tells them from this one.
    pthread_setname_np(pthread_self(), "speakerd-plugin");
    const int err = device->Open(options_.alsa, &message);
    pthread_setname_np(pthread_self(), "speakerd-ctl");
    if (err < 0) {
      retry_at_ms = now_ms + static_cast<uint64_t>(backoff_ms);
      notify_(EngineNotice{Event{EventType::kDeviceOpenFailed, 0, err, backoff_ms, MonotonicNs() / 1000},
                           "ERR_DEVICE_OPEN", message});
      backoff_ms = backoff_ms * 2 > options_.retry_max_ms ? options_.retry_max_ms : backoff_ms * 2;
      continue;
    }
    device_in_use = true;
    backoff_ms = options_.retry_min_ms;
    pending_.store(device.release(), std::memory_order_release);
    notify_(EngineNotice{Event{EventType::kDeviceOpen, 0, 0, 0, MonotonicNs() / 1000}, "", "sound device open"});
  }
}

}  // namespace speakerd
