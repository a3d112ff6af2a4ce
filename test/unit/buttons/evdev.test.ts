import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { chmodSync, closeSync, constants, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeInputEvent, INPUT_EVENT_SIZE, openEvdev, parseInputEvents, type InputEvent } from '../../../src/buttons/evdev.js';
import { EV_KEY, EV_SW, EV_SYN, KEY_CODES, SWITCH_CODES } from '../../../src/buttons/evdev-codes.js';
import { openButtons } from '../../../src/buttons/buttons.js';
import { parseButtonsProfile } from '../../../src/buttons/profile.js';
import type { ButtonOutcome } from '../../../src/buttons/press.js';
import { libgpiodChip } from '../../../src/buttons/gpio/libgpiod.js';
import { waitFor } from '../../helpers/signal.js';

let dir: string;
let fifo: string;
let writer: number;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'speakerd-evdev-'));
  fifo = join(dir, 'event0');
  execFileSync('mkfifo', [fifo]);
  writer = openSync(fifo, constants.O_RDWR); // holds the FIFO open like a device that never ends
});
afterEach(() => {
  try {
    closeSync(writer);
  } catch {
    /* already closed by the test */
  }
  rmSync(dir, { recursive: true, force: true });
});

const key = (code: number, value: number): Buffer =>
  Buffer.concat([encodeInputEvent({ type: EV_KEY, code, value, timeMs: 1000.5 }), encodeInputEvent({ type: EV_SYN, code: 0, value: 0 })]);

