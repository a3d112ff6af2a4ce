/**
 * Gemini Live server messages (`LiveServerMessage`, protocols.md 3.4) translated into the port's
 * signals. A message may carry several keys; JSON may arrive in binary frames. Gemini has no item or
 * response ids: each model turn gets one (`gemini-turn-N`), opened by its first content and closed
 * by `turnComplete`. After `interrupted`, audio of the cut turn (also in the same message) is
 * dropped. Every message is hostile input: wrong shapes are 'malformed' signals, never exceptions.
 */
import type { BackendSignal, Frame } from '../backend.js';
import { base64ToPcm } from '../pcm.js';
import { obj, str as field, type Json } from './message-fields.js';

/** Longest text kept from one vendor field; longest transcript kept per turn. */
const TEXT_LIMIT = 10_000;
const TURN_TEXT_LIMIT = 20_000;
/** Most function calls, cancelled ids, parts taken from one message; longest arguments. */
const LIST_LIMIT = 64;
const ARGS_LIMIT = 100_000;
const ID = /^[\x21-\x7e]{1,200}$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
/** Top-level keys that need nothing from the port. */
const IGNORED = new Set(['usageMetadata', 'voiceActivityDetectionSignal']);
const KNOWN = new Set(['setupComplete', 'serverContent', 'toolCall', 'toolCallCancellation', 'goAway', 'sessionResumptionUpdate', 'voiceActivity', ...IGNORED]);

const str = (v: unknown, limit = TEXT_LIMIT): string | undefined => field(v, limit);

/** A protobuf Duration as JSON ("50s", "1.5s") in ms, or null. */
export function durationMs(v: unknown): number | null {
  const m = typeof v === 'string' ? /^(\d{1,9})(?:\.(\d{1,9}))?s$/.exec(v) : null;
  if (!m) return null;
  return Number(m[1]) * 1000 + Math.round(Number(`0.${m[2] ?? '0'}`) * 1000);
}

/** The model turn being received. */
interface Turn {
  id: string;
  interrupted: boolean;
  audioDone: boolean;
  output: string;
  text: string;
}

/** Turns server frames into signals; keeps the state of the current turn (one decoder per backend). */
export class GeminiDecoder {
  private seq = 0;
  private turn: Turn | null = null;
  private userText = '';
  private ready = false;

  constructor(
    /** Output rate the port plays at. */
    private readonly outputRate: number,
    /** Whether user speech interrupts replies (else voice activity is not a barge-in). */
    private readonly interrupts: boolean,
  ) {}

  /** Whether `setupComplete` arrived on this connection. */
  get setupComplete(): boolean {
    return this.ready;
  }

  /** A new connection: the turn in progress (if any) is gone. */
  reset(): void {
    this.turn = null;
    this.userText = '';
    this.ready = false;
  }

