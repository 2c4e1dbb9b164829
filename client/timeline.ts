// The run's per-second timeline for the report: what was sent, answered and lost, the breaks,
// the sessions per pod and the RTT, second by second. Pure, with time passed in: the run calls
// record() about once a second with its cumulative counters and the gauges of that moment.
//
// Bounded for long runs: the newest hour is kept second by second; older seconds are folded into
// 10 s buckets, buckets older than 6 hours into 60 s buckets, and older than 48 hours into 600 s
// buckets. A 24-hour run keeps 3,600 + 1,800 + 1,080 = 6,480 buckets (a few MB of JSON with a
// handful of pods) instead of 86,400; a week keeps about 7,600.
import type { PodShare, RttSummary, Totals } from './stats.js';

/** The counted figures: a sample carries them cumulative, a bucket carries what happened in it. */
export const TIMELINE_COUNTERS = ['sent', 'received', 'lost', 'lostRequests', 'lostReplies', 'podChanges', 'addressChanges'] as const;
type Counter = (typeof TIMELINE_COUNTERS)[number];
type Counted = Record<Counter, number>;

const counted = (of: (key: Counter) => number): Counted => Object.fromEntries(TIMELINE_COUNTERS.map((key) => [key, of(key)])) as Counted;

/** Cumulative counters of the whole run at one moment (the differences are the second's figures). */
export interface TimelineCounters extends Counted {
  /** Breaks by class so far (expected, violation, ...), where the run classifies them. */
  classes?: Readonly<Record<string, number>>;
}

/** One call's worth of figures: the counters so far and the gauges of this moment. */
export interface TimelineSample extends TimelineCounters {
  /** Sessions that have sent their first request. */
  active: number;
  /** Sessions stuck right now, where the run detects them; omitted where it does not. */
  stuck?: number;
  /** Sessions per pod (by pod label) right now. */
  pods: Readonly<Record<string, number>>;
  /** RTT percentiles of the replies since the previous call; null without replies. */
  rttP50Ms: number | null;
  rttP99Ms: number | null;
}

/** A sample from what the run's stats already compute: its totals, podDistribution() and the second's RTT. */
export function timelineSampleOf(totals: Totals, pods: readonly PodShare[], rtt: Pick<RttSummary, 'p50Ms' | 'p99Ms'>, stuck?: number): TimelineSample {
  const sample: TimelineSample = {
    ...counted((key) => totals[key]),
    active: totals.active,
    pods: Object.fromEntries(pods.map((p) => [p.label, p.sessions])),
    rttP50Ms: rtt.p50Ms,
    rttP99Ms: rtt.p99Ms,
  };
  if (stuck !== undefined) sample.stuck = stuck;
  return sample;
}

/**
 * What happened in one bucket. The counters are differences of the run's totals, so they add up
 * to the report's totals; `lost` is negative in a second where more late replies turned lost
 * requests into late ones than requests timed out.
 */
export interface TimelineBucket extends Counted {
  /** Start of the bucket, ISO 8601 UTC, on a multiple of `seconds`. */
  at: string;
  /** Seconds the bucket covers: 1, 10, 60 or 600 (see the tiers above). */
  seconds: number;
  classes?: Record<string, number>;
  /** Active sessions at the end of the bucket. */
  active: number;
  /** The most sessions stuck at once within the bucket. */
  stuck?: number;
  /** Sessions per pod at the end of the bucket; pods with none are left out. */
  pods: Record<string, number>;
  /** Median RTT of the bucket; for a folded bucket the reply-weighted mean of its seconds' medians. */
  rttP50Ms: number | null;
  /** 99th percentile RTT; for a folded bucket the worst of its seconds' (an upper bound). */
  rttP99Ms: number | null;
}

export interface ReportTimeline {
  /** Oldest first. */
  buckets: TimelineBucket[];
}

interface Tier {
  /** Buckets of the previous width older than this (relative to the newest second) fold into this tier. */
  afterMs: number;
  seconds: number;
}

export const TIMELINE_TIERS: readonly Tier[] = [
  { afterMs: 3_600_000, seconds: 10 },
  { afterMs: 6 * 3_600_000, seconds: 60 },
  { afterMs: 48 * 3_600_000, seconds: 600 },
];

interface Bucket extends Omit<TimelineBucket, 'at'> {
  start: number;
}

export class TimelineRecorder {
  /** tiers[0] holds seconds; tiers[i] holds buckets of TIMELINE_TIERS[i - 1].seconds. Oldest first. */
  private readonly tiers: Bucket[][] = [[], ...TIMELINE_TIERS.map(() => [])];
  private previous: TimelineCounters = counted(() => 0);
  private previousAt: number;

  /** `startedAt`: epoch ms when the run started (all counters zero). */
  constructor(startedAt: number) {
    this.previousAt = startedAt;
  }

