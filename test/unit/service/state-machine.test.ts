import { describe, expect, it } from 'vitest';
import type { AiEvent } from '../../../src/ai/types.js';
import type { ServiceState } from '../../../src/control/target.js';
import { nextState, type StateInput } from '../../../src/service/state-machine.js';
import { gainToVolume, volumeToGain } from '../../../src/service/volume.js';

const ai = (event: AiEvent): StateInput => ({ kind: 'ai', event });
const playing = (event: AiEvent, connected: boolean): StateInput => ({ kind: 'ai', event, link: { playingOut: true, connected } });

describe('service state machine', () => {
  it('walks a whole conversation turn', () => {
    const inputs: StateInput[] = [
      { kind: 'audio_ready' },
      ai({ type: 'connected', renewal: false, dialect: 'ga' }),
      ai({ type: 'speech_started' }),
      ai({ type: 'speech_stopped' }),
      ai({ type: 'response_start', responseId: 'r' }),
      ai({ type: 'audio_start', itemId: 'i' }),
      ai({ type: 'response_done', responseId: 'r', status: 'completed' }),
      ai({ type: 'audio_done', interrupted: false }),
    ];
    const states: ServiceState[] = [];
    let state: ServiceState = 'starting';
    for (const input of inputs) states.push((state = nextState(state, input)));
    expect(states).toEqual(['connecting', 'listening', 'user_speaking', 'thinking', 'thinking', 'speaking', 'speaking', 'listening']);
  });

  const table: [ServiceState, StateInput, ServiceState][] = [
    ['speaking', ai({ type: 'speech_started' }), 'user_speaking'],
    ['thinking', ai({ type: 'response_done', responseId: 'r', status: 'completed' }), 'listening'],
    ['listening', ai({ type: 'disconnected', code: 1006, reason: '', renewal: false, retryInMs: 1000 }), 'offline'],
    ['offline', ai({ type: 'speech_started' }), 'offline'],
    ['offline', ai({ type: 'connected', renewal: false, dialect: 'ga' }), 'listening'],
    ['listening', ai({ type: 'error', code: 'ERR_AI_HANDSHAKE', message: 'no', fatal: true }), 'error'],
    ['listening', ai({ type: 'error', code: 'ERR_AI_SERVICE', message: 'meh', fatal: false }), 'listening'],
    ['error', ai({ type: 'disconnected', code: 1006, reason: '', renewal: false, retryInMs: 300000 }), 'error'],
    ['speaking', { kind: 'stopping' }, 'stopping'],
    ['stopping', ai({ type: 'connected', renewal: false, dialect: 'ga' }), 'stopping'],
    ['listening', ai({ type: 'transcript', role: 'user', text: 'x', final: true }), 'listening'],
    // Reply audio still in the playout ring keeps the device speaking when the link drops...
    ['speaking', playing({ type: 'disconnected', code: 1006, reason: '', renewal: false, retryInMs: 1000 }, false), 'speaking'],
    ['speaking', playing({ type: 'connected', renewal: false, dialect: 'ga' }, true), 'speaking'],
    // ...until its last sample: offline when the link is still down, listening when it is back.
    ['speaking', { kind: 'ai', event: { type: 'audio_done', interrupted: false }, link: { playingOut: false, connected: false } }, 'offline'],
    ['speaking', { kind: 'ai', event: { type: 'audio_done', interrupted: false }, link: { playingOut: false, connected: true } }, 'listening'],
    [
      'speaking',
      { kind: 'ai', event: { type: 'disconnected', code: 1006, reason: '', renewal: false, retryInMs: 1000 }, link: { playingOut: false, connected: false } },
      'offline',
    ],
  ];
  it.each(table)('%s + %j -> %s', (from, input, to) => {
    expect(nextState(from, input)).toBe(to);
  });
});

describe('volume curve', () => {
  it('is silent at 0, unity at 100, and equal dB steps between', () => {
    expect(volumeToGain(0)).toBe(0);
    expect(volumeToGain(100)).toBe(1);
    expect(20 * Math.log10(volumeToGain(50))).toBeCloseTo(-25, 5);
    expect(20 * Math.log10(volumeToGain(1))).toBeCloseTo(-49.5, 5);
    for (const v of [1, 17, 50, 70, 99, 100]) expect(gainToVolume(volumeToGain(v))).toBe(v);
  });
});
