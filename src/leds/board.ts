/**
 * Board profiles (`config/boards/<name>.json`, or any JSON file named by an absolute path in
 * `leds.board`): how a board wires its LEDs and buttons. Read with readConfiguredFile (non-blocking,
 * regular file, at most 64 KiB) and checked field by field; every problem names the field.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { readConfiguredFile } from '../system/safe-file.js';
import type { ButtonsProfile } from '../buttons/profile.js';
import { parseButtonsProfile } from '../buttons/profile.js';
import { checkLine, fail, isObj, optionalPath, type Obj } from './profile-check.js';
import type { Apa102Config, ColorOrder } from './drivers/apa102.js';
import type { GpioLedsConfig } from './drivers/gpio-leds.js';
import { LED_NAME, type SysfsLed } from './drivers/sysfs.js';

/** The LEDs of a board, by driver. `muteLeds` are the LEDs nearest the microphones (default all). */
export type LedsProfile = { muteLeds?: number[] } & (
  ({ driver: 'apa102' } & Apa102Config) | ({ driver: 'gpio' } & GpioLedsConfig) | { driver: 'sysfs'; leds: SysfsLed[] }
);

/** The audio section of a board profile: what its loudspeaker needs from the playback side. */
export interface AudioProfile {
  /** Output peak ceiling in dBFS below the loudspeaker's compression; audio.maxOutputDbfs overrides it. */
  maxOutputDbfs: number;
}

/** A parsed board profile. */
export interface BoardProfile {
  name: string;
  leds: LedsProfile | null;
  buttons: ButtonsProfile | null;
  audio?: AudioProfile | null;
}

/** Largest profile file accepted. */
export const MAX_PROFILE_BYTES = 64 * 1024;
const ORDERS: readonly ColorOrder[] = ['rgb', 'rbg', 'grb', 'gbr', 'brg', 'bgr'];

/** The folder of the shipped profiles (config/boards in the package, from src/ or dist/src/). */
export function boardsDir(): string {
  const candidates = ['../../config/boards', '../../../config/boards'].map((p) => fileURLToPath(new URL(p, import.meta.url)));
  return candidates.find((dir) => existsSync(dir)) ?? (candidates[0] as string);
}

function sysfsLeds(value: unknown): SysfsLed[] {
  if (!Array.isArray(value) || value.length < 1 || value.length > 64) fail('leds.leds', 'must be a list of 1 to 64 LEDs');
  return value.map((led, i) => {
    if (!isObj(led)) fail(`leds.leds[${i}]`, 'must be {"name": ...} or {"red": ..., "green": ..., "blue": ...}');
    const names = 'name' in led ? ['name'] : ['red', 'green', 'blue'];
    for (const n of names)
      if (typeof led[n] !== 'string' || !LED_NAME.test(led[n] as string)) fail(`leds.leds[${i}].${n}`, 'must be an LED class name (/sys/class/leds/<name>)');
    return 'name' in led ? { name: led.name as string } : { red: led.red as string, green: led.green as string, blue: led.blue as string };
  });
}

function ledCount(p: Obj): number {
  const count = p.driver === 'apa102' ? p.count : Array.isArray(p.lines) ? p.lines.length : Array.isArray(p.leds) ? p.leds.length : 0;
  return typeof count === 'number' ? count : 0;
}

