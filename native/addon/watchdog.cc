#include "watchdog.h"

#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>

#include "args.h"
#include "engine_wrap.h"
#include "notify.h"

namespace speakerd {

namespace {

constexpr char kPing[] = "WATCHDOG=1";
constexpr int kMaxMs = 3600000;

// CLOCK_MONOTONIC in ns: the clock of EngineClock::stopped_ns and of the engine's event times.
int64_t NowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000LL + ts.tv_nsec;
}

constexpr int64_t kNsPerMs = 1000000LL;

Napi::Array ReasonNames(Napi::Env env, int mask) {
  Napi::Array out = Napi::Array::New(env);
  uint32_t n = 0;
  if (mask & kReasonClockStopped) out.Set(n++, "clock_stopped");
  if (mask & kReasonNoEngine) out.Set(n++, "no_engine");
  if (mask & kReasonLoopStalled) out.Set(n++, "loop_stalled");
  return out;
}

}  // namespace

Napi::Function WatchdogWrap::Define(Napi::Env env) {
  return DefineClass(
      env, "Watchdog",
      {InstanceMethod<&WatchdogWrap::Start>("start"), InstanceMethod<&WatchdogWrap::Stop>("stop"),
       InstanceMethod<&WatchdogWrap::Watch>("watch"), InstanceMethod<&WatchdogWrap::Reopening>("reopening"),
       InstanceMethod<&WatchdogWrap::Heartbeat>("heartbeat"), InstanceMethod<&WatchdogWrap::Status>("status")});
}

WatchdogWrap::WatchdogWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<WatchdogWrap>(info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) throw Napi::TypeError::New(env, "options must be an object");
  const Napi::Object o = info[0].As<Napi::Object>();
  if (o.Get("intervalMs").IsUndefined()) throw Napi::TypeError::New(env, "options.intervalMs must be a number");
  const int interval_ms = OptionInt(o, "intervalMs", 0, 1, kMaxMs);
  const int stall_ms = OptionInt(o, "maxLoopStallMs", interval_ms * 8 / 5, 1, kMaxMs);
  const int grace_ms = OptionInt(o, "reopenGraceMs", 0, 0, kMaxMs);
  interval_ns_ = interval_ms * kNsPerMs;
  stall_ns_ = stall_ms * kNsPerMs;
  reopen_grace_ns_ = grace_ms * kNsPerMs;
  if (!o.Get("notifySocket").IsUndefined()) {
    has_socket_override_ = true;
    socket_override_ = OptionString(o, "notifySocket", "");
  }
}

WatchdogWrap::~WatchdogWrap() { Halt(); }

Napi::Value WatchdogWrap::Start(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (thread_.joinable()) return Napi::Boolean::New(env, fd_ >= 0);
  // $NOTIFY_SOCKET is read here, on the JS thread: getenv() on another thread races with setenv().
  std::string path;
  if (has_socket_override_) {
    path = socket_override_;
  } else if (const char* env_path = std::getenv("NOTIFY_SOCKET")) {
    path = env_path;
  }
  if (!path.empty()) {
    if (!NotifySocketAddress(path, &addr_, &addr_length_)) {
      throw CodedError(env, "ERR_NOTIFY", "NOTIFY_SOCKET is not a usable path");
    }
    fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd_ < 0)
      throw CodedError(env, "ERR_NOTIFY", std::string("cannot create the notify socket: ") + std::strerror(errno));
  }
  const int64_t now = NowNs();
  {
    std::lock_guard<std::mutex> lock(mu_);
    quit_ = false;
    if (!clock_) absent_since_ns_ = now;
    fresh_ = true;  // the first check (at once) only needs an open engine
  }
  heartbeat_ns_.store(now, std::memory_order_release);
  pinging_.store(true, std::memory_order_relaxed);
  reasons_.store(0, std::memory_order_relaxed);
  try {
    thread_ = std::thread([this] { Loop(); });
  } catch (const std::exception& e) {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
    throw CodedError(env, "ERR_WATCHDOG", std::string("cannot start the watchdog thread: ") + e.what());
  }
  return Napi::Boolean::New(env, fd_ >= 0);
}

