/**
 * Line framing for the control socket: bytes in, complete UTF-8 lines out. The length limit is checked
 * as bytes arrive: a line is rejected the moment it grows past `maxLineBytes`, and the rest of it is
 * skipped up to its newline without being kept. Only the unfinished tail of the current line is held.
 */
import { ControlError } from './errors.js';

/** One framed item: a line of text (without its newline), or the error that replaced one. */
export type FramedItem = { line: string } | { error: ControlError };

const NEWLINE = 0x0a;
const CR = 0x0d;

/** Splits a byte stream into newline-terminated UTF-8 lines of bounded length. */
export class LineReader {
  private parts: Buffer[] = [];
  private size = 0;
  private discarding = false;
  private readonly decoder = new TextDecoder('utf-8', { fatal: true });

  /** @param maxLineBytes longest accepted line in bytes, newline excluded. */
  constructor(private readonly maxLineBytes: number) {
    if (!Number.isInteger(maxLineBytes) || maxLineBytes < 1) throw new RangeError('maxLineBytes must be a positive integer');
  }

  /** Bytes held for the unfinished line. */
  get pendingBytes(): number {
    return this.size;
  }

  /** True when an unfinished line (or the skipped rest of an oversize one) is in progress. */
  get midLine(): boolean {
    return this.size > 0 || this.discarding;
  }

  /**
   * Feeds a chunk; `emit` is called for every complete line or error, in order. When `emit` returns
   * false after a line, reading stops there: the return value is the number of bytes consumed, and
   * the caller feeds the rest later (back-pressure). Otherwise the whole chunk is consumed.
   */
  push(chunk: Buffer, emit: (item: FramedItem) => boolean | void): number {
    let start = 0;
    while (start < chunk.length) {
      const nl = chunk.indexOf(NEWLINE, start);
      const end = nl === -1 ? chunk.length : nl;
      if (!this.discarding) this.take(chunk, start, end, nl === -1, emit);
      if (nl === -1) break;
      let more = true;
      if (this.discarding) this.discarding = false;
      else more = this.finish(emit);
      start = nl + 1;
      if (!more) return start;
    }
    return chunk.length;
  }

  /**
   * Ends the stream: an unfinished last line (no newline before the end) is handled as a line, so that
   * `printf '{"cmd":"ping"}' | nc -U` works; the skipped rest of an oversize line is dropped.
   */
  end(emit: (item: FramedItem) => boolean | void): void {
    if (this.discarding) {
      this.discarding = false;
      return;
    }
    if (this.size > 0) this.finish(emit);
  }

  private take(chunk: Buffer, start: number, end: number, tail: boolean, emit: (item: FramedItem) => boolean | void): void {
    const length = end - start;
    if (this.size + length > this.maxLineBytes) {
      this.parts = [];
      this.size = 0;
      this.discarding = true;
      emit({ error: new ControlError('ERR_LINE_TOO_LONG', `a line may be at most ${this.maxLineBytes} bytes`) });
      return;
    }
    if (length === 0) return;
    const piece = chunk.subarray(start, end);
    // A tail outlives this chunk: copy it so that the chunk's memory is not kept alive by a small slice.
    this.parts.push(tail ? Buffer.from(piece) : piece);
    this.size += length;
  }

  private finish(emit: (item: FramedItem) => boolean | void): boolean {
    let bytes = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.size);
    this.parts = [];
    this.size = 0;
    if (bytes.length > 0 && bytes[bytes.length - 1] === CR) bytes = bytes.subarray(0, bytes.length - 1);
    if (bytes.length === 0) return true;
    let line: string;
    try {
      line = this.decoder.decode(bytes);
    } catch {
      return emit({ error: new ControlError('ERR_BAD_UTF8', 'the line is not valid UTF-8') }) !== false;
    }
    if (line.trim() === '') return true;
    return emit({ line }) !== false;
  }
}
