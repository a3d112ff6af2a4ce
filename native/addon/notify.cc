#include "notify.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

#include "args.h"

namespace speakerd {

bool NotifySocketAddress(const std::string& path, sockaddr_un* addr, socklen_t* length) {
  std::memset(addr, 0, sizeof(*addr));
  addr->sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(addr->sun_path)) return false;
  std::memcpy(addr->sun_path, path.data(), path.size());
  if (path[0] == '@') addr->sun_path[0] = '\0';
  *length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() + (path[0] == '@' ? 0 : 1));
  return true;
}

Napi::Value Notify(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) throw Napi::TypeError::New(env, "state must be a string");
  const std::string state = info[0].As<Napi::String>().Utf8Value();
  const char* socket_path = std::getenv("NOTIFY_SOCKET");
  if (socket_path == nullptr || socket_path[0] == '\0') return Napi::Boolean::New(env, false);
  sockaddr_un addr;
  socklen_t length = 0;
  if (!NotifySocketAddress(socket_path, &addr, &length))
    throw CodedError(env, "ERR_NOTIFY", "NOTIFY_SOCKET is not a usable path");
  const int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    throw CodedError(env, "ERR_NOTIFY", std::string("cannot create the notify socket: ") + std::strerror(errno));
  const ssize_t sent = sendto(fd, state.data(), state.size(), MSG_NOSIGNAL, reinterpret_cast<sockaddr*>(&addr), length);
  const int err = errno;
  close(fd);
  if (sent < 0) throw CodedError(env, "ERR_NOTIFY", std::string("sd_notify failed: ") + std::strerror(err));
  return Napi::Boolean::New(env, true);
}

Napi::Value PeerCredentials(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int fd = RequireInt(info, 0, "fd", 0, 1 << 30);
  ucred cred{};
  socklen_t length = sizeof(cred);
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &length) < 0 || length != sizeof(cred)) return env.Null();
  Napi::Object out = Napi::Object::New(env);
  out.Set("uid", static_cast<double>(cred.uid));
  out.Set("gid", static_cast<double>(cred.gid));
  out.Set("pid", static_cast<double>(cred.pid));
  return out;
}

Napi::Function NotifyReceiverWrap::Define(Napi::Env env) {
  return DefineClass(
      env, "NotifyReceiver",
      {InstanceMethod<&NotifyReceiverWrap::Receive>("receive"), InstanceMethod<&NotifyReceiverWrap::Close>("close")});
}

NotifyReceiverWrap::NotifyReceiverWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NotifyReceiverWrap>(info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) throw Napi::TypeError::New(env, "path must be a string");
  const std::string path = info[0].As<Napi::String>().Utf8Value();
  sockaddr_un addr;
  socklen_t length = 0;
  if (!NotifySocketAddress(path, &addr, &length)) throw Napi::RangeError::New(env, "path must be 1 to 107 bytes");
  fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  const int on = 1;
  if (fd_ < 0 || setsockopt(fd_, SOL_SOCKET, SO_PASSCRED, &on, sizeof(on)) < 0 ||
      bind(fd_, reinterpret_cast<sockaddr*>(&addr), length) < 0) {
    const int err = errno;
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
    throw CodedError(env, "ERR_NOTIFY", std::string("cannot bind ") + path + ": " + std::strerror(err));
  }
}

NotifyReceiverWrap::~NotifyReceiverWrap() {
  if (fd_ >= 0) close(fd_);
}

Napi::Value NotifyReceiverWrap::Receive(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (fd_ < 0) throw CodedError(env, "ERR_NOTIFY", "the receiver is closed");
  const int timeout = RequireInt(info, 0, "timeoutMs", 0, 60000);
  pollfd p{fd_, POLLIN, 0};
  if (poll(&p, 1, timeout) <= 0) return env.Null();
  char data[4096];
  char control[CMSG_SPACE(sizeof(ucred))];
  iovec iov{data, sizeof(data) - 1};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof(control);
  const ssize_t n = recvmsg(fd_, &msg, MSG_DONTWAIT);
  if (n < 0) return env.Null();
  Napi::Object out = Napi::Object::New(env);
  out.Set("message", std::string(data, static_cast<size_t>(n)));
  double pid = -1;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS) {
      ucred cred;
      std::memcpy(&cred, CMSG_DATA(c), sizeof(cred));
      pid = cred.pid;
    }
  }
  out.Set("pid", pid);
  return out;
}

Napi::Value NotifyReceiverWrap::Close(const Napi::CallbackInfo& info) {
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
  return info.Env().Undefined();
}

}  // namespace speakerd
