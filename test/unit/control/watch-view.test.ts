import { describe, expect, it } from 'vitest';
import { formatDuration, formatResult, formatStatus } from '../../../src/cli/ctl/format.js';
import { clean, levelBar, redraw, WatchView, WATCH_TRANSCRIPTS } from '../../../src/cli/ctl/watch-view.js';

describe('WatchView', () => {
  it('draws bars proportional to the level', () => {
    expect(levelBar(0, 10)).toBe('[----------]');
    expect(levelBar(255, 10)).toBe('[##########]');
    expect(levelBar(128, 10)).toBe('[#####-----]');
    expect(levelBar(999, 4)).toBe('[####]');
  });

  it('follows state, mute, volume, levels and errors', () => {
    const v = new WatchView();
    v.applyStatus({ state: 'listening', muted: false, volume: 40, backend: 'openai', lastError: null });
    expect(v.apply({ event: 'state', data: { state: 'speaking' } })).toBe('state speaking');
    expect(v.apply({ event: 'mute', data: { muted: true } })).toBe('muted');
    expect(v.apply({ event: 'volume', data: { volume: 70 } })).toBe('volume 70');
    expect(v.apply({ event: 'levels', data: { mic: 51, speaker: 255 } })).toBeNull();
    expect(v.apply({ event: 'error', data: { code: 'ERR_AI_TIMEOUT', message: 'no pong' } })).toBe('error ERR_AI_TIMEOUT: no pong');
    expect(v.apply({ event: 'something_new', data: {} })).toBeNull();
    const lines = v.render(80);
    expect(lines[0]).toBe('speakerd  speaking   mic MUTED   volume 70   backend openai');
    expect(lines[1]).toMatch(/^mic {5}\[#+-+\] {2}51$/);
    expect(lines[2]).toMatch(/^speaker \[#+\] 255$/);
    expect(lines.at(-1)).toBe('last error: ERR_AI_TIMEOUT: no pong');
  });

  it('draws the LEDs (lit and dark cells, layer, pattern) and the mute switch, from status and events', () => {
    const v = new WatchView();
    expect(v.render(80).some((l) => l.startsWith('leds'))).toBe(false);
    v.applyStatus({
      state: 'listening',
      muted: false,
      volume: 40,
      backend: 'parrot',
      lastError: null,
      muteSwitch: false,
      leds: { layer: 'listening', pattern: 'solid', color: '#0040ff', colors: ['#0040ff', '#000000', '#0040ff'] },
    });
    expect(v.render(80)[1]).toBe('leds    [\u25cf\u00b7\u25cf] listening solid #0040ff');
    expect(v.apply({ event: 'leds', data: { layer: 'error', pattern: 'blink', color: '#ff0000', colors: ['#000000', '#000000', '#000000'] } })).toBe(
      'leds error blink #ff0000',
    );
    expect(v.apply({ event: 'mute_switch', data: { muted: true } })).toBe('mute switch on (muted)');
    v.apply({ event: 'mute', data: { muted: true } });
    const lines = v.render(80);
    expect(lines[0]).toContain('mic MUTED (switch)');
    expect(lines[1]).toBe('leds    [\u00b7\u00b7\u00b7] error blink #ff0000');
  });

  it('keeps the last transcripts, replacing a partial one by its continuation', () => {
    const v = new WatchView();
    expect(v.apply({ event: 'transcript', data: { role: 'assistant', text: 'It is', final: false } })).toBeNull();
    expect(v.apply({ event: 'transcript', data: { role: 'assistant', text: 'It is noon.', final: true } })).toBe('assistant: It is noon.');
    expect(v.transcripts).toEqual([{ role: 'assistant', text: 'It is noon.', final: true }]);
    for (let i = 0; i < 10; i++) v.apply({ event: 'transcript', data: { role: 'user', text: `t${i}`, final: true } });
    expect(v.transcripts.map((t) => t.text)).toEqual(['t5', 't6', 't7', 't8', 't9']);
    expect(v.transcripts).toHaveLength(WATCH_TRANSCRIPTS);
  });

  it('renders a fixed number of lines, none wider than the terminal, without control characters', () => {
    const v = new WatchView();
    v.apply({ event: 'transcript', data: { role: 'user', text: `evil\x1b[2J${'long '.repeat(50)}`, final: true } });
    const lines = v.render(40);
    expect(lines).toHaveLength(new WatchView().render(40).length);
    for (const l of lines) {
      expect(l.length).toBeLessThanOrEqual(40);
      expect(l).not.toMatch(/[\x00-\x1f]/);
    }
    expect(clean('a\nb\tc\x9b')).toBe('a b c ');
  });

  it('redraw moves up over the previous frame and clears what is left', () => {
    expect(redraw(['a', 'b'], 0)).toBe('\x1b[2Ka\n\x1b[2Kb\n\x1b[J');
    expect(redraw(['a'], 3)).toBe('\x1b[3F\x1b[2Ka\n\x1b[J');
  });
});

describe('format', () => {
  it('formats durations', () => {
    expect(formatDuration(5)).toBe('5s');
    expect(formatDuration(65)).toBe('1m 05s');
    expect(formatDuration(3723)).toBe('1h 02m 03s');
    expect(formatDuration(-1)).toBe('?');
  });

  it('formats a status with missing fields without throwing', () => {
    expect(formatStatus({})).toMatch(/^state:\s+\?$/m);
    expect(formatStatus({ lastError: { code: 'ERR_AI_HANDSHAKE', message: 'refused', httpStatus: 401, at: 'T' } })).toContain(
      'ERR_AI_HANDSHAKE: refused (HTTP 401) at T',
    );
  });

  it("formats the open device's rate and period, and leaves them out without one", () => {
    const line = (audio: Record<string, unknown>): string | undefined => formatStatus({ audio }).match(/^audio:.*$/m)?.[0];
    expect(line({ deviceState: 'open', deviceRate: 48000, devicePeriodMs: 21.3, frames: 5, xruns: 0, underruns: 0, dropped: 0 })).toMatch(
      /^audio:\s+device open at 48000 Hz, 21\.3 ms periods, 5 frames, 0 xruns/,
    );
    expect(line({ deviceState: 'retrying', deviceRate: 0, devicePeriodMs: 0, frames: 5 })).toMatch(/^audio:\s+device retrying, 5 frames/);
  });

  it('formats the post filter and playback side of the status', () => {
    const audio = (aecPost: unknown): Record<string, unknown> => ({ audio: { aecPost } });
    expect(formatStatus(audio({ talk: 'double', suppressionDb: 0, agcGainDb: 9.04, duckActive: true, limiterDb: -3.2 }))).toMatch(
      /^post filter:\s+double, suppression 0\.0 dB, AGC 9\.0 dB, ducking, ceiling -3\.2 dB$/m,
    );
    expect(formatStatus(audio({ talk: 'far', suppressionDb: -30, agcGainDb: 0, duckActive: false, limiterDb: 0 }))).toMatch(
      /^post filter:\s+far, suppression -30\.0 dB, AGC 0\.0 dB$/m,
    );
    expect(formatStatus(audio({ talk: 'idle', suppressionDb: 0, agcGainDb: 18.04, agcAppliedDb: 0, duckActive: false, limiterDb: 0 }))).toMatch(
      /^post filter:\s+idle, suppression 0\.0 dB, AGC 18\.0 dB \(0\.0 dB between words\)$/m,
    );
    expect(formatStatus(audio(null))).toMatch(/^post filter:\s+off$/m);
  });

  it('formats results', () => {
    expect(formatResult('devices', { devices: [] })).toBe('no sound devices');
    expect(formatResult('config_get', { value: { a: 1 } })).toBe('{\n  "a": 1\n}');
    expect(formatResult('connect', {})).toBe('');
  });
});

describe('the echo canceller in status and watch', () => {
  const aec = { erleDb: 31.26, converged: true, engine: 'webrtc', delayMs: 57.5, delaySource: 'estimate', delayEstimateMs: 57.5, delayConfidence: 0.671 };

  it('status shows the engine, ERLE, the delay in use with its source, and the estimate', () => {
    expect(formatStatus({ audio: { aec } })).toMatch(
      /^echo canceller: webrtc, ERLE 31\.3 dB, converged; delay 57\.5 ms \(estimate\), estimate 57\.5 ms at confidence 0\.67$/m,
    );
    const fixed = { ...aec, delayMs: 50, delaySource: 'config', delayEstimateMs: -1, delayConfidence: 0 };
    expect(formatStatus({ audio: { aec: fixed } })).toContain('delay 50.0 ms (config), no estimate yet');
    expect(formatStatus({ audio: { aec: { ...aec, delayMs: -1, delaySource: 'none' } } })).toContain('; delay unknown, estimate');
    expect(formatStatus({ audio: { aec: null } })).toMatch(/^echo canceller: off$/m);
    expect(formatStatus({ audio: { aec: { ...aec, userEase: 'on' } } })).toContain('webrtc, ERLE 31.3 dB, converged, eased for the user; delay');
    expect(formatStatus({ audio: { aec: { ...aec, userEase: 'unsupported' } } })).toContain('converged, cannot ease for the user; delay');
    expect(formatStatus({ audio: { aec: { ...aec, userEase: 'off' } } })).toContain('webrtc, ERLE 31.3 dB, converged; delay');
    // A daemon from before the engines and the estimator: the old line.
    expect(formatStatus({ audio: { aec: { erleDb: 40, converged: false } } })).toMatch(/^echo canceller: ERLE 40\.0 dB, converging$/m);
  });

  it('watch draws the echo canceller line and prints a plain line only when engine, delay or source change', () => {
    const v = new WatchView();
    v.applyStatus({ state: 'listening', audio: { aec: { ...aec, delayMs: 40, delaySource: 'device', delayEstimateMs: -1 } } });
    expect(v.render(200)).toContain('echo    webrtc, ERLE 31.3 dB, converged; delay 40.0 ms (device), no estimate yet');
    expect(v.applyAecStatus({ audio: { aec } })).toBe(
      'echo canceller webrtc, ERLE 31.3 dB, converged; delay 57.5 ms (estimate), estimate 57.5 ms at confidence 0.67',
    );
    expect(v.applyAecStatus({ audio: { aec: { ...aec, erleDb: 35, delayConfidence: 0.9 } } })).toBeNull();
    expect(v.render(200)).toContain('echo    webrtc, ERLE 35.0 dB, converged; delay 57.5 ms (estimate), estimate 57.5 ms at confidence 0.90');
    expect(v.applyAecStatus({ audio: { aec: null } })).toBe('echo canceller off');
    expect(v.applyAecStatus({ state: 'listening' })).toBeNull();
    expect(new WatchView().render(80).some((l) => l.startsWith('echo'))).toBe(false);
  });
});
