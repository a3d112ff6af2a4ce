import { chmodSync, mkdirSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, EX_CONFIG, formatProblem } from '../../../src/config/errors.js';
import { parseJson } from '../../../src/config/json.js';
import { TempEtc } from './helpers.js';

let etc: TempEtc;
beforeEach(() => {
  etc = new TempEtc();
});
afterEach(() => etc.remove());

const isRoot = process.getuid?.() === 0;

describe('every problem at once', () => {
  it('reports wrong types, ranges, enums and unknown keys of all sources together, with paths, values and sources', async () => {
    const main = etc.write('speakerd.json', {
      audio: { rate: 44101, device: 'pulse', captureChannels: '2', volume: 101 },
      aec: { tailMs: 5, enabled: 'yes' },
      ai: { backend: 'watson', url: 'http://example.com', tls: { verify: 1 } },
      log: { level: 'verbose' },
      leds: { brightness: 1.5 },
      control: { mode: '999', allowUids: [-1] },
      frobnicate: true,
    });
    const dropIn = etc.write('conf.d/10.json', { audio: { rat: 48000 }, earcons: 'loud' });
    const { error, problems } = await etc.problems({
      env: { SPEAKERD_AUDIO_BUFFERPERIODS: 'four', SPEAKERD_AI_SESSIONLIFETIMEMS: '500', SPEAKERD_AUDIO_SAMPLERATE: '1' },
      overrides: { 'audio.prefillPeriods': 0, 'ai.nonsense': 1 },
    });
    const by = (path: string) => problems.filter((p) => p.path === path);
    expect(by('audio.rate')).toEqual([{ path: 'audio.rate', source: main, message: 'must be a multiple of 100 from 8000 to 192000, got 44101' }]);
    expect(by('audio.device')[0]?.message).toBe("must be one of 'null', 'alsa', got \"pulse\"");
    expect(by('audio.captureChannels')[0]?.message).toBe('must be an integer from 1 to 8, got "2"');
    expect(by('audio.volume')[0]?.message).toBe('must be an integer from 0 to 100, got 101');
    expect(by('aec.tailMs')[0]?.message).toContain('from 10 to 1000');
    expect(by('aec.enabled')[0]?.message).toBe('must be true or false, got "yes"');
    expect(by('ai.backend')[0]?.message).toContain("'parrot', 'openai'");
    expect(by('ai.url')[0]?.message).toContain('ws://, wss:// or local://');
    expect(by('ai.tls.verify')[0]?.message).toBe('must be true or false, got 1');
    expect(by('log.level')[0]?.message).toContain("'debug', 'info', 'notice', 'warning', 'error'");
    expect(by('leds.brightness')[0]?.message).toBe('must be a number from 0 to 1, got 1.5');
    expect(by('control.mode')[0]?.message).toContain('octal');
    expect(by('control.allowUids')[0]?.message).toContain('user ids');
    expect(by('frobnicate')).toEqual([{ path: 'frobnicate', source: main, message: 'unknown key' }]);
    expect(by('audio.rat')).toEqual([{ path: 'audio.rat', source: dropIn, message: 'unknown key (did you mean audio.rate?)' }]);
    expect(by('earcons')[0]?.message).toContain('must be an object with the keys enabled, volume');
    expect(by('audio.bufferPeriods')).toEqual([
      { path: 'audio.bufferPeriods', source: '$SPEAKERD_AUDIO_BUFFERPERIODS', message: 'must be an integer from 2 to 32, got "four"' },
    ]);
    expect(by('ai.sessionLifetimeMs')[0]).toEqual({
      path: 'ai.sessionLifetimeMs',
      source: '$SPEAKERD_AI_SESSIONLIFETIMEMS',
      message: 'must be an integer from 1000 to 86400000, got 500',
    });
    expect(problems).toContainEqual({ path: '', source: '$SPEAKERD_AUDIO_SAMPLERATE', message: expect.stringContaining('unknown') });
    expect(by('audio.prefillPeriods')).toEqual([{ path: 'audio.prefillPeriods', source: 'command line', message: 'must be an integer from 1 to 31, got 0' }]);
    expect(by('ai.nonsense')[0]?.source).toBe('command line');
    expect(problems.length).toBe(21);
    expect(error.code).toBe('ERR_CONFIG_INVALID');
    expect(error.message).toMatch(/^invalid configuration \(21 problems\):\n/);
    for (const p of problems) expect(error.message).toContain(formatProblem(p));
    expect(EX_CONFIG).toBe(78);
  });

  it('reports a value that is bad in a lower source even when a higher source overrides it', async () => {
    etc.write('speakerd.json', { audio: { rate: 'fast' } });
    const { problems } = await etc.problems({ overrides: { 'audio.rate': 48000 } });
    expect(problems.map((p) => p.path)).toEqual(['audio.rate']);
  });

  it('reports a group given a scalar and a key given an object', async () => {
    const { problems } = await etc.problems({ overrides: { audio: 'alsa', ai: { tls: 'off' }, 'aec.tailMs': { ms: 1 } } });
    expect(problems.map((p) => p.path).sort()).toEqual(['aec.tailMs', 'ai.tls', 'audio']);
  });

  it('rejects bad environment values of every kind', async () => {
    const { problems } = await etc.problems({
      env: {
        SPEAKERD_AUDIO_RATE: '48000Hz',
        SPEAKERD_AEC_ENABLED: 'maybe',
        SPEAKERD_CONTROL_ALLOWUIDS: '1000,root',
        SPEAKERD_AI_BUILTINTOOLS: '[time',
        SPEAKERD_LEDS_BRIGHTNESS: '',
      },
    });
    expect(problems.map((p) => p.path).sort()).toEqual(['aec.enabled', 'ai.builtinTools', 'audio.rate', 'control.allowUids', 'leds.brightness']);
    expect(problems.find((p) => p.path === 'audio.rate')?.message).toContain('got "48000Hz"');
  });

  it('checks rules across keys: prefill below buffer, URL scheme for the backend, TLS cert and key together', async () => {
    etc.write('speakerd.json', { audio: { bufferPeriods: 3, prefillPeriods: 3 }, ai: { url: 'ws://127.0.0.1:9000' }, control: {} });
    const { problems } = await etc.problems({ overrides: { 'ai.tls.certFile': '/nonexistent/cert.pem' } });
    expect(problems.find((p) => p.path === 'audio.prefillPeriods')?.message).toBe('must be less than audio.bufferPeriods (3), got 3');
    expect(problems.find((p) => p.path === 'ai.url')?.message).toContain("backend 'parrot' needs a local:// URL");
    expect(problems.find((p) => p.path === 'ai.tls.keyFile')?.message).toContain('go together');
    expect(problems.find((p) => p.path === 'ai.tls.certFile')?.message).toContain('ENOENT');
    const openai = (await etc.problems({ overrides: { 'ai.backend': 'openai', 'ai.url': 'local://parrot' } })).problems;
    expect(openai.find((p) => p.path === 'ai.url')?.message).toContain('ws:// or wss://');
  });

  it('checks the period against prefill and buffer, which count 10 ms whatever the period', async () => {
    const file = etc.write('speakerd.json', { audio: { periodMs: 20, prefillPeriods: 2 } });
    const alone = (await etc.problems()).problems;
    expect(alone).toEqual([
      {
        path: 'audio.prefillPeriods',
        source: file,
        message: 'counts 10 ms and must cover one audio.periodMs (20 ms) and a tick more: got 2, set 3 or more',
        related: ['audio.periodMs'],
      },
    ]);
    const loaded = await etc.load({ overrides: { 'audio.prefillPeriods': 3 } });
    expect([loaded.config.audio.periodMs, loaded.config.audio.prefillPeriods]).toEqual([20, 3]);
    const ten = (await etc.problems({ overrides: { 'audio.periodMs': 10, 'audio.prefillPeriods': 1 } })).problems;
    expect(ten.map((p) => p.message)).toEqual(['counts 10 ms and must cover one audio.periodMs (10 ms) and a tick more: got 1, set 2 or more']);
    const long = (await etc.problems({ overrides: { 'audio.periodMs': 40, 'audio.prefillPeriods': 5, 'audio.bufferPeriods': 6 } })).problems;
    expect(long.map((p) => [p.path, p.message])).toEqual([['audio.bufferPeriods', 'counts 10 ms and must cover at least two audio.periodMs (40 ms): got 6']]);
    const odd = (await etc.problems({ overrides: { 'audio.periodMs': 15 } })).problems;
    expect(odd.find((p) => p.path === 'audio.periodMs')?.message).toBe('must be a multiple of 10 from 10 to 40, got 15');
  });

  it('refuses a URL carrying a user name or password, and relative paths', async () => {
    const { problems } = await etc.problems({
      overrides: { 'ai.url': 'wss://user:pw@example.com/', 'earcons.ready': 'ready.wav', 'control.socket': `/${'x'.repeat(120)}` },
    });
    expect(problems.find((p) => p.path === 'ai.url')?.message).toContain('user name or password');
    expect(problems.find((p) => p.path === 'earcons.ready')?.message).toContain('absolute path');
    expect(problems.find((p) => p.path === 'control.socket')?.message).toContain('at most 107 bytes');
  });

  it('shortens long bad values', async () => {
    const { problems } = await etc.problems({ overrides: { 'ai.voice': 'v'.repeat(500) } });
    expect(problems[0]?.message.length).toBeLessThan(200);
  });
});

