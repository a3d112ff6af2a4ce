#include "net_link.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <pthread.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <utility>

#include "../common/base64.h"

namespace speakerd {
namespace {

constexpr size_t kReadChunk = 16384;
// Bytes read per pass of the loop (writes and the uplink go on between passes), and the most the
// thread reads ahead of JS (kData events JS has not taken): a peer that sends faster than JS takes
// its bytes fills the socket's buffers, not this process.
constexpr size_t kReadPass = 65536;
constexpr size_t kMaxUndelivered = 1 << 20;
constexpr size_t kLatencyKept = 512;
constexpr int kHoldRetryMs = 10;

int64_t MonotonicUs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
}

// errno as the name Node gives it (the codes connect-failure.ts tells apart).
std::string ErrnoName(int err) {
  switch (err) {
    case ECONNREFUSED: return "ECONNREFUSED";
    case ECONNRESET: return "ECONNRESET";
    case ETIMEDOUT: return "ETIMEDOUT";
    case EHOSTUNREACH: return "EHOSTUNREACH";
    case ENETUNREACH: return "ENETUNREACH";
    case EADDRNOTAVAIL: return "EADDRNOTAVAIL";
    case ECONNABORTED: return "ECONNABORTED";
    case EPIPE: return "EPIPE";
    case EACCES: return "EACCES";
    case EPERM: return "EPERM";
    case EAFNOSUPPORT: return "EAFNOSUPPORT";
    default: return "E" + std::to_string(err);
  }
}

// A certificate verification result as Node names it (tls.TLSSocket's error codes).
std::string VerifyCode(long result) {
  switch (result) {
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT: return "DEPTH_ZERO_SELF_SIGNED_CERT";
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN: return "SELF_SIGNED_CERT_IN_CHAIN";
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE: return "UNABLE_TO_VERIFY_LEAF_SIGNATURE";
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT: return "UNABLE_TO_GET_ISSUER_CERT";
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY: return "UNABLE_TO_GET_ISSUER_CERT_LOCALLY";
    case X509_V_ERR_CERT_HAS_EXPIRED: return "CERT_HAS_EXPIRED";
    case X509_V_ERR_CERT_NOT_YET_VALID: return "CERT_NOT_YET_VALID";
    case X509_V_ERR_CERT_REVOKED: return "CERT_REVOKED";
    case X509_V_ERR_CERT_UNTRUSTED: return "CERT_UNTRUSTED";
    case X509_V_ERR_CERT_REJECTED: return "CERT_REJECTED";
    case X509_V_ERR_CERT_SIGNATURE_FAILURE: return "CERT_SIGNATURE_FAILURE";
    case X509_V_ERR_INVALID_CA: return "INVALID_CA";
    case X509_V_ERR_INVALID_PURPOSE: return "INVALID_PURPOSE";
    case X509_V_ERR_UNABLE_TO_DECRYPT_CERT_SIGNATURE: return "UNABLE_TO_DECRYPT_CERT_SIGNATURE";
    case X509_V_ERR_PATH_LENGTH_EXCEEDED: return "PATH_LENGTH_EXCEEDED";
    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH: return "ERR_TLS_CERT_ALTNAME_INVALID";
    default: return "ERR_TLS_CERT_VERIFY_" + std::to_string(result);
  }
}

// The reason of the last OpenSSL error as ERR_SSL_<REASON> and its text.
void SslReason(std::string* code, std::string* text) {
  const unsigned long e = ERR_peek_last_error();
  const char* reason = e != 0 ? ERR_reason_error_string(e) : nullptr;
  *text = reason != nullptr ? reason : "unknown error";
  std::string upper;
  for (const char c : *text) upper += (c == ' ' || c == '-') ? '_' : static_cast<char>(std::toupper(c));
  *code = "ERR_SSL_" + upper;
  ERR_clear_error();
}

bool IsIpLiteral(const std::string& host) {
  in6_addr a6;
  in_addr a4;
  return inet_pton(AF_INET, host.c_str(), &a4) == 1 || inet_pton(AF_INET6, host.c_str(), &a6) == 1;
}

// Adds every certificate of a PEM text to `store`; returns how many.
int AddPem(X509_STORE* store, const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  if (bio == nullptr) return 0;
  int added = 0;
  while (X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) {
    if (X509_STORE_add_cert(store, cert) == 1) ++added;
    X509_free(cert);
  }
  BIO_free(bio);
  ERR_clear_error();  // the end of the text reads as an error
  return added;
}

int NoPassphrase(char*, int, int, void*) { return 0; }

}  // namespace