  /**
   * Files what happened since the previous call under the whole second that holds the middle of
   * that interval, so a timer that fires a little late or early still lands in the right second;
   * two calls within one second add up.
   */
  record(now: number, sample: TimelineSample): void {
    const start = Math.floor((this.previousAt + now) / 2 / 1000) * 1000;
    const bucket: Bucket = {
      start,
      seconds: 1,
      ...counted((key) => sample[key] - this.previous[key]),
      active: sample.active,
      pods: positive(sample.pods),
      rttP50Ms: sample.rttP50Ms,
      rttP99Ms: sample.rttP99Ms,
    };
    if (sample.classes !== undefined) bucket.classes = difference(sample.classes, this.previous.classes ?? {});
    if (sample.stuck !== undefined) bucket.stuck = sample.stuck;
    this.previous = { ...counted((key) => sample[key]), ...(sample.classes === undefined ? {} : { classes: { ...sample.classes } }) };
    this.previousAt = now;

    const seconds = this.tiers[0]!;
    const last = seconds.at(-1);
    if (last !== undefined && last.start >= start) seconds[seconds.length - 1] = foldLater(last, bucket, last.seconds);
    else seconds.push(bucket);
    this.coarsen(start);
  }

  /**
   * Folds whole buckets only: a bucket of the next width is formed once all of it lies older than
   * the tier's horizon, so widths never overlap and the newest hour holds 3,600 to 3,609 seconds.
   */
  private coarsen(newest: number): void {
    const end = newest + 1000;
    TIMELINE_TIERS.forEach((tier, i) => {
      const from = this.tiers[i]!;
      const into = this.tiers[i + 1]!;
      const widthMs = tier.seconds * 1000;
      const horizon = end - tier.afterMs;
      while (from.length > 0 && Math.floor(from[0]!.start / widthMs) * widthMs + widthMs <= horizon) {
        const old = from.shift()!;
        const start = Math.floor(old.start / widthMs) * widthMs;
        const last = into.at(-1);
        if (last !== undefined && last.start === start) into[into.length - 1] = foldLater(last, old, tier.seconds);
        else into.push({ ...old, start, seconds: tier.seconds });
      }
    });
  }

  /** The timeline so far, oldest first, for the report. */
  toReport(): ReportTimeline {
    const buckets: TimelineBucket[] = [];
    for (let i = this.tiers.length - 1; i >= 0; i--) {
      for (const { start, ...rest } of this.tiers[i]!) buckets.push({ at: new Date(start).toISOString(), ...rest });
    }
    return { buckets };
  }
}

/**
 * One bucket from an earlier one and the one right after it, `seconds` wide: counters add up,
 * gauges are the later bucket's (stuck: the larger), RTT as documented on TimelineBucket.
 * Exported for merging reports, which folds one client's seconds into another's wider buckets.
 */
export function foldLater<B extends Omit<TimelineBucket, 'at'>>(earlier: B, later: B, seconds: number): B {
  const folded: B = { ...earlier, seconds, active: later.active, pods: { ...later.pods } };
  for (const key of TIMELINE_COUNTERS) folded[key] = earlier[key] + later[key];
  if (earlier.classes !== undefined || later.classes !== undefined) folded.classes = sum(earlier.classes ?? {}, later.classes ?? {});
  if (earlier.stuck !== undefined || later.stuck !== undefined) folded.stuck = Math.max(earlier.stuck ?? 0, later.stuck ?? 0);
  folded.rttP50Ms = weightedMedian(earlier, later);
  folded.rttP99Ms = maxOrNull(earlier.rttP99Ms, later.rttP99Ms);
  return folded;
}

/** Reply-weighted mean of two medians (a bucket without replies has no say). */
export function weightedMedian(a: Pick<TimelineBucket, 'received' | 'rttP50Ms'>, b: Pick<TimelineBucket, 'received' | 'rttP50Ms'>): number | null {
  if (a.rttP50Ms === null) return b.rttP50Ms;
  if (b.rttP50Ms === null) return a.rttP50Ms;
  const weight = Math.max(a.received, 0) + Math.max(b.received, 0);
  if (weight === 0) return Math.max(a.rttP50Ms, b.rttP50Ms);
  return round3((a.rttP50Ms * Math.max(a.received, 0) + b.rttP50Ms * Math.max(b.received, 0)) / weight);
}

export function maxOrNull(a: number | null, b: number | null): number | null {
  if (a === null) return b;
  if (b === null) return a;
  return Math.max(a, b);
}

export function sum(a: Readonly<Record<string, number>>, b: Readonly<Record<string, number>>): Record<string, number> {
  const out: Record<string, number> = { ...a };
  for (const [key, value] of Object.entries(b)) out[key] = (out[key] ?? 0) + value;
  return out;
}

function difference(now: Readonly<Record<string, number>>, before: Readonly<Record<string, number>>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, value] of Object.entries(now)) if (value !== (before[key] ?? 0)) out[key] = value - (before[key] ?? 0);
  return out;
}

function positive(pods: Readonly<Record<string, number>>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [pod, sessions] of Object.entries(pods)) if (sessions > 0) out[pod] = sessions;
  return out;
}

const round3 = (n: number): number => Math.round(n * 1000) / 1000;
