import t from 'tap';
import { foldLater, TimelineRecorder, timelineSampleOf, weightedMedian, type TimelineBucket, type TimelineSample } from '../../client/timeline.js';

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);

function sample(over: Partial<TimelineSample> = {}): TimelineSample {
  return {
    sent: 0,
    received: 0,
    lost: 0,
    lostRequests: 0,
    lostReplies: 0,
    podChanges: 0,
    addressChanges: 0,
    active: 0,
    pods: {},
    rttP50Ms: null,
    rttP99Ms: null,
    ...over,
  };
}

t.test('record() files the differences of the counters under the second they happened in', async (t) => {
  const timeline = new TimelineRecorder(T0);
  timeline.record(T0 + 1000, sample({ sent: 10, received: 9, active: 10, pods: { 'pod-a': 6, 'pod-b': 3 }, rttP50Ms: 1, rttP99Ms: 2 }));
  timeline.record(T0 + 2000, sample({ sent: 20, received: 17, lost: 2, lostRequests: 1, lostReplies: 1, podChanges: 1, active: 10, pods: { 'pod-a': 9, 'pod-b': 0 }, rttP50Ms: 1.5, rttP99Ms: 3 }));
  t.same(timeline.toReport().buckets, [
    { at: '2026-01-01T12:00:00.000Z', seconds: 1, sent: 10, received: 9, lost: 0, lostRequests: 0, lostReplies: 0, podChanges: 0, addressChanges: 0, active: 10, pods: { 'pod-a': 6, 'pod-b': 3 }, rttP50Ms: 1, rttP99Ms: 2 },
    { at: '2026-01-01T12:00:01.000Z', seconds: 1, sent: 10, received: 8, lost: 2, lostRequests: 1, lostReplies: 1, podChanges: 1, addressChanges: 0, active: 10, pods: { 'pod-a': 9 }, rttP50Ms: 1.5, rttP99Ms: 3 },
  ]);
});

t.test('record() puts a tick that fires late or early in the second holding the middle of its interval', async (t) => {
  const timeline = new TimelineRecorder(T0 + 50);
  timeline.record(T0 + 1050, sample({ sent: 1 })); // 0.05..1.05 s: second 0
  timeline.record(T0 + 1990, sample({ sent: 3 })); // 1.05..1.99 s: second 1
  timeline.record(T0 + 3100, sample({ sent: 4 })); // 1.99..3.1 s, middle 2.545 s: second 2
  t.same(
    timeline.toReport().buckets.map((b) => [b.at.slice(17, 19), b.sent]),
    [
      ['00', 1],
      ['01', 2],
      ['02', 1],
    ],
  );
});

t.test('two ticks with their middles in one second add up in that second', async (t) => {
  const timeline = new TimelineRecorder(T0);
  timeline.record(T0 + 1000, sample({ sent: 1, active: 1 }));
  timeline.record(T0 + 1400, sample({ sent: 3, active: 2, stuck: 1 }));
  timeline.record(T0 + 1800, sample({ sent: 4, active: 3, stuck: 0 }));
  const buckets = timeline.toReport().buckets;
  t.same(
    buckets.map((b) => ({ at: b.at.slice(17, 19), sent: b.sent, active: b.active, stuck: b.stuck })),
    [
      { at: '00', sent: 1, active: 1, stuck: undefined },
      { at: '01', sent: 3, active: 3, stuck: 1 },
    ],
  );
});

t.test('record() counts breaks by class when the run classifies them', async (t) => {
  const timeline = new TimelineRecorder(T0);
  timeline.record(T0 + 1000, sample({ podChanges: 2, classes: { expected: 2 } }));
  timeline.record(T0 + 2000, sample({ podChanges: 3, classes: { expected: 2, violation: 1 } }));
  t.same(
    timeline.toReport().buckets.map((b) => b.classes),
    [{ expected: 2 }, { violation: 1 }],
  );
});

