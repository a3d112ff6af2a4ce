#include "net_wrap.h"

#include <exception>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "args.h"
#include "engine_wrap.h"

namespace speakerd {
namespace {

constexpr int kMaxBatch = 1 << 20;

const char* EventName(NetEvent::Type type) {
  switch (type) {
    case NetEvent::Type::kConnect: return "connect";
    case NetEvent::Type::kData: return "data";
    case NetEvent::Type::kWritten: return "written";
    case NetEvent::Type::kEnd: return "end";
    case NetEvent::Type::kError: return "error";
  }
  return "error";
}

std::vector<std::string> OptionStrings(const Napi::Object& obj, const char* key) {
  std::vector<std::string> out;
  Napi::Value v = obj.Get(key);
  if (v.IsUndefined()) return out;
  if (!v.IsArray())
    throw Napi::TypeError::New(obj.Env(), std::string("options.") + key + " must be an array of strings");
  Napi::Array array = v.As<Napi::Array>();
  for (uint32_t i = 0; i < array.Length(); ++i) {
    Napi::Value item = array.Get(i);
    if (!item.IsString())
      throw Napi::TypeError::New(obj.Env(), std::string("options.") + key + " must be an array of strings");
    out.push_back(item.As<Napi::String>().Utf8Value());
  }
  return out;
}

NetLinkOptions ParseLinkOptions(const Napi::Object& o) {
  NetLinkOptions options;
  options.address = OptionString(o, "address", "");
  options.port = OptionInt(o, "port", 0, 1, 65535);
  options.connect_timeout_ms = OptionInt(o, "connectTimeoutMs", 10000, 1, 3600000);
  Napi::Value tls = o.Get("tls");
  if (tls.IsUndefined() || tls.IsNull()) return options;
  if (!tls.IsObject()) throw Napi::TypeError::New(o.Env(), "options.tls must be an object");
  const Napi::Object t = tls.As<Napi::Object>();
  options.tls = true;
  options.servername = OptionString(t, "servername", "");
  options.host = OptionString(t, "host", "");
  options.ca_pems = OptionStrings(t, "ca");
  options.default_paths = OptionBool(t, "systemRoots", false);
  options.cert_pem = OptionString(t, "cert", "");
  options.key_pem = OptionString(t, "key", "");
  options.verify = OptionBool(t, "verify", true);
  const std::string min = OptionString(t, "minVersion", "TLSv1.2");
  if (min != "TLSv1.2" && min != "TLSv1.3")
    throw Napi::RangeError::New(o.Env(), "options.tls.minVersion must be TLSv1.2 or TLSv1.3");
  options.min_version = min == "TLSv1.3" ? TLS1_3_VERSION : TLS1_2_VERSION;
  // Verification without a name or address would check the chain only: any trusted certificate would do.
  if (options.verify && options.host.empty()) {
    throw Napi::TypeError::New(o.Env(), "options.tls.host must name the server when options.tls.verify is true");
  }
  if (options.cert_pem.empty() != options.key_pem.empty()) {
    throw Napi::TypeError::New(o.Env(), "options.tls.cert and options.tls.key go together");
  }
  return options;
}

}  // namespace

Napi::Function NetLinkWrap::Define(Napi::Env env) {
  return DefineClass(
      env, "NetLink",
      {InstanceMethod<&NetLinkWrap::Write>("write"), InstanceMethod<&NetLinkWrap::MarkFrames>("markFrames"),
       InstanceMethod<&NetLinkWrap::SetReading>("setReading"), InstanceMethod<&NetLinkWrap::End>("end"),
       InstanceMethod<&NetLinkWrap::Destroy>("destroy"), InstanceMethod<&NetLinkWrap::AttachUplink>("attachUplink"),
       InstanceMethod<&NetLinkWrap::DetachUplink>("detachUplink"),
       InstanceMethod<&NetLinkWrap::UplinkStats>("uplinkStats")});
}

NetLinkWrap::NetLinkWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NetLinkWrap>(info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) throw Napi::TypeError::New(env, "options must be an object");
  if (info.Length() < 2 || !info[1].IsFunction()) throw Napi::TypeError::New(env, "onEvent must be a function");
  NetLinkOptions options = ParseLinkOptions(info[0].As<Napi::Object>());
  if (options.address.empty()) throw Napi::TypeError::New(env, "options.address must be a numeric IP address");
  events_ = Napi::ThreadSafeFunction::New(env, info[1].As<Napi::Function>(), "speakerd-net-events", 0, 1);
  Napi::ThreadSafeFunction tsfn = events_;
  std::shared_ptr<std::atomic<bool>> alive = alive_;
  NetLinkWrap* self = this;
  auto on_event = [tsfn, alive, self](NetEvent&& event) mutable {
    auto* copy = new NetEvent(std::move(event));
    const napi_status status = tsfn.NonBlockingCall(copy, [alive, self](Napi::Env env, Napi::Function fn, NetEvent* e) {
      std::unique_ptr<NetEvent> owned(e);
      // While alive, the wrap and its link exist (both are destroyed on this thread after alive is cleared).
      if (!alive->load()) return;
      Napi::Value payload = env.Undefined();
      switch (e->type) {
        case NetEvent::Type::kData:
          payload = Napi::Buffer<uint8_t>::Copy(env, e->data.data(), e->data.size());
          if (self->link_) self->link_->Delivered(e->data.size());
          break;
        case NetEvent::Type::kWritten: payload = Napi::Number::New(env, static_cast<double>(e->count)); break;
        case NetEvent::Type::kError: {
          Napi::Object error = Napi::Object::New(env);
          error.Set("code", e->code);
          error.Set("message", e->message);
          payload = error;
          break;
        }
        default: break;
      }
      fn.Call({Napi::String::New(env, EventName(e->type)), payload});
    });
    if (status != napi_ok) delete copy;
  };
  try {
    link_ = std::make_unique<NetLink>(std::move(options), on_event);
  } catch (const std::exception& e) {
    events_.Release();
    throw CodedError(env, "ERR_NET_INIT", e.what());
  }
}