NetLink::NetLink(NetLinkOptions options, EventFn on_event)
    : options_(std::move(options)), on_event_(std::move(on_event)) {
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd_ < 0) throw std::runtime_error(std::string("eventfd: ") + std::strerror(errno));
  thread_ = std::thread([this] { Run(); });
}

NetLink::~NetLink() { Destroy(); }

void NetLink::Wake() {
  const uint64_t one = 1;
  if (write(wake_fd_, &one, sizeof one) < 0) {
    // Full only if the thread stopped reading it: it is awake already.
  }
}

void NetLink::Write(std::vector<uint8_t> bytes) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    written_total_ += bytes.size();
    writes_.push_back(std::move(bytes));
  }
  Wake();
}

void NetLink::MarkFrames() {
  std::lock_guard<std::mutex> lock(mutex_);
  frames_from_ = written_total_;
}

void NetLink::SetReading(bool reading) {
  reading_.store(reading);
  if (reading) Wake();
}

void NetLink::Delivered(size_t bytes) {
  const size_t before = undelivered_.fetch_sub(bytes);
  if (before >= kMaxUndelivered && before - bytes < kMaxUndelivered) Wake();
}

bool NetLink::MayRead() const { return reading_.load() && undelivered_.load() < kMaxUndelivered; }

void NetLink::End() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    end_requested_ = true;
  }
  Wake();
}

void NetLink::Destroy() {
  if (wake_fd_ < 0) return;
  stop_.store(true);
  Wake();
  if (thread_.joinable()) thread_.join();
  DetachUplink();
  if (ring_fd_ >= 0) close(ring_fd_);
  ring_fd_ = -1;
  if (ssl_ != nullptr) SSL_free(ssl_);
  if (ctx_ != nullptr) SSL_CTX_free(ctx_);
  ssl_ = nullptr;
  ctx_ = nullptr;
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
  close(wake_fd_);
  wake_fd_ = -1;
}

void NetLink::AttachUplink(std::shared_ptr<TxTap> tap, UplinkOptions options) {
  DetachUplink();
  int ring_fd = -1;
  {
    std::lock_guard<std::mutex> lock(tap->mutex);
    tap->wake_fd = wake_fd_;
    // The audio thread wakes this thread itself through the port's eventfd (a dup: the port closes its
    // own when it goes); without one, kTxReady comes through the engine's control thread.
    if (tap->ring != nullptr && tap->ring->tx_wake_fd() >= 0) {
      ring_fd = fcntl(tap->ring->tx_wake_fd(), F_DUPFD_CLOEXEC, 0);
      if (ring_fd >= 0) tap->ring->SetTxDirect(true);
    }
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (pending_ring_fd_ >= 0) close(pending_ring_fd_);
    pending_ring_fd_ = ring_fd;
    pending_tap_ = std::move(tap);
    pending_uplink_ = std::move(options);
    uplink_changed_ = true;
    stats_.attached = true;
  }
  Wake();
}

void NetLink::DetachUplink() {
  std::shared_ptr<TxTap> tap;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    tap = pending_tap_;
    pending_tap_.reset();
    if (pending_ring_fd_ >= 0) close(pending_ring_fd_);
    pending_ring_fd_ = -1;
    uplink_changed_ = true;
    stats_.attached = false;
  }
  if (!tap) return;
  // From here on the link's thread does not read the ring (it checks wake_fd under this mutex).
  std::lock_guard<std::mutex> lock(tap->mutex);
  if (tap->wake_fd == wake_fd_) {
    tap->wake_fd = -1;
    if (tap->ring != nullptr) {
      tap->ring->SetTxDirect(false);
      tap->ring->RearmTx();
    }
  }
}

