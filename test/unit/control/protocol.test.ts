import { describe, expect, it } from 'vitest';
import { ControlError, wireErrorOf } from '../../../src/control/errors.js';
import { COMMANDS, encodeError, encodeEvent, encodeOk, EVENT_NAMES, isMutating, type ControlRequest } from '../../../src/control/protocol.js';
import { parseRequestLine, usableId, validateRequest } from '../../../src/control/validate.js';

type Row = [string, Record<string, unknown>, ControlRequest | string];

const longText = 'a'.repeat(4096);
const emojiText = '😀'.repeat(4096); // 8192 UTF-16 units, 4096 characters

/** Every command with valid and invalid arguments: [name, request, expected request or error code]. */
const TABLE: Row[] = [
  ['status', { cmd: 'status' }, { cmd: 'status' }],
  ['status extra arg', { cmd: 'status', verbose: true }, 'ERR_UNKNOWN_ARGUMENT'],
  ['subscribe all', { cmd: 'subscribe' }, { cmd: 'subscribe', events: null, levelsHz: null }],
  ['subscribe filter', { cmd: 'subscribe', events: ['state', 'state', 'mute'] }, { cmd: 'subscribe', events: ['state', 'mute'], levelsHz: null }],
  ['subscribe levels', { cmd: 'subscribe', levels: 25 }, { cmd: 'subscribe', events: null, levelsHz: 25 }],
  ['subscribe levels named', { cmd: 'subscribe', events: ['levels'] }, { cmd: 'subscribe', events: ['levels'], levelsHz: 10 }],
  ['subscribe levels min', { cmd: 'subscribe', levels: 1 }, { cmd: 'subscribe', events: null, levelsHz: 1 }],
  ['subscribe levels max', { cmd: 'subscribe', levels: 50 }, { cmd: 'subscribe', events: null, levelsHz: 50 }],
  ['subscribe levels 0', { cmd: 'subscribe', levels: 0 }, 'ERR_OUT_OF_RANGE'],
  ['subscribe levels 51', { cmd: 'subscribe', levels: 51 }, 'ERR_OUT_OF_RANGE'],
  ['subscribe levels string', { cmd: 'subscribe', levels: '10' }, 'ERR_BAD_ARGUMENT'],
  ['subscribe events not array', { cmd: 'subscribe', events: 'state' }, 'ERR_BAD_ARGUMENT'],
  ['subscribe events numbers', { cmd: 'subscribe', events: [1] }, 'ERR_BAD_ARGUMENT'],
  ['subscribe unknown event', { cmd: 'subscribe', events: ['weather'] }, 'ERR_BAD_ARGUMENT'],
  ['subscribe too many events', { cmd: 'subscribe', events: Array(33).fill('state') }, 'ERR_OUT_OF_RANGE'],
  ['unsubscribe', { cmd: 'unsubscribe' }, { cmd: 'unsubscribe' }],
  ['mute', { cmd: 'mute' }, { cmd: 'mute' }],
  ['mute with arg', { cmd: 'mute', muted: true }, 'ERR_UNKNOWN_ARGUMENT'],
  ['unmute', { cmd: 'unmute' }, { cmd: 'unmute' }],
  ['toggle_mute', { cmd: 'toggle_mute' }, { cmd: 'toggle_mute' }],
  ['volume get', { cmd: 'volume' }, { cmd: 'volume' }],
  ['volume set', { cmd: 'volume', value: 50 }, { cmd: 'volume', value: 50 }],
  ['volume 0', { cmd: 'volume', value: 0 }, { cmd: 'volume', value: 0 }],
  ['volume 100', { cmd: 'volume', value: 100 }, { cmd: 'volume', value: 100 }],
  ['volume 101', { cmd: 'volume', value: 101 }, 'ERR_OUT_OF_RANGE'],
  ['volume -1', { cmd: 'volume', value: -1 }, 'ERR_OUT_OF_RANGE'],
  ['volume fraction', { cmd: 'volume', value: 50.5 }, 'ERR_BAD_ARGUMENT'],
  ['volume string', { cmd: 'volume', value: '50' }, 'ERR_BAD_ARGUMENT'],
  ['volume null', { cmd: 'volume', value: null }, 'ERR_BAD_ARGUMENT'],
  ['volume delta', { cmd: 'volume', delta: -10 }, { cmd: 'volume', delta: -10 }],
  ['volume delta -100', { cmd: 'volume', delta: -100 }, { cmd: 'volume', delta: -100 }],
  ['volume delta 101', { cmd: 'volume', delta: 101 }, 'ERR_OUT_OF_RANGE'],
  ['volume both', { cmd: 'volume', value: 1, delta: 1 }, 'ERR_BAD_ARGUMENT'],
  ['volume typo', { cmd: 'volume', valeu: 50 }, 'ERR_UNKNOWN_ARGUMENT'],
  ['connect', { cmd: 'connect' }, { cmd: 'connect' }],
  ['disconnect', { cmd: 'disconnect' }, { cmd: 'disconnect' }],
  ['interrupt', { cmd: 'interrupt' }, { cmd: 'interrupt' }],
  ['talk_start', { cmd: 'talk_start' }, { cmd: 'talk_start' }],
  ['talk_end', { cmd: 'talk_end' }, { cmd: 'talk_end' }],
  ['say', { cmd: 'say', text: 'hello there' }, { cmd: 'say', text: 'hello there' }],
  ['say 4096', { cmd: 'say', text: longText }, { cmd: 'say', text: longText }],
  ['say 4096 emoji', { cmd: 'say', text: emojiText }, { cmd: 'say', text: emojiText }],
  ['say 4097', { cmd: 'say', text: `${longText}a` }, 'ERR_OUT_OF_RANGE'],
  ['say empty', { cmd: 'say', text: '' }, 'ERR_OUT_OF_RANGE'],
  ['say missing', { cmd: 'say' }, 'ERR_MISSING_ARGUMENT'],
  ['say number', { cmd: 'say', text: 42 }, 'ERR_BAD_ARGUMENT'],
  ['tool_result', { cmd: 'tool_result', call_id: 'call_1', output: { ok: 1 } }, { cmd: 'tool_result', callId: 'call_1', output: { ok: 1 } }],
  ['tool_result null output', { cmd: 'tool_result', call_id: 'c', output: null }, { cmd: 'tool_result', callId: 'c', output: null }],
  ['tool_result no output', { cmd: 'tool_result', call_id: 'c' }, 'ERR_MISSING_ARGUMENT'],
  ['tool_result no call_id', { cmd: 'tool_result', output: 1 }, 'ERR_MISSING_ARGUMENT'],
  ['tool_result call_id number', { cmd: 'tool_result', call_id: 1, output: 1 }, 'ERR_BAD_ARGUMENT'],
  ['tool_result call_id long', { cmd: 'tool_result', call_id: 'c'.repeat(257), output: 1 }, 'ERR_OUT_OF_RANGE'],
  ['config_get all', { cmd: 'config_get' }, { cmd: 'config_get' }],
  ['config_get key', { cmd: 'config_get', key: 'ai.voice' }, { cmd: 'config_get', key: 'ai.voice' }],
  ['config_get bad key', { cmd: 'config_get', key: 'ai..voice' }, 'ERR_BAD_ARGUMENT'],
  ['config_get key number', { cmd: 'config_get', key: 3 }, 'ERR_BAD_ARGUMENT'],
  ['config_get empty key', { cmd: 'config_get', key: '' }, 'ERR_OUT_OF_RANGE'],
  ['config_set', { cmd: 'config_set', key: 'ai.voice', value: 'marin' }, { cmd: 'config_set', key: 'ai.voice', value: 'marin' }],
  ['config_set null', { cmd: 'config_set', key: 'ai.voice', value: null }, { cmd: 'config_set', key: 'ai.voice', value: null }],
  ['config_set no value', { cmd: 'config_set', key: 'ai.voice' }, 'ERR_MISSING_ARGUMENT'],
  ['config_set no key', { cmd: 'config_set', value: 1 }, 'ERR_MISSING_ARGUMENT'],
  ['config_set key with space', { cmd: 'config_set', key: 'ai voice', value: 1 }, 'ERR_BAD_ARGUMENT'],
  ['reload', { cmd: 'reload' }, { cmd: 'reload' }],
  ['devices', { cmd: 'devices' }, { cmd: 'devices' }],
  ['version', { cmd: 'version' }, { cmd: 'version' }],
  ['ping', { cmd: 'ping' }, { cmd: 'ping' }],
  ['ping extra', { cmd: 'ping', x: 1 }, 'ERR_UNKNOWN_ARGUMENT'],
  ['no cmd', {}, 'ERR_MISSING_ARGUMENT'],
  ['cmd number', { cmd: 7 }, 'ERR_BAD_ARGUMENT'],
  ['unknown cmd', { cmd: 'reboot' }, 'ERR_UNKNOWN_COMMAND'],
  ['prototype cmd', { cmd: 'constructor' }, 'ERR_UNKNOWN_COMMAND'],
  ['upper-case cmd', { cmd: 'STATUS' }, 'ERR_UNKNOWN_COMMAND'],
];

