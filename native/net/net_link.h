// The socket under the AI service's WebSocket, on a thread of its own ("speakerd-net").
//
// JS keeps `ws` for everything WebSocket (the HTTP upgrade, parsing the service's frames, control
// messages, close): it writes its bytes here and reads the service's bytes from here. This thread
// owns the TCP connection and, for wss://, the TLS session (OpenSSL, the copy Node carries). While an
// uplink is attached it also sends the microphone itself: each batch the engine completes in the
// port's TX ring is framed as the backend's text message (prefix + base64 PCM16 + suffix, masked)
// and written between two of `ws`'s frames, with no JS at all. The JS thread then wakes only for the
// service's messages. The uplink keeps the rules of the JS path (mic-age.ts, uplink-probe.ts): a
// batch older than max_age_ms is dropped, and no audio is written while the service has not been
// proven (by a ping the thread sends, whose pong it takes out of the stream) to have read what it
// was given max_age_ms ago.
#pragma once

#include <openssl/ssl.h>

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tx_tap.h"
#include "ws_frames.h"

namespace speakerd {

struct NetLinkOptions {
  std::string address;  // numeric IPv4 or IPv6 address
  int port = 0;
  int connect_timeout_ms = 10000;
  bool tls = false;
  std::string servername;            // sent as SNI (empty: none, as for an IP address)
  std::string host;                  // the name or IP address the certificate must carry
  std::vector<std::string> ca_pems;  // trusted roots (each one or more PEM certificates)
  bool default_paths = false;        // also OpenSSL's default store (SSL_CERT_FILE, SSL_CERT_DIR, OPENSSLDIR)
  std::string cert_pem;              // client certificate chain (optional)
  std::string key_pem;               // its key
  bool verify = true;
  int min_version = TLS1_2_VERSION;
};

struct UplinkOptions {
  std::string prefix;
  std::string suffix;
  size_t batch = 0;       // samples per message
  int max_age_ms = 500;   // older audio is dropped; audio waits while the peer lags this much
  size_t high_water = 0;  // bytes unwritten to the kernel above which no audio is framed
  int probe_interval_ms = 125;
  // No audio waits longer than probe_interval_ms for a probe. In this much time before that deadline
  // a probe goes out with a batch that is ready, in the batch's write (one wakeup and one send fewer
  // than a probe alone); at the deadline it goes alone. 0: always at the deadline.
  int probe_grace_ms = 0;
};

// What the uplink did, cumulative for the link.
struct UplinkStats {
  uint64_t sent_samples = 0;
  uint64_t sent_messages = 0;
  uint64_t stale_samples = 0;
  uint64_t stale_messages = 0;
  uint64_t probes = 0;        // probe pings sent
  uint64_t probes_alone = 0;  // ... of them with no audio in the same write
  uint64_t sends = 0;         // writes to the socket (send or SSL_write) that took bytes
  double lag_ms = 0;
  bool attached = false;
  std::vector<float> mic_to_wire_ms;  // the latest (up to 512), oldest first
};

// What the thread tells JS.
struct NetEvent {
  enum class Type { kConnect, kData, kWritten, kEnd, kError };
  Type type;
  std::vector<uint8_t> data;  // kData
  uint64_t count = 0;         // kWritten: JS writes completed
  std::string code;           // kError: errno name (ECONNREFUSED), X509 name or ERR_SSL_*
  std::string message;
};

class NetLink {
 public:
  using EventFn = std::function<void(NetEvent&&)>;

  // Starts connecting at once; every outcome comes as events (called on the link's thread).
  NetLink(NetLinkOptions options, EventFn on_event);
  ~NetLink();
  NetLink(const NetLink&) = delete;
  NetLink& operator=(const NetLink&) = delete;

  // ---- JS thread ----
  // Queues bytes to write in order; a kWritten event counts each write once it is in the kernel.
  void Write(std::vector<uint8_t> bytes);
  // From the bytes written so far on, the stream is WebSocket frames (the upgrade is done).
  void MarkFrames();
  // Stops or resumes reading (JS back-pressure).
  void SetReading(bool reading);
  // JS took `bytes` of a kData event: the thread reads ahead of JS by at most kMaxUndelivered bytes.
  void Delivered(size_t bytes);
  // Writes what is queued, then closes the sending side (TLS close_notify, then FIN).
  void End();
  // Closes at once and joins the thread; no event comes after it returns.
  void Destroy();
  // Starts sending the microphone of `tap`; replaces an uplink already attached.
  void AttachUplink(std::shared_ptr<TxTap> tap, UplinkOptions options);
  // Stops it; returns once the thread no longer reads the ring (JS may read it again).
  void DetachUplink();
  UplinkStats Stats();

