#include "spi.h"

#include <linux/spi/spidev.h>
#include <sys/ioctl.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>

#include "args.h"

namespace speakerd {

namespace {

template <typename T>
void Set(Napi::Env env, int fd, unsigned long request, T value, const char* what) {
  if (ioctl(fd, request, &value) < 0) {
    throw CodedError(env, "ERR_SPI_CONFIG", std::string("cannot set the SPI ") + what + ": " + std::strerror(errno));
  }
}

}  // namespace

Napi::Value SpiConfigure(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int fd = RequireInt(info, 0, "fd", 0, 1 << 30);
  const int mode = RequireInt(info, 1, "mode", 0, 3);
  const int speed = RequireInt(info, 2, "speedHz", 0, 100000000);
  const int bits = RequireInt(info, 3, "bitsPerWord", 1, 32);
  Set<uint8_t>(env, fd, SPI_IOC_WR_MODE, static_cast<uint8_t>(mode), "mode");
  Set<uint8_t>(env, fd, SPI_IOC_WR_BITS_PER_WORD, static_cast<uint8_t>(bits), "word size");
  if (speed > 0) Set<uint32_t>(env, fd, SPI_IOC_WR_MAX_SPEED_HZ, static_cast<uint32_t>(speed), "clock");
  return env.Undefined();
}

}  // namespace speakerd
