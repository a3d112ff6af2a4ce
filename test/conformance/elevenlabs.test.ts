import type { AiPortParam } from '../../src/ai/types.js';
import { backendConformance } from './backend-conformance.js';
import { elevenLabsFake } from './elevenlabs-fake.js';

const PUSH_TO_TALK =
  'ElevenLabs Agents has no client turn commit or clear: turn-taking always runs on the service, so push-to-talk only gates the microphone (covered in test/unit/ai/elevenlabs-backend.test.ts)';

const publicAgent: AiPortParam = { backend: 'elevenlabs', elevenlabs: { agentId: 'agent_test' } };
backendConformance({ name: 'elevenlabs (public agent)', param: publicAgent, start: () => elevenLabsFake(), skip: { pushToTalk: PUSH_TO_TALK } });

const privateAgent: AiPortParam = { backend: 'elevenlabs', elevenlabs: { agentId: 'agent_private', signedUrl: true } };
backendConformance({
  name: 'elevenlabs (private agent through a signed URL, µ-law in, 22.05 kHz out)',
  param: privateAgent,
  start: () => elevenLabsFake({ agentId: 'agent_private', apiKey: 'conformance-xi-key', inputFormat: 'ulaw_8000', outputFormat: 'pcm_22050' }),
  skip: { pushToTalk: PUSH_TO_TALK },
});
