#include "evdev.h"

#include <linux/input.h>
#include <sys/ioctl.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "args.h"

namespace speakerd {

Napi::Value EvdevSwitches(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int fd = RequireInt(info, 0, "fd", 0, 1 << 30);
  unsigned char bits[(SW_MAX + 8) / 8] = {};
  if (ioctl(fd, EVIOCGSW(sizeof bits), bits) < 0) {
    throw CodedError(env, "ERR_BUTTON_DEVICE", std::string("cannot read the switches: ") + std::strerror(errno));
  }
  Napi::Array on = Napi::Array::New(env);
  uint32_t n = 0;
  for (int code = 0; code <= SW_MAX; code++) {
    if (bits[code / 8] & (1u << (code % 8))) on.Set(n++, Napi::Number::New(env, code));
  }
  return on;
}

}  // namespace speakerd
