import { describe, expect, it } from 'vitest';
import { peerLevel, refusalOf, requirementOf, type AccessPolicy, type KeyAccessLevel } from '../../../src/control/access.js';
import type { ControlRequest } from '../../../src/control/protocol.js';
import { nestsDeeperThan, parseRequestLine } from '../../../src/control/validate.js';
import { KEY_ACCESS } from '../../../src/config/schema.js';

const policy = (extra: Partial<AccessPolicy> = {}): AccessPolicy => ({ adminUids: [], daemonUid: 990, ...extra });
const peer = (uid: number, gid = uid) => ({ uid, gid, pid: 4242 });

describe('peerLevel', () => {
  it.each<[string, Partial<AccessPolicy>, ReturnType<typeof peer> | null, string]>([
    ['root', {}, peer(0), 'admin'],
    ["the daemon's own uid", {}, peer(990), 'admin'],
    ['a listed admin', { adminUids: [1001] }, peer(1001), 'admin'],
    ['a socket user without allow-list', {}, peer(1002), 'control'],
    ['a socket user on the allow-list', { allowUids: [1002] }, peer(1002), 'control'],
    ['a socket user in an allowed group', { allowGids: [77] }, peer(1002, 77), 'control'],
    ['a socket user off the allow-list', { allowUids: [1003] }, peer(1002), 'read'],
    ['an unknown peer without allow-list (fails closed)', {}, null, 'read'],
    ['an unknown peer with an allow-list', { allowUids: [0] }, null, 'read'],
    ['root is admin even off the allow-list', { allowUids: [5] }, peer(0), 'admin'],
  ])('%s', (_, extra, who, level) => {
    expect(peerLevel(policy(extra), who)).toBe(level);
  });
});

const schemaAccess = (key: string): KeyAccessLevel | undefined => KEY_ACCESS[key];
const set = (key: string): ControlRequest => ({ cmd: 'config_set', key, value: 1 });

describe('requirementOf and refusalOf', () => {
  it.each<[string, ControlRequest, string]>([
    ['status', { cmd: 'status' }, 'read'],
    ['devices', { cmd: 'devices' }, 'read'],
    ['reading the volume', { cmd: 'volume' }, 'read'],
    ['setting the volume', { cmd: 'volume', value: 3 }, 'control'],
    ['say', { cmd: 'say', text: 'hi' }, 'control'],
    ['tool_result', { cmd: 'tool_result', callId: 'c', output: 1 }, 'control'],
    ['reload', { cmd: 'reload' }, 'admin'],
    ['ai.voice', set('ai.voice'), 'control'],
    ['ai.instructions', set('ai.instructions'), 'control'],
    ['log.level', set('log.level'), 'control'],
    ['ai.model', set('ai.model'), 'admin'],
    ['the API key', set('ai.apiKey'), 'admin'],
    ['an unknown key (the target answers ERR_UNKNOWN_KEY)', set('ai.nothing'), 'control'],
    ['a prototype name is an unknown key, not a level', set('__proto__'), 'control'],
    ['constructor likewise', set('constructor'), 'control'],
  ])('%s needs %s', (_, request, level) => {
    expect(requirementOf(request, schemaAccess)).toEqual(expect.objectContaining({ level }));
  });

  it.each([
    'ai.url',
    'ai.apiKeyFile',
    'audio.alsaConfig',
    'audio.capture',
    'control.mode',
    'control.socket',
    'control.allowUids',
    'control.adminUids',
    'control.maxLineBytes',
    'earcons.ready',
    'state.file',
    'ai.tls.verify',
  ])('%s is never settable, not even by root', (key) => {
    const requirement = requirementOf(set(key), schemaAccess);
    const refusal = refusalOf(set(key), requirement, 'admin', peer(0));
    expect(refusal?.toWire()).toEqual({ code: 'ERR_FORBIDDEN', message: expect.stringContaining(key), required: 'never', key });
  });

  it('names the key, the level needed and the level held', () => {
    const request = set('ai.model');
    const refusal = refusalOf(request, requirementOf(request, schemaAccess), 'control', peer(1002));
    expect(refusal?.toWire()).toEqual({
      code: 'ERR_FORBIDDEN',
      message: "setting 'ai.model' needs the 'admin' level; uid 1002 has 'control'",
      required: 'admin',
      key: 'ai.model',
    });
    expect(refusalOf(request, requirementOf(request, schemaAccess), 'admin', peer(0))).toBeNull();
  });
});

describe('schema access', () => {
  it('marks every key that names a file, device, URL, socket, permission or limit as never', () => {
    const never = Object.entries(KEY_ACCESS)
      .filter(([, a]) => a === 'never')
      .map(([k]) => k);
    for (const key of [
      'ai.url',
      'ai.apiKeyFile',
      'ai.credential',
      'ai.tls.caFile',
      'ai.tls.certFile',
      'ai.tls.keyFile',
      'audio.device',
      'audio.alsaConfig',
      'control.group',
      'control.maxClients',
      'control.idleTimeoutMs',
      'leds.driver',
      'buttons.driver',
      'watchdog.maxLoopLagMs',
    ]) {
      expect(never, key).toContain(key);
    }
    const control = Object.entries(KEY_ACCESS)
      .filter(([, a]) => a === 'control')
      .map(([k]) => k)
      .sort();
    expect(control.filter((k) => !k.startsWith('leds.looks.') && !k.startsWith('leds.night.'))).toEqual([
      'ai.elevenlabs.firstMessage',
      'ai.elevenlabs.language',
      'ai.instructions',
      'ai.speed',
      'ai.transcriptionLanguage',
      'ai.voice',
      'audio.volume',
      'earcons.enabled',
      'earcons.volume',
      'leds.brightness',
      'log.level',
    ]);
  });
});

describe('nesting limit', () => {
  it('measures depth without recursion and refuses deep tool outputs as ERR_BAD_ARGUMENT', () => {
    expect(nestsDeeperThan({ a: [1, { b: 2 }] }, 3)).toBe(false);
    expect(nestsDeeperThan({ a: [1, { b: 2 }] }, 2)).toBe(true);
    const deep = `${'['.repeat(30000)}${']'.repeat(30000)}`;
    const v = parseRequestLine(`{"id":1,"cmd":"tool_result","call_id":"c1","output":${deep}}`);
    expect(v.ok).toBe(false);
    if (!v.ok) expect(v.error.code).toBe('ERR_BAD_ARGUMENT');
    const w = parseRequestLine(`{"id":1,"cmd":"config_set","key":"ai.voice","value":${deep}}`);
    expect(w.ok).toBe(false);
  });
});
