#include "engine_wrap.h"

#include <cmath>
#include <stdexcept>
#include <vector>

#include "../common/base64.h"
#include "../ports/player_port.h"
#include "../ports/recorder_port.h"
#include "../ports/ring_port.h"
#include "../ports/tone_port.h"
#include "args.h"
#include "dsp_wrap.h"
#include "echo_options.h"

namespace speakerd {

namespace {

// Marks JS objects made by EngineWrap so that ClockOf() can tell them from any other wrapped object.
constexpr napi_type_tag kEngineTypeTag = {0x73706b64656e6731ULL, 0x9c1f4e2ab7d3508eULL};

constexpr int kSlotBits = 5;  // kMaxSlots == 32
constexpr double kMaxLevel = 10.0;
constexpr int kMaxRingSeconds = 600;

const char* EventName(EventType type) {
  switch (type) {
    case EventType::kEof: return "eof";
    case EventType::kToneDone: return "tone_done";
    case EventType::kTxReady: return "tx_ready";
    case EventType::kDrained: return "drained";
    case EventType::kUnderrun: return "underrun";
    case EventType::kFlushed: return "flushed";
    case EventType::kRecorderData: return "recorder_data";
    case EventType::kDeviceOpen: return "device_open";
    case EventType::kDeviceOpenFailed: return "device_open_failed";
    case EventType::kDeviceLost: return "device_lost";
  }
  return "unknown";
}

const char* DelaySourceName(int source) {
  switch (static_cast<DelaySource>(source)) {
    case DelaySource::kNone: return "none";
    case DelaySource::kConfig: return "config";
    case DelaySource::kDevice: return "device";
    case DelaySource::kEstimate: return "estimate";
  }
  return "none";
}

const char* DeviceStateName(int state) {
  switch (static_cast<DeviceState>(state)) {
    case DeviceState::kNull: return "null";
    case DeviceState::kOpen: return "open";
    case DeviceState::kRetrying: return "retrying";
    case DeviceState::kClosed: return "closed";
  }
  return "unknown";
}

void CheckRate(const Napi::CallbackInfo& info, int rate, const char* name) {
  if (rate % kTicksPerSecond != 0) {
    throw Napi::RangeError::New(info.Env(), std::string(name) + " must be a multiple of 100 Hz (10 ms frames)");
  }
}

// An optional nested options object; an empty one when absent.
Napi::Object OptionObject(const Napi::Object& o, const char* key) {
  if (!o.Has(key) || o.Get(key).IsUndefined()) return Napi::Object::New(o.Env());
  if (!o.Get(key).IsObject()) throw Napi::TypeError::New(o.Env(), std::string("options.") + key + " must be an object");
  return o.Get(key).As<Napi::Object>();
}

const char* TalkStateName(int state) {
  switch (static_cast<TalkState>(state)) {
    case TalkState::kIdle: return "idle";
    case TalkState::kFarOnly: return "far";
    case TalkState::kNearOnly: return "near";
    case TalkState::kDoubleTalk: return "double";
  }
  return "idle";
}

// The post filter's and playback side's figures for stats().
Napi::Object PostStats(Napi::Env env, const EchoPostFilter* post, const PlaybackShaper& shaper) {
  Napi::Object out = Napi::Object::New(env);
  out.Set("talk", post != nullptr ? TalkStateName(post->detector_stats().state.load()) : "idle");
  out.Set("suppressionDb", post != nullptr ? post->suppression_db() : 0.0f);
  out.Set("agcGainDb", post != nullptr ? post->agc_gain_db() : 0.0f);
  out.Set("agcAppliedDb", post != nullptr ? post->agc_applied_db() : 0.0f);
  out.Set("duckActive", shaper.ducker().active());
  out.Set("limiterDb", shaper.limiter().reduction_db());
  return out;
}

EngineOptions ParseOptions(const Napi::Object& o) {
  EngineOptions opt;
  const std::string device = OptionString(o, "device", "null");
  if (device != "null" && device != "alsa") {
    throw Napi::RangeError::New(o.Env(), "options.device must be 'null' or 'alsa'");
  }
  opt.use_alsa = device == "alsa";
  opt.manual_clock = OptionBool(o, "manualClock", false);
  opt.bridge_rate = OptionInt(o, "bridgeRate", 16000, 8000, 48000);
  opt.alsa.rate = static_cast<unsigned>(OptionInt(o, "deviceRate", 48000, 8000, kMaxRate));
  if (opt.bridge_rate % kTicksPerSecond != 0 || opt.alsa.rate % kTicksPerSecond != 0) {
    throw Napi::RangeError::New(o.Env(), "options.bridgeRate and options.deviceRate must be multiples of 100 Hz");
  }
  opt.alsa.tick_frames = opt.alsa.rate / kTicksPerSecond;
  // Open the device at the bridge rate when it takes that rate as it is (no resampling at all).
  if (OptionBool(o, "matchBridgeRate", false)) opt.alsa.preferred_rate = static_cast<unsigned>(opt.bridge_rate);
  opt.alsa.capture = OptionString(o, "capture", "default");
  opt.alsa.playback = OptionString(o, "playback", "default");
  opt.alsa.config_file = OptionString(o, "alsaConfig", "");
  opt.alsa.capture_channels = static_cast<unsigned>(OptionInt(o, "captureChannels", 1, 1, kMaxChannels));
  opt.alsa.playback_channels = static_cast<unsigned>(OptionInt(o, "playbackChannels", 1, 1, kMaxChannels));
  opt.alsa.buffer_ticks = static_cast<unsigned>(OptionInt(o, "bufferPeriods", 4, 2, 32));
  opt.alsa.prefill_ticks = static_cast<unsigned>(OptionInt(o, "prefillPeriods", 2, 1, 31));
  if (opt.alsa.prefill_ticks >= opt.alsa.buffer_ticks) {
    throw Napi::RangeError::New(o.Env(), "options.prefillPeriods must be less than options.bufferPeriods");
  }
  const int period_ms = OptionInt(o, "periodMs", 10, 10, 40);
  if (period_ms % kTickMs != 0) {
    throw Napi::RangeError::New(o.Env(), "options.periodMs must be a whole number of 10 ms ticks");
  }
  opt.alsa.period_ticks = static_cast<unsigned>(period_ms / kTickMs);
  // Both count 10 ms ticks whatever the period. What is left of the prefill when the thread wakes is
  // playback's slack against a late wakeup: at least a tick.
  if (opt.alsa.prefill_ticks <= opt.alsa.period_ticks) {
    throw Napi::RangeError::New(o.Env(),
                                "options.prefillPeriods (10 ms each) must cover one options.periodMs and a tick more");
  }
  if (opt.alsa.buffer_ticks < 2 * opt.alsa.period_ticks) {
    throw Napi::RangeError::New(o.Env(), "options.bufferPeriods (10 ms each) must cover at least two options.periodMs");
  }
  opt.capture_quality = OptionInt(o, "captureQuality", 5, 0, 10);
  opt.playback_quality = OptionInt(o, "playbackQuality", 5, 0, 10);
  opt.aec = OptionBool(o, "aec", true);
  opt.aec_engine = OptionEchoEngine(o, "aecEngine");
  opt.aec_suppression = OptionSuppression(o, "aecSuppression");
  opt.aec_near_talk_max_cut_db = OptionInt(o, "aecNearTalkMaxCutDb", kNearTalkNotEased, kNearTalkNotEased, 0);
  opt.aec_tail_ms = OptionInt(o, "aecTailMs", 250, 10, 1000);
  opt.aec_delay_ms = OptionInt(o, "aecDelayMs", -1, -1, 1000);
  opt.aec_margin_ms = OptionInt(o, "aecMarginMs", 20, 0, 200);
  opt.aec_max_delay_ms = OptionInt(o, "aecMaxDelayMs", 500, 10, 1000);
  opt.denoise = OptionBool(o, "denoise", true);
  const int frame = opt.bridge_rate / kTicksPerSecond;
  opt.post = ParseEchoPostSettings(OptionObject(o, "post"), opt.bridge_rate, frame);
  opt.shaper = ParsePlaybackShaperSettings(OptionObject(o, "shaper"), opt.bridge_rate, frame);
  opt.realtime = OptionBool(o, "realtime", true);
  opt.realtime_priority = OptionInt(o, "realtimePriority", 50, 1, 99);
  opt.retry_min_ms = OptionInt(o, "retryMinMs", 500, 10, 60000);
  opt.retry_max_ms = OptionInt(o, "retryMaxMs", 10000, 10, 600000);
  return opt;
}

}  // namespace

Napi::Function EngineWrap::Define(Napi::Env env) {
  return DefineClass(env, "Engine",
                     {InstanceMethod<&EngineWrap::Start>("start"),
                      InstanceMethod<&EngineWrap::Close>("close"),
                      InstanceMethod<&EngineWrap::Step>("step"),
                      InstanceMethod<&EngineWrap::CreatePlayer>("createPlayer"),
                      InstanceMethod<&EngineWrap::CreateRecorder>("createRecorder"),
                      InstanceMethod<&EngineWrap::CreateTone>("createTone"),
                      InstanceMethod<&EngineWrap::CreateRing>("createRing"),
                      InstanceMethod<&EngineWrap::RemovePort>("removePort"),
                      InstanceMethod<&EngineWrap::Connect>("connect"),
                      InstanceMethod<&EngineWrap::Disconnect>("disconnect"),
                      InstanceMethod<&EngineWrap::SetLevel>("setLevel"),
                      InstanceMethod<&EngineWrap::GetLevel>("getLevel"),
                      InstanceMethod<&EngineWrap::Meters>("meters"),
                      InstanceMethod<&EngineWrap::ReadRecorder>("readRecorder"),
                      InstanceMethod<&EngineWrap::ReadTx>("readTx"),
                      InstanceMethod<&EngineWrap::ReadTxBase64>("readTxBase64"),
                      InstanceMethod<&EngineWrap::WriteRx>("writeRx"),
                      InstanceMethod<&EngineWrap::Flush>("flush"),
                      InstanceMethod<&EngineWrap::Drain>("drain"),
                      InstanceMethod<&EngineWrap::TrimRx>("trimRx"),
                      InstanceMethod<&EngineWrap::SetPrebuffer>("setPrebuffer"),
                      InstanceMethod<&EngineWrap::RingStatus>("ringStatus"),
                      InstanceMethod<&EngineWrap::PortStats>("portStats"),
                      InstanceMethod<&EngineWrap::Stats>("stats"),
                      InstanceMethod<&EngineWrap::StallForTest>("stallForTest")});
}

EngineWrap::EngineWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<EngineWrap>(info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) throw Napi::TypeError::New(env, "options must be an object");
  if (info.Length() < 2 || !info[1].IsFunction()) throw Napi::TypeError::New(env, "onEvent must be a function");
  const EngineOptions options = ParseOptions(info[0].As<Napi::Object>());
  events_ = Napi::ThreadSafeFunction::New(env, info[1].As<Napi::Function>(), "speakerd-engine-events", 0, 1);
  Napi::ThreadSafeFunction tsfn = events_;
  auto notify = [tsfn](const EngineNotice& notice) mutable {
    auto* copy = new EngineNotice(notice);
    const napi_status status = tsfn.NonBlockingCall(copy, [](Napi::Env env, Napi::Function fn, EngineNotice* n) {
      Napi::Object e = Napi::Object::New(env);
      e.Set("type", EventName(n->event.type));
      e.Set("port", static_cast<double>(n->event.port_id));
      e.Set("a", static_cast<double>(n->event.a));
      e.Set("b", static_cast<double>(n->event.b));
      e.Set("timeUs", static_cast<double>(n->event.time_us));
      if (!n->code.empty()) e.Set("code", n->code);
      if (!n->message.empty()) e.Set("message", n->message);
      delete n;
      fn.Call({e});
    });
    if (status != napi_ok) delete copy;
  };
  try {
    engine_ = std::make_unique<Engine>(options, notify);
  } catch (const std::exception& e) {
    events_.Release();
    throw CodedError(env, "ERR_ENGINE_INIT", e.what());
  }
  slots_[0] = Entry{0, nullptr, Kind::kDevice, nullptr};
  info.This().As<Napi::Object>().TypeTag(&kEngineTypeTag);
}

