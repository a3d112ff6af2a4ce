import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DAEMON } from '../helpers/daemon.js';
import { execFileSync } from 'node:child_process';
import { closeSync, constants, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { ControlClient } from '../../src/control/client.js';
import { encodeInputEvent } from '../../src/buttons/evdev.js';
import { EV_KEY, EV_SW, KEY_CODES, SWITCH_CODES } from '../../src/buttons/evdev-codes.js';
import { DaemonUnderTest } from '../helpers/daemon.js';
import { waitFor } from '../helpers/signal.js';

// A running daemon with a board profile of its own: 3 APA102 LEDs on a plain file standing in for
// /dev/spidev0.1, keys and the mute switch on a FIFO standing in for /dev/input/event0.

let d: DaemonUnderTest;
let client: ControlClient;
let writer: number;
let spi: string;
const events: { event: string; data: Record<string, unknown> }[] = [];

/** Polls an asynchronous condition (waitFor takes a synchronous one). */
const until = async (cond: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> => {
  const end = performance.now() + timeoutMs;
  while (!(await cond())) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};
const status = async (): Promise<Record<string, unknown>> => ((await client.request('status')) as { result: Record<string, unknown> }).result;
const press = (code: number): void =>
  void writeSync(writer, Buffer.concat([encodeInputEvent({ type: EV_KEY, code, value: 1 }), encodeInputEvent({ type: EV_KEY, code, value: 0 })]));
const flip = (on: boolean): void => void writeSync(writer, encodeInputEvent({ type: EV_SW, code: SWITCH_CODES.SW_MUTE_DEVICE as number, value: on ? 1 : 0 }));
/** The last APA102 frame in the file, as [brightness byte, b, g, r] per LED. */
const lastFrame = (): number[][] => {
  const bytes = readFileSync(spi);
  const at = bytes.length - 21;
  return [0, 1, 2].map((i) => [...bytes.subarray(at + 4 + i * 4, at + 8 + i * 4)]);
};

beforeAll(async () => {
  d = new DaemonUnderTest();
  spi = join(d.dir, 'spidev0.1');
  writeFileSync(spi, '');
  const input = join(d.dir, 'event0');
  execFileSync('mkfifo', [input]);
  writer = openSync(input, constants.O_RDWR);
  const profile = join(d.dir, 'board.json');
  writeFileSync(
    profile,
    JSON.stringify({
      name: 'test board',
      leds: { driver: 'apa102', device: spi, count: 3, order: 'bgr', muteLeds: [1] },
      buttons: {
        evdev: { device: input, keys: { KEY_MICMUTE: { press: 'mute' }, KEY_VOLUMEUP: { press: 'volume_up', repeat: true } }, muteSwitch: 'SW_MUTE_DEVICE' },
      },
    }),
  );
  d.writeConfig({ earcons: { enabled: false }, leds: { board: profile } });
  d.start();
  await d.notice(/READY=1/);
  client = await ControlClient.connect(d.socket);
  client.on('event', (e: { event: string; data: Record<string, unknown> }) => events.push(e));
  await client.request('subscribe');
}, 20000);

afterAll(async () => {
  client?.close();
  closeSync(writer);
  await d?.remove();
});

describe('LEDs and buttons of a running daemon', () => {
  it('shows the state on the LEDs, in status and in the event stream', async () => {
    await waitFor(() => lastFrame()[0]?.[1] === 0xff && lastFrame()[0]?.[2] === 0x40, 5000, 'listening frame');
    expect(lastFrame()).toEqual([
      [0xff, 0xff, 0x40, 0],
      [0xff, 0xff, 0x40, 0],
      [0xff, 0xff, 0x40, 0],
    ]);
    const s = await status();
    expect(s.leds).toMatchObject({ driver: 'apa102', count: 3, layer: 'listening', pattern: 'solid', color: '#0040ff' });
    expect(s.muteSwitch).toBeNull();
    expect(events.find((e) => e.event === 'leds')).toBeTruthy();
    expect(d.output).toMatch(/LEDs: apa102, 3 LEDs \(test board\)/);
  });

  it('the mute switch wins over software: unmute is refused while it is on', async () => {
    flip(true);
    await waitFor(() => events.some((e) => e.event === 'mute_switch' && e.data.muted === true), 3000, 'switch event');
    expect(await status()).toMatchObject({ muted: true, muteSwitch: true });
    expect(await client.request('unmute')).toMatchObject({ ok: false, error: { code: 'ERR_HARDWARE_MUTE' } });
    expect(await client.request('toggle_mute')).toMatchObject({ ok: false, error: { code: 'ERR_HARDWARE_MUTE' } });
    press(KEY_CODES.KEY_MICMUTE as number); // the mute button cannot unmute either
    await new Promise((r) => setTimeout(r, 200));
    expect(await status()).toMatchObject({ muted: true });
    await waitFor(() => lastFrame()[1]?.[3] === 0xff, 3000, 'mute overlay on LED 1');
    expect(lastFrame()[1]).toEqual([0xff, 0, 0, 0xff]);
    flip(false);
    await until(async () => (await status()).muted === false, 3000, 'unmuted by the switch');
    expect(await status()).toMatchObject({ muteSwitch: false });
  });

  it('buttons act: mute toggles, volume up steps the volume and shows it', async () => {
    const before = Number((await status()).volume);
    press(KEY_CODES.KEY_MICMUTE as number);
    await until(async () => (await status()).muted === true, 3000, 'muted by the button');
    press(KEY_CODES.KEY_MICMUTE as number);
    await until(async () => (await status()).muted === false, 3000, 'unmuted by the button');
    press(KEY_CODES.KEY_VOLUMEUP as number);
    await until(async () => (await status()).volume === Math.min(100, before + 5), 3000, 'volume up');
    await waitFor(() => events.some((e) => e.event === 'leds' && e.data.layer === 'volume'), 3000, 'volume feedback');
    expect(events.filter((e) => e.event === 'button').map((e) => e.data.action)).toEqual(['mute', 'mute', 'mute', 'volume_up']);
  });

  it('sets a colour at run time', async () => {
    expect(await client.request('config_set', { key: 'leds.looks.listening', value: '#102030 solid' })).toMatchObject({ ok: true });
    await waitFor(() => lastFrame()[2]?.[1] === 0x30, 3000, 'new colour');
    expect(lastFrame()[2]).toEqual([0xff, 0x30, 0x20, 0x10]);
    expect(await client.request('config_set', { key: 'leds.board', value: '/etc/passwd' })).toMatchObject({ ok: false, error: { code: 'ERR_FORBIDDEN' } });
  });
});

describe('a board whose devices are missing', () => {
  it('reports each once and runs without them', async () => {
    const m = new DaemonUnderTest();
    try {
      const profile = join(m.dir, 'board.json');
      writeFileSync(
        profile,
        JSON.stringify({
          name: 'gone',
          leds: { driver: 'apa102', device: join(m.dir, 'spidev9.9'), count: 3 },
          buttons: { evdev: { device: join(m.dir, 'event9'), keys: { KEY_MICMUTE: { press: 'mute' } } } },
        }),
      );
      m.writeConfig({ earcons: { enabled: false }, leds: { board: profile } });
      m.start();
      await m.notice(/READY=1/);
      expect(m.output.match(/spidev9\.9 does not exist/g)).toHaveLength(1);
      expect(m.output.match(/event9: no such device/g)).toHaveLength(1);
      expect(await m.request({ cmd: 'status' })).toMatchObject({ ok: true, result: { state: expect.any(String), leds: null } });
    } finally {
      await m.remove();
    }
  }, 20000);
});

describe('speakerd --unit-grants', () => {
  it("prints the drop-in that lets the sandbox write exactly the board's sysfs LEDs, resolved to their real directories", async () => {
    const { mkdtempSync, mkdirSync: mk, symlinkSync, writeFileSync: write, rmSync: rm, realpathSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join: j } = await import('node:path');
    const { spawnSync } = await import('node:child_process');
    const dir = mkdtempSync(j(tmpdir(), 'speakerd-grants-'));
    try {
      const classDir = j(dir, 'class', 'leds');
      mk(classDir, { recursive: true });
      for (const c of ['red', 'green', 'blue']) {
        const real = j(dir, 'devices', 'platform', 'leds', 'leds', `status:${c}`);
        mk(real, { recursive: true });
        symlinkSync(real, j(classDir, `status:${c}`));
      }
      const profile = j(dir, 'board.json');
      write(
        profile,
        JSON.stringify({ name: 'test RGB', leds: { driver: 'sysfs', leds: [{ red: 'status:red', green: 'status:green', blue: 'status:blue' }] } }),
      );
      const etc = j(dir, 'etc');
      mk(etc);
      write(j(etc, 'speakerd.json'), JSON.stringify({ leds: { board: profile } }));
      const run = (): ReturnType<typeof spawnSync> =>
        spawnSync(process.execPath, [DAEMON, '--etc-dir', etc, '--unit-grants'], {
          env: { ...process.env, SPEAKERD_SYSFS_LEDS_ROOT: classDir },
          encoding: 'utf8',
        });
      const ok = run();
      expect(ok.status).toBe(0);
      const lines = String(ok.stdout)
        .split('\n')
        .filter((l) => l.startsWith('ReadWritePaths='));
      expect(lines).toEqual(
        ['red', 'green', 'blue'].map((c) => `ReadWritePaths=${realpathSync(j(dir, 'devices', 'platform', 'leds', 'leds', `status:${c}`))}`),
      );
      expect(String(ok.stdout)).toMatch(/^\[Service\]$/m);
      rm(j(classDir, 'status:blue'));
      const missing = run();
      expect(missing.status).not.toBe(0);
      expect(String(missing.stderr)).toMatch(/the LED 'status:blue' is not in/);
    } finally {
      rm(dir, { recursive: true, force: true });
    }
  });
});
