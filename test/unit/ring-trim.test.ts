/**
 * The playout ring gives its memory back between replies (issue 13): trimRx() releases the storage
 * only while nothing is buffered, and audio written afterwards plays out intact. Both bindings.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { NativeBinding, NativeEngine } from '../../src/media/binding.js';
import { createFakeBinding } from '../../src/media/fake-binding.js';
import { loadNativeBinding } from '../../src/media/native-binding.js';

const RATE = 16000;
const bindings: [string, NativeBinding][] = [
  ['fake', createFakeBinding()],
  ['native', loadNativeBinding()],
];

describe.each(bindings)('%s binding: trimRx', (_name, binding) => {
  const engines: NativeEngine[] = [];
  afterEach(() => {
    for (const engine of engines.splice(0)) engine.close();
  });

  it('releases the playout storage only when empty, and the ring works on afterwards', () => {
    const engine = new binding.Engine({ manualClock: true }, () => undefined);
    engines.push(engine);
    engine.start();
    // A 60 s playout ring playing into a sink ring that hands what it hears back to JS.
    const playout = engine.createRing(RATE, 1600, RATE * 60, 160, 0);
    const sink = engine.createRing(RATE, RATE * 20, 1600, 160, 0);
    engine.connect(playout, sink, 1);
    const reply = Int16Array.from({ length: RATE * 10 }, (_, i) => ((i * 7919) % 20000) - 10000);
    expect(engine.writeRx(playout, reply)).toBe(reply.length);
    expect(engine.trimRx(playout)).toBe(0);
    engine.step(1001);
    expect(engine.ringStatus(playout).rxBuffered).toBe(0);
    const heard = new Int16Array(RATE * 20);
    expect(engine.readTx(sink, heard)).toBeGreaterThanOrEqual(reply.length);
    expect(engine.trimRx(playout)).toBeGreaterThan(RATE * 2 * 50);
    // After the release the next reply is written and heard exactly.
    const next = reply.map((v) => -v);
    expect(engine.writeRx(playout, next)).toBe(next.length);
    engine.step(1001);
    const n = engine.readTx(sink, heard);
    const start = heard.subarray(0, n).findIndex((v) => v !== 0);
    expect(Array.from(heard.subarray(start, start + next.length))).toEqual(Array.from(next));
  });
});
