/**
 * Replies are asked for one at a time: a service refuses a second response while one is active
 * (OpenAI `conversation_already_has_active_response`), so a request made meanwhile waits for the
 * current reply's end. This module keeps that bookkeeping; the port sends the frames.
 */
export class ResponseSerializer {
  private active: string | null = null;
  private awaiting = false;
  private pending = 0;

  /** Whether a reply is being produced or has been asked for. */
  get busy(): boolean {
    return this.active !== null || this.awaiting;
  }

  /** Whether a reply is being produced (response_created seen, response_done not yet). */
  get isActive(): boolean {
    return this.active !== null;
  }

  /** A reply is wanted: true when it may be asked for now (the caller sends the request), false when it waits. */
  request(): boolean {
    if (this.busy) {
      this.pending++;
      return false;
    }
    this.awaiting = true;
    return true;
  }

  /** The service started a reply. */
  created(responseId: string): void {
    this.active = responseId;
    this.awaiting = false;
  }

  /** The reply ended: true when a waiting request should now be made (call request() again). */
  done(): boolean {
    this.active = null;
    if (this.pending === 0) return false;
    this.pending--;
    return true;
  }

  /** The service said a reply is already active: the request in flight waits for its end instead. */
  alreadyActive(): void {
    if (!this.awaiting) return;
    this.awaiting = false;
    this.pending++;
  }

  /** The session ended: nothing is active or waiting. */
  reset(): void {
    this.active = null;
    this.awaiting = false;
    this.pending = 0;
  }
}
