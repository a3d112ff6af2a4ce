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

function failure(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    expectNoKey(error);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('API key file', () => {
  it('is read whole and trimmed', () => {
    const file = etc.write('key', `\n  ${KEY}\r\n\n`, 0o600);
    const loaded = etc.load({ overrides: { ...OPENAI, 'ai.apiKeyFile': file } });
    expect(loaded.apiKey).toBe(KEY);
    expect(loaded.apiKeySource).toBe(file);
    expect(loaded.warnings).toEqual([]);
  });

  it('is refused when readable by group or others, naming the file and chmod 600', () => {
    for (const mode of [0o644, 0o640, 0o604, 0o660]) {
      const file = etc.write('key', KEY, mode);
      const e = failure(() => etc.load({ overrides: { ...OPENAI, 'ai.apiKeyFile': file } }));
      expect(e.problems).toEqual([
        {
          path: 'ai.apiKeyFile',
          source: 'command line',
          message: `${file} is accessible by group or others (mode 0${mode.toString(8)}); the API key must be private: run chmod 600 ${file}`,
        },
      ]);
    }
  });

  it('is refused when empty, holding several words, or not a regular file', () => {
    const empty = etc.write('empty', ' \n', 0o600);
    expect(failure(() => etc.load({ overrides: { ...OPENAI, 'ai.apiKeyFile': empty } })).problems[0]?.message).toContain('is empty');
    const two = etc.write('two', `${KEY}\nsecond-line-${KEY}`, 0o400);
    expect(failure(() => etc.load({ overrides: { ...OPENAI, 'ai.apiKeyFile': two } })).problems[0]?.message).toContain('only the key');
    expect(failure(() => etc.load({ overrides: { ...OPENAI, 'ai.apiKeyFile': etc.dir } })).problems[0]?.message).toContain('not a regular file');
  });

  it('missing is an error only when the backend needs a key', () => {
    const missing = etc.path('no-such-key');
    const e = failure(() => etc.load({ overrides: { ...OPENAI, 'ai.apiKeyFile': missing } }));
    expect(e.problems).toEqual([{ path: 'ai.apiKeyFile', message: `${missing} does not exist; backend 'openai' needs an API key there` }]);
    const parrot = etc.load({ overrides: { 'ai.apiKeyFile': missing } });
    expect(parrot.apiKey).toBeNull();
    expect(parrot.warnings).toEqual([`ai.apiKeyFile ${missing} does not exist (backend 'parrot' needs no key)`]);
    const local = etc.load({ overrides: { ...OPENAI, 'ai.url': 'ws://127.0.0.1:8080/v1/realtime', 'ai.apiKeyFile': missing } });
    expect(local.apiKey).toBeNull();
  });

  it('no key at all for openai at the real service is an error explaining both ways to give one', () => {
    const e = failure(() => etc.load({ overrides: OPENAI }));
    expect(e.problems).toHaveLength(1);
    expect(e.problems[0]?.path).toBe('ai.apiKeyFile');
    expect(e.problems[0]?.message).toContain('wss://api.openai.com/v1/realtime needs an API key');
    expect(e.problems[0]?.message).toContain('LoadCredential=ai-api-key:');
    expect(e.problems[0]?.message).toContain('chmod 600');
  });

  it('a key pasted into ai.apiKeyFile by mistake is not echoed', () => {
    failure(() => etc.load({ overrides: { ...OPENAI, 'ai.apiKeyFile': KEY } }));
    failure(() => etc.load({ env: { SPEAKERD_AI_CREDENTIAL: `${KEY}/x` } }));
  });

  it('a key written into a config file under an unknown key or as bad JSON is not echoed', () => {
    etc.write('speakerd.json', { ai: { apiKey: KEY } });
    etc.write('conf.d/10.json', `{"ai": {"voice": ${KEY}}}`);
    const e = failure(() => etc.load({ env: { SPEAKERD_AI_APIKEY: KEY } }));
    expect(e.problems.map((p) => p.path)).toEqual(['ai.apiKey', '', '']);
  });
});

describe('systemd credential', () => {
  it('is used when ai.apiKeyFile is empty', () => {
    const dir = etc.path('creds');
    const file = etc.write('creds/ai-api-key', `${KEY}\n`, 0o400);
    const loaded = etc.load({ env: { CREDENTIALS_DIRECTORY: dir }, overrides: OPENAI });
    expect(loaded.apiKey).toBe(KEY);
    expect(loaded.apiKeySource).toBe(file);
  });

  it('follows ai.credential, and is also read for a backend needing no key', () => {
    const dir = etc.path('creds');
    etc.write('creds/other', KEY, 0o400);
    expect(etc.load({ env: { CREDENTIALS_DIRECTORY: dir, SPEAKERD_AI_CREDENTIAL: 'other' } }).apiKey).toBe(KEY);
  });

  it('loses to an explicit ai.apiKeyFile, with a warning', () => {
    const dir = etc.path('creds');
    etc.write('creds/ai-api-key', 'credential-key', 0o400);
    const file = etc.write('key', KEY, 0o600);
    const loaded = etc.load({ env: { CREDENTIALS_DIRECTORY: dir }, overrides: { ...OPENAI, 'ai.apiKeyFile': file } });
    expect(loaded.apiKey).toBe(KEY);
    expect(loaded.warnings).toEqual(["the systemd credential 'ai-api-key' is ignored: ai.apiKeyFile is set"]);
  });

  it('absent from the directory is the same as no credential', () => {
    const e = failure(() => etc.load({ env: { CREDENTIALS_DIRECTORY: etc.path('creds') }, overrides: OPENAI }));
    expect(e.problems[0]?.message).toContain('needs an API key');
  });

  it('empty (the SetCredential fallback of the unit when no key file is installed) is the same as none', () => {
    const dir = etc.path('creds');
    etc.write('creds/ai-api-key', '\n', 0o400);
    expect(etc.load({ env: { CREDENTIALS_DIRECTORY: dir } }).apiKey).toBeNull();
    const e = failure(() => etc.load({ env: { CREDENTIALS_DIRECTORY: dir }, overrides: OPENAI }));
    expect(e.problems[0]?.message).toContain('needs an API key');
    const empty = etc.write('empty-key', '  \n', 0o600);
    const f = failure(() => etc.load({ overrides: { ...OPENAI, 'ai.apiKeyFile': empty } }));
    expect(f.problems[0]?.message).toContain('is empty');
  });

  it('is refused when accessible by others, naming the file', () => {
    const file = etc.write('creds/ai-api-key', KEY, 0o644);
    const e = failure(() => etc.load({ env: { CREDENTIALS_DIRECTORY: etc.path('creds') }, overrides: OPENAI }));
    expect(e.problems).toEqual([{ path: 'ai.credential', source: '$CREDENTIALS_DIRECTORY', message: expect.stringContaining(`chmod 600 ${file}`) }]);
  });
});

describe('printable config', () => {
  it('never holds the key, and prints every key in schema order', () => {
    const file = etc.write('key', KEY, 0o600);
    const loaded = etc.load({ overrides: { ...OPENAI, 'ai.apiKeyFile': file } });
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
  ] as const)('%s at %j needs a key: %s', (backend, url, needed) => {
    expect(backendNeedsKey({ backend, url })).toBe(needed);
  });

  it('fills in the default URL of each backend', () => {
    expect(effectiveAiUrl({ backend: 'openai', url: '' })).toBe('wss://api.openai.com/v1/realtime');
    expect(effectiveAiUrl({ backend: 'parrot', url: '' })).toBe('local://parrot');
    expect(effectiveAiUrl({ backend: 'openai', url: 'ws://127.0.0.1:1/' })).toBe('ws://127.0.0.1:1/');
  });
});