describe('files', () => {
  it('reports bad JSON with the file, line and column, without quoting the text', async () => {
    const file = etc.write('speakerd.json', '{\n  "audio": {\n    "rate": 48000,\n  }\n}\n');
    const bad = etc.write('conf.d/10.json', '{\n  "ai": { "voice": sk-secret-value }\n}');
    const { problems } = await etc.problems();
    expect(problems).toEqual([
      { path: '', source: file, message: 'invalid JSON at line 4, column 3: expected a property after the comma' },
      { path: '', source: bad, message: expect.stringMatching(/^invalid JSON at line 2, column 20: expected a value/) },
    ]);
    expect(JSON.stringify(problems)).not.toContain('sk-secret');
  });

  it('reports a file that does not hold an object, a directory, and an oversized file', async () => {
    etc.write('speakerd.json', '[1, 2]');
    mkdirSync(etc.path('conf.d/10-dir.json'), { recursive: true });
    etc.write('conf.d/20-big.json', `{"ai": {"instructions": "${'x'.repeat(1024 * 1024)}"}}`);
    const messages = (await etc.problems()).problems.map((p) => p.message);
    expect(messages).toEqual(['must hold a JSON object at the top level', 'cannot read: not a regular file', 'file is larger than 1048576 bytes']);
  });

  it.skipIf(isRoot)('reports an unreadable file and an unreadable conf.d (skipped as root, who reads any file)', async () => {
    const file = etc.write('speakerd.json', { audio: {} }, 0o000);
    mkdirSync(etc.path('conf.d'));
    chmodSync(etc.path('conf.d'), 0o000);
    try {
      const { problems } = await etc.problems();
      expect(problems).toEqual([
        { path: '', source: file, message: 'cannot read: permission denied (EACCES)' },
        { path: '', source: etc.path('conf.d'), message: 'cannot list the drop-in directory: permission denied (EACCES)' },
      ]);
    } finally {
      chmodSync(etc.path('conf.d'), 0o755);
    }
  });

  it('reports unreadable sources as root too: a --config path through a file, conf.d that is a file', async () => {
    const plain = etc.write('plain', 'x');
    etc.write('conf.d', 'not a directory');
    const { problems } = await etc.problems({ configFile: `${plain}/speakerd.json` });
    expect(problems).toEqual([
      { path: '', source: `${plain}/speakerd.json`, message: 'cannot read: not a directory (ENOTDIR)' },
      { path: '', source: etc.path('conf.d'), message: 'cannot list the drop-in directory: not a directory (ENOTDIR)' },
    ]);
  });

  it('reports a file named by a key that cannot be read', async () => {
    const { problems } = await etc.problems({ overrides: { 'audio.alsaConfig': etc.path('missing.conf'), 'earcons.mute': etc.path('m.wav') } });
    expect(problems.map((p) => p.path)).toEqual(['audio.alsaConfig', 'earcons.mute']);
    expect(problems[0]?.message).toBe(`cannot read ${etc.path('missing.conf')}: no such file or directory (ENOENT)`);
    expect(problems[0]?.source).toBe('command line');
  });

  it('is a ConfigError instance', async () => {
    etc.write('speakerd.json', '{');
    await expect(etc.load()).rejects.toThrow(ConfigError);
  });
});

