// JavaScript class `NetLink`: the AI service's socket on a native thread, with the native uplink
// (native/net/net_link.h). src/ai/native-socket.ts makes it a Duplex stream for `ws`.
#pragma once

#include <napi.h>

#include <atomic>
#include <memory>

#include "../net/net_link.h"

namespace speakerd {

class NetLinkWrap : public Napi::ObjectWrap<NetLinkWrap> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit NetLinkWrap(const Napi::CallbackInfo& info);
  ~NetLinkWrap() override;

 private:
  Napi::Value Write(const Napi::CallbackInfo& info);
  Napi::Value MarkFrames(const Napi::CallbackInfo& info);
  Napi::Value SetReading(const Napi::CallbackInfo& info);
  Napi::Value End(const Napi::CallbackInfo& info);
  Napi::Value Destroy(const Napi::CallbackInfo& info);
  Napi::Value AttachUplink(const Napi::CallbackInfo& info);
  Napi::Value DetachUplink(const Napi::CallbackInfo& info);
  Napi::Value UplinkStats(const Napi::CallbackInfo& info);
  void Halt();
  NetLink& Link(Napi::Env env);

  std::unique_ptr<NetLink> link_;
  Napi::ThreadSafeFunction events_;
  // Cleared by destroy(): events still queued for JS are then dropped.
  std::shared_ptr<std::atomic<bool>> alive_ = std::make_shared<std::atomic<bool>>(true);
};

}  // namespace speakerd
