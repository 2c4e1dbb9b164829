// Round-trip times in a fixed set of logarithmic buckets, so that p50/p90/p99 of millions of
// samples cost a few kilobytes and one Math.log per reply, and histograms of periods, sessions
// and the whole run can be added together.
//
// Bucket i holds samples whose value in microseconds rounds to 1.01^i: percentiles are exact to
// within 1% (plenty for a network RTT), from 1 microsecond up to about 2 minutes.

const GROWTH = 1.01;
const LOG_GROWTH = Math.log(GROWTH);
const BUCKETS = 1900; // 1.01^1900 microseconds is about 160 seconds
/** Each bucket's value in ms, computed once rather than a power per bucket per scrape. */
const BUCKET_MS = Float64Array.from({ length: BUCKETS }, (_, i) => GROWTH ** i / 1000);

export class RttHistogram {
  private readonly counts = new Uint32Array(BUCKETS);
  private total = 0;
  private maxMs = 0;
  private sum = 0;

  /** Adds one RTT sample in milliseconds. */
  record(ms: number): void {
    const micros = ms * 1000;
    let bucket = micros <= 1 ? 0 : Math.round(Math.log(micros) / LOG_GROWTH);
    if (bucket >= BUCKETS) bucket = BUCKETS - 1;
    this.counts[bucket]!++;
    this.total++;
    this.sum += ms;
    if (ms > this.maxMs) this.maxMs = ms;
  }

  /** The sum of all samples in ms (Prometheus' histogram `_sum`). */
  get sumMs(): number {
    return this.sum;
  }

  /**
   * How many samples are at most each of `boundsMs` (ascending), to within the bucket's 1%:
   * Prometheus' cumulative `le` buckets, in one pass over the buckets for all the bounds.
   */
  cumulativeCounts(boundsMs: readonly number[]): number[] {
    const counts: number[] = [];
    let seen = 0;
    let i = 0;
    for (const bound of boundsMs) {
      for (; i < BUCKETS && BUCKET_MS[i]! <= bound; i++) seen += this.counts[i]!;
      counts.push(seen);
    }
    return counts;
  }

  get count(): number {
    return this.total;
  }

  /** The largest sample, exactly. */
  get max(): number {
    return this.maxMs;
  }

  /** The value below which `percent` percent of the samples lie, in ms; undefined with no samples. */
  percentile(percent: number): number | undefined {
    if (this.total === 0) return undefined;
    // Nearest-rank: the smallest sample such that at least percent% of samples are <= it.
    const rank = Math.max(1, Math.ceil((percent / 100) * this.total));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return Math.min(GROWTH ** i / 1000, this.maxMs);
    }
    return this.maxMs;
  }

  /** Adds every sample of `other` to this histogram. */
  add(other: RttHistogram): void {
    for (let i = 0; i < BUCKETS; i++) this.counts[i]! += other.counts[i]!;
    this.total += other.total;
    this.sum += other.sum;
    if (other.maxMs > this.maxMs) this.maxMs = other.maxMs;
  }

  reset(): void {
    this.counts.fill(0);
    this.total = 0;
    this.sum = 0;
    this.maxMs = 0;
  }
}