  /** Decodes one frame. */
  decode(frame: Frame): BackendSignal[] {
    let m: Json | undefined;
    try {
      const text = typeof frame === 'string' ? frame : Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength).toString('utf8');
      m = obj(JSON.parse(text));
    } catch {
      return [{ kind: 'malformed', reason: 'invalid JSON' }];
    }
    if (!m) return [{ kind: 'malformed', reason: 'not a JSON object' }];
    const keys = Object.keys(m);
    const unknown = keys.find((k) => !KNOWN.has(k));
    if (keys.length === 0) return [{ kind: 'malformed', reason: 'an empty message' }];
    const out: BackendSignal[] = [];
    if ('setupComplete' in m) out.push(this.setup(m.setupComplete));
    if ('serverContent' in m) out.push(...this.content(m.serverContent));
    if ('toolCall' in m) out.push(...this.toolCall(m.toolCall));
    if ('toolCallCancellation' in m) out.push(this.cancellation(m.toolCallCancellation));
    if ('voiceActivity' in m) out.push(this.voiceActivity(m.voiceActivity));
    if ('sessionResumptionUpdate' in m) out.push(this.resumption(m.sessionResumptionUpdate));
    if ('goAway' in m) out.push(this.goAway(m.goAway));
    if (out.length === 0) out.push(unknown !== undefined ? { kind: 'unknown', type: unknown.slice(0, 100) } : { kind: 'ignored' });
    return out;
  }

  private setup(v: unknown): BackendSignal {
    const s = obj(v);
    if (!s) return { kind: 'malformed', reason: 'setupComplete is not an object' };
    if (this.ready) return { kind: 'ignored' };
    this.ready = true;
    const id = str(s.sessionId, 200);
    return { kind: 'session_ready', mismatches: [], ...(id ? { sessionId: id } : {}) };
  }

  private open(out: BackendSignal[]): Turn {
    if (this.turn) return this.turn;
    this.turn = { id: `gemini-turn-${++this.seq}`, interrupted: false, audioDone: false, output: '', text: '' };
    out.push(...this.userFinal(), { kind: 'response_created', responseId: this.turn.id });
    return this.turn;
  }

  private userFinal(): BackendSignal[] {
    if (this.userText === '') return [];
    const text = this.userText;
    this.userText = '';
    return [{ kind: 'transcript', role: 'user', text, final: true }];
  }

  private content(v: unknown): BackendSignal[] {
    const c = obj(v);
    if (!c) return [{ kind: 'malformed', reason: 'serverContent is not an object' }];
    const out: BackendSignal[] = [];
    if (c.interrupted === true) {
      out.push({ kind: 'interrupted' });
      if (this.turn) this.turn.interrupted = true;
    }
    const input = this.transcription(c.inputTranscription, 'inputTranscription', out);
    if (input) {
      this.userText = (this.userText + input).slice(0, TURN_TEXT_LIMIT);
      out.push({ kind: 'transcript', role: 'user', text: input, final: false });
    }
    if (c.modelTurn !== undefined) this.modelTurn(c.modelTurn, c.interrupted === true, out);
    if (c.interrupted === true && this.turn) this.turn.interrupted = true;
    const output = this.transcription(c.outputTranscription, 'outputTranscription', out);
    if (output) {
      const turn = this.open(out);
      if (!turn.interrupted) {
        turn.output = (turn.output + output).slice(0, TURN_TEXT_LIMIT);
        out.push({ kind: 'transcript', role: 'assistant', text: output, final: false, itemId: turn.id });
      }
    }
    if (c.generationComplete === true && this.turn && !this.turn.interrupted && !this.turn.audioDone) {
      this.turn.audioDone = true;
      out.push({ kind: 'audio_done', itemId: this.turn.id });
    }
    if (c.turnComplete === true) out.push(...this.turnComplete(str(c.turnCompleteReason, 100)));
    if (out.length === 0) out.push({ kind: 'ignored' });
    return out;
  }

  private transcription(v: unknown, field: string, out: BackendSignal[]): string {
    if (v === undefined) return '';
    const t = obj(v);
    if (!t || (t.text !== undefined && typeof t.text !== 'string')) {
      out.push({ kind: 'malformed', reason: `serverContent.${field} is not a transcription` });
      return '';
    }
    return str(t.text) ?? '';
  }

  private modelTurn(v: unknown, cut: boolean, out: BackendSignal[]): void {
    const parts = obj(v)?.parts;
    if (!Array.isArray(parts)) {
      out.push({ kind: 'malformed', reason: 'serverContent.modelTurn without parts' });
      return;
    }
    for (const p of parts.slice(0, LIST_LIMIT)) {
      const part = obj(p);
      if (!part) {
        out.push({ kind: 'malformed', reason: 'a modelTurn part is not an object' });
        continue;
      }
      if (part.inlineData !== undefined) this.audio(part.inlineData, cut, out);
      else if (typeof part.text === 'string' && part.thought !== true) {
        if (cut) continue;
        const turn = this.open(out);
        if (turn.interrupted) continue;
        const text = part.text.slice(0, TEXT_LIMIT);
        turn.text = (turn.text + text).slice(0, TURN_TEXT_LIMIT);
        out.push({ kind: 'transcript', role: 'assistant', text, final: false, itemId: turn.id });
      }
    }
  }

  private audio(v: unknown, cut: boolean, out: BackendSignal[]): void {
    const blob = obj(v);
    const mime = str(blob?.mimeType, 100);
    const data = blob?.data;
    const rate = mime === undefined ? null : /^audio\/pcm(?:\s*;\s*rate=(\d{4,6}))?$/.exec(mime);
    if (!rate || typeof data !== 'string' || !BASE64.test(data) || data.length % 4 !== 0) {
      out.push({ kind: 'malformed', reason: 'inlineData is not base64 audio/pcm' });
      return;
    }
    if (rate[1] !== undefined && Number(rate[1]) !== this.outputRate) {
      out.push({ kind: 'malformed', reason: `audio at ${rate[1]} Hz, expected ${this.outputRate}` });
      return;
    }
    // Audio of a turn the user cut off (also in the message that says so) is never played.
    if (cut) return;
    const turn = this.open(out);
    if (turn.interrupted) return;
    out.push({ kind: 'audio', itemId: turn.id, responseId: turn.id, pcm: base64ToPcm(data) });
  }

  private turnComplete(reason: string | undefined): BackendSignal[] {
    const out = this.userFinal();
    const turn = this.turn;
    this.turn = null;
    if (!turn) return out;
    if (!turn.interrupted && !turn.audioDone) out.push({ kind: 'audio_done', itemId: turn.id });
    const text = turn.output || turn.text;
    if (text) out.push({ kind: 'transcript', role: 'assistant', text, final: true, itemId: turn.id });
    out.push({ kind: 'response_done', responseId: turn.id, status: turn.interrupted ? 'cancelled' : 'completed', ...(reason ? { reason } : {}) });
    return out;
  }

  private toolCall(v: unknown): BackendSignal[] {
    const calls = obj(v)?.functionCalls;
    if (!Array.isArray(calls)) return [{ kind: 'malformed', reason: 'toolCall without functionCalls' }];
    return calls.slice(0, LIST_LIMIT).map((c): BackendSignal => {
      const call = obj(c);
      const id = call?.id;
      const name = call?.name;
      if (typeof id !== 'string' || !ID.test(id) || typeof name !== 'string' || !/^[A-Za-z0-9_.:-]{1,128}$/.test(name)) {
        return { kind: 'malformed', reason: 'a function call without a valid id or name' };
      }
      const args = call?.args === undefined ? {} : obj(call.args);
      if (!args) return { kind: 'malformed', reason: `function call ${name}: args is not an object` };
      const text = JSON.stringify(args);
      if (text.length > ARGS_LIMIT) return { kind: 'malformed', reason: `function call ${name}: args over ${ARGS_LIMIT} characters` };
      return { kind: 'tool_call', callId: id, name, arguments: text };
    });
  }

  private cancellation(v: unknown): BackendSignal {
    const ids = obj(v)?.ids;
    if (!Array.isArray(ids)) return { kind: 'malformed', reason: 'toolCallCancellation without ids' };
    const valid = ids.slice(0, LIST_LIMIT).filter((id): id is string => typeof id === 'string' && ID.test(id));
    return valid.length > 0 ? { kind: 'tool_call_cancelled', callIds: valid } : { kind: 'malformed', reason: 'toolCallCancellation without a valid id' };
  }

  private voiceActivity(v: unknown): BackendSignal {
    const type = obj(v)?.voiceActivityType;
    if (type === 'ACTIVITY_START') return this.interrupts ? { kind: 'speech_started' } : { kind: 'ignored' };
    if (type === 'ACTIVITY_END') return { kind: 'speech_stopped' };
    return typeof type === 'string' ? { kind: 'ignored' } : { kind: 'malformed', reason: 'voiceActivity without a type' };
  }

  private resumption(v: unknown): BackendSignal {
    const u = obj(v);
    if (!u) return { kind: 'malformed', reason: 'sessionResumptionUpdate is not an object' };
    // Not resumable now (mid-generation, a tool call running): the last handle stays the best one.
    if (u.resumable !== true) return { kind: 'ignored' };
    const handle = u.newHandle;
    if (typeof handle !== 'string' || !/^[\x21-\x7e]{1,2048}$/.test(handle)) return { kind: 'malformed', reason: 'a resumable update without a valid handle' };
    return { kind: 'resumption', handle };
  }

  private goAway(v: unknown): BackendSignal {
    const g = obj(v);
    if (!g) return { kind: 'malformed', reason: 'goAway is not an object' };
    const ms = g.timeLeft === undefined ? 0 : durationMs(g.timeLeft);
    return ms === null ? { kind: 'malformed', reason: 'goAway.timeLeft is not a duration' } : { kind: 'session_ending', timeLeftMs: ms };
  }
}
