import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultConfig, loadConfig } from '../../../src/config/load.js';
import { envVarName, KEYS } from '../../../src/config/schema.js';
import { TempEtc } from './helpers.js';

let etc: TempEtc;
beforeEach(() => {
  etc = new TempEtc();
});
afterEach(() => etc.remove());

describe('sources', () => {
  it('with no files, no environment and no flags gives the defaults: null device, parrot backend', async () => {
    const loaded = await etc.load();
    expect(loaded.config).toEqual(defaultConfig());
    expect(loaded.config.audio.device).toBe('null');
    expect(loaded.config.ai.backend).toBe('parrot');
    expect(loaded.config.audio.volume).toBe(70);
    expect(loaded.config.control.socket).toBe('/run/speakerd/control.sock');
    expect(loaded.files).toEqual([]);
    expect(loaded.apiKey).toBeNull();
    expect(loaded.origins).toEqual({});
  });

  it('every default passes its own format', async () => {
    for (const spec of KEYS.values()) expect(() => spec.format(spec.default), spec.path).not.toThrow();
  });

  it('reads <etcDir>/speakerd.json', async () => {
    const file = etc.write('speakerd.json', { audio: { device: 'alsa', capture: 'plughw:0' }, ai: { voice: 'marin' } });
    const loaded = await etc.load();
    expect(loaded.config.audio.device).toBe('alsa');
    expect(loaded.config.audio.capture).toBe('plughw:0');
    expect(loaded.config.audio.playback).toBe('default');
    expect(loaded.config.ai.voice).toBe('marin');
    expect(loaded.files).toEqual([file]);
    expect(loaded.origins['audio.device']).toBe(file);
  });

  it('reads conf.d/*.json in sorted order after speakerd.json, skipping other and hidden files', async () => {
    const main = etc.write('speakerd.json', { audio: { rate: 44100, volume: 10 } });
    const b = etc.write('conf.d/20-b.json', { audio: { volume: 30 }, ai: { voice: 'b' } });
    const a = etc.write('conf.d/10-a.json', { audio: { volume: 20, bufferPeriods: 8 }, ai: { voice: 'a' } });
    etc.write('conf.d/99-notes.txt', 'not json at all');
    etc.write('conf.d/.50-hidden.json', '{ broken');
    const loaded = await etc.load();
    expect(loaded.files).toEqual([main, a, b]);
    expect(loaded.config.audio.rate).toBe(44100);
    expect(loaded.config.audio.bufferPeriods).toBe(8);
    expect(loaded.config.audio.volume).toBe(30);
    expect(loaded.config.ai.voice).toBe('b');
    expect(loaded.origins['audio.volume']).toBe(b);
    expect(loaded.origins['audio.bufferPeriods']).toBe(a);
  });

  it('sorts drop-ins by byte order, so 100- comes before 20-', async () => {
    etc.write('conf.d/20-x.json', { ai: { voice: 'twenty' } });
    etc.write('conf.d/100-x.json', { ai: { voice: 'hundred' } });
    expect((await etc.load()).config.ai.voice).toBe('twenty');
  });

  it('--config replaces speakerd.json (conf.d still applies after it)', async () => {
    etc.write('speakerd.json', { ai: { voice: 'etc' }, audio: { volume: 5 } });
    etc.write('conf.d/10.json', { audio: { rate: 32000 } });
    const other = etc.write('other/speakerd.json', { ai: { voice: 'explicit' } });
    const loaded = await etc.load({ configFile: other });
    expect(loaded.config.ai.voice).toBe('explicit');
    expect(loaded.config.audio.volume).toBe(70);
    expect(loaded.config.audio.rate).toBe(32000);
    expect(loaded.files).toEqual([other, etc.path('conf.d/10.json')]);
  });

  it('a missing --config file is an error; a missing etc file is not', async () => {
    expect((await etc.load()).files).toEqual([]);
    const { problems } = await etc.problems({ configFile: etc.path('nope.json') });
    expect(problems).toEqual([{ path: '', source: etc.path('nope.json'), message: expect.stringContaining('ENOENT') }]);
  });

  it('treats an empty file as setting nothing', async () => {
    etc.write('speakerd.json', '  \n');
    expect((await etc.load()).config).toEqual(defaultConfig());
  });
});