UplinkStats NetLink::Stats() {
  std::lock_guard<std::mutex> lock(mutex_);
  UplinkStats out = stats_;
  out.sends = sends_.load(std::memory_order_relaxed);
  return out;
}

void NetLink::Run() {
  pthread_setname_np(pthread_self(), "speakerd-net");
  std::string code;
  std::string message;
  const int64_t deadline_ms = MonotonicUs() / 1000 + options_.connect_timeout_ms;
  if (!ConnectSocket(&code, &message) ||
      (options_.tls && (!SetUpTls(&code, &message) || !Handshake(deadline_ms, &code, &message)))) {
    if (!stop_.load()) Fail(code, message);
    return;
  }
  on_event_(NetEvent{NetEvent::Type::kConnect, {}, 0, "", ""});
  Loop();
}

bool NetLink::ConnectSocket(std::string* code, std::string* message) {
  sockaddr_storage addr{};
  socklen_t len = 0;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&addr);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&addr);
  if (inet_pton(AF_INET, options_.address.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<uint16_t>(options_.port));
    len = sizeof *v4;
  } else if (inet_pton(AF_INET6, options_.address.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<uint16_t>(options_.port));
    len = sizeof *v6;
  } else {
    *code = "EINVAL";
    *message = "not a numeric address: " + options_.address;
    return false;
  }
  fd_ = socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) {
    *code = ErrnoName(errno);
    *message = std::string("socket: ") + std::strerror(errno);
    return false;
  }
  const int one = 1;
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  const std::string where = options_.address + ":" + std::to_string(options_.port);
  if (connect(fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 && errno != EINPROGRESS) {
    *code = ErrnoName(errno);
    *message = "connect " + *code + " " + where;
    return false;
  }
  const int64_t deadline_ms = MonotonicUs() / 1000 + options_.connect_timeout_ms;
  for (;;) {
    pollfd fds[2] = {{fd_, POLLOUT, 0}, {wake_fd_, POLLIN, 0}};
    const int64_t left = deadline_ms - MonotonicUs() / 1000;
    if (left <= 0) {
      *code = "ETIMEDOUT";
      *message = "connect ETIMEDOUT " + where;
      return false;
    }
    if (poll(fds, 2, static_cast<int>(left)) < 0 && errno != EINTR) break;
    if (stop_.load()) return false;
    if (fds[1].revents & POLLIN) {
      uint64_t n;
      if (read(wake_fd_, &n, sizeof n) < 0) {
        // Nothing to read: woken by another event.
      }
    }
    if (fds[0].revents != 0) break;
  }
  int err = 0;
  socklen_t err_len = sizeof err;
  getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &err_len);
  if (err != 0) {
    *code = ErrnoName(err);
    *message = "connect " + *code + " " + where;
    return false;
  }
  return true;
}

