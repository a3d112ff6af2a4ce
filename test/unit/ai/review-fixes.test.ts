/** Findings of the issue 9 review, each with the test that failed before its fix. */
import { describe, expect, it } from 'vitest';
import { createAzureBackend } from '../../../src/ai/backends/azure.js';
import { ElevenLabsBackend } from '../../../src/ai/backends/elevenlabs.js';
import { PendingCalls } from '../../../src/ai/tools.js';
import { defaultConfig } from '../../../src/config/load.js';
import { KEY_ACCESS } from '../../../src/config/schema.js';
import { backendNeedsKey } from '../../../src/config/secrets.js';
import { aiParam } from '../../../src/service/media-options.js';

describe('azure configured the usual way', () => {
  it('speaks beta on the preview endpoint although ai.dialect defaults to ga, and GA on the v1 endpoint', () => {
    for (const [url, dialect] of [
      ['wss://r.openai.azure.com/openai/realtime', 'beta'],
      ['wss://r.openai.azure.com/openai/v1/realtime', 'ga'],
    ] as const) {
      // The configuration as the daemon has it: ai.dialect at its default, 'ga'.
      const config = defaultConfig();
      expect(config.ai.dialect).toBe('ga');
      config.ai.backend = 'azure';
      config.ai.url = url;
      config.ai.model = 'rt-deploy';
      const backend = createAzureBackend(aiParam(config));
      const plan = backend.prepareConnection({ url, token: 'azure-key', signal: new AbortController().signal }) as {
        url: string;
        headers: Record<string, string>;
      };
      expect(backend.dialect, url).toBe(dialect);
      expect(plan.headers['OpenAI-Beta'], url).toBe(dialect === 'beta' ? 'realtime=v1' : undefined);
      expect(plan.headers['api-key']).toBe('azure-key');
    }
  });
});

describe('keys', () => {
  it('azure and xai need one (except on the loopback), like openai', () => {
    expect(backendNeedsKey({ backend: 'azure', url: 'wss://r.openai.azure.com/openai/v1/realtime' })).toBe(true);
    expect(backendNeedsKey({ backend: 'xai', url: '' })).toBe(true);
    expect(backendNeedsKey({ backend: 'xai', url: 'ws://127.0.0.1:9/v1/realtime' })).toBe(false);
  });

  it('the backend is never settable at run time: switching it would send the key to another vendor', () => {
    expect(KEY_ACCESS['ai.backend']).toBe('never');
    expect(KEY_ACCESS['ai.url']).toBe('never');
  });
});

describe('ElevenLabs close frames', () => {
  it('reports 1008 before the conversation started as a fatal refusal with its reason, 1002 as not fatal', () => {
    const backend = new ElevenLabsBackend({ backend: 'elevenlabs', elevenlabs: { agentId: 'agent_x' } } as never);
    expect(backend.closeError(1008, 'Agent not found')).toMatchObject({ code: '1008', fatal: true, message: expect.stringContaining('Agent not found') });
    expect(backend.closeError(1002, '')).toMatchObject({ code: '1002', fatal: false });
    expect(backend.closeError(1000, 'bye')).toBeNull();
  });
});

describe('tool calls a hostile server opens', () => {
  it('are kept to a bounded number, the oldest going first', () => {
    const calls = new PendingCalls();
    let lost = 0;
    for (let i = 0; i < 10000; i++) if (!calls.issued(`call_${i}`, 'f')) lost++;
    expect(lost).toBe(10000 - PendingCalls.MAX_OPEN);
    expect(calls.take('call_0')).toBe(false);
    expect(calls.take('call_9999')).toBe(true);
  });
});