Napi::Value WatchdogWrap::Stop(const Napi::CallbackInfo& info) {
  Halt();
  return info.Env().Undefined();
}

void WatchdogWrap::Halt() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    quit_ = true;
  }
  wake_.notify_all();
  thread_.join();  // after this no ping can be sent
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
}

Napi::Value WatchdogWrap::Watch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::shared_ptr<const EngineClock> next;
  if (info.Length() >= 1 && !info[0].IsNull() && !info[0].IsUndefined()) next = EngineWrap::ClockOf(env, info[0]);
  std::shared_ptr<const EngineClock> previous;  // released after unlocking, on this thread
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (next && next->stopped_ns.load(std::memory_order_acquire) != 0) next.reset();
    if (next == clock_) return env.Undefined();
    if (!next) {
      // From an engine to none: absent since that engine stopped, or from now if it still runs.
      const int64_t stopped = clock_->stopped_ns.load(std::memory_order_acquire);
      absent_since_ns_ = stopped != 0 ? stopped : NowNs();
    } else {
      fresh_ = true;
    }
    previous = std::move(clock_);
    clock_ = std::move(next);
  }
  return env.Undefined();
}

Napi::Value WatchdogWrap::Reopening(const Napi::CallbackInfo& info) {
  const int ms = RequireInt(info, 0, "ms", 0, kMaxMs);
  grace_until_ns_.store(ms == 0 ? 0 : NowNs() + ms * kNsPerMs, std::memory_order_release);
  return info.Env().Undefined();
}

Napi::Value WatchdogWrap::Heartbeat(const Napi::CallbackInfo& info) {
  const int64_t now = NowNs();
  const int64_t previous = heartbeat_ns_.exchange(now, std::memory_order_acq_rel);
  if (previous != 0) {
    const int64_t gap = now - previous;
    last_gap_ns_.store(gap, std::memory_order_relaxed);
    if (gap > longest_gap_ns_.load(std::memory_order_relaxed)) longest_gap_ns_.store(gap, std::memory_order_relaxed);
  }
  return info.Env().Undefined();
}

Napi::Value WatchdogWrap::Status(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int64_t now = NowNs();
  Napi::Object out = Napi::Object::New(env);
  // misses first (acquire): the episode's reasons and heartbeat age were stored before it.
  const double misses = static_cast<double>(misses_.load(std::memory_order_acquire));
  out.Set("running", thread_.joinable());
  out.Set("pinging", thread_.joinable() && pinging_.load(std::memory_order_relaxed));
  out.Set("pings", static_cast<double>(pings_.load(std::memory_order_relaxed)));
  out.Set("checks", static_cast<double>(checks_.load(std::memory_order_relaxed)));
  out.Set("misses", misses);
  out.Set("reasons", ReasonNames(env, reasons_.load(std::memory_order_relaxed)));
  out.Set("missReasons", ReasonNames(env, miss_reasons_.load(std::memory_order_relaxed)));
  out.Set("missHeartbeatAgeMs", static_cast<double>(miss_heartbeat_age_ns_.load(std::memory_order_relaxed)) / kNsPerMs);
  const int64_t heartbeat = heartbeat_ns_.load(std::memory_order_relaxed);
  out.Set("heartbeatAgeMs", heartbeat == 0 ? -1.0 : static_cast<double>(now - heartbeat) / kNsPerMs);
  out.Set("lastLoopGapMs", static_cast<double>(last_gap_ns_.load(std::memory_order_relaxed)) / kNsPerMs);
  out.Set("longestLoopGapMs", static_cast<double>(longest_gap_ns_.load(std::memory_order_relaxed)) / kNsPerMs);
  const int64_t last_ping = last_ping_ns_.load(std::memory_order_relaxed);
  out.Set("lastPingAgeMs", last_ping == 0 ? -1.0 : static_cast<double>(now - last_ping) / kNsPerMs);
  out.Set("sendErrors", static_cast<double>(send_errors_.load(std::memory_order_relaxed)));
  const int err = last_send_errno_.load(std::memory_order_relaxed);
  if (err != 0) out.Set("lastSendError", std::strerror(err));
  out.Set("notifySocket", fd_ >= 0);
  {
    std::lock_guard<std::mutex> lock(mu_);
    const char* watching = !clock_                                                   ? "none"
                           : clock_->stopped_ns.load(std::memory_order_acquire) != 0 ? "closed"
                                                                                     : "open";
    out.Set("engine", watching);
  }
  const int64_t grace = grace_until_ns_.load(std::memory_order_relaxed);
  out.Set("graceMs", grace > now ? static_cast<double>(grace - now) / kNsPerMs : 0.0);
  return out;
}