bool NetLink::SetUpTls(std::string* code, std::string* message) {
  ctx_ = SSL_CTX_new(TLS_client_method());
  if (ctx_ == nullptr) {
    SslReason(code, message);
    return false;
  }
  SSL_CTX_set_min_proto_version(ctx_, options_.min_version);
  SSL_CTX_set_mode(ctx_, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  SSL_CTX_set_default_passwd_cb(ctx_, NoPassphrase);
#ifdef SSL_OP_IGNORE_UNEXPECTED_EOF
  // A peer that closes TCP without close_notify ends the stream, as for Node's TLS sockets (OpenSSL 3
  // makes it an error: an HTTP reply whose body ends with the connection read as a TLS failure). The
  // WebSocket framing above finds any truncation.
  SSL_CTX_set_options(ctx_, SSL_OP_IGNORE_UNEXPECTED_EOF);
#endif
  if (options_.verify) {
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
    X509_STORE* store = SSL_CTX_get_cert_store(ctx_);
    for (const std::string& pem : options_.ca_pems) AddPem(store, pem);
    if (options_.default_paths && SSL_CTX_set_default_verify_paths(ctx_) != 1) ERR_clear_error();
  } else {
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_NONE, nullptr);
  }
  if (!options_.cert_pem.empty()) {
    BIO* bio = BIO_new_mem_buf(options_.cert_pem.data(), static_cast<int>(options_.cert_pem.size()));
    X509* leaf = bio != nullptr ? PEM_read_bio_X509(bio, nullptr, NoPassphrase, nullptr) : nullptr;
    bool ok = leaf != nullptr && SSL_CTX_use_certificate(ctx_, leaf) == 1;
    X509_free(leaf);
    while (ok) {
      X509* extra = PEM_read_bio_X509(bio, nullptr, NoPassphrase, nullptr);
      if (extra == nullptr) break;
      if (SSL_CTX_add_extra_chain_cert(ctx_, extra) != 1) {
        X509_free(extra);
        ok = false;
      }
    }
    BIO_free(bio);
    ERR_clear_error();
    BIO* key_bio = BIO_new_mem_buf(options_.key_pem.data(), static_cast<int>(options_.key_pem.size()));
    EVP_PKEY* key = key_bio != nullptr ? PEM_read_bio_PrivateKey(key_bio, nullptr, NoPassphrase, nullptr) : nullptr;
    BIO_free(key_bio);
    ok = ok && key != nullptr && SSL_CTX_use_PrivateKey(ctx_, key) == 1 && SSL_CTX_check_private_key(ctx_) == 1;
    EVP_PKEY_free(key);
    if (!ok) {
      ERR_clear_error();
      *code = "ERR_SSL_CLIENT_CERTIFICATE";
      *message = "the client certificate or its key cannot be used (a key with a passphrase is not supported)";
      return false;
    }
  }
  ssl_ = SSL_new(ctx_);
  if (ssl_ == nullptr || SSL_set_fd(ssl_, fd_) != 1) {
    SslReason(code, message);
    return false;
  }
  if (!options_.servername.empty()) SSL_set_tlsext_host_name(ssl_, options_.servername.c_str());
  if (options_.verify && !options_.host.empty()) {
    const bool ok = IsIpLiteral(options_.host)
                        ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_), options_.host.c_str()) == 1
                        : SSL_set1_host(ssl_, options_.host.c_str()) == 1;
    if (!ok) {
      SslReason(code, message);
      return false;
    }
  }
  SSL_set_connect_state(ssl_);
  return true;
}

void NetLink::TlsError(int ret, const char* what, std::string* code, std::string* message) {
  const int err = SSL_get_error(ssl_, ret);
  // Without verification the result is still recorded (and ignored): it says nothing of this error.
  const long verify = options_.verify ? SSL_get_verify_result(ssl_) : X509_V_OK;
  if (verify != X509_V_OK) {
    *code = VerifyCode(verify);
    *message = *code == "ERR_TLS_CERT_ALTNAME_INVALID"
                   ? "Hostname/IP does not match certificate's altnames: " + options_.host
                   : std::string(X509_verify_cert_error_string(verify));
    ERR_clear_error();
    return;
  }
  if (err == SSL_ERROR_SYSCALL && ERR_peek_last_error() == 0) {
    *code = errno != 0 ? ErrnoName(errno) : "ECONNRESET";
    *message = std::string("Client network socket disconnected during TLS ") + what;
    return;
  }
  std::string reason;
  SslReason(code, &reason);
  *message = std::string("TLS ") + what + " failed: " + reason;
}

bool NetLink::Handshake(int64_t deadline_ms, std::string* code, std::string* message) {
  for (;;) {
    ERR_clear_error();
    errno = 0;
    const int ret = SSL_connect(ssl_);
    if (ret == 1) return true;
    const int err = SSL_get_error(ssl_, ret);
    if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) {
      TlsError(ret, "handshake", code, message);
      return false;
    }
    pollfd fds[2] = {{fd_, static_cast<short>(err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT), 0},
                     {wake_fd_, POLLIN, 0}};
    const int64_t left = deadline_ms - MonotonicUs() / 1000;
    if (left <= 0) {
      *code = "ETIMEDOUT";
      *message = "the TLS handshake did not finish in time";
      return false;
    }
    if (poll(fds, 2, static_cast<int>(left)) < 0 && errno != EINTR) {
      *code = ErrnoName(errno);
      *message = "poll failed";
      return false;
    }
    if (stop_.load()) return false;
    if (fds[1].revents & POLLIN) {
      uint64_t n;
      if (read(wake_fd_, &n, sizeof n) < 0) {
        // Woken by another event.
      }
    }
  }
}

