/**
 * The fake's SpscRing (native/common/spsc_ring.h): a bounded sample FIFO whose capacity is the
 * requested one rounded up to a power of two (at least 2), with monotonic read and write positions.
 */

/** Smallest power of two not below n. */
export function nextPowerOfTwo(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

/** A bounded FIFO of int16 samples with absolute positions. */
export class SampleRing {
  /** Slots, the requested capacity rounded up to a power of two. */
  readonly capacity: number;
  private readonly buffer: Int16Array;
  private read = 0;
  private write = 0;

  constructor(minCapacity: number) {
    this.capacity = nextPowerOfTwo(minCapacity < 2 ? 2 : minCapacity);
    this.buffer = new Int16Array(this.capacity);
  }

  get readPosition(): number {
    return this.read;
  }

  get writePosition(): number {
    return this.write;
  }

  get size(): number {
    return this.write - this.read;
  }

  /** Copies up to `n` samples of `src` (from `offset`) in; returns how many fitted. */
  push(src: Int16Array, n = src.length, offset = 0): number {
    const count = Math.min(n, this.capacity - this.size);
    for (let i = 0; i < count; i++) this.buffer[(this.write + i) % this.capacity] = src[offset + i] ?? 0;
    this.write += count;
    return count;
  }

  /** Copies up to `n` samples out into `dst` (from `offset`); returns how many were read. */
  pull(dst: Int16Array, n = dst.length, offset = 0): number {
    const count = Math.min(n, this.size);
    for (let i = 0; i < count; i++) dst[offset + i] = this.buffer[(this.read + i) % this.capacity] ?? 0;
    this.read += count;
    return count;
  }

  /** Moves the read position forward to `position`, never past what was written. */
  skipTo(position: number): void {
    const target = Math.min(position, this.write);
    if (target > this.read) this.read = target;
  }
}
