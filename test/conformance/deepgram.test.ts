import { backendConformance } from './backend-conformance.js';
import { deepgramFake } from './deepgram-fake.js';

// The fake ends a connection after 1.5 s without audio or a message, so a KeepAlive every 300 ms
// must hold push-to-talk sessions (microphone closed between turns) open.
backendConformance({
  name: 'deepgram (Voice Agent V1, binary PCM, Authorization: Token)',
  param: { backend: 'deepgram', deepgram: { keepAliveMs: 300 } },
  start: () => deepgramFake(),
});