void NetLink::Fail(const std::string& code, const std::string& message) {
  on_event_(NetEvent{NetEvent::Type::kError, {}, 0, code, message});
}

void NetLink::Loop() {
  while (!stop_.load()) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (uplink_changed_) {
        uplink_changed_ = false;
        tap_ = pending_tap_;
        uplink_ = pending_uplink_;
        if (ring_fd_ >= 0) close(ring_fd_);
        ring_fd_ = pending_ring_fd_;
        pending_ring_fd_ = -1;
      }
    }
    const int64_t now = MonotonicUs();
    TakeWrites();
    PumpUplink(now);
    if (!Flush()) return;
    bool finish = false;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      finish = end_requested_ && writes_.empty();
    }
    if (finish && out_sent_ == out_.size() && !sent_fin_) {
      sent_fin_ = true;
      if (ssl_ != nullptr) SSL_shutdown(ssl_);
      shutdown(fd_, SHUT_WR);
    }
    const bool reading = MayRead() && !eof_;
    if (reading && ssl_ != nullptr && SSL_pending(ssl_) > 0) {
      if (!ReadAvailable()) return;
      continue;
    }
    // TLS (a renegotiation): a write that waits for the peer's records waits for POLLIN, not POLLOUT
    // (the socket is writable: POLLOUT would return at once, for ever); a read that waits to write its
    // records waits for POLLOUT, and is then retried.
    short events = 0;
    if (reading || write_wants_read_) events |= POLLIN;
    if ((out_sent_ < out_.size() && !write_wants_read_) || (read_wants_write_ && reading)) events |= POLLOUT;
    // A socket with nothing asked of it stays out of the poll (a hang-up would wake it for ever).
    // The port's eventfd only while its tap is held (PumpUplink lets go of a port that is gone).
    pollfd fds[3] = {{events != 0 ? fd_ : -1, events, 0}, {wake_fd_, POLLIN, 0}, {tap_ ? ring_fd_ : -1, POLLIN, 0}};
    const int64_t wait = WaitMs(now);
    if (poll(fds, 3, static_cast<int>(wait)) < 0 && errno != EINTR) {
      Fail(ErrnoName(errno), "poll failed");
      return;
    }
    for (int i = 1; i < 3; ++i) {
      uint64_t n;
      if ((fds[i].revents & POLLIN) && read(fds[i].fd, &n, sizeof n) < 0) {
        // Woken by another event.
      }
    }
    const short revents = fds[0].revents;
    if (revents & (POLLIN | POLLHUP | POLLERR)) write_wants_read_ = false;  // the write is retried first thing
    if (reading && ((revents & (POLLIN | POLLHUP | POLLERR)) || (read_wants_write_ && (revents & POLLOUT)))) {
      if (!ReadAvailable()) return;
    }
  }
}

int64_t NetLink::WaitMs(int64_t now_us) const {
  if (!tap_ || js_frames_.closing()) return -1;
  if (holding_) return kHoldRetryMs;
  const int64_t deadline_us = ProbeDeadlineUs();
  if (deadline_us < 0) return -1;
  const int64_t due = deadline_us - now_us;
  return due <= 0 ? 1 : (due + 999) / 1000;
}

int64_t NetLink::ProbeDeadlineUs() const {
  return uncovered_since_us_ < 0 ? -1 : uncovered_since_us_ + static_cast<int64_t>(uplink_.probe_interval_ms) * 1000;
}

int64_t NetLink::GraceUs() const {
  return static_cast<int64_t>(std::min(uplink_.probe_grace_ms, uplink_.probe_interval_ms)) * 1000;
}

