// The systemd watchdog pinger: a native thread of the main process that sends WATCHDOG=1 to
// $NOTIFY_SOCKET every interval while both hold:
//   (a) the audio clock of the watched engine advanced since the previous check (read from the
//       engine's own frame counter, so it does not depend on JavaScript), and
//   (b) the event loop called heartbeat() within maxLoopStallMs.
// A slow event loop therefore no longer delays the pings; a hung one (or a hung audio thread) stops
// them. Misses are counted for JavaScript to poll (status()), never logged from the thread.
#pragma once

#include <napi.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "../engine/engine.h"

namespace speakerd {

// Why a check did not ping (bit mask).
enum WatchdogReason : int { kReasonClockStopped = 1, kReasonNoEngine = 2, kReasonLoopStalled = 4 };

// JavaScript class `Watchdog({ intervalMs, maxLoopStallMs, reopenGraceMs?, notifySocket? })` with
// start(): boolean (false when there is no notify socket; it still checks and counts), stop(),
// watch(engine | null), reopening(ms), heartbeat() and status().
class WatchdogWrap : public Napi::ObjectWrap<WatchdogWrap> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit WatchdogWrap(const Napi::CallbackInfo& info);
  ~WatchdogWrap() override;

 private:
  Napi::Value Start(const Napi::CallbackInfo& info);
  Napi::Value Stop(const Napi::CallbackInfo& info);
  Napi::Value Watch(const Napi::CallbackInfo& info);
  Napi::Value Reopening(const Napi::CallbackInfo& info);
  Napi::Value Heartbeat(const Napi::CallbackInfo& info);
  Napi::Value Status(const Napi::CallbackInfo& info);

  void Loop();
  void Check(int64_t now);  // called with mu_ held
  void Halt();

  // Settings, fixed at construction.
  int64_t interval_ns_ = 0;
  int64_t stall_ns_ = 0;
  int64_t reopen_grace_ns_ = 0;
  bool has_socket_override_ = false;
  std::string socket_override_;

  // The notify socket, opened by start() on the JS thread; the pinger thread only calls sendto().
  int fd_ = -1;
  sockaddr_un addr_{};
  socklen_t addr_length_ = 0;

  // Guarded by mu_: the watched clock (shared with the engine, so a closed and freed engine leaves a
  // valid, stopped counter behind), since when no engine is watched, and the pinger's own state.
  std::mutex mu_;
  std::condition_variable wake_;
  bool quit_ = false;
  std::shared_ptr<const EngineClock> clock_;
  int64_t absent_since_ns_ = 0;
  bool fresh_ = false;  // watch() attached this clock after the last check
  uint64_t last_frames_ = 0;

  // Written by JS, read by the pinger.
  std::atomic<int64_t> heartbeat_ns_{0};
  std::atomic<int64_t> grace_until_ns_{0};
  // Written by heartbeat(): the gap that the latest heartbeat closed, and the longest one.
  std::atomic<int64_t> last_gap_ns_{0};
  std::atomic<int64_t> longest_gap_ns_{0};

  // Written by the pinger, read by status().
  std::atomic<uint64_t> pings_{0};
  std::atomic<uint64_t> checks_{0};
  std::atomic<uint64_t> misses_{0};   // episodes: transitions from pinging to not pinging
  std::atomic<int> reasons_{0};       // of the latest check (0: it pinged)
  std::atomic<int> miss_reasons_{0};  // of the check that began the latest episode
  std::atomic<int64_t> miss_heartbeat_age_ns_{0};
  std::atomic<int64_t> last_ping_ns_{0};
  std::atomic<uint64_t> send_errors_{0};
  std::atomic<int> last_send_errno_{0};
  std::atomic<bool> pinging_{false};

  std::thread thread_;
};

}  // namespace speakerd