t.test('a 24-hour run keeps the last hour by the second, 5 hours by 10 s and 18 hours by 60 s', async (t) => {
  const timeline = new TimelineRecorder(T0);
  const pods = { 'pod-a': 500, 'pod-b': 500 };
  for (let s = 1; s <= 86_400; s++) timeline.record(T0 + s * 1000, sample({ sent: s * 100, received: s * 100, active: 1000, pods, rttP50Ms: 1, rttP99Ms: 5 }));
  const { buckets } = timeline.toReport();
  const widths = new Map<number, number>();
  for (const b of buckets) widths.set(b.seconds, (widths.get(b.seconds) ?? 0) + 1);
  t.same(Object.fromEntries(widths), { 60: 1080, 10: 1800, 1: 3600 });
  t.equal(buckets.reduce((n, b) => n + b.sent, 0), 8_640_000, 'no request is lost by coarsening');
  t.equal(buckets[0]!.at, '2026-01-01T12:00:00.000Z');
  t.equal(buckets.at(-1)!.at, '2026-01-02T11:59:59.000Z');
  t.same(buckets[0], { at: '2026-01-01T12:00:00.000Z', seconds: 60, sent: 6000, received: 6000, lost: 0, lostRequests: 0, lostReplies: 0, podChanges: 0, addressChanges: 0, active: 1000, pods, rttP50Ms: 1, rttP99Ms: 5 });
  const bytes = JSON.stringify(timeline.toReport()).length;
  t.ok(bytes < 2_000_000, `${bytes} bytes of JSON for 24 hours`);
  for (let i = 1; i < buckets.length; i++) {
    const previous = buckets[i - 1]!;
    if (Date.parse(buckets[i]!.at) !== Date.parse(previous.at) + previous.seconds * 1000) t.fail(`gap or overlap after ${previous.at}`);
  }
});

t.test('foldLater() adds counters, keeps the later gauges and the larger stuck count and p99', async (t) => {
  const earlier: Omit<TimelineBucket, 'at'> = { seconds: 1, sent: 4, received: 3, lost: 1, lostRequests: 1, lostReplies: 0, podChanges: 0, addressChanges: 1, active: 4, stuck: 2, pods: { 'pod-a': 4 }, rttP50Ms: 1, rttP99Ms: 9 };
  const later = { ...earlier, received: 1, stuck: 1, active: 5, pods: { 'pod-b': 5 }, classes: { violation: 1 }, rttP50Ms: 5, rttP99Ms: 6 };
  t.same(foldLater(earlier, later, 10), {
    seconds: 10,
    sent: 8,
    received: 4,
    lost: 2,
    lostRequests: 2,
    lostReplies: 0,
    podChanges: 0,
    addressChanges: 2,
    active: 5,
    stuck: 2,
    pods: { 'pod-b': 5 },
    classes: { violation: 1 },
    rttP50Ms: 2,
    rttP99Ms: 9,
  });
});

t.test('weightedMedian() ignores a side without replies', async (t) => {
  t.equal(weightedMedian({ received: 0, rttP50Ms: null }, { received: 3, rttP50Ms: 4 }), 4);
  t.equal(weightedMedian({ received: 1, rttP50Ms: 2 }, { received: 0, rttP50Ms: null }), 2);
  t.equal(weightedMedian({ received: 1, rttP50Ms: 1 }, { received: 3, rttP50Ms: 3 }), 2.5);
});

t.test('timelineSampleOf() takes the counters of the totals, the pods by label and the RTT', async (t) => {
  const totals = { sessions: 3, active: 2, established: 2, sent: 9, received: 7, lost: 2, timedOut: 2, late: 0, duplicates: 1, reordered: 0, lostRequests: 1, lostReplies: 1, podChanges: 1, addressChanges: 0, lossBursts: 0, pending: 0, ignored: 0, longestOutageMs: 0 };
  const pods = [{ label: 'pod-a', node: 'node-1', sessions: 2 }];
  t.same(timelineSampleOf(totals, pods, { p50Ms: 1, p99Ms: 3 }), {
    sent: 9, received: 7, lost: 2, lostRequests: 1, lostReplies: 1, podChanges: 1, addressChanges: 0, active: 2, pods: { 'pod-a': 2 }, rttP50Ms: 1, rttP99Ms: 3,
  });
  t.equal(timelineSampleOf(totals, pods, { p50Ms: null, p99Ms: null }, 1).stuck, 1);
});