describe('environment', () => {
  it('maps each key to SPEAKERD_ + its upper-cased segments joined by _', async () => {
    expect(envVarName('control.socket')).toBe('SPEAKERD_CONTROL_SOCKET');
    expect(envVarName('ai.backend')).toBe('SPEAKERD_AI_BACKEND');
    expect(envVarName('ai.tls.caFile')).toBe('SPEAKERD_AI_TLS_CAFILE');
    expect(envVarName('audio.bridgeRate')).toBe('SPEAKERD_AUDIO_BRIDGERATE');
    const names = [...KEYS.values()].map((k) => k.env);
    expect(new Set(names).size).toBe(names.length);
    for (const spec of KEYS.values()) expect(spec.env).toBe(envVarName(spec.path));
  });

  it('parses strings into numbers, booleans and arrays (JSON or comma lists)', async () => {
    const { config } = await etc.load({
      env: {
        SPEAKERD_AUDIO_RATE: '44100',
        SPEAKERD_AI_VADTHRESHOLD: '0.25',
        SPEAKERD_AEC_DELAYMS: '-1',
        SPEAKERD_AEC_ENABLED: 'false',
        SPEAKERD_AEC_DENOISE: 'No',
        SPEAKERD_AI_TLS_VERIFY: '0',
        SPEAKERD_EARCONS_ENABLED: 'on',
        SPEAKERD_AI_BUILTINTOOLS: 'time, volume',
        SPEAKERD_CONTROL_ALLOWUIDS: '[1000, 0]',
        SPEAKERD_AI_INSTRUCTIONS: 'Be brief. Speak English.',
        SPEAKERD_CONTROL_SOCKET: '/tmp/x.sock',
      },
    });
    expect(config.audio.rate).toBe(44100);
    expect(config.ai.vadThreshold).toBe(0.25);
    expect(config.aec.delayMs).toBe(-1);
    expect(config.aec.enabled).toBe(false);
    expect(config.aec.denoise).toBe(false);
    expect(config.ai.tls.verify).toBe(false);
    expect(config.earcons.enabled).toBe(true);
    expect(config.ai.builtinTools).toEqual(['time', 'volume']);
    expect(config.control.allowUids).toEqual([1000, 0]);
    expect(config.ai.instructions).toBe('Be brief. Speak English.');
    expect(config.control.socket).toBe('/tmp/x.sock');
  });

  it('accepts comma lists of uids and an empty string as an empty array', async () => {
    expect((await etc.load({ env: { SPEAKERD_CONTROL_ALLOWUIDS: '1000,1001' } })).config.control.allowUids).toEqual([1000, 1001]);
    etc.write('speakerd.json', { ai: { builtinTools: ['time'] } });
    expect((await etc.load({ env: { SPEAKERD_AI_BUILTINTOOLS: '' } })).config.ai.builtinTools).toEqual([]);
  });

  it('ignores SPEAKERD_* variables outside the key groups (SPEAKERD_ADDON) and other variables', async () => {
    const loaded = await etc.load({ env: { SPEAKERD_ADDON: '/x.node', HOME: '/root', speakerd_audio_rate: 'x' } });
    expect(loaded.config).toEqual(defaultConfig());
  });

  it('uses process.env when no env is given', async () => {
    process.env.SPEAKERD_AI_VOICE = 'from-process';
    try {
      expect((await loadConfig({ etcDir: etc.dir })).config.ai.voice).toBe('from-process');
    } finally {
      delete process.env.SPEAKERD_AI_VOICE;
    }
  });
});

describe('overrides (command-line flags)', () => {
  it('take typed values or strings by key path, and objects for a group', async () => {
    const { config, origins } = await etc.load({
      overrides: { 'audio.device': 'alsa', 'audio.rate': '32000', 'aec.enabled': false, ai: { tls: { verify: 'false' } }, 'ai.tls': { caFile: '' } },
    });
    expect(config.audio.device).toBe('alsa');
    expect(config.audio.rate).toBe(32000);
    expect(config.aec.enabled).toBe(false);
    expect(config.ai.tls.verify).toBe(false);
    expect(origins['audio.rate']).toBe('command line');
  });
});

describe('precedence: defaults < etc file < conf.d sorted < environment < flags', () => {
  it('each later source wins for the keys it sets, and only those', async () => {
    etc.write('speakerd.json', { ai: { voice: 'etc', model: 'm-etc', instructions: 'etc', dialect: 'beta' }, audio: { volume: 1 } });
    etc.write('conf.d/10.json', { ai: { voice: 'a', model: 'm-a', instructions: 'a' } });
    etc.write('conf.d/20.json', { ai: { voice: 'b', model: 'm-b' } });
    const { config, origins } = await etc.load({
      env: { SPEAKERD_AI_VOICE: 'env', SPEAKERD_AI_MODEL: 'm-env' },
      overrides: { 'ai.voice': 'flag' },
    });
    expect(config.ai.voice).toBe('flag');
    expect(config.ai.model).toBe('m-env');
    expect(config.ai.instructions).toBe('a');
    expect(config.ai.dialect).toBe('beta');
    expect(config.audio.volume).toBe(1);
    expect(config.audio.rate).toBe(48000);
    expect(origins['ai.model']).toBe('$SPEAKERD_AI_MODEL');
    expect(origins['ai.instructions']).toBe(etc.path('conf.d/10.json'));
    expect(origins['ai.dialect']).toBe(etc.path('speakerd.json'));
  });

  it('an array from a later source replaces, not merges', async () => {
    etc.write('speakerd.json', { ai: { builtinTools: ['time', 'mute'] } });
    etc.write('conf.d/10.json', { ai: { builtinTools: ['volume'] } });
    expect((await etc.load()).config.ai.builtinTools).toEqual(['volume']);
  });
});
