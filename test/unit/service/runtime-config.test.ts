import { chmodSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../../src/config/load.js';
import { StateStore } from '../../../src/config/state.js';
import { admissibleOverrides, configValue, HIDDEN_VALUE, loadWithRuntime, RuntimeConfig } from '../../../src/service/runtime-config.js';
import { TempEtc } from '../config/helpers.js';

const isRoot = process.getuid?.() === 0;
let etc: TempEtc;
beforeEach(() => {
  etc = new TempEtc();
});
afterEach(() => {
  chmodSync(etc.dir, 0o755);
  etc.remove();
});

async function runtimeConfig(runtime: Record<string, unknown> = {}): Promise<{ rc: RuntimeConfig; store: StateStore; stateFile: string; warnings: string[] }> {
  const stateFile = join(etc.dir, 'state', 'state.json');
  mkdirSync(join(etc.dir, 'state'), { recursive: true });
  mkdirSync(join(etc.dir, 'etc'), { recursive: true });
  const base = { etcDir: join(etc.dir, 'etc'), env: {} };
  const store = new StateStore(stateFile);
  const warnings: string[] = [];
  const rc = new RuntimeConfig(
    base,
    store,
    await loadWithRuntime(base, runtime),
    runtime,
    () => ({ volume: 50, muted: false }),
    (m) => warnings.push(m),
  );
  return { rc, store, stateFile, warnings };
}

describe('config_set through RuntimeConfig', () => {
  it('applies pipelined changes in order and keeps all of them', async () => {
    const { rc, stateFile } = await runtimeConfig();
    const voices = ['alloy', 'ash', 'ballad', 'coral', 'echo', 'sage', 'shimmer', 'verse'];
    const done = await Promise.all([...voices.map((v) => rc.set('ai.voice', v)), rc.set('log.level', 'debug'), rc.set('ai.instructions', 'Be brief.')]);
    expect(done.at(-1)?.config.ai.voice).toBe('verse');
    expect(rc.current.config.log.level).toBe('debug');
    expect(rc.current.config.ai.instructions).toBe('Be brief.');
    const saved = JSON.parse(readFileSync(stateFile, 'utf8')) as { config: Record<string, unknown> };
    expect(saved.config).toEqual({ 'ai.voice': 'verse', 'log.level': 'debug', 'ai.instructions': 'Be brief.' });
  });

  it('refuses an invalid value and an unknown or prototype key, changing nothing', async () => {
    const { rc } = await runtimeConfig();
    await expect(rc.set('ai.voice', 'bad voice!')).rejects.toMatchObject({ code: 'ERR_CONFIG_INVALID' });
    for (const key of ['__proto__', 'constructor', 'ai.__proto__', 'toString']) await expect(rc.set(key, 1)).rejects.toMatchObject({ code: 'ERR_UNKNOWN_KEY' });
    expect(rc.overrides).toEqual({});
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it.skipIf(isRoot)('changes nothing when the state file cannot be written (skipped as root, who writes anyway)', async () => {
    const { rc } = await runtimeConfig();
    chmodSync(join(etc.dir, 'state'), 0o500);
    await expect(rc.set('ai.voice', 'ash')).rejects.toMatchObject({ code: 'ERR_STATE_WRITE' });
    expect(rc.current.config.ai.voice).toBe('');
    expect(rc.overrides).toEqual({});
  });

  it('changes nothing when the state file cannot be written, even as root (the state path is a directory)', async () => {
    const { rc, stateFile } = await runtimeConfig();
    mkdirSync(stateFile);
    await expect(rc.set('ai.voice', 'ash')).rejects.toMatchObject({ code: 'ERR_STATE_WRITE' });
    expect(rc.current.config.ai.voice).toBe('');
    expect(rc.overrides).toEqual({});
    await expect(rc.set('ai.apiKey', 'sk-new-key')).rejects.toMatchObject({ code: 'ERR_STATE_WRITE' });
    expect(readdirSync(join(etc.dir, 'state')).filter((n) => n.startsWith('ai-api-key'))).toEqual([]);
  });

  it('writes the API key atomically to a private regular file and points ai.apiKeyFile at it', async () => {
    const { rc, stateFile } = await runtimeConfig();
    await rc.set('ai.apiKey', '  sk-first  ');
    const file = RuntimeConfig.keyFilePath(stateFile);
    expect(readFileSync(file, 'utf8')).toBe('sk-first\n');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(rc.current.apiKey).toBe('sk-first');
    expect(rc.overrides).toEqual({ 'ai.apiKeyFile': file });
    await rc.set('ai.apiKey', 'sk-second');
    expect(rc.current.apiKey).toBe('sk-second');
    expect(readdirSync(join(etc.dir, 'state')).filter((n) => n.includes('.tmp-'))).toEqual([]);
    await expect(rc.set('ai.apiKey', 'two words')).rejects.toMatchObject({ code: 'ERR_BAD_ARGUMENT' });
    expect(rc.current.apiKey).toBe('sk-second');
  });

  it('puts the old key back when the state cannot be saved after the key was written', async () => {
    const { rc, stateFile } = await runtimeConfig();
    await rc.set('ai.apiKey', 'sk-kept');
    const file = RuntimeConfig.keyFilePath(stateFile);
    const { rmSync } = await import('node:fs');
    rmSync(stateFile);
    mkdirSync(stateFile);
    await expect(rc.set('ai.apiKey', 'sk-lost')).rejects.toMatchObject({ code: 'ERR_STATE_WRITE' });
    expect(readFileSync(file, 'utf8')).toBe('sk-kept\n');
    expect(rc.current.apiKey).toBe('sk-kept');
  });
});

describe('config_set against the rest of the daemon', () => {
  it('is never lost from disk when a volume save lands while it is being written', async () => {
    const { rc, store, stateFile } = await runtimeConfig();
    const setting = rc.set('ai.voice', 'alloy');
    // A volume change persisted meanwhile, the way the daemon does it.
    const volume = store.save(() => ({ volume: 10, muted: false, config: rc.persisted() }));
    await Promise.all([setting, volume]);
    await store.flush();
    expect((JSON.parse(readFileSync(stateFile, 'utf8')) as { config: unknown }).config).toEqual({ 'ai.voice': 'alloy' });
  });

  it('adopts only its own key: what root staged in the files waits for a reload', async () => {
    const { rc } = await runtimeConfig();
    writeFileSync(join(etc.dir, 'etc', 'speakerd.json'), JSON.stringify({ ai: { model: 'staged-model', url: '' } }));
    const after = await rc.set('ai.voice', 'ash');
    expect(after.config.ai.voice).toBe('ash');
    expect(after.config.ai.model).toBe(defaultConfig().ai.model);
    expect((await rc.reload()).config.ai.model).toBe('staged-model');
  });

  it('tells the client the problems of its own key only, never those in root files', async () => {
    const { rc } = await runtimeConfig();
    writeFileSync(join(etc.dir, 'etc', 'speakerd.json'), JSON.stringify({ audio: { capture: 'secret/path/in/a/root/file!!' } }));
    const error = (await rc.set('ai.voice', 'ash').catch((e: Error) => e)) as Error & { code: string };
    expect(error.code).toBe('ERR_CONFIG_INVALID');
    expect(error.message).not.toContain('secret/path');
    expect(error.message).toMatch(/unrelated to 'ai.voice'/);
    const own = (await rc.set('ai.voice', 'bad voice!').catch((e: Error) => e)) as Error;
    expect(own.message).toMatch(/^ai\.voice: /);
  });

  it('skips a change that changes nothing (no write)', async () => {
    const { rc, store } = await runtimeConfig();
    await rc.set('ai.voice', 'ash');
    const writes = store.writes;
    await rc.set('ai.voice', 'ash');
    expect(store.writes).toBe(writes);
  });

  it('drops run-time changes the files no longer allow on reload, instead of refusing every reload', async () => {
    mkdirSync(join(etc.dir, 'etc'), { recursive: true });
    writeFileSync(join(etc.dir, 'etc', 'speakerd.json'), JSON.stringify({ audio: { bufferPeriods: 6 } }));
    const { rc, warnings } = await runtimeConfig();
    await rc.set('audio.prefillPeriods', 5);
    writeFileSync(join(etc.dir, 'etc', 'speakerd.json'), JSON.stringify({ audio: { bufferPeriods: 5 } }));
    const after = await rc.reload();
    expect(after.config.audio.bufferPeriods).toBe(5);
    expect(after.config.audio.prefillPeriods).toBe(3);
    expect(rc.overrides).toEqual({});
    expect(warnings[0]).toMatch(/audio\.prefillPeriods .*dropped/);
  });

  it('refuses a change of any key of a rule over several keys with that rule, and drops such a change on reload', async () => {
    const { rc, warnings } = await runtimeConfig();
    await rc.set('aec.engine', 'webrtc');
    const refused = (await rc.set('audio.bridgeRate', 24000).catch((e: Error) => e)) as Error & { code: string };
    expect(refused.code).toBe('ERR_CONFIG_INVALID');
    expect(refused.message).toMatch(/^aec\.engine: 'webrtc' runs at a bridge rate of 8000, 16000, 32000, 48000 Hz and audio\.bridgeRate is 24000/);
    const fresh = await runtimeConfig();
    await fresh.rc.set('audio.bridgeRate', 24000);
    writeFileSync(join(etc.dir, 'etc', 'speakerd.json'), JSON.stringify({ aec: { engine: 'webrtc' } }));
    const after = await fresh.rc.reload();
    expect(after.config.audio.bridgeRate).toBe(16000);
    expect(after.config.aec.engine).toBe('webrtc');
    expect(fresh.rc.overrides).toEqual({});
    expect(fresh.warnings.at(-1)).toMatch(/audio\.bridgeRate .*dropped/);
    expect(warnings).toEqual([]);
  });

  it('does not touch the key file when the old one cannot be read (no undo can delete a working key)', async () => {
    const { rc, stateFile } = await runtimeConfig();
    mkdirSync(RuntimeConfig.keyFilePath(stateFile));
    await expect(rc.set('ai.apiKey', 'sk-x')).rejects.toMatchObject({ code: 'ERR_STATE_WRITE' });
    expect(statSync(RuntimeConfig.keyFilePath(stateFile)).isDirectory()).toBe(true);
  });
});

describe('config_get', () => {
  it('never returns key file paths or credential names, and knows no prototype names', () => {
    const config = defaultConfig();
    config.ai.apiKeyFile = '/etc/speakerd/ai-api-key';
    config.ai.tls.keyFile = '/etc/speakerd/client.key';
    for (const key of ['ai.apiKeyFile', 'ai.credential', 'ai.tls.keyFile', 'ai.apiKey'])
      expect(() => configValue(config, key)).toThrow(expect.objectContaining({ code: 'ERR_SECRET' }));
    const all = JSON.stringify(configValue(config));
    expect(all).not.toContain('/etc/speakerd/ai-api-key');
    expect(all).not.toContain('client.key');
    expect(all).not.toContain('ai-api-key');
    expect((configValue(config, 'ai') as { apiKeyFile: string }).apiKeyFile).toBe(HIDDEN_VALUE);
    expect((configValue(config, 'ai.tls') as { keyFile: string }).keyFile).toBe(HIDDEN_VALUE);
    for (const key of ['__proto__', 'constructor', 'ai.constructor', 'ai.voice.length', 'toString', 'ai.hasOwnProperty']) {
      expect(() => configValue(config, key), key).toThrow(expect.objectContaining({ code: 'ERR_UNKNOWN_KEY' }));
    }
    expect(configValue(config, 'ai.voice')).toBe('');
  });
});

describe('a state file written by an older daemon', () => {
  it('keeps run-time settable keys and drops every key that may only come from the files', () => {
    const own = '/var/lib/speakerd/ai-api-key';
    const { runtime, dropped } = admissibleOverrides(
      {
        'ai.voice': 'ash',
        'audio.alsaConfig': '/var/lib/speakerd/ai-api-key',
        'audio.capture': 'evil',
        'ai.url': 'ws://evil',
        'ai.apiKeyFile': own,
        'control.mode': '0666',
        'ai.model': 'm',
      },
      own,
    );
    expect(runtime).toEqual({ 'ai.voice': 'ash', 'ai.apiKeyFile': own, 'ai.model': 'm' });
    expect(dropped.sort()).toEqual(['ai.url', 'audio.alsaConfig', 'audio.capture', 'control.mode']);
    expect(admissibleOverrides({ 'ai.apiKeyFile': '/etc/shadow' }, own).dropped).toEqual(['ai.apiKeyFile']);
    expect(admissibleOverrides('junk', own).runtime).toEqual({});
  });
});

describe('state file size', () => {
  it('holds the longest instructions the schema allows, even all escaped, and reads them back', async () => {
    const stateFile = join(etc.dir, 'state.json');
    const store = new StateStore(stateFile);
    const instructions = '\u0001'.repeat(100000);
    await store.save({ volume: 10, muted: false, config: { 'ai.instructions': instructions, 'ai.voice': 'x'.repeat(100) } });
    expect(statSync(stateFile).size).toBeGreaterThan(64 * 1024);
    const { state, warnings } = await new StateStore(stateFile).load();
    expect(warnings).toEqual([]);
    expect((state.config as Record<string, string>)['ai.instructions']).toBe(instructions);
    writeFileSync(stateFile, ' '.repeat(3 * 1024 * 1024));
    expect((await new StateStore(stateFile).load()).warnings[0]).toMatch(/larger than/);
  });
});