EngineWrap::~EngineWrap() { Shutdown(); }

std::shared_ptr<const EngineClock> EngineWrap::ClockOf(Napi::Env env, Napi::Value value) {
  if (!value.IsObject() || !value.As<Napi::Object>().CheckTypeTag(&kEngineTypeTag)) {
    throw Napi::TypeError::New(env, "engine must be an Engine or null");
  }
  EngineWrap* wrap = Napi::ObjectWrap<EngineWrap>::Unwrap(value.As<Napi::Object>());
  if (wrap == nullptr || wrap->closed_ || !wrap->engine_) return nullptr;
  return wrap->engine_->clock();
}

void EngineWrap::ReleaseTap(Entry& entry) {
  if (!entry.tap) return;
  {
    std::lock_guard<std::mutex> lock(entry.tap->mutex);
    entry.tap->ring = nullptr;
    // The consumer hears of it at once (it lets go of the tap and says it is no longer attached).
    if (entry.tap->wake_fd >= 0) {
      const uint64_t one = 1;
      if (write(entry.tap->wake_fd, &one, sizeof one) < 0) {
        // Full only if the consumer stopped reading it: it is awake already.
      }
    }
  }
  if (engine_) engine_->SetTxTap(entry.id, nullptr);
  entry.tap.reset();
}