NetLinkWrap::~NetLinkWrap() { Halt(); }

void NetLinkWrap::Halt() {
  if (!link_) return;
  alive_->store(false);
  link_->Destroy();
  link_.reset();
  events_.Release();
}

NetLink& NetLinkWrap::Link(Napi::Env env) {
  if (!link_) throw CodedError(env, "ERR_NET_CLOSED", "the link is destroyed");
  return *link_;
}

Napi::Value NetLinkWrap::Write(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsTypedArray() ||
      info[0].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    throw Napi::TypeError::New(info.Env(), "data must be a Uint8Array");
  }
  Napi::Uint8Array data = info[0].As<Napi::Uint8Array>();
  Link(info.Env()).Write(std::vector<uint8_t>(data.Data(), data.Data() + data.ElementLength()));
  return info.Env().Undefined();
}

Napi::Value NetLinkWrap::MarkFrames(const Napi::CallbackInfo& info) {
  Link(info.Env()).MarkFrames();
  return info.Env().Undefined();
}

Napi::Value NetLinkWrap::SetReading(const Napi::CallbackInfo& info) {
  Link(info.Env()).SetReading(RequireBool(info, 0, "reading"));
  return info.Env().Undefined();
}

Napi::Value NetLinkWrap::End(const Napi::CallbackInfo& info) {
  Link(info.Env()).End();
  return info.Env().Undefined();
}

Napi::Value NetLinkWrap::Destroy(const Napi::CallbackInfo& info) {
  Halt();
  return info.Env().Undefined();
}

// attachUplink(engine, port, { prefix, suffix, batch, maxAgeMs, highWaterBytes, probeIntervalMs, probeGraceMs })
Napi::Value NetLinkWrap::AttachUplink(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  NetLink& link = Link(env);
  if (info.Length() < 3 || !info[2].IsObject()) throw Napi::TypeError::New(env, "options must be an object");
  std::shared_ptr<TxTap> tap = EngineWrap::TapOf(env, info[0], info[1]);
  const Napi::Object o = info[2].As<Napi::Object>();
  UplinkOptions options;
  options.prefix = OptionString(o, "prefix", "");
  options.suffix = OptionString(o, "suffix", "");
  options.batch = static_cast<size_t>(OptionInt(o, "batch", 0, 1, kMaxBatch));
  options.max_age_ms = OptionInt(o, "maxAgeMs", 500, 1, 3600000);
  options.high_water = static_cast<size_t>(OptionInt(o, "highWaterBytes", 262144, 1024, 1 << 30));
  options.probe_interval_ms = OptionInt(o, "probeIntervalMs", 125, 1, 60000);
  options.probe_grace_ms = OptionInt(o, "probeGraceMs", 0, 0, 60000);
  link.AttachUplink(std::move(tap), std::move(options));
  return env.Undefined();
}

Napi::Value NetLinkWrap::DetachUplink(const Napi::CallbackInfo& info) {
  if (link_) link_->DetachUplink();
  return info.Env().Undefined();
}

Napi::Value NetLinkWrap::UplinkStats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const speakerd::UplinkStats s = Link(env).Stats();
  Napi::Object out = Napi::Object::New(env);
  out.Set("sentSamples", static_cast<double>(s.sent_samples));
  out.Set("sentMessages", static_cast<double>(s.sent_messages));
  out.Set("staleSamples", static_cast<double>(s.stale_samples));
  out.Set("staleMessages", static_cast<double>(s.stale_messages));
  out.Set("probes", static_cast<double>(s.probes));
  out.Set("probesAlone", static_cast<double>(s.probes_alone));
  out.Set("sends", static_cast<double>(s.sends));
  out.Set("lagMs", s.lag_ms);
  out.Set("attached", s.attached);
  Napi::Float32Array latencies = Napi::Float32Array::New(env, s.mic_to_wire_ms.size());
  for (size_t i = 0; i < s.mic_to_wire_ms.size(); ++i) latencies[i] = s.mic_to_wire_ms[i];
  out.Set("micToWireMs", latencies);
  return out;
}

}  // namespace speakerd
