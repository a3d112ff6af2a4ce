/**
 * Real-time discipline of the echo engines and the delay estimator: after construction, processing
 * and resetting allocate nothing. test/native/rt-alloc-check.cc interposes malloc/calloc/realloc for
 * the whole process (the speexdsp and webrtc-audio-processing libraries included) and counts.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = process.cwd();

function pkgConfig(args: string[]): string | null {
  const r = spawnSync('pkg-config', args, { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

describe('audio-thread allocations', () => {
  it('are none in the echo engines and the delay estimator (construction allocates, the counter sees it)', () => {
    // The WebRTC module binding.gyp would pick: 1.x (AEC3) before 0.3 (AEC2).
    const webrtc = ['webrtc-audio-processing-1', 'webrtc-audio-processing'].find((m) => pkgConfig(['--exists', m]) !== null);
    const dir = mkdtempSync(join(tmpdir(), 'speakerd-rt-alloc-'));
    try {
      const exe = join(dir, 'rt-alloc-check');
      const sources = ['test/native/rt-alloc-check.cc', 'native/dsp/echo_engine.cc', 'native/dsp/echo_canceller.cc', 'native/dsp/delay_estimator.cc'];
      const flags = ['-std=c++17', '-O1', '-Wall', '-Wextra', '-Werror'];
      const libs = (pkgConfig(['--libs', 'speexdsp']) ?? '-lspeexdsp').split(/\s+/);
      if (webrtc) {
        flags.push('-DSPEAKERD_WEBRTC_APM', ...(webrtc === 'webrtc-audio-processing-1' ? ['-DSPEAKERD_WEBRTC_APM_1'] : []));
        flags.push(...(pkgConfig(['--cflags', webrtc]) ?? '').split(/\s+/).filter(Boolean).map((f) => f.replace(/^-I/, '-isystem')));
        sources.push('native/dsp/webrtc_echo.cc', ...(webrtc === 'webrtc-audio-processing' ? ['native/dsp/aec2_nlp_ease.cc'] : []));
        libs.push(...(pkgConfig(['--libs', webrtc]) ?? '').split(/\s+/).filter(Boolean));
      }
      const build = spawnSync('g++', [...flags, ...sources, '-o', exe, ...libs], { cwd: ROOT, encoding: 'utf8' });
      expect(build.stderr).toBe('');
      expect(build.status).toBe(0);
      const run = spawnSync(exe, [], { encoding: 'utf8' });
      expect(run.status).toBe(0);
      const counts = Object.fromEntries(run.stdout.trim().split('\n').map((line) => line.split(' ')).map(([k, v]) => [k, Number(v)]));
      expect(counts['probe']).toBe(1);
      expect(counts['speex-construction']).toBeGreaterThan(0);
      expect(counts['speex']).toBe(0);
      expect(counts['delay-estimator']).toBe(0);
      if (webrtc) {
        expect(counts['webrtc-construction']).toBeGreaterThan(0);
        expect(counts['webrtc']).toBe(0);
        expect(counts['webrtc-eased-construction']).toBeGreaterThan(0);
        expect(counts['webrtc-eased']).toBe(0);
        expect(counts['webrtc-48k-construction']).toBeGreaterThan(0);
        expect(counts['webrtc-48k']).toBe(0);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120000);
});
