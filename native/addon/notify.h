// sd_notify without libsystemd: one datagram to $NOTIFY_SOCKET, and a receiver for tests.
#pragma once

#include <napi.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <string>

namespace speakerd {

// Fills a sockaddr_un for a notify socket `path`; a leading '@' is the abstract namespace (no
// trailing NUL counted). False when the path is empty or too long.
bool NotifySocketAddress(const std::string& path, sockaddr_un* addr, socklen_t* length);

// notify(state: string): boolean. Sends `state` to $NOTIFY_SOCKET (a leading '@' is the abstract
// namespace); false when the variable is unset. Throws Error{code:'ERR_NOTIFY'} when sending fails.
Napi::Value Notify(const Napi::CallbackInfo& info);

// peerCredentials(fd: number): { uid, gid, pid } | null — SO_PEERCRED of a connected Unix socket.
Napi::Value PeerCredentials(const Napi::CallbackInfo& info);

// JavaScript class `NotifyReceiver(path)`: binds a datagram socket like systemd's and returns
// { message, pid } per datagram from receive(timeoutMs) (null on timeout); close() releases it.
class NotifyReceiverWrap : public Napi::ObjectWrap<NotifyReceiverWrap> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit NotifyReceiverWrap(const Napi::CallbackInfo& info);
  ~NotifyReceiverWrap() override;

 private:
  Napi::Value Receive(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);
  int fd_ = -1;
};

}  // namespace speakerd
