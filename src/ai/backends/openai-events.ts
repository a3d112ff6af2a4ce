/**
 * The client events speakerd sends to an OpenAI Realtime service, typed after the official `openai`
 * package's GA types (`RealtimeClientEvent`, `RealtimeSessionCreateRequest`). The package is a
 * devDependency only: test/fakes/openai/sdk-types.ts proves at compile time that every type here is
 * assignable to the package's, so nothing speakerd sends can drift from the SDK unnoticed.
 */

/** An audio format of a GA session. */
export type GaAudioFormat = { type: 'audio/pcm'; rate: 24000 } | { type: 'audio/pcmu' } | { type: 'audio/pcma' };

/** GA turn detection (null: push-to-talk). */
export type GaTurnDetection =
  | {
      type: 'server_vad';
      threshold?: number;
      prefix_padding_ms?: number;
      silence_duration_ms?: number;
      idle_timeout_ms?: number | null;
      create_response?: boolean;
      interrupt_response?: boolean;
    }
  | { type: 'semantic_vad'; eagerness?: 'low' | 'medium' | 'high' | 'auto'; create_response?: boolean; interrupt_response?: boolean };

/** GA input transcription. */
export interface GaTranscription {
  model?: string;
  language?: string;
  prompt?: string;
}

/** A function tool. */
export interface GaFunctionTool {
  type: 'function';
  name: string;
  description: string;
  parameters: Record<string, unknown>;
}

/** GA tool choice. */
export type GaToolChoice = 'none' | 'auto' | 'required' | { type: 'function'; name: string };

/** GA truncation. */
export type GaTruncation = 'auto' | 'disabled' | { type: 'retention_ratio'; retention_ratio: number };

/** The GA `session` of session.update (the subset speakerd sets). */
export interface GaSession {
  type: 'realtime';
  instructions?: string;
  output_modalities?: Array<'audio' | 'text'>;
  max_output_tokens?: number | 'inf';
  tool_choice?: GaToolChoice;
  truncation?: GaTruncation;
  tools?: GaFunctionTool[];
  audio?: {
    input?: {
      format?: GaAudioFormat;
      /** Not nullable in the SDK: noise reduction off is the field left out (a new session's default). */
      noise_reduction?: { type?: 'near_field' | 'far_field' };
      /** Not nullable in the SDK: no transcription is the field left out. */
      transcription?: GaTranscription;
      turn_detection?: GaTurnDetection | null;
    };
    output?: { format?: GaAudioFormat; speed?: number; voice?: string | { id: string } };
  };
}

/** A GA conversation item speakerd creates. */
export type GaItem =
  | { type: 'message'; role: 'user'; content: Array<{ type: 'input_text'; text: string }> }
  | { type: 'message'; role: 'assistant'; content: Array<{ type: 'output_text'; text: string }> }
  | { type: 'function_call'; call_id: string; name: string; arguments: string }
  | { type: 'function_call_output'; call_id: string; output: string };

/** Every GA client event speakerd sends. */
export type GaClientEvent =
  | { type: 'session.update'; event_id?: string; session: GaSession }
  | { type: 'input_audio_buffer.append'; event_id?: string; audio: string }
  | { type: 'input_audio_buffer.commit'; event_id?: string }
  | { type: 'input_audio_buffer.clear'; event_id?: string }
  | { type: 'conversation.item.create'; event_id?: string; item: GaItem }
  | { type: 'conversation.item.truncate'; event_id?: string; item_id: string; content_index: number; audio_end_ms: number }
  | { type: 'response.create'; event_id?: string }
  | { type: 'response.cancel'; event_id?: string };

/** Client event ids: `evt_<n>` (unique per connection, at most 32 characters as the service allows). */
export class EventIds {
  private next = 0;
  private readonly prefix: string;

  constructor() {
    this.prefix = `evt_${Date.now().toString(36)}_`;
  }

  /** A new id. */
  id(): string {
    return `${this.prefix}${(this.next++).toString(36)}`;
  }
}
