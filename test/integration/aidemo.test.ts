/**
 * speakerd-aidemo in null-audio mode against the fake OpenAI service for a few seconds, as CI runs it:
 * the key from OPENAI_API_KEY, a reply spoken, a clean exit, and the key nowhere in its output.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeRealtimeServer, tone } from '../fakes/openai-realtime-server.js';

const AIDEMO = join(process.cwd(), 'dist/src/cli/aidemo.js');
let server: FakeRealtimeServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

function run(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [AIDEMO, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('exit', (code) => resolve({ code, output }));
  });
}

describe('speakerd-aidemo', () => {
  it('talks to the service on the null device for --duration seconds with the key from the environment', async () => {
    server = await FakeRealtimeServer.start();
    const url = server.url.replace('127.0.0.1', 'localhost');
    const done = run(['--backend', 'openai', '--url', url, '--null-audio', '--duration', '3', '--clock-rate', '16000', '--log-level', 'info'], {
      OPENAI_API_KEY: 'sk-aidemo-secret-42',
    });
    await server.waitFor('input_audio_buffer.append', { timeoutMs: 8000 });
    await server.sendResponse({ audio: tone(400), transcript: 'hello from the fake', chunkMs: 100, interval: 20 });
    const { code, output } = await done;
    expect(code).toBe(0);
    expect(output).toMatch(/connected/);
    expect(output).toMatch(/assistant: hello from the fake/);
    expect(output).toMatch(/answer completed/);
    expect(output).toMatch(/done: 0 reconnects/);
    expect(output).not.toContain('sk-aidemo-secret-42');
    expect(server.handshakes[0]?.headers.authorization).toBe('Bearer sk-aidemo-secret-42');
  });

  it('refuses bad usage with exit 2 and a configuration the schema rejects with 78', async () => {
    expect((await run(['--duration', 'forever'], {})).code).toBe(2);
    const noValue = await run(['--set', 'ai.voice'], {});
    expect(noValue.code).toBe(2);
    expect(noValue.output).toMatch(/--set takes KEY=VALUE, got 'ai.voice'/);
    const bad = await run(['--null-audio', '--set', 'ai.voice=not a voice!', '--duration', '1'], { OPENAI_API_KEY: 'sk-x' });
    expect(bad.code).toBe(78);
    expect(bad.output).toMatch(/ai\.voice/);
  });
});

describe('speakerd-aidemo with another vendor', () => {
  it('talks to Deepgram (its key from DEEPGRAM_API_KEY, sent as Authorization: Token)', async () => {
    const { FakeDeepgramAgentServer } = await import('../fakes/deepgram-agent-server.js');
    const deepgram = await FakeDeepgramAgentServer.start({ apiKey: 'dg-aidemo-secret-7' });
    try {
      const url = deepgram.url.replace('127.0.0.1', 'localhost');
      const { code, output } = await run(['--backend', 'deepgram', '--url', url, '--null-audio', '--duration', '2'], {
        DEEPGRAM_API_KEY: 'dg-aidemo-secret-7',
      });
      expect(code).toBe(0);
      expect(output).toMatch(/connected/);
      expect(output).not.toContain('dg-aidemo-secret-7');
      expect(deepgram.handshakes[0]?.headers.authorization).toBe('Token dg-aidemo-secret-7');
      expect(deepgram.received.some((m) => m.type === 'Settings')).toBe(true);
    } finally {
      await deepgram.close();
    }
  });
});