describe('validateRequest', () => {
  it.each(TABLE)('%s', (_name, message, expected) => {
    const v = validateRequest({ id: 7, ...message });
    if (typeof expected === 'string') {
      expect(v.ok).toBe(false);
      if (!v.ok) {
        expect(v.error).toBeInstanceOf(ControlError);
        expect(v.error.code).toBe(expected);
        expect(v.error.message.length).toBeGreaterThan(0);
      }
    } else {
      expect(v).toEqual({ ok: true, id: 7, request: expected });
    }
    expect(v.id).toBe(7);
  });

  it('covers every command with a valid case', () => {
    const valid = new Set(TABLE.filter(([, , e]) => typeof e !== 'string').map(([, m]) => m.cmd));
    expect([...valid].sort()).toEqual([...COMMANDS].sort());
  });

  it.each([
    ['array', [1, 2]],
    ['number', 42],
    ['string', 'status'],
    ['null', null],
    ['true', true],
  ])('rejects a JSON %s as ERR_NOT_OBJECT with id null', (_n, value) => {
    expect(validateRequest(value)).toMatchObject({ ok: false, id: null, error: { code: 'ERR_NOT_OBJECT' } });
  });

  it.each([
    ['number', 1, 1],
    ['zero', 0, 0],
    ['fraction', 1.5, 1.5],
    ['string', 'abc', 'abc'],
    ['missing', undefined, null],
    ['null', null, null],
  ])('echoes a %s id', (_n, id, echoed) => {
    const v = validateRequest({ id, cmd: 'ping' });
    expect(v).toMatchObject({ ok: true, id: echoed });
  });

  it.each([
    ['object', { a: 1 }],
    ['array', [1]],
    ['boolean', true],
    ['long string', 'x'.repeat(129)],
  ])('refuses an unusable %s id: id null, ERR_BAD_ARGUMENT, not executed', (_n, id) => {
    expect(validateRequest({ id, cmd: 'ping' })).toMatchObject({ ok: false, id: null, error: { code: 'ERR_BAD_ARGUMENT' } });
  });

  it('keeps the id of a request whose arguments are wrong', () => {
    expect(validateRequest({ id: 'abc', cmd: 'volume', value: 500 })).toMatchObject({ ok: false, id: 'abc' });
  });
});

