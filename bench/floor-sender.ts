/**
 * Bench child, the floor the daemon is compared with: a bare Node process with `ws` and nothing else,
 * sending the microphone as the daemon does (one `input_audio_buffer.append` with base64 PCM16 every
 * batch, from a timer) and decoding every reply (JSON.parse, base64 audio to samples).
 * argv: URL, batch in ms (default 40), input rate (default 24000). Prints "ready" once connected.
 */
import WebSocket from 'ws';

const [url = '', batchArg = '40', rateArg = '24000'] = process.argv.slice(2);
const batchMs = Number(batchArg);
const samples = Math.round((Number(rateArg) * batchMs) / 1000);
const mic = new Int16Array(samples);
for (let i = 0; i < samples; i++) mic[i] = Math.round(3000 * Math.sin(i / 7) + (((i * 7919) % 200) - 100));
let decoded = 0;

const socket = new WebSocket(url, { perMessageDeflate: false });
socket.on('message', (data) => {
  const message = JSON.parse(data.toString()) as { type?: string; delta?: string };
  if (typeof message.delta === 'string' && message.type?.endsWith('audio.delta')) {
    const bytes = Buffer.from(message.delta, 'base64');
    decoded += new Int16Array(bytes.buffer, bytes.byteOffset, bytes.length >> 1).length;
  }
});
socket.on('open', () => {
  setInterval(() => {
    const audio = Buffer.from(mic.buffer, mic.byteOffset, mic.byteLength).toString('base64');
    socket.send(JSON.stringify({ type: 'input_audio_buffer.append', audio }));
  }, batchMs);
  process.stdout.write('ready\n');
});
socket.on('close', () => process.exit(decoded >= 0 ? 0 : 1));
process.on('SIGTERM', () => socket.close());
