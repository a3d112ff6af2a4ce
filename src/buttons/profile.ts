/**
 * The `buttons` section of a board profile: evdev keys and GPIO lines mapped to actions, and an
 * optional hardware mute switch (an evdev switch or a GPIO line).
 */
import { checkLine, fail, isObj, optionalPath, type Obj } from '../leds/profile-check.js';
import type { GpioLineConfig } from './gpio/chip.js';
import { KEY_CODES, SWITCH_CODES } from './evdev-codes.js';

/** What a button does. 'talk' is push-to-talk when `buttons.pushToTalk` is on, else interrupt. */
export type ButtonAction = 'mute' | 'volume_up' | 'volume_down' | 'interrupt' | 'talk' | 'reconnect' | 'none';

/** Every action name. */
export const ACTIONS: readonly ButtonAction[] = ['mute', 'volume_up', 'volume_down', 'interrupt', 'talk', 'reconnect', 'none'];

/** A button's actions: on a short press, on a long press (optional), and whether holding repeats `press`. */
export interface ButtonBinding {
  name: string;
  press: ButtonAction;
  long?: ButtonAction;
  repeat?: boolean;
}

/** Buttons of a board. */
export interface ButtonsProfile {
  evdev?: { device: string; keys: Map<number, ButtonBinding>; muteSwitch?: number };
  gpio?: { chip: string; buttons: (GpioLineConfig & ButtonBinding)[]; muteSwitch?: GpioLineConfig };
}

function action(value: unknown, field: string): ButtonAction {
  if (!ACTIONS.includes(value as ButtonAction)) fail(field, `must be one of ${ACTIONS.join(', ')}`);
  return value as ButtonAction;
}

function binding(value: unknown, name: string, field: string): ButtonBinding {
  if (!isObj(value)) fail(field, 'must be {"press": <action>, "long"?: <action>, "repeat"?: bool}');
  if (value.repeat !== undefined && typeof value.repeat !== 'boolean') fail(`${field}.repeat`, 'must be true or false');
  if (value.repeat === true && value.long !== undefined) fail(field, 'cannot both repeat and have a long press');
  return {
    name,
    press: action(value.press, `${field}.press`),
    ...(value.long !== undefined ? { long: action(value.long, `${field}.long`) } : {}),
    ...(value.repeat === true ? { repeat: true } : {}),
  };
}

/** A key name (KEY_MICMUTE) or number, as its code. */
function keyCode(name: string, field: string, table: Readonly<Record<string, number>>): number {
  const code = /^\d+$/.test(name) ? Number(name) : table[name];
  if (code === undefined || code > 0x2ff) fail(field, `is not a known code (a number or one of ${Object.keys(table).join(', ')})`);
  return code;
}

function evdev(p: Obj): NonNullable<ButtonsProfile['evdev']> {
  const device = optionalPath(p.device, 'buttons.evdev.device') ?? fail('buttons.evdev.device', 'is needed (e.g. /dev/input/by-path/platform-gpio-keys-event)');
  if (!isObj(p.keys)) fail('buttons.evdev.keys', 'must map key names to actions');
  const keys = new Map<number, ButtonBinding>();
  for (const [name, b] of Object.entries(p.keys))
    keys.set(keyCode(name, `buttons.evdev.keys.${name}`, KEY_CODES), binding(b, name, `buttons.evdev.keys.${name}`));
  if (p.muteSwitch !== undefined && typeof p.muteSwitch !== 'string') fail('buttons.evdev.muteSwitch', 'must be a switch name such as SW_MUTE_DEVICE');
  const muteSwitch = p.muteSwitch === undefined ? undefined : keyCode(p.muteSwitch as string, 'buttons.evdev.muteSwitch', SWITCH_CODES);
  return { device, keys, ...(muteSwitch !== undefined ? { muteSwitch } : {}) };
}

function gpio(p: Obj): NonNullable<ButtonsProfile['gpio']> {
  const chip = optionalPath(p.chip, 'buttons.gpio.chip') ?? fail('buttons.gpio.chip', 'is needed (e.g. /dev/gpiochip0)');
  const list = p.buttons ?? [];
  if (!Array.isArray(list) || list.length > 32) fail('buttons.gpio.buttons', 'must be a list of at most 32 buttons');
  const buttons = list.map((b, i) => ({
    ...checkLine(b, `buttons.gpio.buttons[${i}]`),
    ...binding(b, `line ${(b as Obj).line}`, `buttons.gpio.buttons[${i}]`),
  }));
  const muteSwitch = p.muteSwitch === undefined ? undefined : checkLine(p.muteSwitch, 'buttons.gpio.muteSwitch');
  const lines = [...buttons.map((b) => b.line), ...(muteSwitch ? [muteSwitch.line] : [])];
  if (new Set(lines).size !== lines.length) fail('buttons.gpio', 'uses a line twice');
  return { chip, buttons, ...(muteSwitch ? { muteSwitch } : {}) };
}

/** Checks the `buttons` section of a profile; throws an Error naming the field. */
export function parseButtonsProfile(value: unknown): ButtonsProfile {
  if (!isObj(value)) fail('buttons', 'must be an object');
  for (const key of Object.keys(value)) if (key !== 'evdev' && key !== 'gpio') fail(`buttons.${key}`, 'is not a field (evdev, gpio)');
  const out: ButtonsProfile = {};
  if (value.evdev !== undefined) out.evdev = isObj(value.evdev) ? evdev(value.evdev) : fail('buttons.evdev', 'must be an object');
  if (value.gpio !== undefined) out.gpio = isObj(value.gpio) ? gpio(value.gpio) : fail('buttons.gpio', 'must be an object');
  return out;
}