std::shared_ptr<TxTap> EngineWrap::TapOf(Napi::Env env, Napi::Value engine, Napi::Value port) {
  if (!engine.IsObject() || !engine.As<Napi::Object>().CheckTypeTag(&kEngineTypeTag)) {
    throw Napi::TypeError::New(env, "engine must be an Engine");
  }
  EngineWrap* wrap = Napi::ObjectWrap<EngineWrap>::Unwrap(engine.As<Napi::Object>());
  if (wrap == nullptr || wrap->closed_) throw CodedError(env, "ERR_ENGINE_CLOSED", "the audio engine is closed");
  const double raw = port.IsNumber() ? port.As<Napi::Number>().DoubleValue() : -1;
  const bool valid = raw >= 0 && raw <= 4294967295.0 && std::floor(raw) == raw;
  const Entry& entry = wrap->slots_[valid ? static_cast<uint32_t>(raw) & (kMaxSlots - 1) : 0];
  if (!valid || entry.id != static_cast<uint32_t>(raw) || !entry.tap) {
    throw CodedError(env, "ERR_PORT_KIND", "port is not a ring port of this engine");
  }
  return entry.tap;
}

void EngineWrap::Shutdown() {
  if (closed_) return;
  closed_ = true;
  for (Entry& entry : slots_) ReleaseTap(entry);
  if (engine_) engine_->Stop();
  engine_.reset();
  events_.Release();
}