describe('evdev', () => {
  it('decodes 16-byte input_event records too (32-bit ARM and x86: two 32-bit longs of time)', () => {
    const rec = (code: number, value: number): Buffer => encodeInputEvent({ type: EV_KEY, code, value, timeMs: 2000.25 }, 16);
    expect(rec(1, 1).length).toBe(16);
    const bytes = Buffer.concat([rec(115, 1), rec(114, 0)]);
    const first = parseInputEvents(bytes.subarray(0, 20), 16);
    expect(first.events).toEqual([{ type: EV_KEY, code: 115, value: 1, timeMs: 2000.25 }]);
    expect(parseInputEvents(Buffer.concat([first.rest, bytes.subarray(20)]), 16).events).toEqual([{ type: EV_KEY, code: 114, value: 0, timeMs: 2000.25 }]);
    expect(INPUT_EVENT_SIZE).toBe(process.arch === 'arm' || process.arch === 'ia32' ? 16 : 24);
  });

  it('refuses a character device that is not an input device (it would read as a stream of bogus events)', async () => {
    for (const device of ['/dev/zero', '/dev/null']) {
      await expect(
        openEvdev(
          device,
          () => undefined,
          () => undefined,
        ),
      ).rejects.toMatchObject({ code: 'ERR_BUTTON_DEVICE', message: expect.stringMatching(/character device of major 1, not an input device/) });
    }
  });

  it("knows a FIFO's switches as unknown, and the addon's switch reader refuses a device that has none", async () => {
    let asked = 0;
    const reader = await openEvdev(
      fifo,
      () => undefined,
      () => undefined,
      () => {
        asked++;
        return [];
      },
    );
    expect(reader.switchesOn).toBeNull();
    expect(asked).toBe(0);
    reader.close();
    const { loadNativeBinding } = await import('../../../src/media/native-binding.js');
    const fd = openSync('/dev/null', 'r');
    try {
      expect(() => loadNativeBinding().evdevSwitches!(fd)).toThrow(
        expect.objectContaining({ code: 'ERR_BUTTON_DEVICE', message: expect.stringMatching(/cannot read the switches/) }),
      );
    } finally {
      closeSync(fd);
    }
  });

  it('decodes 24-byte input_event records, split anywhere', () => {
    const key24 = (code: number, value: number): Buffer =>
      Buffer.concat([encodeInputEvent({ type: EV_KEY, code, value, timeMs: 1000.5 }, 24), encodeInputEvent({ type: EV_SYN, code: 0, value: 0 }, 24)]);
    const bytes = Buffer.concat([key24(KEY_CODES.KEY_MICMUTE as number, 1), key24(248, 0)]);
    const first = parseInputEvents(bytes.subarray(0, 30), 24);
    expect(first.events).toEqual([{ type: EV_KEY, code: 248, value: 1, timeMs: 1000.5 }]);
    const rest = parseInputEvents(Buffer.concat([first.rest, bytes.subarray(30)]), 24);
    expect(rest.events.map((e) => [e.type, e.code, e.value])).toEqual([
      [EV_SYN, 0, 0],
      [EV_KEY, 248, 0],
      [EV_SYN, 0, 0],
    ]);
  });

  it('reads events written to a FIFO as they arrive', async () => {
    const events: InputEvent[] = [];
    const reader = await openEvdev(
      fifo,
      (e) => events.push(e),
      () => undefined,
    );
    writeSync(writer, key(115, 1).subarray(0, 10));
    writeSync(writer, key(115, 1).subarray(10));
    await waitFor(() => events.length === 2, 2000, 'events');
    expect(events[0]).toMatchObject({ type: EV_KEY, code: 115, value: 1 });
    reader.close();
  });

  it('maps keys to actions and reports the mute switch, then a vanished device once', async () => {
    const profile = parseButtonsProfile({
      evdev: { device: fifo, keys: { KEY_MICMUTE: { press: 'mute' }, KEY_VOLUMEUP: { press: 'volume_up', repeat: true } }, muteSwitch: 'SW_MUTE_DEVICE' },
    });
    const outcomes: ButtonOutcome[] = [];
    const switches: boolean[] = [];
    const errors: Error[] = [];
    const buttons = await openButtons(
      profile,
      { longPressMs: 1000, repeatMs: 250, pushToTalk: false, debounceMs: 0 },
      { outcome: (o) => outcomes.push(o), muteSwitch: (m) => switches.push(m), error: (e) => errors.push(e) },
      () => {
        throw new Error('no GPIO here');
      },
    );
    expect(buttons.sources).toEqual([`evdev ${fifo}`]);
    writeSync(writer, Buffer.concat([key(248, 1), key(248, 2), key(248, 0), key(115, 1), key(115, 0), key(30, 1)]));
    writeSync(writer, encodeInputEvent({ type: EV_SW, code: SWITCH_CODES.SW_MUTE_DEVICE as number, value: 1 }));
    await waitFor(() => switches.length === 1, 2000, 'switch');
    expect(outcomes.map((o) => (o.kind === 'action' ? o.action : 'talk'))).toEqual(['mute', 'volume_up']);
    expect(switches).toEqual([true]);
    closeSync(writer); // the last writer goes: like an unplugged device, the stream ends
    await waitFor(() => errors.length === 1, 2000, 'error');
    expect(errors[0]?.message).toMatch(/no longer work/);
    await buttons.close();
    expect(errors).toHaveLength(1);
  });

  it('refuses a missing device and a regular file with clear errors', async () => {
    await expect(
      openEvdev(
        join(dir, 'event9'),
        () => undefined,
        () => undefined,
      ),
    ).rejects.toMatchObject({ code: 'ERR_BUTTON_DEVICE', message: expect.stringContaining('no such device') });
    writeFileSync(join(dir, 'plain'), 'x');
    await expect(
      openEvdev(
        join(dir, 'plain'),
        () => undefined,
        () => undefined,
      ),
    ).rejects.toMatchObject({ message: expect.stringContaining('an input device (/dev/input/eventN) is needed') });
  });
});

