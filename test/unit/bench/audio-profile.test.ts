/**
 * The in-daemon audio thread profile of the bench: perf's call stacks parsed and each sample given to
 * the part of the tick it ran in; and, where perf is installed, a real thread sampled.
 */
import { spawn, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { classifyStack, parseStacks, profileThread, sharesByPart } from '../../../bench/audio-profile.js';

/** Two samples as `perf script -F tid,ip,sym` prints them (taken from a real run, shortened). */
const SCRIPT = `22767 
\t           84091 [unknown]
\t           3a4dd aec_rdft_inverse_128
\t           38f27 WebRtcAec_ProcessFrames
\t           585bc webrtc::AudioProcessingImpl::ProcessStream
\t           68b97 speakerd::WebrtcEchoEngine::Process
\t           5f401 speakerd::Engine::ProcessCapture
\t           5f668 speakerd::Engine::Tick
\t           5f950 speakerd::Engine::AudioLoop
\t          1098eb clone3

22767 
\tffffffff813aecd3 finish_task_switch.isra.0
\tffffffff82249604 __schedule
\t           fc26f __GI___poll (inlined)
\t           1a2b3 snd_pcm_wait
\t           5e001 speakerd::AlsaDuplex::ReadPeriod
\t           5f7fc speakerd::Engine::Step
\t           5f950 speakerd::Engine::AudioLoop
`;

describe('audio thread profile', () => {
  it('parses perf script output into stacks, innermost frame first, addresses dropped', () => {
    const stacks = parseStacks(SCRIPT);
    expect(stacks).toHaveLength(2);
    expect(stacks[0]?.[1]).toBe('aec_rdft_inverse_128');
    expect(stacks[0]?.at(-1)).toBe('clone3');
    expect(stacks[1]?.[2]).toBe('__GI___poll (inlined)');
  });

  it('gives a sample to the innermost part of the tick it ran in', () => {
    const [webrtc, poll] = parseStacks(SCRIPT) as [string[], string[]];
    expect(classifyStack(webrtc)).toMatch(/^echo engine/);
    expect(classifyStack(poll)).toMatch(/^device I\/O/);
    const resampler = ['speex_resampler_process_int', 'speakerd::Resampler::Process'];
    expect(classifyStack([...resampler, 'speakerd::Engine::ProcessCapture', 'speakerd::Engine::Tick'])).toMatch(/at the device/);
    expect(classifyStack([...resampler, 'speakerd::ConferenceBridge::PushSink', 'speakerd::ConferenceBridge::Tick'])).toMatch(/in the bridge/);
    expect(classifyStack(['speakerd::DoubleTalkDetector::Process', 'speakerd::EchoPostFilter::Process'])).toMatch(/^post filter/);
    expect(classifyStack(['__memmove_avx512_unaligned_erms', 'speakerd::Engine::ReadHistory', 'speakerd::Engine::Tick'])).toBe('rest of the engine tick');
    expect(classifyStack(['[unknown]', 'start_thread'])).toMatch(/^outside the engine/);
  });

  it('shares add up to the whole, largest first', () => {
    const stacks = [...parseStacks(SCRIPT), ...parseStacks(SCRIPT), ['speakerd::DelayEstimator::Accumulate']];
    const shares = sharesByPart(stacks);
    expect(Object.values(shares).reduce((a, b) => a + b, 0)).toBeCloseTo(100, 9);
    expect(Object.values(shares)[0]).toBeCloseTo(40, 9);
    expect(shares['delay estimator']).toBeCloseTo(20, 9);
  });

  // perf installed and allowed to sample here (root, and no seccomp policy that forbids perf_event_open).
  const perf = spawnSync('perf', ['record', '-q', '-e', 'cpu-clock', '-o', '/dev/null', '--', 'true'], { stdio: 'ignore' }).status === 0;
  it.skipIf(!perf)('samples a real busy thread with perf', async () => {
    const busy = spawn('yes', [], { stdio: ['ignore', 'ignore', 'ignore'] });
    try {
      await new Promise((r) => setTimeout(r, 200));
      const profile = await profileThread(busy.pid as number, 'yes', 1);
      if ('skipped' in profile) throw new Error(profile.skipped);
      expect(profile.samples).toBeGreaterThan(200);
      expect(profile.cpuPercent).toBeGreaterThan(20);
      expect(profile.parts[Object.keys(profile.parts)[0] as string]).toBeGreaterThan(99);
      expect(Object.keys(profile.parts)).toEqual(['outside the engine (thread start, unresolved)']);
    } finally {
      busy.kill();
    }
  });

  it('reports a thread that does not exist as skipped, not as an error', async () => {
    expect(await profileThread(process.pid, 'no-such-thread', 1)).toEqual({ skipped: 'no thread named no-such-thread' });
  });
});