describe('parseRequestLine', () => {
  it.each(['{', 'status', '{"cmd":"ping",}', "{'cmd':'ping'}", '\u0000\u0001'])('rejects %j as ERR_INVALID_JSON', (line) => {
    expect(parseRequestLine(line)).toMatchObject({ ok: false, id: null, error: { code: 'ERR_INVALID_JSON' } });
  });

  it('parses a request', () => {
    expect(parseRequestLine('{"id":1,"cmd":"volume","delta":5}')).toEqual({ ok: true, id: 1, request: { cmd: 'volume', delta: 5 } });
  });
});

describe('isMutating', () => {
  it.each<[ControlRequest, boolean]>([
    [{ cmd: 'status' }, false],
    [{ cmd: 'subscribe', events: null, levelsHz: null }, false],
    [{ cmd: 'volume' }, false],
    [{ cmd: 'volume', value: 3 }, true],
    [{ cmd: 'volume', delta: 3 }, true],
    [{ cmd: 'config_get' }, false],
    [{ cmd: 'config_set', key: 'a', value: 1 }, true],
    [{ cmd: 'mute' }, true],
    [{ cmd: 'say', text: 'x' }, true],
    [{ cmd: 'reload' }, true],
    [{ cmd: 'ping' }, false],
  ])('%j → %s', (request, mutating) => {
    expect(isMutating(request)).toBe(mutating);
  });
});