void WatchdogWrap::Loop() {
  // Nothing in this loop allocates, logs or calls into JavaScript: a wait, atomics and sendto().
  pthread_setname_np(pthread_self(), "speakerd-wdog");
  int64_t next = NowNs();
  std::unique_lock<std::mutex> lock(mu_);
  while (!quit_) {
    const int64_t now = NowNs();
    if (now < next) {
      wake_.wait_for(lock, std::chrono::nanoseconds(next - now));
      continue;
    }
    Check(now);
    next += interval_ns_;
    // Woken more than a whole interval late (a starved thread): restart the schedule from now.
    if (next <= now) next = now + interval_ns_;
  }
}

void WatchdogWrap::Check(int64_t now) {
  checks_.fetch_add(1, std::memory_order_relaxed);
  int reasons = 0;
  const int64_t heartbeat_age = now - heartbeat_ns_.load(std::memory_order_acquire);
  if (heartbeat_age > stall_ns_) reasons |= kReasonLoopStalled;
  const int64_t stopped = clock_ ? clock_->stopped_ns.load(std::memory_order_acquire) : 0;
  if (!clock_ || stopped != 0) {
    // A closed or absent engine is a stopped clock, except within a grace that JS declared
    // (reopening(ms)) or the automatic one after the engine went away (reopenGraceMs).
    const int64_t since = clock_ ? stopped : absent_since_ns_;
    const bool grace = now < grace_until_ns_.load(std::memory_order_acquire) ||
                       (reopen_grace_ns_ > 0 && now - since <= reopen_grace_ns_);
    if (!grace) reasons |= kReasonNoEngine;
  } else {
    const uint64_t frames = clock_->frames.load(std::memory_order_relaxed);
    if (!fresh_ && frames == last_frames_) reasons |= kReasonClockStopped;
    last_frames_ = frames;
    fresh_ = false;
  }
  reasons_.store(reasons, std::memory_order_relaxed);
  if (reasons == 0) {
    if (fd_ >= 0) {
      const ssize_t sent = sendto(fd_, kPing, sizeof(kPing) - 1, MSG_NOSIGNAL | MSG_DONTWAIT,
                                  reinterpret_cast<const sockaddr*>(&addr_), addr_length_);
      if (sent < 0) {
        last_send_errno_.store(errno, std::memory_order_relaxed);
        send_errors_.fetch_add(1, std::memory_order_relaxed);
      }
    }
    pings_.fetch_add(1, std::memory_order_relaxed);
    last_ping_ns_.store(now, std::memory_order_relaxed);
    pinging_.store(true, std::memory_order_relaxed);
  } else if (pinging_.load(std::memory_order_relaxed)) {
    pinging_.store(false, std::memory_order_relaxed);
    miss_reasons_.store(reasons, std::memory_order_relaxed);
    miss_heartbeat_age_ns_.store(heartbeat_age, std::memory_order_relaxed);
    misses_.fetch_add(1, std::memory_order_release);
  }
}

}  // namespace speakerd
