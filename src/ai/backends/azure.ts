/**
 * Azure OpenAI Realtime: the OpenAI protocol on a resource's endpoint (protocols.md section 2).
 * The GA endpoint `wss://<resource>.openai.azure.com/openai/v1/realtime` takes the deployment as
 * `model=` and speaks GA; the older preview endpoint `…/openai/realtime` takes `deployment=` and an
 * `api-version`, and speaks the beta dialect. The key goes in an `api-key` header by default;
 * `authScheme: 'bearer'` sends an Entra ID token instead.
 */
import type { AiBackend } from '../backend.js';
import type { AiPortParam } from '../types.js';
import { OpenAiBackend, type OpenAiFlavour } from './openai.js';

/** api-version added to a preview endpoint that names none. */
export const AZURE_PREVIEW_API_VERSION = '2025-04-01-preview';

/** Whether an Azure endpoint is the old preview one (`/openai/realtime`, beta dialect). */
export function isAzurePreview(url: string): boolean {
  return /\/openai\/realtime\/?$/.test(new URL(url).pathname);
}

const AZURE: OpenAiFlavour = {
  name: 'azure',
  defaultModel: 'gpt-realtime',
  authScheme: 'api-key',
  checkModels: false,
  dialectFor: (target) => (isAzurePreview(target.toString()) ? 'beta' : 'ga'),
  // The endpoint speaks one dialect: 'ga' or 'beta' from the configuration (whose default is 'ga')
  // cannot change it; only 'auto' (from session.created) overrides the path.
  pathPicksDialect: true,
  url: (target, deployment) => {
    if (isAzurePreview(target.toString())) {
      if (!target.searchParams.has('api-version')) target.searchParams.set('api-version', AZURE_PREVIEW_API_VERSION);
      if (!target.searchParams.has('deployment')) target.searchParams.set('deployment', deployment);
    } else if (!target.searchParams.has('model')) {
      target.searchParams.set('model', deployment);
    }
  },
};

/** Makes the Azure backend; without a dialect, the endpoint's path selects it (preview: beta). */
export function createAzureBackend(param: AiPortParam): AiBackend {
  return new OpenAiBackend(param, AZURE);
}
