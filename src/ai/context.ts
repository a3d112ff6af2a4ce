/** One finished turn of the conversation, as text. */
export interface Turn {
  role: 'user' | 'assistant';
  text: string;
}

/**
 * The recent conversation as text, restored into a new session after a renewal or reconnect so the
 * conversation goes on. Keeps the last `limit` turns and at most `maxChars` characters.
 */
export class ConversationMemory {
  private turns: Turn[] = [];

  constructor(
    private readonly limit: number,
    private readonly maxChars = 8000,
  ) {}

  /** Records a finished turn (empty text is ignored). */
  add(role: Turn['role'], text: string): void {
    const trimmed = text.trim();
    if (trimmed === '' || this.limit === 0) return;
    this.turns.push({ role, text: trimmed });
    if (this.turns.length > this.limit) this.turns.splice(0, this.turns.length - this.limit);
    let chars = this.turns.reduce((n, t) => n + t.text.length, 0);
    while (chars > this.maxChars && this.turns.length > 1) chars -= (this.turns.shift() as Turn).text.length;
  }

  /** The turns to restore, oldest first. */
  recent(): readonly Turn[] {
    return this.turns;
  }
}
