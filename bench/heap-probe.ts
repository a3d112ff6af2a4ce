/**
 * Preloaded into a bench child (`node --import .../heap-probe.js`, with SPEAKERD_HEAP_PROBE=<file>):
 * counts what the JavaScript heap allocates. On each SIGUSR2 it appends one JSON line to the file with
 * cumulative figures since it was loaded: bytes allocated (heap growth plus what each collection freed,
 * from v8.GCProfiler), collections and their cost. The bench differences two lines. Nothing runs
 * between signals: no timer, no wakeup.
 */
import { appendFileSync } from 'node:fs';
import v8 from 'node:v8';

/** One cumulative reading, as written to the file. */
export interface HeapProbeLine {
  allocatedBytes: number;
  collections: number;
  gcMs: number;
  usedHeapBytes: number;
}

const file = process.env.SPEAKERD_HEAP_PROBE;
if (file) {
  const startUsed = v8.getHeapStatistics().used_heap_size;
  let freed = 0;
  let collections = 0;
  let gcUs = 0;
  let profiler = new v8.GCProfiler();
  profiler.start();
  process.on('SIGUSR2', () => {
    const result = profiler.stop();
    profiler = new v8.GCProfiler();
    profiler.start();
    for (const gc of result?.statistics ?? []) {
      collections++;
      gcUs += gc.cost;
      freed += gc.beforeGC.heapStatistics.usedHeapSize - gc.afterGC.heapStatistics.usedHeapSize;
    }
    const used = v8.getHeapStatistics().used_heap_size;
    const line: HeapProbeLine = { allocatedBytes: used - startUsed + freed, collections, gcMs: gcUs / 1000, usedHeapBytes: used };
    appendFileSync(file, `${JSON.stringify(line)}\n`);
  });
}
