// One timer drives every session. Each session has its own start (spread over the ramp, which
// also gives it its own phase) and then sends every interval; a min-heap of due times tells which
// session is next, so 10,000 sessions cost one timer and a few comparisons per request.
// How late each request went out (scheduling lag) is measured, since a client that cannot keep
// its own schedule would blame the network for its own stalls.
import type { Clock } from '../common/clock.js';
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

/**
 * Which sessions are due when, with no timer: `due(now)` takes every session due at `now`, moves
 * each to its next interval and says how late it went; `nextAt()` is when to look again.
 */
export class DueList {
  /** How late requests went out, in ms. */
  readonly lag = new RttHistogram();
  /** Requests not sent because the process was stalled for more than an interval. */
  skipped = 0;
  private readonly dueAt: Float64Array;
  private readonly heap: DueHeap;

  constructor(
    count: number,
    private readonly intervalMs: number,
    rampMs: number,
    start: number,
  ) {
    this.dueAt = new Float64Array(count);
    this.heap = new DueHeap(count, this.dueAt);
    const offsets = startOffsets(count, rampMs, intervalMs);
    for (let i = 0; i < count; i++) {
      this.dueAt[i] = start + offsets[i]!;
      this.heap.push(i);
    }
  }

  /** When the next session is due; undefined without sessions. */
  nextAt(): number | undefined {
    const next = this.heap.peek();
    return next === undefined ? undefined : this.dueAt[next];
  }

  /** The sessions due at `now`, in order of their due time; each is moved to its next interval. */
  due(now: number): number[] {
    const due: number[] = [];
    for (let index = this.heap.peek(); index !== undefined && this.dueAt[index]! <= now; index = this.heap.peek()) {
      this.heap.pop();
      this.lag.record(now - this.dueAt[index]!);
      due.push(index);
      let next = this.dueAt[index]! + this.intervalMs;
      // After a stall, keep the session's phase but do not fire a burst of catch-up requests.
      while (next <= now) {
        next += this.intervalMs;
        this.skipped++;
      }
      this.dueAt[index] = next;
      this.heap.push(index);
    }
    return due;
  }
}

export interface SchedulerOptions {
  count: number;
  intervalMs: number;
  rampMs: number;
  /** The run's clock. */
  clock: Clock;
  /** Send session `index`'s next request. */
  onDue: (index: number, now: number) => void;
}

/** The DueList under one timer, armed for the next due time. */
export class Scheduler {
  private list: DueList | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(private readonly options: SchedulerOptions) {}

  /** How late requests went out, in ms. */
  get lag(): RttHistogram {
    return this.list?.lag ?? EMPTY_LAG;
  }

  /** Requests not sent because the process was stalled for more than an interval. */
  get skipped(): number {
    return this.list?.skipped ?? 0;
  }

  start(at: number): void {
    const { count, intervalMs, rampMs } = this.options;
    this.list = new DueList(count, intervalMs, rampMs, at);
    this.running = true;
    this.arm();
  }

  stop(): void {
    this.running = false;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(): void {
    const next = this.list?.nextAt();
    if (!this.running || next === undefined) return;
    this.timer = setTimeout(this.tick, Math.max(0, next - this.options.clock()));
  }

  private readonly tick = (): void => {
    const now = this.options.clock();
    for (const index of this.list!.due(now)) if (this.running) this.options.onDue(index, now);
    this.arm();
  };
}

const EMPTY_LAG = new RttHistogram();