describe("libgpiod's tools (stand-in scripts)", () => {
  it('reads initial values with gpioget and edges from gpiomon; holds outputs with gpioset', async () => {
    const tools = join(dir, 'bin');
    execFileSync('mkdir', [tools]);
    const log = join(dir, 'calls');
    const script = (name: string, body: string): void => {
      writeFileSync(
        join(tools, name),
        `#!/bin/sh\n[ "$1" = --version ] && { echo "${name} (libgpiod) v1.6.3"; exit 0; }\necho "${name} $*" >> ${log}\n${body}\n`,
      );
      chmodSync(join(tools, name), 0o755);
    };
    script('gpioget', 'echo 1');
    script('gpiomon', 'echo "17 1 12 500000000"; echo "17 0 13 0"; exec sleep 30');
    script('gpioset', 'exec sleep 30');
    const chip = libgpiodChip('/dev/gpiochip0', tools);
    const edges: unknown[] = [];
    const inputs = await chip.requestInputs(
      [{ line: 17, activeLow: true, bias: 'pull-up' }],
      (e) => edges.push(e),
      () => undefined,
    );
    expect(inputs.initial).toEqual([true]);
    await waitFor(() => edges.length === 2, 3000, 'edges');
    expect(edges).toEqual([
      { line: 17, value: true, atMs: 12500 },
      { line: 17, value: false, atMs: 13000 },
    ]);
    const outputs = await chip.requestOutputs([{ line: 5 }], [true]);
    await outputs.set([false]);
    await outputs.release();
    await inputs.release();
    const calls = execFileSync('cat', [log], { encoding: 'utf8' }).trim().split('\n');
    expect(calls).toEqual([
      'gpioget -l -B pull-up /dev/gpiochip0 17',
      'gpiomon -b -l -B pull-up -F %o %e %s %n /dev/gpiochip0 17',
      'gpioset --mode=signal /dev/gpiochip0 5=1',
      'gpioset --mode=signal /dev/gpiochip0 5=0',
    ]);
  });

  it('speaks libgpiod 2.x when the tools say so (-c chip, --numeric, other bias names and event format)', async () => {
    const tools = join(dir, 'bin2');
    execFileSync('mkdir', [tools]);
    const log = join(dir, 'calls2');
    const script = (name: string, body: string): void => {
      writeFileSync(
        join(tools, name),
        `#!/bin/sh\n[ "$1" = --version ] && { echo "${name} (libgpiod) v2.1.2"; exit 0; }\necho "${name} $*" >> ${log}\n${body}\n`,
      );
      chmodSync(join(tools, name), 0o755);
    };
    script('gpioget', 'echo 0');
    script('gpiomon', 'echo "22 rising 12.500000000"; echo "22 falling 13.000000000"; exec sleep 30');
    script('gpioset', 'exec sleep 30');
    const chip = libgpiodChip('/dev/gpiochip0', tools);
    const edges: unknown[] = [];
    const inputs = await chip.requestInputs(
      [{ line: 22, bias: 'disable' }],
      (e) => edges.push(e),
      () => undefined,
    );
    expect(inputs.initial).toEqual([false]);
    await waitFor(() => edges.length === 2, 3000, 'edges');
    expect(edges).toEqual([
      { line: 22, value: true, atMs: 12500 },
      { line: 22, value: false, atMs: 13000 },
    ]);
    const outputs = await chip.requestOutputs([{ line: 5, activeLow: true }], [true]);
    await outputs.release();
    await inputs.release();
    expect(execFileSync('cat', [log], { encoding: 'utf8' }).trim().split('\n')).toEqual([
      'gpioget -c /dev/gpiochip0 --numeric -b disabled 22',
      'gpiomon -c /dev/gpiochip0 -b disabled -e both -F %o %E %S 22',
      'gpioset -c /dev/gpiochip0 -l 5=1',
    ]);
  });

  it('does not hang on an output whose gpioset was killed from outside', async () => {
    const tools = join(dir, 'bin3');
    execFileSync('mkdir', [tools]);
    for (const name of ['gpioget', 'gpiomon']) {
      writeFileSync(join(tools, name), '#!/bin/sh\nexec sleep 30\n');
      chmodSync(join(tools, name), 0o755);
    }
    writeFileSync(join(tools, 'gpioset'), `#!/bin/sh\n[ "$1" = --version ] && exit 1\necho $$ > ${join(dir, 'pid')}\nexec sleep 30\n`);
    chmodSync(join(tools, 'gpioset'), 0o755);
    const outputs = await libgpiodChip('/dev/gpiochip0', tools).requestOutputs([{ line: 5 }], [true]);
    process.kill(Number(execFileSync('cat', [join(dir, 'pid')], { encoding: 'utf8' }).trim()), 'SIGKILL');
    await new Promise((r) => setTimeout(r, 100));
    await outputs.set([false]);
    await outputs.release();
  });

  it('without the tools, refuses with ERR_GPIO_UNAVAILABLE', async () => {
    await expect(libgpiodChip('/dev/gpiochip0', dir).requestOutputs([{ line: 1 }], [true])).rejects.toMatchObject({
      code: 'ERR_GPIO_UNAVAILABLE',
      message: expect.stringContaining('apt install gpiod'),
    });
  });
});