void EngineWrap::RequireOpen(Napi::Env env) const {
  if (closed_) throw CodedError(env, "ERR_ENGINE_CLOSED", "the audio engine is closed");
}

EngineWrap::Entry& EngineWrap::Lookup(const Napi::CallbackInfo& info, size_t index) {
  RequireOpen(info.Env());
  const double raw = RequireNumber(info, index, "port");
  const bool valid = raw >= 0 && raw <= 4294967295.0 && std::floor(raw) == raw;
  const uint32_t id = valid ? static_cast<uint32_t>(raw) : 0;
  Entry& entry = slots_[id & (kMaxSlots - 1)];
  if (!valid || entry.id != id || (id != 0 && entry.port == nullptr)) {
    throw CodedError(info.Env(), "ERR_PORT_DESTROYED",
                     "port " + info[index].ToString().Utf8Value() + " does not exist (destroyed?)");
  }
  return entry;
}

RingPort* EngineWrap::LookupRing(const Napi::CallbackInfo& info) {
  Entry& entry = Lookup(info, 0);
  if (entry.kind != Kind::kRing) throw CodedError(info.Env(), "ERR_PORT_KIND", "port is not a ring port");
  return static_cast<RingPort*>(entry.port);
}

uint32_t EngineWrap::AddPort(Napi::Env env, Port* port, Kind kind) {
  std::unique_ptr<Port> owned(port);
  for (int slot = 1; slot < kMaxSlots; ++slot) {
    if (slots_[slot].port != nullptr) continue;
    try {
      port->PrepareForBridge(engine_->options().bridge_rate, 5);
    } catch (const std::exception& e) {
      throw CodedError(env, "ERR_RESAMPLER", e.what());
    }
    const uint32_t id = (++generation_ << kSlotBits) | static_cast<uint32_t>(slot);
    port->Attach(id, engine_->event_sink());
    Enqueue(env, BridgeOp{BridgeOp::Type::kAdd, slot, 0, 1.0f, port});
    slots_[slot] = Entry{id, owned.release(), kind, nullptr};
    engine_->bridge().levels(slot).rx_level.store(1.0f);
    engine_->bridge().levels(slot).tx_level.store(1.0f);
    return id;
  }
  throw CodedError(env, "ERR_TOO_MANY_PORTS",
                   "the bridge has no free slot (" + std::to_string(kMaxSlots) + " at most)");
}

void EngineWrap::Enqueue(Napi::Env env, const BridgeOp& op) {
  if (!engine_->bridge().Enqueue(op)) {
    throw CodedError(env, "ERR_BUSY", "too many bridge operations pending (is the clock stopped?)");
  }
}

Napi::Value EngineWrap::Start(const Napi::CallbackInfo& info) {
  RequireOpen(info.Env());
  engine_->Start();
  return info.Env().Undefined();
}