describe('parseJson', () => {
  it.each([
    ['{', 1, 2, 'unexpected end of file'],
    ['{"a" 1}', 1, 6, "expected ':'"],
    ['{"a": 1 "b": 2}', 1, 9, "expected ',' or '}'"],
    ['[1, 2,]', 1, 7, 'a value after the comma'],
    ['{"a": "x\ny"}', 1, 9, 'control character'],
    ['{"a": "\\q"}', 1, 8, 'invalid escape'],
    ['{} {}', 1, 4, 'after the end'],
    ['{\n\n  "a": tru\n}', 3, 8, 'expected a value'],
    ["{'a': 1}", 1, 2, 'double-quoted property name'],
  ])('locates the error in %j', async (text, line, column, reason) => {
    const result = parseJson(text);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toMatchObject({ line, column });
    expect(result.error.reason).toContain(reason);
  });

  it('parses valid JSON, with a BOM too', async () => {
    expect(parseJson('\ufeff{"a": [1, "x", true, null, -1.5e3]}')).toEqual({ ok: true, value: { a: [1, 'x', true, null, -1500] } });
  });
});

describe('per-backend requirements', () => {
  it('azure needs its resource URL and a deployment name, with clear errors', async () => {
    const { TempEtc } = await import('./helpers.js');
    const etc = new TempEtc();
    try {
      const key = etc.write('key', 'azure-key', 0o600);
      const { problems } = await etc.problems({ overrides: { 'ai.backend': 'azure', 'ai.apiKeyFile': key } });
      expect(problems.map((p) => p.path).sort()).toEqual(['ai.model', 'ai.url']);
      expect(problems.find((p) => p.path === 'ai.url')?.message).toMatch(/no default endpoint.*openai\.azure\.com/);
      const loaded = await etc.load({
        overrides: { 'ai.backend': 'azure', 'ai.apiKeyFile': key, 'ai.url': 'wss://r.openai.azure.com/openai/v1/realtime', 'ai.model': 'rt' },
      });
      expect(loaded.config.ai.backend).toBe('azure');
    } finally {
      etc.remove();
    }
  });
});