/** Checks the `leds` section of a profile. */
export function parseLedsProfile(p: unknown): LedsProfile {
  if (!isObj(p)) fail('leds', 'must be an object');
  let out: LedsProfile;
  switch (p.driver) {
    case 'apa102': {
      if (typeof p.count !== 'number' || !Number.isInteger(p.count) || p.count < 1 || p.count > 256) fail('leds.count', 'must be an integer from 1 to 256');
      const order = p.order ?? 'bgr';
      if (!ORDERS.includes(order as ColorOrder)) fail('leds.order', `must be one of ${ORDERS.join(', ')}`);
      const gb = p.globalBrightness ?? 31;
      if (typeof gb !== 'number' || !Number.isInteger(gb) || gb < 0 || gb > 31) fail('leds.globalBrightness', 'must be an integer from 0 to 31');
      if (p.spiMode !== undefined && (typeof p.spiMode !== 'number' || ![0, 1, 2, 3].includes(p.spiMode))) fail('leds.spiMode', 'must be 0, 1, 2 or 3');
      if (p.speedHz !== undefined && (typeof p.speedHz !== 'number' || !Number.isInteger(p.speedHz) || p.speedHz < 1000 || p.speedHz > 100e6))
        fail('leds.speedHz', 'must be an integer from 1000 to 100000000');
      const power =
        p.power === undefined
          ? undefined
          : { ...checkLine(p.power, 'leds.power'), chip: optionalPath((p.power as Obj).chip, 'leds.power.chip') ?? fail('leds.power.chip', 'is needed') };
      out = {
        driver: 'apa102',
        device: optionalPath(p.device, 'leds.device') ?? fail('leds.device', 'is needed (e.g. /dev/spidev0.1)'),
        count: p.count,
        order: order as ColorOrder,
        globalBrightness: gb,
        ...(p.spiMode !== undefined ? { spiMode: p.spiMode as number } : {}),
        ...(p.speedHz !== undefined ? { speedHz: p.speedHz as number } : {}),
        ...(power ? { power } : {}),
      };
      break;
    }
    case 'gpio': {
      if (!Array.isArray(p.lines) || p.lines.length < 1 || p.lines.length > 64) fail('leds.lines', 'must be a list of 1 to 64 lines');
      out = {
        driver: 'gpio',
        chip: optionalPath(p.chip, 'leds.chip') ?? fail('leds.chip', 'is needed (e.g. /dev/gpiochip0)'),
        lines: p.lines.map((l, i) => checkLine(l, `leds.lines[${i}]`)),
      };
      break;
    }
    case 'sysfs':
      out = { driver: 'sysfs', leds: sysfsLeds(p.leds) };
      break;
    default:
      return fail('leds.driver', "must be 'apa102', 'gpio' or 'sysfs'");
  }
  if (p.muteLeds !== undefined) {
    const n = ledCount(p);
    if (!Array.isArray(p.muteLeds) || p.muteLeds.some((i) => typeof i !== 'number' || !Number.isInteger(i) || i < 0 || i >= n))
      fail('leds.muteLeds', `must be a list of LED indices from 0 to ${n - 1}`);
    out.muteLeds = p.muteLeds as number[];
  }
  return out;
}

/** Checks a whole profile (parsed JSON). Throws an Error naming the field. */
export function parseBoardProfile(value: unknown): BoardProfile {
  if (!isObj(value)) fail('(profile)', 'must be a JSON object');
  for (const key of Object.keys(value))
    if (!['name', 'description', 'leds', 'buttons', 'audio'].includes(key)) fail(key, 'is not a profile field (name, description, leds, buttons, audio)');
  if (typeof value.name !== 'string' || value.name.length > 100) fail('name', 'must be a string of at most 100 characters');
  return {
    name: value.name,
    leds: value.leds === undefined ? null : parseLedsProfile(value.leds),
    buttons: value.buttons === undefined ? null : parseButtonsProfile(value.buttons),
    audio: value.audio === undefined ? null : parseAudioProfile(value.audio),
  };
}

/** Checks the `audio` section of a profile. */
export function parseAudioProfile(p: unknown): AudioProfile {
  if (!isObj(p)) fail('audio', 'must be an object');
  for (const key of Object.keys(p)) if (key !== 'maxOutputDbfs') fail(`audio.${key}`, 'is not an audio field (maxOutputDbfs)');
  const db = p.maxOutputDbfs;
  if (typeof db !== 'number' || !Number.isInteger(db) || db < -60 || db > 0)
    fail('audio.maxOutputDbfs', 'must be an integer from -60 to 0 (dBFS; 0 = no ceiling)');
  return { maxOutputDbfs: db };
}

/**
 * Loads the profile `leds.board` names: a shipped name (looked up in `dir`) or an absolute path.
 * Rejects with an Error whose code is ERR_BOARD_PROFILE (or ERR_CONFIG_FILE for an unusable file).
 */
export async function loadBoardProfile(board: string, dir = boardsDir()): Promise<BoardProfile> {
  const file = board.startsWith('/') ? board : join(dir, `${board}.json`);
  const bytes = await readConfiguredFile(file, { key: 'leds.board', maxBytes: MAX_PROFILE_BYTES }).catch((error: Error & { reason?: string }) => {
    if (error.reason === 'missing' && !board.startsWith('/'))
      throw Object.assign(new Error(`leds.board: no board profile '${board}' (${file} does not exist)`), { code: 'ERR_BOARD_PROFILE' });
    throw error;
  });
  try {
    return parseBoardProfile(JSON.parse(bytes.toString('utf8')));
  } catch (error) {
    throw Object.assign(new Error(`leds.board: ${file}: ${(error as Error).message}`), { code: 'ERR_BOARD_PROFILE' });
  }
}
