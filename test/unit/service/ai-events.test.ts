import { describe, expect, it } from 'vitest';
import type { AiEvent } from '../../../src/ai/types.js';
import { toServiceEvent } from '../../../src/service/ai-events.js';

describe('AI events on the control socket', () => {
  it.each<[AiEvent, unknown]>([
    [
      { type: 'tool_call_cancelled', callIds: ['c1', 'c2'] },
      { event: 'tool_call_cancelled', data: { call_ids: ['c1', 'c2'] } },
    ],
    [
      { type: 'session_ending', timeLeftMs: 50000 },
      { event: 'session_ending', data: { time_left_ms: 50000 } },
    ],
    [
      { type: 'turn', open: true },
      { event: 'turn', data: { open: true } },
    ],
    [
      { type: 'turn', open: false, committed: false },
      { event: 'turn', data: { open: false, committed: false } },
    ],
    [
      { type: 'error', code: 'ERR_AI_CONFIG_REJECTED', message: 'bad voice', fatal: true, param: 'session.audio.output.voice' },
      { event: 'error', data: { code: 'ERR_AI_CONFIG_REJECTED', message: 'bad voice', fatal: true, param: 'session.audio.output.voice' } },
    ],
    [
      { type: 'error', code: 'ERR_AI_TRANSCRIPTION_FAILED', message: 'no', fatal: false, itemId: 'it1' },
      { event: 'error', data: { code: 'ERR_AI_TRANSCRIPTION_FAILED', message: 'no', fatal: false, item_id: 'it1' } },
    ],
    [
      { type: 'response_done', responseId: 'r1', status: 'failed', error: { code: 'server_error', message: 'x' } },
      { event: 'response_done', data: { response_id: 'r1', status: 'failed', error: { code: 'server_error', message: 'x' } } },
    ],
    [{ type: 'audio_start', itemId: 'i' }, null],
  ])('%j', (event, published) => {
    expect(toServiceEvent(event)).toEqual(published);
  });
});