Napi::Value EngineWrap::Close(const Napi::CallbackInfo& info) {
  Shutdown();
  return info.Env().Undefined();
}

Napi::Value EngineWrap::Step(const Napi::CallbackInfo& info) {
  RequireOpen(info.Env());
  const int ticks = RequireInt(info, 0, "ticks", 0, 1000000);
  if (!engine_->options().manual_clock) {
    throw CodedError(info.Env(), "ERR_NOT_MANUAL", "step() needs an engine created with manualClock");
  }
  engine_->Step(ticks);
  return info.Env().Undefined();
}

Napi::Value EngineWrap::CreatePlayer(const Napi::CallbackInfo& info) {
  RequireOpen(info.Env());
  Napi::Int16Array samples = RequireInt16Array(info, 0, "samples");
  const int rate = RequireInt(info, 1, "rate", 8000, kMaxRate);
  CheckRate(info, rate, "rate");
  const bool loop = RequireBool(info, 2, "loop");
  std::vector<int16_t> copy(samples.Data(), samples.Data() + samples.ElementLength());
  Port* port = new PlayerPort(rate, std::move(copy), loop);
  return Napi::Number::New(info.Env(), AddPort(info.Env(), port, Kind::kPlayer));
}

Napi::Value EngineWrap::CreateRecorder(const Napi::CallbackInfo& info) {
  RequireOpen(info.Env());
  const int rate = RequireInt(info, 0, "rate", 8000, kMaxRate);
  CheckRate(info, rate, "rate");
  const int capacity = RequireInt(info, 1, "capacity", rate / kTicksPerSecond, rate * kMaxRingSeconds);
  const int notify = RequireInt(info, 2, "notify", 1, capacity);
  Port* port = new RecorderPort(rate, static_cast<size_t>(capacity), static_cast<size_t>(notify));
  return Napi::Number::New(info.Env(), AddPort(info.Env(), port, Kind::kRecorder));
}

Napi::Value EngineWrap::CreateTone(const Napi::CallbackInfo& info) {
  RequireOpen(info.Env());
  const int rate = RequireInt(info, 0, "rate", 8000, kMaxRate);
  CheckRate(info, rate, "rate");
  if (info.Length() < 2 || !info[1].IsTypedArray() ||
      info[1].As<Napi::TypedArray>().TypedArrayType() != napi_float64_array) {
    throw Napi::TypeError::New(info.Env(), "segments must be a Float64Array of [freq1, freq2, amplitude, ms] rows");
  }
  Napi::Float64Array flat = info[1].As<Napi::Float64Array>();
  if (flat.ElementLength() == 0 || flat.ElementLength() % 4 != 0) {
    throw Napi::RangeError::New(info.Env(), "segments must hold one or more rows of 4 numbers");
  }
  const bool loop = RequireBool(info, 2, "loop");
  std::vector<ToneSegment> segments;
  const double nyquist = rate / 2.0;
  for (size_t i = 0; i < flat.ElementLength(); i += 4) {
    const double f1 = flat[i], f2 = flat[i + 1], amp = flat[i + 2], ms = flat[i + 3];
    if (!(f1 >= 0 && f1 < nyquist) || !(f2 >= 0 && f2 < nyquist)) {
      throw Napi::RangeError::New(info.Env(), "segments: frequencies must be from 0 to below half the rate");
    }
    if (!(amp >= 0 && amp <= 1)) throw Napi::RangeError::New(info.Env(), "segments: amplitude must be from 0 to 1");
    if (!(ms >= 1 && ms <= 600000))
      throw Napi::RangeError::New(info.Env(), "segments: duration must be 1 ms to 10 min");
    segments.push_back(ToneSegment{static_cast<float>(f1), static_cast<float>(f2), static_cast<float>(amp),
                                   static_cast<uint32_t>(std::lround(ms * rate / 1000.0))});
  }
  Port* port = new TonePort(rate, std::move(segments), loop);
  return Napi::Number::New(info.Env(), AddPort(info.Env(), port, Kind::kTone));
}

