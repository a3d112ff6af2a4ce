/**
 * The WebRTC echo engine is optional at build time: built with speakerd_webrtc=none (what binding.gyp
 * picks when pkg-config finds no webrtc-audio-processing, and what the Yocto recipe passes without
 * PACKAGECONFIG "webrtc"), the addon links no WebRTC library, lists only speex, and refuses the webrtc
 * engine with a clear, coded error, from the engine and from the offline canceller.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFakeBinding } from '../../src/media/fake-binding.js';

const ROOT = process.cwd();

describe('an addon built without webrtc-audio-processing', () => {
  it('has only the speex engine and refuses webrtc with ERR_AEC_ENGINE_UNAVAILABLE', () => {
    const dir = mkdtempSync(join(tmpdir(), 'speakerd-speex-only-'));
    try {
      cpSync(join(ROOT, 'native'), join(dir, 'native'), { recursive: true });
      cpSync(join(ROOT, 'binding.gyp'), join(dir, 'binding.gyp'));
      symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
      const build = spawnSync(join(ROOT, 'node_modules/.bin/node-gyp'), ['rebuild', '--', '-Dspeakerd_webrtc=none'], { cwd: dir, encoding: 'utf8' });
      expect(build.status, build.stderr).toBe(0);
      const addon = join(dir, 'build/Release/speakerd.node');
      const needed = spawnSync('objdump', ['-p', addon], { encoding: 'utf8' }).stdout.split('\n').filter((l) => /^\s+NEEDED/.test(l)).join('\n');
      expect(needed).toContain('libspeexdsp');
      expect(needed).not.toContain('webrtc');
      const probe = `
        const b = require(${JSON.stringify(addon)});
        const out = { info: b.buildInfo() };
        const attempt = (f) => { try { f(); return null; } catch (e) { return { code: e.code, message: e.message }; } };
        out.engine = attempt(() => new b.Engine({ manualClock: true, aecEngine: 'webrtc' }, () => {}));
        out.canceller = attempt(() => new b.EchoCanceller({ engine: 'webrtc' }));
        out.speex = attempt(() => new b.EchoCanceller({ engine: 'speex' }).process(new Int16Array(160), new Int16Array(160)));
        console.log(JSON.stringify(out));`;
      const run = spawnSync(process.execPath, ['-e', probe], { encoding: 'utf8' });
      expect(run.stderr).toBe('');
      const out = JSON.parse(run.stdout) as Record<string, unknown>;
      const refused = {
        code: 'ERR_AEC_ENGINE_UNAVAILABLE',
        message: "echo engine 'webrtc' is not built into this addon (webrtc-audio-processing was not found at build time); built: speex",
      };
      expect(out).toEqual({ info: { echoEngines: ['speex'], webrtcApm: '' }, engine: refused, canceller: refused, speex: null });
      // The fake binding pretending the same build says the same.
      const fake = createFakeBinding({ echoEngines: ['speex'] });
      expect(fake.buildInfo()).toEqual(out.info);
      expect(() => new fake.EchoCanceller({ engine: 'webrtc' })).toThrow(refused.message);
      expect(() => new fake.Engine({ manualClock: true, aecEngine: 'webrtc' }, () => undefined)).toThrow(refused.message);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 600000);
});