void NetLink::TakeWrites() {
  std::lock_guard<std::mutex> lock(mutex_);
  while (!writes_.empty()) {
    std::vector<uint8_t>& head = writes_.front();
    const uint8_t* data = head.data() + js_head_offset_;
    const size_t left = head.size() - js_head_offset_;
    // Bytes after the upgrade are followed frame by frame; before it they pass whole.
    const size_t take = js_taken_ >= frames_from_ ? js_frames_.Consume(data, left) : left;
    out_.insert(out_.end(), data, data + take);
    out_total_ += take;
    js_taken_ += take;
    js_head_offset_ += take;
    if (js_head_offset_ == head.size()) {
      writes_.pop_front();
      js_head_offset_ = 0;
      js_ends_.push_back(out_total_);
    }
  }
}

void NetLink::NextMask(uint8_t mask[4]) {
  if (random_used_ + 4 > sizeof random_) {
    if (getrandom(random_, sizeof random_, 0) != static_cast<ssize_t>(sizeof random_)) {
      // No entropy source: masks still differ per frame (RFC 6455 asks for unpredictable keys).
      for (size_t i = 0; i < sizeof random_; ++i) random_[i] = static_cast<uint8_t>(MonotonicUs() >> (i % 8));
    }
    random_used_ = 0;
  }
  std::memcpy(mask, random_ + random_used_, 4);
  random_used_ += 4;
}

void NetLink::AppendControl(uint8_t opcode, const std::string& payload) {
  uint8_t mask[4];
  NextMask(mask);
  const size_t at = out_.size();
  out_.resize(at + 14 + payload.size());
  const size_t header = WriteClientHeader(out_.data() + at, opcode, payload.size(), mask);
  std::memcpy(out_.data() + at + header, payload.data(), payload.size());
  ApplyMask(out_.data() + at + header, payload.size(), mask);
  out_.resize(at + header + payload.size());
  out_total_ += header + payload.size();
}

bool NetLink::AppendAudio(std::shared_ptr<TxTap>& tap, int64_t captured_us, int64_t now_us) {
  const size_t batch = uplink_.batch;
  const size_t payload = uplink_.prefix.size() + Pcm16Base64Writer::EncodedSize(batch) + uplink_.suffix.size();
  uint8_t mask[4];
  NextMask(mask);
  const size_t at = out_.size();
  out_.resize(at + 14 + payload);
  uint8_t* p = out_.data() + at;
  const size_t header = WriteClientHeader(p, kWsText, payload, mask);
  uint8_t* body = p + header;
  std::memcpy(body, uplink_.prefix.data(), uplink_.prefix.size());
  Pcm16Base64Writer writer(body + uplink_.prefix.size());
  if (!tap->ring->ReadTxSpans(batch, [&writer](const int16_t* s, size_t n) { writer.Feed(s, n); })) {
    out_.resize(at);
    return false;
  }
  const size_t encoded = writer.Finish();
  std::memcpy(body + uplink_.prefix.size() + encoded, uplink_.suffix.data(), uplink_.suffix.size());
  ApplyMask(body, payload, mask);
  out_.resize(at + header + payload);
  out_total_ += header + payload;
  audio_ends_.emplace_back(out_total_, captured_us);
  if (uncovered_since_us_ < 0) uncovered_since_us_ = now_us;
  return true;
}

double NetLink::LagMs(int64_t now_us) const {
  const int64_t oldest = probes_.empty() ? uncovered_since_us_ : probes_.front().second;
  return oldest < 0 ? 0.0 : static_cast<double>(now_us - oldest) / 1000.0;
}