Napi::Value EngineWrap::CreateRing(const Napi::CallbackInfo& info) {
  RequireOpen(info.Env());
  const int rate = RequireInt(info, 0, "rate", 8000, kMaxRate);
  CheckRate(info, rate, "rate");
  const int frame = rate / kTicksPerSecond;
  RingSettings s;
  s.tx_capacity = static_cast<size_t>(RequireInt(info, 1, "txCapacity", frame, rate * kMaxRingSeconds));
  s.rx_capacity = static_cast<size_t>(RequireInt(info, 2, "rxCapacity", frame, rate * kMaxRingSeconds));
  s.batch = static_cast<size_t>(RequireInt(info, 3, "batch", 1, static_cast<int>(s.tx_capacity)));
  // The ring rounds its capacity up to a power of two; the prebuffer may use all of it (as setPrebuffer).
  s.prebuffer =
      static_cast<size_t>(RequireInt(info, 4, "prebuffer", 0, static_cast<int>(NextPowerOfTwo(s.rx_capacity))));
  int tx_rate = rate;
  if (info.Length() > 5 && !info[5].IsUndefined()) {
    tx_rate = RequireInt(info, 5, "txRate", 8000, kMaxRate);
    CheckRate(info, tx_rate, "txRate");
  }
  auto* port = new RingPort(rate, tx_rate, s);
  const uint32_t id = AddPort(info.Env(), port, Kind::kRing);
  auto tap = std::make_shared<TxTap>();
  tap->ring = port;
  tap->port_id = id;
  tap->rate = tx_rate;
  slots_[id & (kMaxSlots - 1)].tap = tap;
  engine_->SetTxTap(id, std::move(tap));
  return Napi::Number::New(info.Env(), id);
}

Napi::Value EngineWrap::RemovePort(const Napi::CallbackInfo& info) {
  Entry& entry = Lookup(info, 0);
  if (entry.kind == Kind::kDevice)
    throw CodedError(info.Env(), "ERR_PORT_KIND", "the sound device port cannot be removed");
  const int slot = static_cast<int>(entry.id & (kMaxSlots - 1));
  // The native consumer lets go of the ring first: once the op is queued, the audio thread may drop the
  // port and the control thread free it at any moment, while a consumer still inside the ring (under
  // the tap's mutex) would read freed memory.
  ReleaseTap(entry);
  // The audio thread applies the removal on its next tick and then wakes the control thread to free it.
  Enqueue(info.Env(), BridgeOp{BridgeOp::Type::kRemove, slot, 0, 0.0f, nullptr});
  entry = Entry{};
  return info.Env().Undefined();
}

Napi::Value EngineWrap::Connect(const Napi::CallbackInfo& info) {
  Entry& source = Lookup(info, 0);
  Entry& sink = Lookup(info, 1);
  const double level = RequireNumber(info, 2, "level");
  if (!(level >= 0 && level <= kMaxLevel)) throw Napi::RangeError::New(info.Env(), "level must be from 0 to 10");
  const bool source_ok = source.kind == Kind::kDevice || source.port->CanTransmitToBridge();
  const bool sink_ok = sink.kind == Kind::kDevice || sink.port->CanReceiveFromBridge();
  if (!source_ok) throw CodedError(info.Env(), "ERR_PORT_KIND", "the source port cannot transmit (it is a sink only)");
  if (!sink_ok) throw CodedError(info.Env(), "ERR_PORT_KIND", "the sink port cannot receive (it is a source only)");
  Enqueue(info.Env(), BridgeOp{BridgeOp::Type::kConnect, static_cast<int>(source.id & (kMaxSlots - 1)),
                               static_cast<int>(sink.id & (kMaxSlots - 1)), static_cast<float>(level), nullptr});
  return info.Env().Undefined();
}

Napi::Value EngineWrap::Disconnect(const Napi::CallbackInfo& info) {
  Entry& source = Lookup(info, 0);
  Entry& sink = Lookup(info, 1);
  Enqueue(info.Env(), BridgeOp{BridgeOp::Type::kDisconnect, static_cast<int>(source.id & (kMaxSlots - 1)),
                               static_cast<int>(sink.id & (kMaxSlots - 1)), 0.0f, nullptr});
  return info.Env().Undefined();
}

Napi::Value EngineWrap::SetLevel(const Napi::CallbackInfo& info) {
  Entry& entry = Lookup(info, 0);
  const bool rx = RequireBool(info, 1, "rx");
  const double level = RequireNumber(info, 2, "level");
  if (!(level >= 0 && level <= kMaxLevel)) throw Napi::RangeError::New(info.Env(), "level must be from 0 to 10");
  SlotLevels& levels = engine_->bridge().levels(static_cast<int>(entry.id & (kMaxSlots - 1)));
  (rx ? levels.rx_level : levels.tx_level).store(static_cast<float>(level));
  return info.Env().Undefined();
}

