import { base64ToPcm, pcmToBase64 } from '../pcm.js';
import type { LocalPeer } from './connection.js';
import { EnergyVad } from './vad.js';

const RATE = 24000;
const FRAME = RATE / 100;
/** Audio kept from before speech was detected, so the first syllable is not clipped. */
const PREROLL_SAMPLES = RATE * 0.3;
/** Longest utterance repeated. */
const MAX_UTTERANCE_SAMPLES = RATE * 15;
/** Reply chunk size, and how fast replies are streamed (twice real time, as services do). */
const CHUNK_SAMPLES = RATE / 10;
const CHUNK_INTERVAL_MS = 50;
/** During its own reply the parrot needs speech this much louder to be interrupted (echo residue). */
const BARGE_IN_EXTRA_DB = 10;

type Json = Record<string, unknown>;

/**
 * The parrot: a local "service" with no network that speaks the OpenAI Realtime GA protocol. It waits
 * for the end of each utterance (energy VAD on the echo-cancelled microphone) and plays it back, so
 * a device runs out of the box and tests its microphone, speaker and echo canceller. A text turn
 * (say) is answered with a short tone and its text as the transcript. Loud speech during a reply
 * interrupts it, like a real service's voice detection.
 */
export class ParrotPeer implements LocalPeer {
  private send: (message: string) => void = () => undefined;
  private readonly vad = new EnergyVad({ frame: FRAME, marginDb: 12, minDbfs: -50, startFrames: 3, stopFrames: 70 });
  private recent: Int16Array[] = [];
  private recentSamples = 0;
  private utterance: Int16Array[] = [];
  private utteranceSamples = 0;
  private counter = 0;
  private pendingText: string | null = null;
  private reply: { responseId: string; itemId: string; timer: NodeJS.Timeout } | null = null;

  start(send: (message: string) => void): void {
    this.send = send;
    this.emit({ type: 'session.created', session: { id: this.id('sess'), object: 'realtime.session', type: 'realtime', model: 'parrot' } });
  }

  receive(message: string): void {
    let event: Json;
    try {
      event = JSON.parse(message) as Json;
    } catch {
      this.error('invalid_json', 'the message is not JSON');
      return;
    }
    switch (event.type) {
      case 'session.update':
        this.emit({ type: 'session.updated', session: { ...(event.session as Json), model: 'parrot' } });
        return;
      case 'input_audio_buffer.append':
        if (typeof event.audio === 'string') this.hear(base64ToPcm(event.audio));
        return;
      case 'conversation.item.create':
        this.itemCreated(event.item as Json | undefined);
        return;
      case 'response.create':
        if (this.reply) this.error('conversation_already_has_active_response', 'Conversation already has an active response');
        else this.answerText();
        return;
      case 'response.cancel':
        this.cancel('client_cancelled');
        return;
      case 'conversation.item.truncate':
        this.emit({ type: 'conversation.item.truncated', item_id: event.item_id, content_index: 0, audio_end_ms: event.audio_end_ms });
        return;
      default:
        return;
    }
  }

  stop(): void {
    if (this.reply) clearTimeout(this.reply.timer);
    this.reply = null;
  }

  private hear(pcm: Int16Array): void {
    const edge = this.vad.push(pcm, this.reply ? BARGE_IN_EXTRA_DB : 0);
    if (edge === 'start') {
      this.utterance = [...this.recent];
      this.utteranceSamples = this.recentSamples;
      this.emit({ type: 'input_audio_buffer.speech_started', audio_start_ms: 0, item_id: this.id('item') });
      this.cancel('turn_detected');
    }
    if (this.vad.inSpeech || edge === 'stop') {
      this.utterance.push(pcm);
      this.utteranceSamples += pcm.length;
    } else {
      this.remember(pcm);
    }
    if (edge === 'stop' || (this.vad.inSpeech && this.utteranceSamples >= MAX_UTTERANCE_SAMPLES)) {
      this.vad.reset();
      this.emit({ type: 'input_audio_buffer.speech_stopped', audio_end_ms: 0, item_id: this.id('item') });
      const audio = join(this.utterance);
      this.utterance = [];
      this.utteranceSamples = 0;
      this.respond(audio, `(parrot) ${(audio.length / RATE).toFixed(1)} seconds`);
    }
  }

  private remember(pcm: Int16Array): void {
    this.recent.push(pcm);
    this.recentSamples += pcm.length;
    while (this.recentSamples - (this.recent[0]?.length ?? 0) >= PREROLL_SAMPLES) this.recentSamples -= (this.recent.shift() as Int16Array).length;
  }

  private itemCreated(item: Json | undefined): void {
    this.emit({ type: 'conversation.item.added', item: { ...(item ?? {}), id: this.id('item') } });
    const content = (item?.content as Json[] | undefined)?.[0];
    if (item?.role === 'user' && typeof content?.text === 'string') this.pendingText = content.text;
  }

  /** response.create after a text turn: a short tone, and the text as the transcript. */
  private answerText(): void {
    const beep = new Int16Array(RATE * 0.3);
    for (let i = 0; i < beep.length; i++) beep[i] = Math.round(6000 * Math.sin((2 * Math.PI * 660 * i) / RATE));
    this.respond(beep, this.pendingText === null ? '(parrot)' : `you said: ${this.pendingText}`);
    this.pendingText = null;
  }

  private respond(audio: Int16Array, transcript: string): void {
    this.cancel('turn_detected');
    const responseId = this.id('resp');
    const itemId = this.id('item');
    this.emit({ type: 'response.created', response: { id: responseId, status: 'in_progress', output: [] } });
    let offset = 0;
    const next = (): void => {
      if (!this.reply || this.reply.responseId !== responseId) return;
      if (offset < audio.length) {
        const chunk = audio.subarray(offset, offset + CHUNK_SAMPLES);
        offset += chunk.length;
        this.emit({
          type: 'response.output_audio.delta',
          response_id: responseId,
          item_id: itemId,
          output_index: 0,
          content_index: 0,
          delta: pcmToBase64(chunk),
        });
        this.reply.timer = setTimeout(next, CHUNK_INTERVAL_MS);
        return;
      }
      this.emit({ type: 'response.output_audio.done', response_id: responseId, item_id: itemId });
      this.emit({ type: 'response.output_audio_transcript.done', response_id: responseId, item_id: itemId, transcript });
      this.emit({ type: 'response.done', response: { id: responseId, status: 'completed', output: [] } });
      this.reply = null;
    };
    this.reply = { responseId, itemId, timer: setTimeout(next, 0) };
  }

  private cancel(reason: string): void {
    if (!this.reply) return;
    clearTimeout(this.reply.timer);
    const { responseId } = this.reply;
    this.reply = null;
    this.emit({ type: 'response.done', response: { id: responseId, status: 'cancelled', status_details: { type: 'cancelled', reason }, output: [] } });
  }

  private error(code: string, message: string): void {
    this.emit({ type: 'error', error: { type: 'invalid_request_error', code, message } });
  }

  private emit(event: Json): void {
    this.send(JSON.stringify({ event_id: this.id('event'), ...event }));
  }

  private id(prefix: string): string {
    this.counter++;
    return `${prefix}_parrot_${this.counter}`;
  }
}

function join(parts: Int16Array[]): Int16Array {
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