void NetLink::PumpUplink(int64_t now_us) {
  holding_ = false;
  if (!tap_) return;
  // Audio goes only between two of ws's frames, only after the upgrade, and never after ws's close frame.
  if (js_taken_ < frames_from_ || !js_frames_.between_frames() || js_frames_.closing()) return;
  uint64_t sent = 0;
  uint64_t stale = 0;
  bool probed_alone = false;
  bool probed = false;
  {
    // Keeps the tap (and the mutex held) alive until the lock is released: tap_ may be its last owner.
    const std::shared_ptr<TxTap> tap = tap_;
    std::lock_guard<std::mutex> lock(tap->mutex);
    if (tap->ring == nullptr || tap->wake_fd != wake_fd_) {
      tap_.reset();
      std::lock_guard<std::mutex> stats_lock(mutex_);
      // The port is gone or another link took the ring: this link sends nothing until attached anew.
      if (!pending_tap_ || pending_tap_ == tap) stats_.attached = false;
      return;
    }
    // Each batch is dated by its last sample against the latest wakeup (tick time, write position): the
    // audio thread's own where it wakes this thread directly, else kTxReady's; before the first one,
    // against now and the ring's write position.
    int64_t time_us = now_us;
    int64_t written_then = static_cast<int64_t>(tap_->ring->tx_write_position());
    if (!tap_->ring->TxWakeDate(&time_us, &written_then) && tap_->event_seq != 0) {
      time_us = tap_->event_time_us;
      written_then = tap_->event_write_position;
    }
    const int64_t batch = static_cast<int64_t>(uplink_.batch);
    const double us_per_sample = 1e6 / tap_->rate;
    const int64_t max_age_us = static_cast<int64_t>(uplink_.max_age_ms) * 1000;
    // A probe covers the audio sent before it, and no audio waits longer than the interval for one. In
    // the grace before that deadline a probe rides on a batch ready to go; at the deadline it goes alone.
    const bool batch_ready = tap_->ring->tx_buffered() >= uplink_.batch;
    const int64_t deadline_us = ProbeDeadlineUs();
    if (deadline_us >= 0 && (now_us >= deadline_us || (batch_ready && now_us >= deadline_us - GraceUs()))) {
      ++probe_seq_;
      probes_.emplace_back(probe_seq_, uncovered_since_us_);
      uncovered_since_us_ = -1;
      AppendControl(kWsPing, "n" + std::to_string(probe_seq_));
      probed = true;
      probed_alone = !batch_ready;
    }
    while (tap_->ring->tx_buffered() >= uplink_.batch) {
      const int64_t end = static_cast<int64_t>(tap_->ring->tx_read_position()) + batch;
      const int64_t captured = time_us + static_cast<int64_t>(static_cast<double>(end - written_then) * us_per_sample);
      if (now_us - captured > max_age_us) {
        tap_->ring->ReadTxSpans(uplink_.batch, [](const int16_t*, size_t) {});
        ++stale;
        continue;
      }
      if (LagMs(now_us) > uplink_.max_age_ms || out_.size() - out_sent_ > uplink_.high_water) {
        holding_ = true;
        break;
      }
      if (!AppendAudio(tap_, captured, now_us)) break;
      ++sent;
    }
  }
  std::lock_guard<std::mutex> lock(mutex_);
  stats_.sent_messages += sent;
  stats_.sent_samples += sent * uplink_.batch;
  stats_.stale_messages += stale;
  stats_.stale_samples += stale * uplink_.batch;
  stats_.probes += probed ? 1 : 0;
  stats_.probes_alone += probed && (probed_alone || sent == 0) ? 1 : 0;
  stats_.lag_ms = LagMs(now_us);
}