Napi::Value EngineWrap::GetLevel(const Napi::CallbackInfo& info) {
  Entry& entry = Lookup(info, 0);
  const bool rx = RequireBool(info, 1, "rx");
  SlotLevels& levels = engine_->bridge().levels(static_cast<int>(entry.id & (kMaxSlots - 1)));
  return Napi::Number::New(info.Env(), (rx ? levels.rx_level : levels.tx_level).load());
}

Napi::Value EngineWrap::Meters(const Napi::CallbackInfo& info) {
  Entry& entry = Lookup(info, 0);
  SlotLevels& levels = engine_->bridge().levels(static_cast<int>(entry.id & (kMaxSlots - 1)));
  Napi::Object out = Napi::Object::New(info.Env());
  out.Set("rx", static_cast<double>(levels.rx_meter.load()));
  out.Set("tx", static_cast<double>(levels.tx_meter.load()));
  return out;
}

Napi::Value EngineWrap::ReadRecorder(const Napi::CallbackInfo& info) {
  Entry& entry = Lookup(info, 0);
  if (entry.kind != Kind::kRecorder) throw CodedError(info.Env(), "ERR_PORT_KIND", "port is not a recorder");
  Napi::Int16Array out = RequireInt16Array(info, 1, "out");
  const size_t n = static_cast<RecorderPort*>(entry.port)->Read(out.Data(), out.ElementLength());
  return Napi::Number::New(info.Env(), static_cast<double>(n));
}

Napi::Value EngineWrap::ReadTx(const Napi::CallbackInfo& info) {
  RingPort* ring = LookupRing(info);
  Napi::Int16Array out = RequireInt16Array(info, 1, "out");
  return Napi::Number::New(info.Env(), static_cast<double>(ring->ReadTx(out.Data(), out.ElementLength())));
}

// readTxBase64(port, out: Uint8Array, offset, samples): exactly `samples` waiting samples, read straight
// from the ring, as base64 of their little-endian bytes into out[offset...]; returns the bytes written,
// or 0 (reading nothing) while fewer samples are waiting. The uplink's framing without a copy.
Napi::Value EngineWrap::ReadTxBase64(const Napi::CallbackInfo& info) {
  RingPort* ring = LookupRing(info);
  if (info.Length() < 2 || !info[1].IsTypedArray() ||
      info[1].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    throw Napi::TypeError::New(info.Env(), "out must be a Uint8Array");
  }
  Napi::Uint8Array out = info[1].As<Napi::Uint8Array>();
  const int offset = RequireInt(info, 2, "offset", 0, static_cast<int>(out.ElementLength()));
  const int samples = RequireInt(info, 3, "samples", 1, 1 << 24);
  const size_t size = Pcm16Base64Writer::EncodedSize(static_cast<size_t>(samples));
  if (size > out.ElementLength() - static_cast<size_t>(offset)) {
    throw Napi::RangeError::New(info.Env(), "out is too small for the base64 of that many samples");
  }
  Pcm16Base64Writer writer(out.Data() + offset);
  const bool read =
      ring->ReadTxSpans(static_cast<size_t>(samples), [&writer](const int16_t* s, size_t n) { writer.Feed(s, n); });
  return Napi::Number::New(info.Env(), read ? static_cast<double>(writer.Finish()) : 0.0);
}

Napi::Value EngineWrap::WriteRx(const Napi::CallbackInfo& info) {
  RingPort* ring = LookupRing(info);
  Napi::Int16Array in = RequireInt16Array(info, 1, "samples");
  return Napi::Number::New(info.Env(), static_cast<double>(ring->WriteRx(in.Data(), in.ElementLength())));
}

Napi::Value EngineWrap::Flush(const Napi::CallbackInfo& info) {
  LookupRing(info)->Flush();
  return info.Env().Undefined();
}

Napi::Value EngineWrap::Drain(const Napi::CallbackInfo& info) {
  LookupRing(info)->Drain();
  return info.Env().Undefined();
}

Napi::Value EngineWrap::TrimRx(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(LookupRing(info)->TrimRx()));
}

Napi::Value EngineWrap::SetPrebuffer(const Napi::CallbackInfo& info) {
  RingPort* ring = LookupRing(info);
  const int samples = RequireInt(info, 1, "prebuffer", 0, static_cast<int>(ring->rx_capacity()));
  ring->SetPrebuffer(static_cast<size_t>(samples));
  return info.Env().Undefined();
}

