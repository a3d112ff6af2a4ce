// JavaScript class `Engine`: owns a native Engine and the ports JS created on it.
#pragma once

#include <napi.h>

#include <memory>

#include "../engine/engine.h"

namespace speakerd {

class RingPort;
class RecorderPort;

class EngineWrap : public Napi::ObjectWrap<EngineWrap> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit EngineWrap(const Napi::CallbackInfo& info);
  ~EngineWrap() override;
  // The audio clock of the Engine object `value` (nullptr once it is closed). Throws TypeError when
  // `value` is not an Engine of this addon (checked with a type tag, never a blind unwrap).
  static std::shared_ptr<const EngineClock> ClockOf(Napi::Env env, Napi::Value value);
  // The microphone side of ring port `port` of the Engine object `engine`, for a native consumer.
  // Throws when `engine` is not an open Engine of this addon or `port` is not one of its ring ports.
  static std::shared_ptr<TxTap> TapOf(Napi::Env env, Napi::Value engine, Napi::Value port);

 private:
  enum class Kind { kDevice, kPlayer, kRecorder, kTone, kRing };
  struct Entry {
    uint32_t id = 0;
    Port* port = nullptr;
    Kind kind = Kind::kDevice;
    std::shared_ptr<TxTap> tap;  // ring ports: their microphone side for a native consumer
  };

  Napi::Value Start(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);
  Napi::Value Step(const Napi::CallbackInfo& info);
  Napi::Value CreatePlayer(const Napi::CallbackInfo& info);
  Napi::Value CreateRecorder(const Napi::CallbackInfo& info);
  Napi::Value CreateTone(const Napi::CallbackInfo& info);
  Napi::Value CreateRing(const Napi::CallbackInfo& info);
  Napi::Value RemovePort(const Napi::CallbackInfo& info);
  Napi::Value Connect(const Napi::CallbackInfo& info);
  Napi::Value Disconnect(const Napi::CallbackInfo& info);
  Napi::Value SetLevel(const Napi::CallbackInfo& info);
  Napi::Value GetLevel(const Napi::CallbackInfo& info);
  Napi::Value Meters(const Napi::CallbackInfo& info);
  Napi::Value ReadRecorder(const Napi::CallbackInfo& info);
  Napi::Value ReadTx(const Napi::CallbackInfo& info);
  Napi::Value ReadTxBase64(const Napi::CallbackInfo& info);
  Napi::Value WriteRx(const Napi::CallbackInfo& info);
  Napi::Value Flush(const Napi::CallbackInfo& info);
  Napi::Value Drain(const Napi::CallbackInfo& info);
  Napi::Value TrimRx(const Napi::CallbackInfo& info);
  Napi::Value SetPrebuffer(const Napi::CallbackInfo& info);
  Napi::Value RingStatus(const Napi::CallbackInfo& info);
  Napi::Value PortStats(const Napi::CallbackInfo& info);
  Napi::Value Stats(const Napi::CallbackInfo& info);
  Napi::Value StallForTest(const Napi::CallbackInfo& info);

  void RequireOpen(Napi::Env env) const;
  Entry& Lookup(const Napi::CallbackInfo& info, size_t index);
  RingPort* LookupRing(const Napi::CallbackInfo& info);
  uint32_t AddPort(Napi::Env env, Port* port, Kind kind);
  void Enqueue(Napi::Env env, const BridgeOp& op);
  void Shutdown();
  // A ring port leaves: its native consumer (if any) stops reading it before the port can be freed.
  void ReleaseTap(Entry& entry);

  std::unique_ptr<Engine> engine_;
  Napi::ThreadSafeFunction events_;
  Entry slots_[kMaxSlots];
  uint32_t generation_ = 0;
  bool closed_ = false;
};

}  // namespace speakerd
