import convict from 'convict';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultConfig, diffConfig, strongestEffect } from '../../../src/config/load.js';
import { KEY_EFFECTS, KEYS, SCHEMA, type SpeakerdConfig } from '../../../src/config/schema.js';
import { configReference } from '../../../src/config/reference.js';
import { TempEtc } from './helpers.js';

describe('schema', () => {
  it('has a doc, a format, a default and an effect for every key', async () => {
    expect(KEYS.size).toBeGreaterThan(50);
    for (const spec of KEYS.values()) {
      expect(spec.doc.length, spec.path).toBeGreaterThan(10);
      expect(typeof spec.format, spec.path).toBe('function');
      expect(spec.default, spec.path).not.toBeUndefined();
      expect(KEY_EFFECTS[spec.path], spec.path).toBe(spec.effect);
    }
    expect(Object.keys(KEY_EFFECTS)).toEqual([...KEYS.keys()]);
  });

  it('includes the keys design.md names', async () => {
    for (const key of [
      'audio.device',
      'audio.capture',
      'audio.playback',
      'audio.rate',
      'audio.alsaConfig',
      'aec.enabled',
      'ai.backend',
      'ai.url',
      'ai.model',
      'ai.apiKeyFile',
      'ai.voice',
      'ai.instructions',
      'control.socket',
      'leds.driver',
      'buttons.driver',
    ]) {
      expect(KEYS.has(key), key).toBe(true);
    }
  });

  it('is a convict schema whose strict validation accepts the defaults and rejects unknown keys', async () => {
    const store = convict(SCHEMA, { env: {}, args: [] });
    expect(() => store.validate({ allowed: 'strict' })).not.toThrow();
    store.load({ audio: { nope: 1 } });
    expect(() => store.validate({ allowed: 'strict' })).toThrow(/audio\.nope/);
  });

  it.each([
    ['audio.volume', 'live'],
    ['ai.voice', 'live'],
    ['ai.instructions', 'live'],
    ['leds.driver', 'live'],
    ['leds.brightness', 'live'],
    ['log.level', 'live'],
    ['earcons.volume', 'live'],
    ['earcons.ready', 'live'],
    ['ai.url', 'reconnect'],
    ['ai.model', 'reconnect'],
    ['ai.backend', 'reconnect'],
    ['ai.dialect', 'reconnect'],
    ['ai.tls.caFile', 'reconnect'],
    ['ai.tls.verify', 'reconnect'],
    ['audio.device', 'reopen'],
    ['audio.capture', 'reopen'],
    ['audio.playback', 'reopen'],
    ['audio.rate', 'reopen'],
    ['aec.tailMs', 'reopen'],
    ['aec.enabled', 'reopen'],
    ['control.socket', 'restart'],
    ['state.file', 'restart'],
  ])('%s changes with effect %s', async (key, effect) => {
    expect(KEY_EFFECTS[key]).toBe(effect);
  });
});

describe('diffConfig', () => {
  let etc: TempEtc;
  beforeEach(() => {
    etc = new TempEtc();
  });
  afterEach(() => etc.remove());

  const change = (edit: (c: SpeakerdConfig) => void): SpeakerdConfig => {
    const c = defaultConfig();
    edit(c);
    return c;
  };

  it('is empty for equal configurations', async () => {
    expect(diffConfig(defaultConfig(), defaultConfig())).toEqual([]);
    expect(strongestEffect([])).toBeNull();
  });

  it('lists the changed keys in schema order with their effects, arrays compared by value', async () => {
    const after = change((c) => {
      c.log.level = 'debug';
      c.audio.volume = 30;
      c.ai.model = 'other';
      c.aec.tailMs = 500;
      c.ai.builtinTools = ['time'];
    });
    const changes = diffConfig(defaultConfig(), after);
    expect(changes).toEqual([
      { path: 'audio.volume', effect: 'live' },
      { path: 'aec.tailMs', effect: 'reopen' },
      { path: 'ai.model', effect: 'reconnect' },
      { path: 'ai.builtinTools', effect: 'reconnect' },
      { path: 'log.level', effect: 'live' },
    ]);
    expect(strongestEffect(changes)).toBe('reopen');
    expect(
      diffConfig(
        after,
        change((c) => Object.assign(c, after, { ai: { ...after.ai, builtinTools: ['time'] } })),
      ),
    ).toEqual([]);
  });

  it('reports restart for keys that cannot change while running', async () => {
    const changes = diffConfig(
      defaultConfig(),
      change((c) => (c.control.socket = '/tmp/other.sock')),
    );
    expect(strongestEffect(changes)).toBe('restart');
  });

  it('works on two loads, as a SIGHUP reload does', async () => {
    const file = etc.write('speakerd.json', { ai: { voice: 'a' } });
    const before = (await etc.load()).config;
    etc.write('speakerd.json', { ai: { voice: 'b', tls: { verify: false } } });
    const after = (await etc.load({ configFile: file })).config;
    expect(diffConfig(before, after)).toEqual([
      { path: 'ai.voice', effect: 'live' },
      { path: 'ai.tls.verify', effect: 'reconnect' },
    ]);
  });
});

describe('example and reference', () => {
  it('config/speakerd.example.json is valid for a board with a key given as a systemd credential', async () => {
    const etc = new TempEtc();
    try {
      etc.write('creds/ai-api-key', 'sk-example', 0o400);
      const example = new URL('../../../config/speakerd.example.json', import.meta.url).pathname;
      const { config, apiKey, files } = await etc.load({ configFile: example, env: { CREDENTIALS_DIRECTORY: etc.path('creds') } });
      expect(files).toEqual([example]);
      expect(config.audio.device).toBe('alsa');
      expect(config.audio.capture).toBe('plughw:0');
      expect(config.ai.backend).toBe('openai');
      expect(apiKey).toBe('sk-example');
    } finally {
      etc.remove();
    }
  });

  it('configReference lists every key with its default, variable and effect', async () => {
    const text = configReference();
    for (const spec of KEYS.values()) expect(text).toContain(`| \`${spec.path}\` |`);
    expect(text).toContain('| `ai.tls.caFile` | `""` | `SPEAKERD_AI_TLS_CAFILE` | reconnect | never |');
    expect(text).toContain('| `ai.voice` | `""` | `SPEAKERD_AI_VOICE` | live | control |');
  });

  it('docs/configuration.md holds the reference as the schema gives it', async () => {
    const { readFileSync } = await import('node:fs');
    expect(readFileSync('docs/configuration.md', 'utf8')).toContain(configReference());
  });
});
