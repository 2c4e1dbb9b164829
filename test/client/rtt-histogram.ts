import t from 'tap';
import { RttHistogram } from '../../client/rtt-histogram.js';

t.test('percentile() of 1..1000 ms is within 1% of the exact nearest-rank value', async (t) => {
  const h = new RttHistogram();
  for (let i = 1; i <= 1000; i++) h.record(i);
  for (const [p, exact] of [
    [50, 500],
    [90, 900],
    [99, 990],
  ] as const) {
    const value = h.percentile(p)!;
    t.ok(Math.abs(value - exact) / exact <= 0.01, `p${p} ${value} vs ${exact}`);
  }
  t.equal(h.max, 1000);
  t.equal(h.count, 1000);
});

t.test('percentile() of an empty histogram is undefined; sub-microsecond samples land in the first bucket', async (t) => {
  const h = new RttHistogram();
  t.equal(h.percentile(50), undefined);
  h.record(0);
  t.ok(h.percentile(50)! <= 0.001);
});

t.test('add() merges counts and max; reset() empties', async (t) => {
  const a = new RttHistogram();
  const b = new RttHistogram();
  a.record(1);
  b.record(100);
  a.add(b);
  t.equal(a.count, 2);
  t.equal(a.max, 100);
  a.reset();
  t.equal(a.count, 0);
  t.equal(a.max, 0);
});

t.test('a sample beyond the last bucket is clamped there and max stays exact', async (t) => {
  const h = new RttHistogram();
  h.record(10_000_000);
  t.equal(h.max, 10_000_000);
  t.ok(h.percentile(100)! > 100_000);
});

t.test('sumMs and cumulativeCounts() give Prometheus\' sum and cumulative buckets, to the bucket\'s 1%', async (t) => {
  const histogram = new RttHistogram();
  for (const ms of [0.3, 0.8, 2, 40]) histogram.record(ms);
  t.equal(histogram.sumMs, 43.1);
  t.strictSame(histogram.cumulativeCounts([0.1, 0.5, 1, 2.5, 50]), [0, 1, 2, 3, 4]);
  const other = new RttHistogram();
  other.record(1);
  histogram.add(other);
  t.equal(histogram.sumMs, 44.1);
  histogram.reset();
  t.equal(histogram.sumMs, 0);
  t.strictSame(histogram.cumulativeCounts([1000]), [0]);
});