bool NetLink::Flush() {
  while (out_sent_ < out_.size()) {
    const size_t left = out_.size() - out_sent_;
    if (ssl_ != nullptr) {
      ERR_clear_error();
      errno = 0;
      const int n = SSL_write(ssl_, out_.data() + out_sent_, static_cast<int>(left > (1u << 30) ? (1u << 30) : left));
      if (n > 0) {
        out_sent_ += static_cast<size_t>(n);
        sends_.fetch_add(1, std::memory_order_relaxed);
        write_wants_read_ = false;
        continue;
      }
      const int err = SSL_get_error(ssl_, n);
      if (err == SSL_ERROR_WANT_WRITE) break;
      if (err == SSL_ERROR_WANT_READ) {
        write_wants_read_ = true;
        break;
      }
      std::string code;
      std::string message;
      TlsError(n, "write", &code, &message);
      Fail(code, message);
      return false;
    }
    const ssize_t n = send(fd_, out_.data() + out_sent_, left, MSG_NOSIGNAL);
    if (n > 0) {
      out_sent_ += static_cast<size_t>(n);
      sends_.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    if (n < 0 && errno == EINTR) continue;
    const std::string code = ErrnoName(n < 0 ? errno : EPIPE);
    Fail(code, "write " + code);
    return false;
  }
  const uint64_t written = out_total_ - (out_.size() - out_sent_);
  if (out_sent_ == out_.size()) {
    out_.clear();
    out_sent_ = 0;
  } else if (out_sent_ >= 65536) {
    out_.erase(out_.begin(), out_.begin() + static_cast<std::ptrdiff_t>(out_sent_));
    out_sent_ = 0;
  }
  uint64_t done = 0;
  while (!js_ends_.empty() && js_ends_.front() <= written) {
    js_ends_.pop_front();
    ++done;
  }
  if (!audio_ends_.empty() && audio_ends_.front().first <= written) {
    const int64_t now = MonotonicUs();
    std::lock_guard<std::mutex> lock(mutex_);
    while (!audio_ends_.empty() && audio_ends_.front().first <= written) {
      if (stats_.mic_to_wire_ms.size() >= kLatencyKept) stats_.mic_to_wire_ms.erase(stats_.mic_to_wire_ms.begin());
      stats_.mic_to_wire_ms.push_back(static_cast<float>(now - audio_ends_.front().second) / 1000.0f);
      audio_ends_.pop_front();
    }
  }
  if (done > 0) on_event_(NetEvent{NetEvent::Type::kWritten, {}, done, "", ""});
  return true;
}

void NetLink::PassData(std::vector<uint8_t>* passed) {
  if (passed->empty()) return;
  undelivered_.fetch_add(passed->size());
  on_event_(NetEvent{NetEvent::Type::kData, std::move(*passed), 0, "", ""});
  passed->clear();
}

bool NetLink::ReadAvailable() {
  uint8_t buffer[kReadChunk];
  std::vector<uint8_t> passed;
  bool answered = false;
  auto on_probe = [this, &answered](const std::string& payload) {
    const unsigned long long seq = std::strtoull(payload.c_str(), nullptr, 10);
    // A pong for a probe not yet sent proves nothing (a forged one would release audio held for a
    // peer that does not read).
    if (seq > probe_seq_) return;
    while (!probes_.empty() && probes_.front().first <= seq) probes_.pop_front();
    answered = true;
  };
  size_t read = 0;
  while (read < kReadPass && MayRead()) {
    ssize_t n;
    if (ssl_ != nullptr) {
      ERR_clear_error();
      errno = 0;
      const int r = SSL_read(ssl_, buffer, sizeof buffer);
      read_wants_write_ = false;
      if (r <= 0) {
        const int err = SSL_get_error(ssl_, r);
        if (err == SSL_ERROR_WANT_READ) break;
        if (err == SSL_ERROR_WANT_WRITE) {
          read_wants_write_ = true;
          break;
        }
        if (err == SSL_ERROR_ZERO_RETURN || (err == SSL_ERROR_SYSCALL && errno == 0 && ERR_peek_last_error() == 0)) {
          n = 0;
        } else {
          std::string code;
          std::string message;
          TlsError(r, "read", &code, &message);
          Fail(code, message);
          return false;
        }
      } else {
        n = r;
      }
    } else {
      n = recv(fd_, buffer, sizeof buffer, 0);
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        const std::string code = ErrnoName(errno);
        Fail(code, "read " + code);
        return false;
      }
    }
    if (n == 0) {
      PassData(&passed);
      eof_ = true;
      on_event_(NetEvent{NetEvent::Type::kEnd, {}, 0, "", ""});
      return true;
    }
    read += static_cast<size_t>(n);
    filter_.Feed(buffer, static_cast<size_t>(n), &passed, on_probe);
  }
  PassData(&passed);
  if (answered) {
    std::lock_guard<std::mutex> lock(mutex_);
    stats_.lag_ms = LagMs(MonotonicUs());
  }
  return true;
}

}  // namespace speakerd
