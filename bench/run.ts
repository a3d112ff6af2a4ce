/**
 * `npm run bench`: per-audio-second costs and echo-canceller quality, printed as a table.
 * Figures are ratios (percent of one core per second of audio, dB), so they compare across the
 * shared, noisy machines this runs on; compare within one run, not across runs.
 */
import { benchAi } from './ai.js';
import { benchAudioThread } from './audio-thread.js';
import { benchControl } from './control.js';
import { benchEcho } from './echo.js';
import { benchFootprint } from './footprint.js';
import { benchEchoPost } from './echo-post.js';
import { benchLeds } from './leds.js';
import { benchMedia } from './media.js';
import { benchMemory } from './memory.js';
import { benchResamplerQuality } from './resampler-quality.js';
import { loadNativeBinding } from '../src/media/native-binding.js';
import { benchRoom } from './room/bench.js';

function print(title: string, rows: Record<string, number>): void {
  console.log(`\n${title}`);
  for (const [name, value] of Object.entries(rows)) console.log(`  ${name.padEnd(62)} ${value.toFixed(3)}`);
}

async function main(): Promise<void> {
  console.log(`speakerd bench: node ${process.version}, ${process.arch}`);
  print('media plane (engine on the null device, manual clock, 60 s of audio)', await benchMedia());
  print('echo canceller (synthetic room, speech-like far and near ends)', await benchEcho());
  print('audio thread by part (manual clock, 60 s of audio per line)', await benchAudioThread());
  print('resampler qualities at the device edge (tones at -6 dBFS; 16-bit output floor about -95 dB)', benchResamplerQuality(loadNativeBinding()));
  print('after the canceller: double-talk detector, suppression, AGC (issue-10 rooms, seed 1)', await benchEchoPost(loadNativeBinding()));
  console.log('\nclosed-loop room: the daemon on a paced JACK device, echo through a simulated room (bench/room)');
  await benchRoom();
  print('AI port against the fake OpenAI service (loopback)', await benchAi());
  print('control socket of a running daemon', await benchControl());
  print('LED patterns (5 s each)', await benchLeds());
  print('memory of audio buffers (RSS growth)', await benchMemory());
  console.log('\nfootprint by thread, measured from outside (/proc), 20 s per scenario');
  await benchFootprint();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
