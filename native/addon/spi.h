// spidev settings for LED strips (APA102 over SPI): the SPI_IOC_WR_* ioctls Node cannot make.
#pragma once

#include <napi.h>

namespace speakerd {

// spiConfigure(fd, mode, speedHz, bitsPerWord): sets the SPI mode (0..3), the maximum clock in Hz
// (0 = leave it) and the word size on an open spidev descriptor. Throws TypeError/RangeError for bad
// arguments and Error{code:'ERR_SPI_CONFIG'} naming the setting when the device refuses it (for
// example ENOTTY: the descriptor is not a spidev device).
Napi::Value SpiConfigure(const Napi::CallbackInfo& info);

}  // namespace speakerd
