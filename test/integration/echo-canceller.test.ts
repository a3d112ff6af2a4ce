import { beforeAll, describe, expect, it } from 'vitest';
import { loadNativeBinding } from '../../src/media/native-binding.js';
import {
  createEchoScenario,
  erleDb,
  estimateLag,
  levelDbfs,
  nearEndLossDb,
  shiftSignal,
  whiteNoise,
  type EchoScenario,
  type SampleRange,
} from '../../bench/echo-scenario.js';

// The native echo canceller (speexdsp echo + speex_preprocess) on a synthetic room: 40 ms bulk delay,
// 200 ms RT60, echo 6 dB below the far end, near end at -30 dBFS, noise at -60 dBFS, 15 s of far-end
// speech to converge. The reference is fed the way the engine feeds it: aligned to the echo's bulk delay
// minus a 20 ms margin, so it leads the echo (speexdsp has no look-ahead).
// speex_preprocess works by overlap-add and delays its output by one frame: out[n + FRAME] is mic[n].
// The near-end loss is measured by projection at that lag; it includes about 0.7 dB that is only phase:
// speexdsp's DC notch (radius 0.982 at 16 kHz) rotates the phase of a low-pitched voice without removing
// its energy (measured with the reference silent and denoise off).

const RATE = 16000;
const FRAME = 160;
const MARGIN_SAMPLES = (20 * RATE) / 1000;
const binding = loadNativeBinding();

function cancel(scenario: EchoScenario, referenceDelay: number): Int16Array {
  const canceller = new binding.EchoCanceller({ rate: RATE, frame: FRAME, tailMs: 250, denoise: true });
  return canceller.process(scenario.mic, shiftSignal(scenario.far, referenceDelay));
}

function later(range: SampleRange, samples: number): SampleRange {
  return { start: range.start + samples, end: range.end + samples };
}

describe('echo canceller latency', () => {
  it('delays the microphone by exactly one frame', () => {
    const probe = whiteNoise(RATE, -30, 7);
    const canceller = new binding.EchoCanceller({ rate: RATE, frame: FRAME, tailMs: 250, denoise: true });
    const out = canceller.process(probe, new Int16Array(probe.length));
    expect(estimateLag(probe, out, { start: RATE / 2, end: RATE - 2 * FRAME }, 2 * FRAME)).toBe(FRAME);
  });
});

describe.each([1, 2, 3])('echo canceller on a synthetic room, seed %i', (seed) => {
  let scenario: EchoScenario;
  let out: Int16Array;
  let erle: number;

  beforeAll(() => {
    scenario = createEchoScenario({ seed });
    out = cancel(scenario, scenario.delaySamples - MARGIN_SAMPLES);
    erle = erleDb(scenario.mic, out, scenario.segments.farOnly, FRAME);
  });

  it('removes at least 30 dB of echo after convergence', () => {
    expect(erle, `ERLE ${erle.toFixed(1)} dB`).toBeGreaterThanOrEqual(30);
  });

  it('leaves far less output than microphone signal while the far end talks alone', () => {
    const { farOnly } = scenario.segments;
    const mic = levelDbfs(scenario.mic, farOnly);
    const residual = levelDbfs(out, later(farOnly, FRAME));
    expect(mic, 'echo level at the microphone').toBeGreaterThan(-35);
    expect(residual, `output ${residual.toFixed(1)} dBFS, microphone ${mic.toFixed(1)} dBFS`).toBeLessThan(-55);
  });

  it('loses at most 3 dB of the near end during double talk', () => {
    const loss = nearEndLossDb(scenario.near, out, scenario.segments.doubleTalk, FRAME);
    expect(loss, `double-talk loss ${loss.toFixed(2)} dB`).toBeLessThanOrEqual(3);
  });

  it('loses at most 3 dB of the near end talking alone', () => {
    const loss = nearEndLossDb(scenario.near, out, scenario.segments.nearOnly, FRAME);
    expect(loss, `near-end-only loss ${loss.toFixed(2)} dB`).toBeLessThanOrEqual(3);
  });

  it('removes much less echo when the reference lags the echo by 10 ms', () => {
    const late = cancel(scenario, scenario.delaySamples + (10 * RATE) / 1000);
    const lateErle = erleDb(scenario.mic, late, scenario.segments.farOnly, FRAME);
    expect(lateErle, `ERLE ${lateErle.toFixed(1)} dB late, ${erle.toFixed(1)} dB aligned`).toBeLessThan(erle - 15);
    expect(lateErle).toBeLessThan(15);
  });
});
