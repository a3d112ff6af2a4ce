/**
 * A real second, unprivileged user for access tests: created once (as root) with `useradd`, and a
 * Node child running as that user that talks to a control socket.
 */
import { execFileSync, spawn } from 'node:child_process';

/** A system user made for the tests, and the group that owns the control socket in them. */
export interface TestUser {
  name: string;
  uid: number;
  /** Its primary group, the one the socket is given (libuv drops supplementary groups in a child). */
  gid: number;
  group: string;
}

const USER = 'spkd-tester';
const GROUP = 'spkd-ctl';

function idOf(args: string[]): number | null {
  try {
    return Number(execFileSync('id', args, { encoding: 'utf8' }).trim());
  } catch {
    return null;
  }
}

/** Whether this process may create users and switch to them (root). */
export const canSwitchUsers = process.getuid?.() === 0;

/** Creates (once) the group `spkd-ctl` and the user `spkd-tester` whose primary group it is. */
export function ensureTestUser(): TestUser {
  try {
    execFileSync('getent', ['group', GROUP], { stdio: 'ignore' });
  } catch {
    execFileSync('groupadd', ['--system', GROUP]);
  }
  if (idOf(['-u', USER]) === null) execFileSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', '--gid', GROUP, USER]);
  const uid = idOf(['-u', USER]);
  const gid = idOf(['-g', USER]);
  if (uid === null || gid === null) throw new Error(`cannot create the test user ${USER}`);
  return { name: USER, uid, gid, group: GROUP };
}

const CLIENT = `
const net = require('node:net');
const [path, requestsJson, holdText] = process.argv.slice(1);
const requests = JSON.parse(requestsJson);
const hold = Number(holdText);
const out = { replies: [], held: 0, refused: [] };
function one(list) {
  return new Promise((resolve) => {
    const socket = net.connect(path);
    let buffer = '';
    let i = 0;
    const replies = [];
    const next = () => { if (i < list.length) socket.write(JSON.stringify({ id: i + 1, ...list[i] }) + '\\n'); else { socket.end(); } };
    socket.on('connect', next);
    socket.on('error', (e) => { replies.push({ socketError: e.code }); resolve(replies); });
    socket.on('data', (d) => {
      buffer += d;
      let nl;
      while ((nl = buffer.indexOf('\\n')) >= 0) {
        const line = JSON.parse(buffer.slice(0, nl));
        buffer = buffer.slice(nl + 1);
        if (line.id === null || line.id === i + 1) { replies.push(line); i++; next(); }
      }
    });
    socket.on('close', () => resolve(replies));
  });
}
function holdOne() {
  return new Promise((resolve) => {
    const socket = net.connect(path);
    const timer = setTimeout(() => resolve({ held: socket }), 400);
    socket.on('error', () => { clearTimeout(timer); resolve({ refused: 'socket error' }); });
    socket.on('data', (d) => { clearTimeout(timer); socket.destroy(); resolve({ refused: JSON.parse(String(d).split('\\n')[0]).error.code }); });
  });
}
(async () => {
  const held = [];
  for (let k = 0; k < hold; k++) {
    const r = await holdOne();
    if (r.held) held.push(r.held); else out.refused.push(r.refused);
  }
  out.held = held.length;
  if (requests.length) out.replies = await one(requests);
  process.stdout.write(JSON.stringify(out) + '\\n');
  if (hold > 0) process.stdin.once('data', () => process.exit(0)); else process.exit(0);
})();
`;

/** What the child saw: replies to the requests in order, connections it holds open, refusals. */
export interface AsUserResult {
  replies: Record<string, unknown>[];
  held: number;
  refused: string[];
}

/**
 * Runs a client as `user`: first opens `hold` idle connections (kept until `release`), then sends
 * `requests` one after another on a new connection.
 */
export function asUser(user: TestUser, socket: string, requests: Record<string, unknown>[], hold = 0): Promise<AsUserResult & { release(): void }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', CLIENT, socket, JSON.stringify(requests), String(hold)], {
      uid: user.uid,
      gid: user.gid,
      cwd: '/',
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`client as ${user.name} did not answer: ${stderr}`));
    }, 15000);
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (!stdout.includes('\n')) return;
      clearTimeout(timer);
      const result = JSON.parse(stdout.slice(0, stdout.indexOf('\n'))) as AsUserResult;
      resolve({ ...result, release: () => child.stdin.end('x') });
    });
    child.on('exit', (code) => {
      if (!stdout.includes('\n')) {
        clearTimeout(timer);
        reject(new Error(`client as ${user.name} exited ${code}: ${stderr}`));
      }
    });
  });
}
