/** Linux input event types and the key and switch codes a speaker's buttons use (linux/input-event-codes.h). */

/** Event types. */
export const EV_SYN = 0x00;
/** A key or button: value 1 press, 0 release, 2 autorepeat. */
export const EV_KEY = 0x01;
/** A switch: value 1 on, 0 off. */
export const EV_SW = 0x05;

/** Key codes by name. */
export const KEY_CODES: Readonly<Record<string, number>> = {
  KEY_ENTER: 28,
  KEY_SPACE: 57,
  KEY_MUTE: 113,
  KEY_VOLUMEDOWN: 114,
  KEY_VOLUMEUP: 115,
  KEY_POWER: 116,
  KEY_PROG1: 148,
  KEY_PLAYPAUSE: 164,
  KEY_STOPCD: 166,
  KEY_MICMUTE: 248,
  KEY_VOICECOMMAND: 0x246,
  KEY_ASSISTANT: 0x247,
  BTN_0: 0x100,
  BTN_1: 0x101,
  BTN_2: 0x102,
  BTN_3: 0x103,
};

/** Switch codes by name (EV_SW). */
export const SWITCH_CODES: Readonly<Record<string, number>> = {
  SW_MUTE_DEVICE: 0x0e,
  SW_MICROPHONE_INSERT: 0x04,
};
