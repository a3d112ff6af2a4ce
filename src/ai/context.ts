/** One entry of the conversation restored into a new session (see ContextEntry in backend.ts). */
import type { ContextEntry } from './backend.js';

/** A finished message turn as text. */
export interface Turn {
  role: 'user' | 'assistant';
  text: string;
}

/** How much of an assistant item the user heard, as a fraction of the audio received. */
interface Heard {
  itemId: string;
  fraction: number;
}

/** Interrupted items remembered, so that a transcript arriving after the cut is cut too. */
const HEARD_MEMORY = 16;

/**
 * Cuts a reply's text to the part the user heard: `fraction` of it, ended at a word boundary and
 * marked with '…'. The service does not say which words were spoken, so the audio proportion stands
 * in for it.
 */
export function heardText(text: string, fraction: number): string {
  if (fraction >= 1) return text;
  if (fraction <= 0) return '';
  const cut = text.slice(0, Math.round(text.length * fraction));
  const space = cut.lastIndexOf(' ');
  const words = (space > 0 && cut.length < text.length ? cut.slice(0, space) : cut).trim();
  return words === '' ? '' : `${words}…`;
}

/**
 * The recent conversation, restored into a new session after a renewal or reconnect so the
 * conversation goes on: user turns, what the user actually heard of each reply (a reply cut off by a
 * barge-in is kept only up to where it was cut), and tool calls with their results. Keeps the last
 * `limit` entries and at most `maxChars` characters.
 */
export class ConversationMemory {
  private entries: Array<ContextEntry & { itemId?: string }> = [];
  private readonly heard: Heard[] = [];
  private readonly openCalls = new Map<string, { name: string; arguments: string }>();

  constructor(
    private readonly limit: number,
    private readonly maxChars = 8000,
  ) {}

  /** Records a finished message turn (empty text is ignored); an assistant item cut off is cut here too. */
  add(role: Turn['role'], text: string, itemId?: string): void {
    const cut = role === 'assistant' && itemId ? this.heard.find((h) => h.itemId === itemId) : undefined;
    const trimmed = (cut ? heardText(text.trim(), cut.fraction) : text).trim();
    if (trimmed === '' || this.limit === 0) return;
    this.push({ kind: 'message', role, text: trimmed, ...(itemId ? { itemId } : {}) });
  }

  /** The user heard `fraction` of an assistant item's audio before cutting it off. */
  interrupted(itemId: string, fraction: number): void {
    this.heard.push({ itemId, fraction: Math.max(0, Math.min(1, fraction)) });
    if (this.heard.length > HEARD_MEMORY) this.heard.shift();
    const entry = this.entries.find((e) => e.kind === 'message' && e.itemId === itemId);
    if (entry && entry.kind === 'message') {
      entry.text = heardText(entry.text, fraction);
      if (entry.text === '') this.entries.splice(this.entries.indexOf(entry), 1);
    }
  }

  /** Replaces an assistant item's text with what the service says was spoken (ElevenLabs correction). */
  correct(text: string, itemId?: string): void {
    const entry = [...this.entries].reverse().find((e) => e.kind === 'message' && e.role === 'assistant' && (!itemId || e.itemId === itemId));
    if (entry && entry.kind === 'message') entry.text = text.trim();
  }

  /** The model called a tool; kept once its result is known. */
  toolCall(callId: string, name: string, args: string): void {
    this.openCalls.set(callId, { name, arguments: args });
    if (this.openCalls.size > 32) this.openCalls.delete(this.openCalls.keys().next().value as string);
  }

  /** The result of a tool call. */
  toolResult(callId: string, output: string): void {
    const call = this.openCalls.get(callId);
    if (!call || this.limit === 0) return;
    this.openCalls.delete(callId);
    this.push({ kind: 'tool', callId, name: call.name, arguments: call.arguments, output });
  }

  /** The entries to restore, oldest first. */
  recent(): readonly ContextEntry[] {
    return this.entries.map(({ itemId: _itemId, ...e }) => e as ContextEntry);
  }

  private push(entry: ContextEntry & { itemId?: string }): void {
    this.entries.push(entry);
    if (this.entries.length > this.limit) this.entries.splice(0, this.entries.length - this.limit);
    const size = (e: ContextEntry): number => (e.kind === 'message' ? e.text.length : e.arguments.length + e.output.length);
    let chars = this.entries.reduce((n, e) => n + size(e), 0);
    while (chars > this.maxChars && this.entries.length > 1) chars -= size(this.entries.shift() as ContextEntry);
  }
}