describe('encoding and errors', () => {
  it('encodes replies and events as single lines', () => {
    expect(encodeOk(1, { a: 'x\ny' })).toBe('{"id":1,"ok":true,"result":{"a":"x\\ny"}}\n');
    expect(encodeError(null, { code: 'ERR_X', message: 'm' })).toBe('{"id":null,"ok":false,"error":{"code":"ERR_X","message":"m"}}\n');
    expect(encodeEvent('state', { state: 'listening' })).toBe('{"event":"state","data":{"state":"listening"}}\n');
  });

  it('lists levels among the selectable events', () => {
    expect(EVENT_NAMES).toContain('levels');
    expect(EVENT_NAMES).toContain('tool_call');
  });

  it.each<[string, unknown, { code: string; message: string }, boolean]>([
    [
      'a coded error',
      Object.assign(new Error('not connected'), { code: 'ERR_AI_NOT_CONNECTED' }),
      { code: 'ERR_AI_NOT_CONNECTED', message: 'not connected' },
      false,
    ],
    ['a ControlError', new ControlError('ERR_FORBIDDEN', 'no'), { code: 'ERR_FORBIDDEN', message: 'no' }, false],
    ['a plain error', new Error('secret path /x at line 3'), { code: 'ERR_INTERNAL', message: 'internal error' }, true],
    ['a Node errno code', Object.assign(new Error('EACCES: /etc/x'), { code: 'EACCES' }), { code: 'ERR_INTERNAL', message: 'internal error' }, true],
    ['a lower-case code', Object.assign(new Error('x'), { code: 'ERR_lower' }), { code: 'ERR_INTERNAL', message: 'internal error' }, true],
    ['a numeric code', Object.assign(new Error('x'), { code: 42 }), { code: 'ERR_INTERNAL', message: 'internal error' }, true],
    ['a string thrown', 'boom', { code: 'ERR_INTERNAL', message: 'internal error' }, true],
    ['undefined thrown', undefined, { code: 'ERR_INTERNAL', message: 'internal error' }, true],
    ['a coded error without message', { code: 'ERR_X' }, { code: 'ERR_X', message: 'ERR_X' }, false],
  ])('wireErrorOf(%s)', (_n, error, wire, internal) => {
    expect(wireErrorOf(error)).toEqual({ wire, internal });
  });

  it('cuts a long target message', () => {
    const { wire } = wireErrorOf({ code: 'ERR_X', message: 'm'.repeat(5000) });
    expect(wire.message.length).toBe(1024);
  });

  it('usableId', () => {
    expect(usableId(Number.NaN)).toBeNull();
    expect(usableId('x'.repeat(128))).toBe('x'.repeat(128));
  });
});
