/**
 * Access over the control socket, tried by a real second, unprivileged user (created in the test) as
 * a hostile local user would: the daemon runs as root with its socket given to the group `spkd-ctl`.
 */
import { chmodSync, existsSync, readFileSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { asUser, canSwitchUsers, ensureTestUser, type TestUser } from '../helpers/as-user.js';
import { DaemonUnderTest } from '../helpers/daemon.js';
import { waitFor } from '../helpers/signal.js';

let d: DaemonUnderTest | null = null;
let user: TestUser;

beforeAll(() => {
  if (canSwitchUsers) user = ensureTestUser();
});

afterEach(async () => {
  await d?.remove();
  d = null;
});

async function daemon(control: Record<string, unknown> = {}): Promise<DaemonUnderTest> {
  d = new DaemonUnderTest();
  chmodSync(d.dir, 0o711);
  d.writeConfig({ control: { group: user.group, mode: '0660', ...control } });
  d.start();
  await d.notice(/READY=1/);
  return d;
}

const codeOf = (reply: Record<string, unknown> | undefined): unknown =>
  (reply?.error as { code?: string } | undefined)?.code ?? (reply?.ok === true ? 'ok' : reply);

describe.skipIf(!canSwitchUsers)('a member of the socket group (a second, unprivileged user)', () => {
  it('gets a socket directory it can reach, carrying the control group', async () => {
    const dd = await daemon();
    const dir = statSync(dirname(dd.socket));
    expect(dir.gid).toBe(user.gid);
    expect(dir.mode & 0o777).toBe(0o750);
    expect(statSync(dd.socket).gid).toBe(user.gid);
  });

  it('controls the speaker but cannot take the device over; every refusal is audited with uid and pid', async () => {
    const dd = await daemon();
    const attempts: [Record<string, unknown>, string][] = [
      [{ cmd: 'status' }, 'ok'],
      [{ cmd: 'volume', value: 20 }, 'ok'],
      [{ cmd: 'mute' }, 'ok'],
      [{ cmd: 'config_set', key: 'ai.voice', value: 'ash' }, 'ok'],
      [{ cmd: 'config_set', key: 'log.level', value: 'error' }, 'ok'],
      [{ cmd: 'config_set', key: 'ai.apiKey', value: 'pcm.evil{type file;slave.pcm null;file "|touch /tmp/pwned"}' }, 'ERR_FORBIDDEN'],
      [{ cmd: 'config_set', key: 'audio.alsaConfig', value: '/var/lib/speakerd/ai-api-key' }, 'ERR_FORBIDDEN'],
      [{ cmd: 'config_set', key: 'audio.playback', value: 'evil' }, 'ERR_FORBIDDEN'],
      [{ cmd: 'config_set', key: 'ai.url', value: 'ws://127.0.0.1:9/steal' }, 'ERR_FORBIDDEN'],
      [{ cmd: 'config_set', key: 'ai.apiKeyFile', value: '/etc/shadow' }, 'ERR_FORBIDDEN'],
      [{ cmd: 'config_set', key: 'earcons.ready', value: '/dev/zero' }, 'ERR_FORBIDDEN'],
      [{ cmd: 'config_set', key: 'control.mode', value: '0666' }, 'ERR_FORBIDDEN'],
      [{ cmd: 'config_set', key: 'control.allowUids', value: [] }, 'ERR_FORBIDDEN'],
      [{ cmd: 'config_set', key: 'control.maxLineBytes', value: 16777216 }, 'ERR_FORBIDDEN'],
      [{ cmd: 'config_set', key: 'ai.model', value: 'other' }, 'ERR_FORBIDDEN'],
      [{ cmd: 'reload' }, 'ERR_FORBIDDEN'],
      [{ cmd: 'config_get', key: 'ai.apiKeyFile' }, 'ERR_SECRET'],
      [{ cmd: 'config_get', key: '__proto__' }, 'ERR_UNKNOWN_KEY'],
      [{ cmd: 'config_set', key: '__proto__', value: { polluted: true } }, 'ERR_UNKNOWN_KEY'],
      [{ cmd: 'config_set', key: 'constructor', value: 1 }, 'ERR_UNKNOWN_KEY'],
      [{ cmd: 'tool_result', call_id: 'never-issued', output: { x: 1 } }, 'ERR_UNKNOWN_CALL'],
    ];
    const result = await asUser(
      user,
      dd.socket,
      attempts.map(([r]) => r),
    );
    expect(result.replies.map(codeOf)).toEqual(attempts.map(([, code]) => code));
    const forbidden = result.replies.filter((r) => codeOf(r) === 'ERR_FORBIDDEN').map((r) => r.error as { required: string; key?: string });
    expect(forbidden.find((e) => e.key === 'ai.url')).toMatchObject({ required: 'never' });
    expect(forbidden.find((e) => e.key === 'ai.apiKey')).toMatchObject({ required: 'admin' });
    expect(forbidden.find((e) => e.key === 'ai.model')).toMatchObject({ required: 'admin' });
    // log.level 'error' was accepted: the audit trail must still show every refusal.
    await waitFor(() => (dd.output.match(/audit: control: refused/g) ?? []).length >= 11, 3000, 'audit lines');
    const refused = dd.output.split('\n').filter((l) => l.includes('control: refused'));
    expect(refused).toHaveLength(11);
    for (const line of refused) expect(line).toMatch(new RegExp(`uid=${user.uid} gid=${user.gid} pid=\\d+ level=control required=`));
    expect(dd.output).not.toContain('touch /tmp/pwned');
    expect(existsSync('/tmp/pwned')).toBe(false);
    const state = JSON.parse(readFileSync(dd.stateFile, 'utf8')) as { config: Record<string, unknown> };
    expect(state.config).toEqual({ 'ai.voice': 'ash', 'log.level': 'error' });
  });

  it('is an admin when listed in control.adminUids: may set admin keys, still not the never keys', async () => {
    const dd = await daemon({ adminUids: [user.uid] });
    const result = await asUser(user, dd.socket, [
      { cmd: 'config_set', key: 'ai.model', value: 'gpt-realtime-mini' },
      { cmd: 'config_set', key: 'ai.apiKey', value: 'sk-provisioned' },
      { cmd: 'config_set', key: 'ai.url', value: 'ws://127.0.0.1:9/' },
      { cmd: 'reload' },
    ]);
    expect(result.replies.map(codeOf)).toEqual(['ok', 'ok', 'ERR_FORBIDDEN', 'ok']);
    expect(dd.output).not.toContain('sk-provisioned');
  });

  it('may only read when control.allowUids does not list it', async () => {
    const dd = await daemon({ allowUids: [4242] });
    const result = await asUser(user, dd.socket, [{ cmd: 'status' }, { cmd: 'volume' }, { cmd: 'volume', value: 5 }, { cmd: 'say', text: 'hi' }]);
    expect(result.replies.map(codeOf)).toEqual(['ok', 'ok', 'ERR_FORBIDDEN', 'ERR_FORBIDDEN']);
    expect((result.replies[2]?.error as { required: string }).required).toBe('control');
  });

  it('cannot lock root out by holding connections open', async () => {
    const dd = await daemon({ maxClients: 8 });
    const hog = await asUser(user, dd.socket, [], 10);
    try {
      expect(hog.held).toBe(2);
      expect(hog.refused.every((c) => c === 'ERR_TOO_MANY_CLIENTS')).toBe(true);
      expect(await dd.request({ cmd: 'status' })).toMatchObject({ ok: true });
    } finally {
      hog.release();
    }
  });
});
