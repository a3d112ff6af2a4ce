import { backendConformance } from './backend-conformance.js';
import { openAiFake } from './openai-fake.js';

backendConformance({
  name: 'azure (GA endpoint, api-key header)',
  param: { backend: 'azure', model: 'my-realtime-deployment' },
  start: () => openAiFake({ dialect: 'ga', path: '/openai/v1/realtime' }),
});
backendConformance({
  name: 'azure (preview endpoint, beta dialect)',
  param: { backend: 'azure', model: 'my-realtime-deployment' },
  start: () => openAiFake({ dialect: 'auto', path: '/openai/realtime' }),
});
