import { backendConformance } from './backend-conformance.js';
import { geminiFake } from './gemini-fake.js';

backendConformance({ name: 'gemini (Live API, API key)', param: { backend: 'gemini' }, start: ({ pushToTalk }) => geminiFake({ pushToTalk }) });
backendConformance({
  name: 'gemini (every server message in a binary frame)',
  param: { backend: 'gemini' },
  start: ({ pushToTalk }) => geminiFake({ pushToTalk, binaryFrames: true }),
});