 private:
  void Run();
  bool ConnectSocket(std::string* code, std::string* message);
  bool SetUpTls(std::string* code, std::string* message);
  bool Handshake(int64_t deadline_ms, std::string* code, std::string* message);
  void Loop();
  // Moves JS writes into the outgoing buffer, stopping at a frame boundary when audio may follow.
  void TakeWrites();
  void PumpUplink(int64_t now_us);
  bool AppendAudio(std::shared_ptr<TxTap>& tap, int64_t captured_us, int64_t now_us);
  void AppendControl(uint8_t opcode, const std::string& payload);
  void NextMask(uint8_t mask[4]);
  // Writes what it can of the outgoing buffer; false on a fatal error.
  bool Flush();
  // Reads what is there; false at the end of the stream or on a fatal error.
  bool ReadAvailable();
  // JS wants bytes and has not fallen behind the thread by kMaxUndelivered.
  bool MayRead() const;
  // Hands what passed the filter to JS as one kData event.
  void PassData(std::vector<uint8_t>* passed);
  void Fail(const std::string& code, const std::string& message);
  void TlsError(int ret, const char* what, std::string* code, std::string* message);
  double LagMs(int64_t now_us) const;
  // When the oldest audio not yet covered by a probe has waited the interval (monotonic us), or -1 while
  // all sent audio is covered.
  int64_t ProbeDeadlineUs() const;
  int64_t GraceUs() const;
  int64_t WaitMs(int64_t now_us) const;
  void Wake();

  const NetLinkOptions options_;
  EventFn on_event_;
  int fd_ = -1;
  int wake_fd_ = -1;
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  bool write_wants_read_ = false;  // TLS: the last write waits for the peer's records (renegotiation)
  bool read_wants_write_ = false;  // TLS: the last read waits to write records of its own
  std::thread thread_;

  // Shared with JS (mutex_).
  std::mutex mutex_;
  std::deque<std::vector<uint8_t>> writes_;
  uint64_t written_total_ = 0;    // JS bytes queued, ever
  uint64_t frames_from_ = ~0ull;  // JS byte position where WebSocket frames begin
  bool end_requested_ = false;
  std::shared_ptr<TxTap> pending_tap_;
  int pending_ring_fd_ = -1;  // a dup of the pending tap's port eventfd, or -1
  UplinkOptions pending_uplink_;
  bool uplink_changed_ = false;
  UplinkStats stats_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> reading_{true};
  std::atomic<size_t> undelivered_{0};  // bytes of kData events JS has not taken yet
  std::atomic<uint64_t> sends_{0};      // UplinkStats::sends

  // Link thread only.
  std::vector<uint8_t> out_;
  size_t out_sent_ = 0;           // bytes of out_ already written
  uint64_t out_total_ = 0;        // bytes ever appended to out_
  uint64_t js_taken_ = 0;         // JS bytes moved into out_
  size_t js_head_offset_ = 0;     // bytes of writes_.front() already moved
  std::deque<uint64_t> js_ends_;  // out_total_ at the end of each JS write, for kWritten
  FrameBoundaries js_frames_;
  ServerStreamFilter filter_{'n'};
  std::shared_ptr<TxTap> tap_;
  int ring_fd_ = -1;  // the thread's dup of tap_'s port eventfd (the audio thread wakes it), or -1
  UplinkOptions uplink_;
  std::deque<std::pair<uint64_t, int64_t>> audio_ends_;  // (out_total_ at its end, capture time µs)
  uint64_t probe_seq_ = 0;
  std::deque<std::pair<uint64_t, int64_t>> probes_;  // (seq, oldest write it covers, µs)
  int64_t uncovered_since_us_ = -1;
  uint8_t random_[256] = {};
  size_t random_used_ = sizeof random_;
  bool sent_fin_ = false;
  bool holding_ = false;  // audio waits in the ring (peer lagging or buffer full)
  bool eof_ = false;
};

}  // namespace speakerd
