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
    expect(resolveEchoEngine('auto', both)).toBe('webrtc');
    expect(resolveEchoEngine('auto', speexOnly)).toBe('speex');
    expect(resolveEchoEngine('speex', both)).toBe('speex');
    expect(resolveEchoEngine('webrtc', speexOnly)).toBe('webrtc');
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

  it('opens the engine it stands for on the real addon', async () => {
    const binding = loadNativeBinding();
    const expected = binding.buildInfo().echoEngines.includes('webrtc') ? 'webrtc' : 'speex';
    engine = await AudioEngine.create({ binding, manualClock: true, aec: { engine: 'auto' } });
    expect(engine.stats().aec?.engine).toBe(expected);
  });

  it("refuses a name that is not an engine, listing 'auto'", async () => {
    await expect(AudioEngine.create({ binding: createFakeBinding(), manualClock: true, aec: { engine: 'pulse' as never } })).rejects.toThrow(
      "aec.engine must be 'auto', 'speex', 'webrtc', got 'pulse'",
    );
  });
});
