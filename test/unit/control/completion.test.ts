import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const script = resolve(import.meta.dirname, '../../../completions/speakerctl.bash');
const bash = spawnSync('bash', ['--version']).status === 0;

/** What bash would offer for the command line `line` (completing its last word). */
function complete(line: string): string[] {
  const words = line.split(' ');
  const program = `source ${JSON.stringify(script)}
COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}
_speakerctl; printf '%s\\n' "\${COMPREPLY[@]}"`;
  const r = spawnSync('bash', ['-c', program], { encoding: 'utf8' });
  expect(r.stderr).toBe('');
  return r.stdout.split('\n').filter((w) => w !== '');
}

describe.skipIf(!bash)('bash completion (needs bash)', () => {
  it.each<[string, string[]]>([
    [
      'speakerctl ',
      [
        'status',
        'mute',
        'unmute',
        'toggle-mute',
        'volume',
        'say',
        'interrupt',
        'talk-start',
        'talk-end',
        'connect',
        'disconnect',
        'tool-result',
        'config',
        'reload',
        'devices',
        'version',
        'ping',
        'events',
        'watch',
        'help',
      ],
    ],
    ['speakerctl con', ['connect', 'config']],
    ['speakerctl --', ['--socket', '--json', '--timeout', '--help']],
    ['speakerctl --json --timeout 100 st', ['status']],
    ['speakerctl --socket /tmp/x.sock t', ['toggle-mute', 'talk-start', 'talk-end', 'tool-result']],
    ['speakerctl config ', ['get', 'set']],
    ['speakerctl config set ai.v', ['ai.voice']],
    ['speakerctl events speech_', ['speech_started', 'speech_stopped']],
    ['speakerctl events --', ['--levels']],
    ['speakerctl watch ', ['--levels']],
    ['speakerctl volume +', ['+10']],
    ['speakerctl say hel', []],
  ])('%j', (line, expected) => {
    expect(complete(line)).toEqual(expected);
  });
});