Napi::Value EngineWrap::RingStatus(const Napi::CallbackInfo& info) {
  RingPort* ring = LookupRing(info);
  Napi::Object out = Napi::Object::New(info.Env());
  out.Set("txBuffered", static_cast<double>(ring->tx_buffered()));
  out.Set("rxBuffered", static_cast<double>(ring->rx_buffered()));
  out.Set("readPosition", static_cast<double>(ring->rx_read_position()));
  out.Set("writePosition", static_cast<double>(ring->rx_write_position()));
  out.Set("played", static_cast<double>(ring->played()));
  out.Set("playing", ring->playing());
  out.Set("underruns", static_cast<double>(ring->counters().underruns.load()));
  out.Set("dropped", static_cast<double>(ring->counters().dropped.load()));
  return out;
}

Napi::Value EngineWrap::PortStats(const Napi::CallbackInfo& info) {
  Entry& entry = Lookup(info, 0);
  PortCounters& c = entry.kind == Kind::kDevice ? engine_->device_counters() : entry.port->counters();
  Napi::Object out = Napi::Object::New(info.Env());
  out.Set("rxFrames", static_cast<double>(c.rx_frames.load()));
  out.Set("txFrames", static_cast<double>(c.tx_frames.load()));
  out.Set("underruns", static_cast<double>(c.underruns.load()));
  out.Set("dropped", static_cast<double>(c.dropped.load()));
  return out;
}

Napi::Value EngineWrap::Stats(const Napi::CallbackInfo& info) {
  RequireOpen(info.Env());
  const EngineCounters& c = engine_->counters();
  Napi::Object out = Napi::Object::New(info.Env());
  const double ticks = static_cast<double>(engine_->clock()->frames.load());
  out.Set("frames", ticks);
  out.Set("xruns", static_cast<double>(c.xruns.load()));
  out.Set("deviceErrors", static_cast<double>(c.device_errors.load()));
  out.Set("eventsDropped", static_cast<double>(c.events_dropped.load()));
  out.Set("tickMaxUs", static_cast<double>(c.tick_ns_max.load()) / 1000.0);
  out.Set("tickAvgUs", ticks > 0 ? static_cast<double>(c.tick_ns_total.load()) / 1000.0 / ticks : 0.0);
  out.Set("deviceState", DeviceStateName(c.device_state.load()));
  out.Set("deviceRate", static_cast<double>(c.device_rate.load()));
  out.Set("devicePeriodFrames", static_cast<double>(c.device_period_frames.load()));
  out.Set("realtime", c.realtime.load());
  const EngineOptions& opt = engine_->options();
  const double ms_per_sample = 1000.0 / opt.bridge_rate;
  int delay = c.aec_applied_delay_samples.load();
  int source = c.aec_delay_source.load();
  if (!opt.aec || c.aec_delay_source.load() == static_cast<int>(DelaySource::kNone)) {
    // No frame processed yet (or no canceller): what the next frame would use.
    delay = opt.aec_delay_ms >= 0 ? opt.aec_delay_ms * opt.bridge_rate / 1000 : c.aec_delay_samples.load();
    source = static_cast<int>(opt.aec_delay_ms >= 0 ? DelaySource::kConfig
                              : delay >= 0          ? DelaySource::kDevice
                                                    : DelaySource::kNone);
  }
  out.Set("aecDelayMs", delay < 0 ? -1.0 : delay * ms_per_sample);
  out.Set("aecDelaySource", DelaySourceName(source));
  if (const EchoStats* echo = engine_->echo_stats()) {
    Napi::Object aec = Napi::Object::New(info.Env());
    aec.Set("erleDb", echo->erle_db.load());
    aec.Set("converged", echo->converged.load());
    aec.Set("engine", engine_->echo_engine_name());
    aec.Set("userEase", engine_->echo_user_ease());
    const DelayEstimate* estimate = engine_->delay_estimate();
    const int estimated = estimate ? estimate->delay_samples.load() : -1;
    // The estimator's lag counts from the frame played one tick ago (see Engine::EchoPathDelay).
    aec.Set("delayEstimateMs", estimated < 0 ? -1.0 : (estimated + opt.bridge_rate / kTicksPerSecond) * ms_per_sample);
    aec.Set("delayConfidence", estimate ? estimate->confidence.load() : 0.0f);
    out.Set("aec", aec);
  } else {
    out.Set("aec", info.Env().Null());
  }
  out.Set("aecPost", PostStats(info.Env(), engine_->post_filter(), engine_->playback_shaper()));
  return out;
}

Napi::Value EngineWrap::StallForTest(const Napi::CallbackInfo& info) {
  RequireOpen(info.Env());
  engine_->StallForTest(RequireInt(info, 0, "ms", 0, 600000));
  return info.Env().Undefined();
}

}  // namespace speakerd
