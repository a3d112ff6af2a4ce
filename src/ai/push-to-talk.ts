/**
 * Push-to-talk turns (turn detection off): the microphone goes to the service only while a turn is
 * open, and the turn is committed at its end, or cleared when it holds too little audio for the
 * service to take (OpenAI refuses a commit of under 100 ms).
 */

/** Shortest turn committed, in ms; a shorter one is cleared. */
export const MIN_TURN_MS = 100;

/** The state of the push-to-talk turn. */
export class PushToTalk {
  private open = false;
  private samples = 0;

  constructor(private readonly rate: () => number) {}

  /** Whether a turn is open (microphone audio is sent). */
  get isOpen(): boolean {
    return this.open;
  }

  /** Opens a turn; false when one was open already. */
  start(): boolean {
    if (this.open) return false;
    this.open = true;
    this.samples = 0;
    return true;
  }

  /** Counts microphone samples sent in the open turn. */
  sent(samples: number): void {
    if (this.open) this.samples += samples;
  }

  /** Closes the turn: 'commit' when it holds enough audio, 'clear' when not, null when none was open. */
  end(): 'commit' | 'clear' | null {
    if (!this.open) return null;
    this.open = false;
    return (this.samples * 1000) / this.rate() >= MIN_TURN_MS ? 'commit' : 'clear';
  }

  /** The connection ended: the turn is gone with it. */
  reset(): void {
    this.open = false;
    this.samples = 0;
  }
}
