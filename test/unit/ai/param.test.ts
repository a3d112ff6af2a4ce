import { describe, expect, it } from 'vitest';
import { redact, resolveParam } from '../../../src/ai/param.js';
import type { AiPortParam } from '../../../src/ai/types.js';

describe('resolveParam', () => {
  it('applies the documented defaults', () => {
    expect(resolveParam({})).toEqual({
      batchMs: 40,
      prebufferMs: 100,
      reconnect: { minMs: 1000, maxMs: 30000, jitter: 0.2, fatalRetryMs: 300000 },
      pingIntervalMs: 15000,
      pongTimeoutMs: 10000,
      connectTimeoutMs: 10000,
      sessionTimeoutMs: 10000,
      sessionLifetimeMs: 55 * 60 * 1000,
      maxPayload: 2 * 1024 * 1024,
      maxMicAgeMs: 500,
      maxQueuedAudioMs: 2000,
      sendHighWaterBytes: 256 * 1024,
      nativeSocket: true,
      contextTurns: 20,
    });
  });

  const bad: [string, unknown, ErrorConstructor, RegExp][] = [
    ['not an object', null, TypeError, /param must be an object/],
    ['dialect', { dialect: 'v2' }, RangeError, /param\.dialect must be one of 'ga', 'beta', 'auto'/],
    ['batchMs type', { batchMs: '40' }, TypeError, /param\.batchMs must be a number/],
    ['batchMs range', { batchMs: 5 }, RangeError, /param\.batchMs must be from 10 to 1000, got 5/],
    ['nativeSocket type', { nativeSocket: 'yes' }, TypeError, /param\.nativeSocket must be a boolean/],
    ['prebufferMs NaN', { prebufferMs: NaN }, RangeError, /param\.prebufferMs/],
    ['modalities both', { outputModalities: ['audio', 'text'] }, RangeError, /outputModalities/],
    ['turn detection type', { turnDetection: { type: 'client_vad' } }, RangeError, /turnDetection\.type/],
    ['threshold', { turnDetection: { type: 'server_vad', threshold: 2 } }, RangeError, /turnDetection\.threshold/],
    ['eagerness', { turnDetection: { type: 'semantic_vad', eagerness: 'eager' } }, RangeError, /eagerness/],
    ['noise reduction', { noiseReduction: 'far' }, RangeError, /noiseReduction/],
    ['tools not array', { tools: {} }, TypeError, /param\.tools must be an array/],
    ['tool name', { tools: [{ name: 'a b', description: '', parameters: {} }] }, RangeError, /tools\[0\]\.name/],
    ['tool schema', { tools: [{ name: 'x', description: '', parameters: 'no' }] }, TypeError, /tools\[0\]\.parameters/],
    ['builtin', { builtinTools: ['weather'] }, RangeError, /builtinTools\[0\]/],
    ['voice type', { voice: 3 }, TypeError, /param\.voice must be a string/],
    ['max below min', { reconnect: { minMs: 5000, maxMs: 1000 } }, RangeError, /reconnect\.maxMs/],
    ['mic age', { maxMicAgeMs: 10 }, RangeError, /param\.maxMicAgeMs must be from 40 to 60000/],
  ];
  it.each(bad)('rejects %s', (_name, param, type, message) => {
    expect(() => resolveParam(param as AiPortParam)).toThrow(type);
    expect(() => resolveParam(param as AiPortParam)).toThrow(message);
  });

  it('accepts a full configuration', () => {
    const limits = resolveParam({
      dialect: 'beta',
      voice: 'marin',
      instructions: 'Be brief.',
      outputModalities: ['audio'],
      turnDetection: { type: 'semantic_vad', eagerness: 'low' },
      inputTranscription: { model: 'gpt-4o-mini-transcribe' },
      noiseReduction: null,
      tools: [{ name: 'get_weather', description: 'Weather', parameters: { type: 'object' } }],
      builtinTools: ['time', 'volume'],
      reconnect: { minMs: 500, maxMs: 8000 },
    });
    expect(limits.reconnect).toMatchObject({ minMs: 500, maxMs: 8000 });
  });
});

describe('redact', () => {
  it('removes the token, key-shaped strings and bearer values', () => {
    const token = 'sk-proj-ABCDEFGHIJKLMNOP1234';
    expect(redact(`bad key ${token}!`, token)).toBe('bad key ***!');
    expect(redact('Incorrect API key provided: sk-proj-****************abcd.', null)).toBe('Incorrect API key provided: sk-***.');
    expect(redact('Authorization: Bearer abc.def', null)).toBe('Authorization: Bearer ***');
    expect(redact('nothing secret here', 'tok')).toBe('nothing secret here');
  });
});
