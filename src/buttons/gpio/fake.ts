/** A fake GPIO chip for tests: outputs are recorded, inputs are driven by the test. */
import { gpioError, type GpioChip, type GpioEdge, type GpioInputs, type GpioLineConfig, type GpioOutputs } from './chip.js';

/** A fake chip with test controls: `levels` (physical), `writes`, `drive()`. */
export class FakeGpioChip implements GpioChip {
  /** Physical level of each line (before active-low). */
  readonly levels = new Map<number, boolean>();
  /** Every set() of outputs: the logical values per call. */
  readonly writes: boolean[][] = [];
  /** Lines currently requested. */
  readonly held = new Set<number>();
  /** When set, every request rejects with ERR_GPIO (a missing chip). */
  missing = false;
  private watchers = new Map<number, { config: GpioLineConfig; onEdge: (e: GpioEdge) => void }>();

  constructor(readonly path = '/dev/gpiochip0') {}

  async requestOutputs(lines: readonly GpioLineConfig[], initial: readonly boolean[]): Promise<GpioOutputs> {
    this.claim(lines);
    const set = (values: readonly boolean[]): void => {
      lines.forEach((l, i) => this.levels.set(l.line, (values[i] ?? false) !== (l.activeLow ?? false)));
      this.writes.push([...values]);
    };
    set(initial);
    return {
      set: async (values) => set(values),
      release: async () => lines.forEach((l) => this.held.delete(l.line)),
    };
  }

  async requestInputs(lines: readonly GpioLineConfig[], onEdge: (edge: GpioEdge) => void): Promise<GpioInputs> {
    this.claim(lines);
    for (const config of lines) this.watchers.set(config.line, { config, onEdge });
    const initial = lines.map((l) => (this.levels.get(l.line) ?? false) !== (l.activeLow ?? false));
    return {
      initial,
      release: async () => {
        for (const l of lines) {
          this.held.delete(l.line);
          this.watchers.delete(l.line);
        }
      },
    };
  }

  /** Sets a line's physical level and reports the edge to its watcher (if the level changed). */
  drive(line: number, level: boolean, atMs = performance.now()): void {
    if (this.levels.get(line) === level) return;
    this.levels.set(line, level);
    const w = this.watchers.get(line);
    if (w) w.onEdge({ line, value: level !== (w.config.activeLow ?? false), atMs });
  }

  private claim(lines: readonly GpioLineConfig[]): void {
    if (this.missing) throw gpioError('ERR_GPIO', `${this.path} does not exist (ENOENT)`);
    for (const l of lines) {
      if (this.held.has(l.line)) throw gpioError('ERR_GPIO', `${this.path} line ${l.line} is busy (EBUSY)`);
    }
    for (const l of lines) this.held.add(l.line);
  }
}
