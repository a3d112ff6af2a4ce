import { backendConformance } from './backend-conformance.js';
import { openAiFake } from './openai-fake.js';

backendConformance({ name: 'openai (GA)', param: { backend: 'openai' }, start: () => openAiFake({ dialect: 'ga' }) });
backendConformance({
  name: 'openai (beta dialect, a compatible server)',
  param: { backend: 'openai', dialect: 'beta' },
  start: () => openAiFake({ dialect: 'auto' }),
});