describe('the echo engine', () => {
  it("refuses an engine the addon was not built with, naming what it has; any engine when the addon's are unknown", async () => {
    const { problems } = await etc.problems({ echoEngines: ['speex'], overrides: { 'aec.engine': 'webrtc' } });
    expect(problems).toEqual([
      {
        path: 'aec.engine',
        source: 'command line',
        message: "'webrtc' is not built into this speakerd (webrtc-audio-processing was not found when the addon was built); available: speex",
      },
    ]);
    expect((await etc.load({ echoEngines: ['speex', 'webrtc'], overrides: { 'aec.engine': 'webrtc' } })).config.aec.engine).toBe('webrtc');
    expect((await etc.load({ echoEngines: ['speex'] })).config.aec.engine).toBe('auto');
    expect((await etc.load({ echoEngines: ['speex'], overrides: { 'aec.engine': 'auto' } })).config.aec.engine).toBe('auto');
    expect((await etc.load({ overrides: { 'aec.engine': 'webrtc' } })).config.aec.engine).toBe('webrtc');
  });

  it("refuses webrtc at a bridge rate it does not run at, and takes 'auto' there (it is speex at that rate)", async () => {
    const { problems } = await etc.problems({ overrides: { 'aec.engine': 'webrtc', 'audio.bridgeRate': 24000 } });
    expect(problems).toEqual([
      {
        path: 'aec.engine',
        source: 'command line',
        message:
          "'webrtc' runs at a bridge rate of 8000, 16000, 32000, 48000 Hz and audio.bridgeRate is 24000: choose one of those rates, or aec.engine 'auto' or 'speex'",
        related: ['audio.bridgeRate', 'aec.enabled'],
      },
    ]);
    expect((await etc.load({ overrides: { 'audio.bridgeRate': 24000 } })).config.aec.engine).toBe('auto');
    expect((await etc.load({ overrides: { 'aec.engine': 'webrtc', 'audio.bridgeRate': 24000, 'aec.enabled': false } })).config.aec.enabled).toBe(false);
    expect((await etc.load({ overrides: { 'aec.engine': 'webrtc', 'audio.bridgeRate': 32000 } })).config.audio.bridgeRate).toBe(32000);
  });

  it('checks the values of aec.engine, aec.suppression and aec.maxDelayMs', async () => {
    const { problems } = await etc.problems({
      overrides: { 'aec.engine': 'pulse', 'aec.suppression': 'max', 'aec.maxDelayMs': 5, 'aec.delayMs': -2, 'aec.userMaxCutDb': -61 },
    });
    expect(problems.map((p) => p.path).sort()).toEqual(['aec.delayMs', 'aec.engine', 'aec.maxDelayMs', 'aec.suppression', 'aec.userMaxCutDb']);
    expect(problems.find((p) => p.path === 'aec.engine')?.message).toContain("'speex'");
    const defaults = (await etc.load()).config.aec;
    expect(defaults).toMatchObject({ engine: 'auto', suppression: 'low', userMaxCutDb: -1, delayMs: -1, maxDelayMs: 500, marginMs: 20 });
  });
});
