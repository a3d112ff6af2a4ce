/** Player, recorder and tone ports of the fake, as native/ports/{player,recorder,tone}_port.h. */
import { f32, saturateFloat } from './dsp.js';
import { FakePort } from './port.js';
import { SampleRing } from './sample-ring.js';

/** Plays a mono buffer once or in a loop; 'eof' (a = times played so far) at each end. */
export class PlayerPort extends FakePort {
  readonly canTransmit = true;
  readonly canReceive = false;
  private position = 0;
  private loops = 0;
  private finished = false;

  constructor(
    rate: number,
    private readonly samples: Int16Array,
    private readonly loop: boolean,
  ) {
    super(rate);
  }

  override getFrame(out: Int16Array): boolean {
    const total = this.samples.length;
    if (this.finished || total === 0) return false;
    let filled = 0;
    while (filled < this.frame) {
      const n = Math.min(this.frame - filled, total - this.position);
      out.set(this.samples.subarray(this.position, this.position + n), filled);
      filled += n;
      this.position += n;
      if (this.position === total) {
        this.post('eof', ++this.loops);
        if (!this.loop) {
          this.finished = true;
          break;
        }
        this.position = 0;
      }
    }
    out.fill(0, filled, this.frame);
    this.counters.rxFrames++;
    return true;
  }
}

/** Hands what the bridge transmits to JS through a bounded ring; counts the samples it drops. */
export class RecorderPort extends FakePort {
  readonly canTransmit = false;
  readonly canReceive = true;
  private readonly ring: SampleRing;
  private notified = false;

  constructor(
    rate: number,
    capacity: number,
    private readonly notify: number,
  ) {
    super(rate);
    this.ring = new SampleRing(capacity);
  }

  override putFrame(input: Int16Array): void {
    const written = this.ring.push(input, this.putFrameSamples);
    if (written < this.putFrameSamples) this.counters.dropped += this.putFrameSamples - written;
    this.counters.txFrames++;
    if (this.ring.size >= this.notify && !this.notified) {
      this.notified = true;
      this.post('recorder_data', this.ring.size);
    }
  }

  /** Takes up to out.length samples out of the ring. */
  read(out: Int16Array): number {
    const n = this.ring.pull(out);
    this.notified = false;
    return n;
  }
}

/** One tone segment; `samples` is the duration at the port's rate. */
export interface ToneSegment {
  freq1: number;
  freq2: number;
  amplitude: number;
  samples: number;
}

const TWO_PI = 6.283185307179586;
const PI_F = f32(3.14159265);

/** Tone sequence with 5 ms raised-cosine fades; 'tone_done' when a non-looping sequence ends. */
export class TonePort extends FakePort {
  readonly canTransmit = true;
  readonly canReceive = false;
  private readonly fade: number;
  private segment = 0;
  private offset = 0;
  private phase1 = 0;
  private phase2 = 0;
  private finished = false;

  constructor(
    rate: number,
    private readonly segments: ToneSegment[],
    private readonly loop: boolean,
  ) {
    super(rate);
    this.fade = Math.trunc(rate / 200);
  }

  override getFrame(out: Int16Array): boolean {
    if (this.finished || this.segments.length === 0) return false;
    for (let i = 0; i < this.frame; i++) {
      const seg = this.segments[this.segment];
      if (this.finished || seg === undefined) {
        out[i] = 0;
        continue;
      }
      let value = 0;
      if (seg.freq1 > 0 && seg.amplitude > 0) {
        let s = Math.sin(this.phase1);
        if (seg.freq2 > 0) s = 0.5 * (s + Math.sin(this.phase2));
        value = f32(f32(f32(f32(s) * seg.amplitude) * this.envelope(seg.samples)) * 32767);
      }
      out[i] = saturateFloat(value);
      this.phase1 = (this.phase1 + (TWO_PI * seg.freq1) / this.rate) % TWO_PI;
      this.phase2 = (this.phase2 + (TWO_PI * seg.freq2) / this.rate) % TWO_PI;
      if (++this.offset >= seg.samples) this.nextSegment();
    }
    this.counters.rxFrames++;
    return true;
  }

  private envelope(length: number): number {
    const fade = this.fade * 2 > length ? Math.trunc(length / 2) : this.fade;
    if (fade === 0) return 1;
    const tail = length - 1 - this.offset;
    const edge = this.offset < fade ? this.offset : tail < fade ? tail : fade;
    if (edge >= fade) return 1;
    return f32(0.5 - f32(0.5 * f32(Math.cos(f32(f32(PI_F * edge) / fade)))));
  }

  private nextSegment(): void {
    this.offset = 0;
    this.phase1 = this.phase2 = 0;
    if (++this.segment < this.segments.length) return;
    if (this.loop) {
      this.segment = 0;
      return;
    }
    this.finished = true;
    this.post('tone_done');
  }
}
