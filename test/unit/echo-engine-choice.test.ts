import { afterEach, describe, expect, it } from 'vitest';
import { AudioEngine, createFakeBinding, loadNativeBinding } from '../../src/media/index.js';
import { resolveEchoEngine } from '../../src/media/echo-engine-choice.js';

// aec.engine 'auto' (the default): webrtc when the addon was built with it, else speex.

let engine: AudioEngine | undefined;
afterEach(() => {
  engine?.close();
  engine = undefined;
});

describe("echo engine 'auto'", () => {
  it('stands for webrtc on a build that has it and for speex on one that does not; a named engine for itself', () => {
    const both = createFakeBinding({ echoEngines: ['speex', 'webrtc'] });
    const speexOnly = createFakeBinding({ echoEngines: ['speex'] });
    expect(resolveEchoEngine('auto', both, 16000)).toBe('webrtc');
    expect(resolveEchoEngine('auto', speexOnly, 16000)).toBe('speex');
    expect(resolveEchoEngine('speex', both, 16000)).toBe('speex');
    expect(resolveEchoEngine('webrtc', speexOnly, 16000)).toBe('webrtc');
  });

  it('stands for speex on a build whose webrtc is AEC3 (the 1.x API, not measured in the room bench)', () => {
    const aec3 = createFakeBinding({ echoEngines: ['speex', 'webrtc'], webrtcApm: '1' });
    expect(aec3.buildInfo()).toEqual({ echoEngines: ['speex', 'webrtc'], webrtcApm: '1' });
    expect(resolveEchoEngine('auto', aec3, 16000)).toBe('speex');
    expect(resolveEchoEngine('webrtc', aec3, 16000)).toBe('webrtc');
  });

  it('stands for speex at a bridge rate webrtc does not run at (24 kHz), for webrtc at 8, 16, 32 and 48 kHz', () => {
    const both = createFakeBinding({ echoEngines: ['speex', 'webrtc'] });
    expect([8000, 16000, 22050, 24000, 32000, 44100, 48000].map((rate) => resolveEchoEngine('auto', both, rate))).toEqual([
      'webrtc',
      'webrtc',
      'speex',
      'speex',
      'webrtc',
      'speex',
      'webrtc',
    ]);
  });

  it('opens the engine it stands for (fake builds with and without webrtc)', async () => {
    for (const [echoEngines, expected] of [
      [['speex'], 'speex'],
      [['speex', 'webrtc'], 'webrtc'],
    ] as const) {
      engine = await AudioEngine.create({ binding: createFakeBinding({ echoEngines: [...echoEngines] }), manualClock: true, aec: { engine: 'auto' } });
      expect(engine.stats().aec?.engine).toBe(expected);
      engine.close();
      engine = undefined;
    }
  });

  it('opens the engine it stands for on the real addon, at 16 and at 24 kHz', async () => {
    const binding = loadNativeBinding();
    const expected = binding.buildInfo().webrtcApm === '0.3' ? 'webrtc' : 'speex';
    engine = await AudioEngine.create({ binding, manualClock: true, aec: { engine: 'auto' } });
    expect(engine.stats().aec?.engine).toBe(expected);
    engine.close();
    engine = await AudioEngine.create({ binding, manualClock: true, bridgeRate: 24000, aec: { engine: 'auto' } });
    expect(engine.stats().aec?.engine).toBe('speex');
  });

  it("refuses a name that is not an engine, listing 'auto'", async () => {
    await expect(AudioEngine.create({ binding: createFakeBinding(), manualClock: true, aec: { engine: 'pulse' as never } })).rejects.toThrow(
      "aec.engine must be 'auto', 'speex', 'webrtc', got 'pulse'",
    );
  });
});
