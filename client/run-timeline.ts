// The report's per-second timeline during a run (client/timeline.ts keeps it bounded): cumulative
// totals, the breaks by class and the gauges of the moment, on every whole second of the run's
// clock. Ticking on the second, not every 1000 ms from the start, keeps each tick's interval
// inside one second: a tick late by a few ms still files under the second that just ended, where
// a tick near mid-second could file two seconds under one.
import type { Clock } from '../common/clock.js';
import type { BreakCounts } from './break-classifier.js';
import { RttHistogram } from './rtt-histogram.js';
import type { Session } from './session.js';
import { podDistribution, rttSummary, totalsOf } from './stats.js';
import { TimelineRecorder, timelineSampleOf, type ReportTimeline } from './timeline.js';

export class RunTimeline {
  readonly #recorder: TimelineRecorder;
  /** The RTT of the current second only. */
  readonly #secondRtt = new RttHistogram();
  #timer: NodeJS.Timeout | undefined;

  constructor(
    startedAt: number,
    private readonly sessions: readonly Session[],
    private readonly breaks: () => BreakCounts,
    private readonly clock: Clock,
  ) {
    this.#recorder = new TimelineRecorder(startedAt);
  }

  /** One answered reply's RTT (hot path: a histogram bucket, no allocation). */
  rtt(ms: number): void {
    this.#secondRtt.record(ms);
  }

  /** Records `now` as the end of a second. */
  tick(now: number): void {
    for (const session of this.sessions) session.expire(now);
    const counts = this.breaks();
    const sample = timelineSampleOf(totalsOf(this.sessions), podDistribution(this.sessions), rttSummary(this.#secondRtt), counts.stuckNow);
    this.#secondRtt.reset();
    // Cumulative breaks by class; the recorder keeps per-second differences.
    sample.classes = { expected: counts.expected, violation: counts.violations, 'address-change': counts.addressChanges, stuck: counts.stuck };
    this.#recorder.record(now, sample);
  }

  /** Ticks on every whole second of the clock until stop(). */
  start(): void {
    this.#timer = setTimeout(() => {
      this.tick(this.clock());
      this.start();
    }, 1000 - (this.clock() % 1000));
  }

  /** Stops the ticks and records the last, partial second (call after the sessions finished). */
  stop(endedAt: number): void {
    clearTimeout(this.#timer);
    this.tick(endedAt);
  }

  toReport(): ReportTimeline {
    return this.#recorder.toReport();
  }
}
