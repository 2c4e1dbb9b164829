// One timer drives every session. Each session has its own start (spread over the ramp, which
// also gives it its own phase) and then sends every interval; a min-heap of due times tells which
// session is next, so 10,000 sessions cost one timer and a few comparisons per request.
// How late each request went out (scheduling lag) is measured, since a client that cannot keep
// its own schedule would blame the network for its own stalls.
import { RttHistogram } from './rtt-histogram.js';

/** When each session first sends, relative to the start: spread evenly over the ramp. */
export function startOffsets(count: number, rampMs: number, intervalMs: number): Float64Array {
  // Without a ramp, still spread the first requests over one interval so they do not all leave
  // in the same millisecond; either way every session gets its own phase.
  const spread = rampMs > 0 ? rampMs : intervalMs;
  const offsets = new Float64Array(count);
  for (let i = 0; i < count; i++) offsets[i] = (i * spread) / count;
  return offsets;
}

/** A binary min-heap of session indices ordered by their due time. */
export class DueHeap {
  private readonly heap: Uint32Array;
  private length = 0;

  constructor(
    capacity: number,
    private readonly due: Float64Array,
  ) {
    this.heap = new Uint32Array(capacity);
  }

  get size(): number {
    return this.length;
  }

  /** Index of the session due first; undefined when empty. */
  peek(): number | undefined {
    return this.length === 0 ? undefined : this.heap[0];
  }

  push(index: number): void {
    let i = this.length++;
    const due = this.due[index]!;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = this.heap[parent]!;
      if (this.due[p]! <= due) break;
      this.heap[i] = p;
      i = parent;
    }
    this.heap[i] = index;
  }

  pop(): number | undefined {
    if (this.length === 0) return undefined;
    const top = this.heap[0]!;
    const last = this.heap[--this.length]!;
    if (this.length > 0) {
      const due = this.due[last]!;
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        if (left >= this.length) break;
        const right = left + 1;
        let child = left;
        if (right < this.length && this.due[this.heap[right]!]! < this.due[this.heap[left]!]!) child = right;
        if (this.due[this.heap[child]!]! >= due) break;
        this.heap[i] = this.heap[child]!;
        i = child;
      }
      this.heap[i] = last;
    }
    return top;
  }
}

export interface SchedulerOptions {
  count: number;
  intervalMs: number;
  rampMs: number;
  /** Milliseconds on the same clock as `start(at)`. */
  now: () => number;
  /** Send session `index`'s next request. */
  onDue: (index: number, now: number) => void;
}

export class Scheduler {
  /** How late requests went out, in ms. */
  readonly lag = new RttHistogram();
  /** Requests not sent because the process was stalled for more than an interval. */
  skipped = 0;
  private readonly due: Float64Array;
  private readonly heap: DueHeap;
  private timer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(private readonly options: SchedulerOptions) {
    this.due = new Float64Array(options.count);
    this.heap = new DueHeap(options.count, this.due);
  }

  start(at: number): void {
    const offsets = startOffsets(this.options.count, this.options.rampMs, this.options.intervalMs);
    for (let i = 0; i < this.options.count; i++) {
      this.due[i] = at + offsets[i]!;
      this.heap.push(i);
    }
    this.running = true;
    this.arm();
  }

  stop(): void {
    this.running = false;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(): void {
    const next = this.heap.peek();
    if (!this.running || next === undefined) return;
    const delay = Math.max(0, this.due[next]! - this.options.now());
    this.timer = setTimeout(this.tick, delay);
  }

  private readonly tick = (): void => {
    this.timer = undefined;
    const { intervalMs, onDue } = this.options;
    const now = this.options.now();
    for (;;) {
      const index = this.heap.peek();
      if (index === undefined || this.due[index]! > now || !this.running) break;
      this.heap.pop();
      this.lag.record(now - this.due[index]!);
      onDue(index, now);
      let due = this.due[index]! + intervalMs;
      // After a stall, keep the session's phase but do not fire a burst of catch-up requests.
      while (due <= now) {
        due += intervalMs;
        this.skipped++;
      }
      this.due[index] = due;
      this.heap.push(index);
    }
    this.arm();
  };
}
