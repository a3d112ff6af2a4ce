import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/config/errors.js';
import { printableConfig } from '../../../src/config/load.js';
import { backendNeedsKey, effectiveAiUrl } from '../../../src/config/secrets.js';
import { TempEtc } from './helpers.js';

const KEY = 'sk-test-0123456789abcdefSECRET';
const OPENAI = { 'ai.backend': 'openai' };

let etc: TempEtc;
beforeEach(() => {
  etc = new TempEtc();
});
afterEach(() => etc.remove());

/** Asserts the key appears nowhere in what a failed load exposes. */
function expectNoKey(error: unknown): void {
  expect(error).toBeInstanceOf(ConfigError);
  const e = error as ConfigError;
  expect(e.message).not.toContain(KEY);
  expect(JSON.stringify(e.problems)).not.toContain(KEY);
  expect(e.stack ?? '').not.toContain(KEY);
}

async function failure(run: () => unknown): Promise<ConfigError> {
  try {
    await run();
  } catch (error) {
    expectNoKey(error);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('API key file', () => {
  it('is read whole and trimmed', async () => {
    const file = etc.write('key', `\n  ${KEY}\r\n\n`, 0o600);
    const loaded = await etc.load({ overrides: { ...OPENAI, 'ai.apiKeyFile': file } });
    expect(loaded.apiKey).toBe(KEY);
    expect(loaded.apiKeySource).toBe(file);
    expect(loaded.warnings).toEqual([]);
  });

  it('is refused when readable by group or others, naming the file and chmod 600', async () => {
    for (const mode of [0o644, 0o640, 0o604, 0o660]) {
      const file = etc.write('key', KEY, mode);
      const e = await failure(() => etc.load({ overrides: { ...OPENAI, 'ai.apiKeyFile': file } }));
      expect(e.problems).toEqual([
        {
          path: 'ai.apiKeyFile',
          source: 'command line',
          message: `${file} is accessible by group or others (mode 0${mode.toString(8)}); the API key must be private: run chmod 600 ${file}`,
        },
      ]);
    }
  });

  it('is refused when empty, holding several words, or not a regular file', async () => {
    const empty = etc.write('empty', ' \n', 0o600);
    expect((await failure(() => etc.load({ overrides: { ...OPENAI, 'ai.apiKeyFile': empty } }))).problems[0]?.message).toContain('is empty');
    const two = etc.write('two', `${KEY}\nsecond-line-${KEY}`, 0o400);
    expect((await failure(() => etc.load({ overrides: { ...OPENAI, 'ai.apiKeyFile': two } }))).problems[0]?.message).toContain('only the key');
    expect((await failure(() => etc.load({ overrides: { ...OPENAI, 'ai.apiKeyFile': etc.dir } }))).problems[0]?.message).toContain(
      'is a directory; a regular file is needed',
    );
  });

  it('missing is an error only when the backend needs a key', async () => {
    const missing = etc.path('no-such-key');
    const e = await failure(() => etc.load({ overrides: { ...OPENAI, 'ai.apiKeyFile': missing } }));
    expect(e.problems).toEqual([{ path: 'ai.apiKeyFile', message: `${missing} does not exist; backend 'openai' needs an API key there` }]);
    const parrot = await etc.load({ overrides: { 'ai.apiKeyFile': missing } });
    expect(parrot.apiKey).toBeNull();
    expect(parrot.warnings).toEqual([`ai.apiKeyFile ${missing} does not exist (backend 'parrot' needs no key)`]);
    const local = await etc.load({ overrides: { ...OPENAI, 'ai.url': 'ws://127.0.0.1:8080/v1/realtime', 'ai.apiKeyFile': missing } });
    expect(local.apiKey).toBeNull();
  });

  it('no key at all for openai at the real service is an error explaining both ways to give one', async () => {
    const e = await failure(() => etc.load({ overrides: OPENAI }));
    expect(e.problems).toHaveLength(1);
    expect(e.problems[0]?.path).toBe('ai.apiKeyFile');
    expect(e.problems[0]?.message).toContain('wss://api.openai.com/v1/realtime needs an API key');
    expect(e.problems[0]?.message).toContain('LoadCredential=ai-api-key:');
    expect(e.problems[0]?.message).toContain('chmod 600');
  });

  it('a key pasted into ai.apiKeyFile by mistake is not echoed', async () => {
    await failure(() => etc.load({ overrides: { ...OPENAI, 'ai.apiKeyFile': KEY } }));
    await failure(() => etc.load({ env: { SPEAKERD_AI_CREDENTIAL: `${KEY}/x` } }));
  });

  it('a key written into a config file under an unknown key or as bad JSON is not echoed', async () => {
    etc.write('speakerd.json', { ai: { apiKey: KEY } });
    etc.write('conf.d/10.json', `{"ai": {"voice": ${KEY}}}`);
    const e = await failure(() => etc.load({ env: { SPEAKERD_AI_APIKEY: KEY } }));
    expect(e.problems.map((p) => p.path)).toEqual(['ai.apiKey', '', '']);
  });
});

describe('systemd credential', () => {
  it('is used when ai.apiKeyFile is empty', async () => {
    const dir = etc.path('creds');
    const file = etc.write('creds/ai-api-key', `${KEY}\n`, 0o400);
    const loaded = await etc.load({ env: { CREDENTIALS_DIRECTORY: dir }, overrides: OPENAI });
    expect(loaded.apiKey).toBe(KEY);
    expect(loaded.apiKeySource).toBe(file);
  });

  it('follows ai.credential, and is also read for a backend needing no key', async () => {
    const dir = etc.path('creds');
    etc.write('creds/other', KEY, 0o400);
    expect((await etc.load({ env: { CREDENTIALS_DIRECTORY: dir, SPEAKERD_AI_CREDENTIAL: 'other' } })).apiKey).toBe(KEY);
  });

  it('loses to an explicit ai.apiKeyFile, with a warning', async () => {
    const dir = etc.path('creds');
    etc.write('creds/ai-api-key', 'credential-key', 0o400);
    const file = etc.write('key', KEY, 0o600);
    const loaded = await etc.load({ env: { CREDENTIALS_DIRECTORY: dir }, overrides: { ...OPENAI, 'ai.apiKeyFile': file } });
    expect(loaded.apiKey).toBe(KEY);
    expect(loaded.warnings).toEqual(["the systemd credential 'ai-api-key' is ignored: ai.apiKeyFile is set"]);
  });

  it('absent from the directory is the same as no credential', async () => {
    const e = await failure(() => etc.load({ env: { CREDENTIALS_DIRECTORY: etc.path('creds') }, overrides: OPENAI }));
    expect(e.problems[0]?.message).toContain('needs an API key');
  });

  it('empty (the SetCredential fallback of the unit when no key file is installed) is the same as none', async () => {
    const dir = etc.path('creds');
    etc.write('creds/ai-api-key', '\n', 0o400);
    expect((await etc.load({ env: { CREDENTIALS_DIRECTORY: dir } })).apiKey).toBeNull();
    const e = await failure(() => etc.load({ env: { CREDENTIALS_DIRECTORY: dir }, overrides: OPENAI }));
    expect(e.problems[0]?.message).toContain('needs an API key');
    const empty = etc.write('empty-key', '  \n', 0o600);
    const f = await failure(() => etc.load({ overrides: { ...OPENAI, 'ai.apiKeyFile': empty } }));
    expect(f.problems[0]?.message).toContain('is empty');
  });

  it('is refused when accessible by others, naming the file', async () => {
    const file = etc.write('creds/ai-api-key', KEY, 0o644);
    const e = await failure(() => etc.load({ env: { CREDENTIALS_DIRECTORY: etc.path('creds') }, overrides: OPENAI }));
    expect(e.problems).toEqual([{ path: 'ai.credential', source: '$CREDENTIALS_DIRECTORY', message: expect.stringContaining(`chmod 600 ${file}`) }]);
  });
});

describe('printable config', () => {
  it('never holds the key, and prints every key in schema order', async () => {
    const file = etc.write('key', KEY, 0o600);
    const loaded = await etc.load({ overrides: { ...OPENAI, 'ai.apiKeyFile': file } });
    const text = printableConfig(loaded.config);
    expect(text).not.toContain(KEY);
    const printed = JSON.parse(text) as typeof loaded.config;
    expect(printed).toEqual(loaded.config);
    expect(printed.ai.apiKeyFile).toBe(file);
    expect(Object.keys(printed)).toEqual(['audio', 'aec', 'ai', 'control', 'earcons', 'leds', 'buttons', 'log', 'state', 'watchdog']);
  });
});

describe('backendNeedsKey / effectiveAiUrl', () => {
  it.each([
    ['parrot', '', false],
    ['openai', '', true],
    ['openai', 'wss://api.openai.com/v1/realtime', true],
    ['openai', 'wss://proxy.example.com/realtime', true],
    ['openai', 'ws://127.0.0.1:9000/v1/realtime', false],
    ['openai', 'wss://localhost:9443/', false],
    ['openai', 'ws://[::1]:9000/', false],
  ] as const)('%s at %j needs a key: %s', async (backend, url, needed) => {
    expect(backendNeedsKey({ backend, url })).toBe(needed);
  });

  it('fills in the default URL of each backend', async () => {
    expect(effectiveAiUrl({ backend: 'openai', url: '' })).toBe('wss://api.openai.com/v1/realtime');
    expect(effectiveAiUrl({ backend: 'parrot', url: '' })).toBe('local://parrot');
    expect(effectiveAiUrl({ backend: 'openai', url: 'ws://127.0.0.1:1/' })).toBe('ws://127.0.0.1:1/');
  });
});

describe('a key file that is not an ordinary file', () => {
  it('is refused at once when it is a FIFO nobody writes (no hang), naming the key', async () => {
    const fifo = etc.path('fifo');
    execFileSync('mkfifo', ['-m', '600', fifo]);
    const started = performance.now();
    const e = await failure(() => etc.load({ overrides: { ...OPENAI, 'ai.apiKeyFile': fifo } }));
    expect(performance.now() - started).toBeLessThan(2000);
    expect(e.problems[0]).toMatchObject({ path: 'ai.apiKeyFile', message: `${fifo} is a FIFO; a regular file is needed` });
  });

  it('is refused when it is a device, and when it is huge', async () => {
    expect((await failure(() => etc.load({ overrides: { ...OPENAI, 'ai.apiKeyFile': '/dev/zero' } }))).problems[0]?.message).toBe(
      '/dev/zero is a device; a regular file is needed',
    );
    const big = etc.write('big', 'k'.repeat(20000), 0o600);
    expect((await failure(() => etc.load({ overrides: { ...OPENAI, 'ai.apiKeyFile': big } }))).problems[0]?.message).toContain('larger than 16384 bytes');
  });

  it('is refused at --check-config when it is not UTF-8 or not ASCII, instead of failing every connection later', async () => {
    const latin1 = etc.path('latin1');
    writeFileSync(latin1, Buffer.from([0x73, 0x6b, 0x2d, 0xe9, 0x41]), { mode: 0o600 });
    expect((await failure(() => etc.load({ overrides: { ...OPENAI, 'ai.apiKeyFile': latin1 } }))).problems[0]?.message).toContain('not valid UTF-8');
    const accented = etc.write('accented', 'sk-clé', 0o600);
    expect((await failure(() => etc.load({ overrides: { ...OPENAI, 'ai.apiKeyFile': accented } }))).problems[0]?.message).toContain('printable ASCII');
  });
});

describe('other files the configuration names', () => {
  it('refuses a FIFO, a device and a directory as an earcon or ALSA configuration, naming the key', async () => {
    const fifo = etc.path('fifo2');
    execFileSync('mkfifo', [fifo]);
    const { problems } = await etc.problems({ overrides: { 'earcons.ready': fifo, 'audio.alsaConfig': '/dev/zero', 'ai.tls.caFile': etc.dir } });
    expect(problems).toEqual([
      { path: 'audio.alsaConfig', source: 'command line', message: '/dev/zero is a device; a regular file is needed' },
      { path: 'ai.tls.caFile', source: 'command line', message: `${etc.dir} is a directory; a regular file is needed` },
      { path: 'earcons.ready', source: 'command line', message: `${fifo} is a FIFO; a regular file is needed` },
    ]);
  });
});
