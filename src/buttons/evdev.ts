/**
 * evdev input devices (/dev/input/eventN, e.g. made by the gpio-keys device-tree driver): records of
 * `struct input_event` read as a stream. The device is opened O_NONBLOCK and read through libuv's
 * poll loop, so nothing runs while no key is touched and no thread-pool thread is held by a blocking read.
 */
import { constants, fstat, open, close } from 'node:fs';
import { Socket } from 'node:net';
import { describeFileType } from '../system/safe-file.js';

/**
 * Size of `struct input_event`: a `struct timeval` (two longs) + type (u16) + code (u16) + value (s32):
 * 24 bytes on 64-bit ABIs, 16 on 32-bit ARM and x86 with a 32-bit time_t (Debian's armhf).
 */
export const INPUT_EVENT_SIZE = process.arch === 'arm' || process.arch === 'ia32' ? 16 : 24;

/** One input event. */
export interface InputEvent {
  type: number;
  code: number;
  value: number;
  /** Kernel timestamp in ms. */
  timeMs: number;
}

/** Decodes whole records from `buf`; returns the events and the bytes of an incomplete last record. */
export function parseInputEvents(buf: Buffer, size = INPUT_EVENT_SIZE): { events: InputEvent[]; rest: Buffer } {
  const events: InputEvent[] = [];
  const whole = buf.length - (buf.length % size);
  for (let at = 0; at < whole; at += size) {
    const sec = size === 24 ? Number(buf.readBigInt64LE(at)) : buf.readInt32LE(at);
    const usec = size === 24 ? Number(buf.readBigInt64LE(at + 8)) : buf.readInt32LE(at + 4);
    events.push({
      type: buf.readUInt16LE(at + size - 8),
      code: buf.readUInt16LE(at + size - 6),
      value: buf.readInt32LE(at + size - 4),
      timeMs: sec * 1000 + usec / 1000,
    });
  }
  return { events, rest: Buffer.from(buf.subarray(whole)) };
}

/** Encodes an event (tests write these to a FIFO). */
export function encodeInputEvent(e: Omit<InputEvent, 'timeMs'> & { timeMs?: number }, size = INPUT_EVENT_SIZE): Buffer {
  const out = Buffer.alloc(size);
  const t = e.timeMs ?? 0;
  if (size === 24) {
    out.writeBigInt64LE(BigInt(Math.floor(t / 1000)), 0);
    out.writeBigInt64LE(BigInt(Math.round((t % 1000) * 1000)), 8);
  } else {
    out.writeInt32LE(Math.floor(t / 1000), 0);
    out.writeInt32LE(Math.round((t % 1000) * 1000), 4);
  }
  out.writeUInt16LE(e.type, size - 8);
  out.writeUInt16LE(e.code, size - 6);
  out.writeInt32LE(e.value, size - 4);
  return out;
}

/** An open input device; close() stops reading. */
export interface EvdevReader {
  /** The switches (EV_SW codes) that were on when the device was opened; null when unknown (a FIFO, no reader). */
  readonly switchesOn: readonly number[] | null;
  close(): void;
}

/** Reads which switches are on (the addon's evdevSwitches, EVIOCGSW). */
export type SwitchReader = (fd: number) => number[];

/** Major number of input devices (/dev/input/eventN). */
const INPUT_MAJOR = 13;

/** The major number of a device number as Linux encodes it (new_encode_dev). */
function majorOf(rdev: number): number {
  return Math.floor(rdev / 256) & 0xfff;
}

function coded(message: string): Error & { code: string } {
  return Object.assign(new Error(message), { code: 'ERR_BUTTON_DEVICE' });
}

/*
 * ┌──────────────────────────────────────────────────────────────────────────────────────────────┐
 * │ Workaround: Node.js streams only poll pipes, sockets and terminals. A character device fd is  │
 * │ classed as a file (libuv's uv_guess_handle), so net.Socket({fd}) refuses it and fs streams do │
 * │ blocking reads on the thread pool. libuv's pipe handle polls any pollable fd, so the fd is    │
 * │ opened in one (pipe_wrap, still exposed by process.binding in Node 20).                       │
 * │ https://github.com/nodejs/node/issues/15439 (a character-device ReadStream holds a thread)   │
 * └──────────────────────────────────────────────────────────────────────────────────────────────┘
 */
function pollingSocket(fd: number): Socket {
  const { Pipe, constants: pipeConstants } = (
    process as unknown as { binding(name: string): { Pipe: new (type: number) => { open(fd: number): number }; constants: { SOCKET: number } } }
  ).binding('pipe_wrap');
  const handle = new Pipe(pipeConstants.SOCKET);
  const status = handle.open(fd);
  if (status !== 0) throw coded(`cannot poll the input device (libuv status ${status})`);
  return new Socket({ handle, readable: true, writable: false } as never);
}

/**
 * Opens an input device (a character device, or a FIFO in tests) and calls `onEvent` per event.
 * Rejects with ERR_BUTTON_DEVICE naming the path; `onError` is told once when reading stops
 * (the device was unplugged), after which nothing more is reported.
 */
export function openEvdev(
  path: string,
  onEvent: (e: InputEvent) => void,
  onError: (error: Error & { code: string }) => void,
  readSwitches?: SwitchReader,
): Promise<EvdevReader> {
  return new Promise((resolve, reject) => {
    open(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY, (error, fd) => {
      if (error) return reject(coded(`buttons: cannot open ${path}: ${error.code === 'ENOENT' ? 'no such device (ENOENT)' : error.message}`));
      fstat(fd, (statError, s) => {
        if (statError || !(s.isCharacterDevice() || s.isFIFO())) {
          close(fd, () => undefined);
          return reject(coded(`buttons: ${path} is ${statError ? 'unreadable' : describeFileType(s)}; an input device (/dev/input/eventN) is needed`));
        }
        // Any other character device (/dev/zero, a tty) would be read as a stream of bogus events.
        if (s.isCharacterDevice() && majorOf(s.rdev) !== INPUT_MAJOR) {
          close(fd, () => undefined);
          return reject(
            coded(`buttons: ${path} is a character device of major ${majorOf(s.rdev)}, not an input device (major ${INPUT_MAJOR}, /dev/input/eventN)`),
          );
        }
        let switchesOn: number[] | null = null;
        if (s.isCharacterDevice() && readSwitches) {
          try {
            switchesOn = readSwitches(fd);
          } catch (e) {
            onError(coded(`buttons: ${path}: ${(e as Error).message}; a switch's position is known only once it moves`));
          }
        }
        let socket: Socket;
        try {
          socket = pollingSocket(fd);
        } catch (e) {
          close(fd, () => undefined);
          return reject(e);
        }
        let rest: Buffer = Buffer.alloc(0);
        let closing = false;
        let reported = false;
        const stopped = (why: string): void => {
          if (closing || reported) return;
          reported = true;
          onError(coded(`buttons: ${path}: ${why}; buttons on it no longer work`));
        };
        socket.on('data', (chunk: Buffer) => {
          const parsed = parseInputEvents(rest.length ? Buffer.concat([rest, chunk]) : chunk);
          rest = parsed.rest;
          for (const e of parsed.events) onEvent(e);
        });
        socket.on('error', (e: NodeJS.ErrnoException) => stopped(e.code === 'ENODEV' ? 'the device is gone (ENODEV)' : e.message));
        socket.on('end', () => stopped('the device closed'));
        resolve({
          switchesOn,
          close: () => {
            closing = true;
            socket.destroy();
          },
        });
      });
    });
  });
}
