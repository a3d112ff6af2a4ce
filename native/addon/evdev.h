// evdev queries Node cannot make: the state of an input device's switches (EVIOCGSW).
#pragma once

#include <napi.h>

namespace speakerd {

// evdevSwitches(fd): the codes of the switches (EV_SW) that are on right now, as an array of numbers.
// A switch's position is only reported when it changes, so after a (re)start this is the only way to
// know where a mute switch stands. Throws Error{code:'ERR_BUTTON_DEVICE'} when the ioctl fails (e.g.
// ENOTTY: not an input device).
Napi::Value EvdevSwitches(const Napi::CallbackInfo& info);

}  // namespace speakerd
