/**
 * LED patterns: CPU per second of wall time (percent of one core) of a spinning 12-LED APA102 ring at
 * 30 fps (frames written to /dev/null through the real driver), a breathing sysfs RGB LED (a fake LED
 * tree in a temp dir, so real file writes), and a solid look; each net of an idle process over the
 * same time.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeGpioChip } from '../src/buttons/gpio/fake.js';
import { LedCompositor, type LedSettings } from '../src/leds/compositor.js';
import { openApa102 } from '../src/leds/drivers/apa102.js';
import { openSysfsLeds } from '../src/leds/drivers/sysfs.js';
import type { LedOutput } from '../src/leds/output.js';
import { parseLook } from '../src/leds/spec.js';

const SECONDS = 5;

function settings(look: string): LedSettings {
  const l = parseLook(look);
  return {
    looks: { starting: l, listening: l, userSpeaking: l, thinking: l, speaking: l, offline: l, error: l, volume: l, muted: l },
    brightness: 1,
    fps: 30,
    night: { mode: 'off', start: 0, end: 0, brightness: 1 },
  };
}

/** CPU percent of one core used while `run` lasts SECONDS, and the frames written. */
async function cpu(open: () => Promise<LedOutput>, look: string): Promise<{ percent: number; frames: number }> {
  const output = await open();
  let frames = 0;
  const counted: LedOutput = {
    driver: output.driver,
    count: output.count,
    kind: output.kind,
    write: (f) => (frames++, output.write(f)),
    close: () => output.close(),
  };
  const start = process.cpuUsage();
  const t0 = performance.now();
  const c = new LedCompositor(counted, settings(look));
  c.setState('listening');
  await new Promise((r) => setTimeout(r, SECONDS * 1000).ref());
  const used = process.cpuUsage(start);
  const wall = performance.now() - t0;
  await c.close();
  return { percent: ((used.user + used.system) / 1000 / wall) * 100, frames };
}

async function idle(): Promise<number> {
  const start = process.cpuUsage();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, SECONDS * 1000).ref());
  const used = process.cpuUsage(start);
  return ((used.user + used.system) / 1000 / (performance.now() - t0)) * 100;
}

/** Rows for bench/run.ts. */
export async function benchLeds(): Promise<Record<string, number>> {
  const dir = mkdtempSync(join(tmpdir(), 'speakerd-bench-leds-'));
  try {
    for (const c of ['r', 'g', 'b']) {
      mkdirSync(join(dir, c));
      for (const f of ['brightness', 'trigger', 'delay_on', 'delay_off']) writeFileSync(join(dir, c, f), '0\n');
      writeFileSync(join(dir, c, 'max_brightness'), '255\n');
    }
    const base = await idle();
    const ring = () =>
      openApa102(
        { device: '/dev/null', count: 12, order: 'bgr' },
        () => new FakeGpioChip(),
        () => undefined,
        () => undefined,
      );
    const sysfs = () => openSysfsLeds([{ red: 'r', green: 'g', blue: 'b' }], () => undefined, dir);
    const solid = await cpu(ring, '#0040ff solid');
    const spin = await cpu(ring, '#00c0ff spin 1000');
    const breathe = await cpu(sysfs, '#ff8000 breathe 3000');
    return {
      'idle process, % of one core': base,
      '12-LED APA102 ring spinning at 30 fps, % of one core (net of idle)': spin.percent - base,
      '  frames written per second': spin.frames / SECONDS,
      'sysfs RGB LED breathing, % of one core (net of idle)': breathe.percent - base,
      '  frames written per second ': breathe.frames / SECONDS,
      'solid look, % of one core (net of idle)': solid.percent - base,
      '  frames written': solid.frames,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1]?.endsWith('leds.js')) {
  benchLeds().then((rows) => {
    for (const [name, value] of Object.entries(rows)) console.log(`  ${name.padEnd(70)} ${value.toFixed(3)}`);
  });
}
