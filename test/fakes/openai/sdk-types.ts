/**
 * Compile-time proof that every client event speakerd sends to OpenAI fits the official `openai`
 * package's GA realtime types (a devDependency: `import type` only, nothing of it at run time).
 * `npx tsc -p tsconfig.json` fails when a type drifts; test/unit/ai/openai-sdk-types.test.ts also
 * shows that a wrong event is caught.
 */
import type { RealtimeClientEvent, RealtimeSessionCreateRequest } from 'openai/resources/realtime/realtime';
import type { GaClientEvent, GaSession } from '../../../src/ai/backends/openai-events.js';

/** Every GA client event of speakerd is a RealtimeClientEvent. */
export type ClientEventsFit = GaClientEvent extends RealtimeClientEvent ? true : never;
/** speakerd's GA session is a RealtimeSessionCreateRequest. */
export type SessionFits = GaSession extends RealtimeSessionCreateRequest ? true : never;

/** Instantiated so that a `never` above is a compile error. */
export const SDK_TYPES_FIT: [ClientEventsFit, SessionFits] = [true, true];
