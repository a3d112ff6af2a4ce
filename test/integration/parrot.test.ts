import { afterEach, describe, expect, it } from 'vitest';
import { AudioMediaAiPort } from '../../src/ai/index.js';
import type { AiEvent } from '../../src/ai/index.js';
import { AudioEngine, AudioMediaPlayer } from '../../src/media/index.js';
import { waitFor } from '../helpers/signal.js';

// The default backend: a local parrot that repeats each utterance, running the whole AI port.

let engine: AudioEngine | undefined;
afterEach(() => {
  engine?.close();
  engine = undefined;
});

function utterance(seconds: number): Int16Array {
  const rate = 16000;
  const out = new Int16Array(rate * seconds);
  for (let i = 0; i < out.length; i++) {
    const t = i / rate;
    const syllable = Math.max(0, Math.sin(2 * Math.PI * 4 * t)) ** 0.3;
    let v = 0;
    for (let h = 1; h <= 6; h++) v += Math.sin(2 * Math.PI * 150 * h * t) / h;
    out[i] = Math.round(7000 * syllable * v);
  }
  return out;
}

describe('parrot backend', () => {
  it('waits for the end of an utterance and plays it back through the bridge', async () => {
    engine = await AudioEngine.create({ device: { type: 'null' } });
    const ai = new AudioMediaAiPort(engine);
    ai.createPort({ backend: 'parrot' });
    const events: AiEvent[] = [];
    ai.on('event', (e) => events.push(e));
    ai.startTransmit(engine.playbackMedia);
    ai.connect('local://parrot', null);
    await waitFor(() => ai.isConnected(), 2000, 'connected');
    expect(events[0]).toMatchObject({ type: 'connected', dialect: 'ga' });
    const speech = AudioMediaPlayer.fromPcm(engine, utterance(1.2), 16000);
    speech.startTransmit(ai);
    await waitFor(() => events.some((e) => e.type === 'response_done'), 5000, 'parrot reply');
    const types = events.map((e) => e.type);
    expect(types.indexOf('speech_started')).toBeLessThan(types.indexOf('speech_stopped'));
    expect(types.indexOf('speech_stopped')).toBeLessThan(types.indexOf('response_start'));
    const transcript = events.find((e) => e.type === 'transcript' && e.final);
    expect(transcript).toMatchObject({ role: 'assistant' });
    const seconds = Number(/\(parrot\) ([\d.]+) seconds/.exec((transcript as { text: string }).text)?.[1]);
    expect(seconds).toBeGreaterThan(1.2);
    expect(seconds).toBeLessThan(2.5);
    await waitFor(() => ai.stats().playedMs >= seconds * 1000 - 50, 5000, 'played back');
    expect(ai.stats().playedMs).toBeLessThanOrEqual(seconds * 1000 + 50);
    ai.destroy();
  });

  it('answers a text turn with a tone and the text, and says no to a bad local name', async () => {
    engine = await AudioEngine.create({ device: { type: 'null' } });
    const ai = new AudioMediaAiPort(engine);
    ai.createPort({ backend: 'parrot' });
    ai.startTransmit(engine.playbackMedia);
    expect(() => ai.connect('local://nobody', null)).toThrow(/no local service 'nobody'/);
    ai.connect('local://parrot', null);
    await waitFor(() => ai.isConnected(), 2000, 'connected');
    const texts: string[] = [];
    ai.on('event', (e) => e.type === 'transcript' && texts.push(e.text));
    ai.say('hello parrot');
    await waitFor(() => texts.includes('you said: hello parrot'), 3000, 'text reply');
    await waitFor(() => ai.stats().playedMs >= 300, 3000, 'tone played');
    ai.destroy();
  });
});
