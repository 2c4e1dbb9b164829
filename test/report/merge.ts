import t from 'tap';
import type { ClientReport } from '../../client/report.js';
import { TimelineRecorder, type ReportTimeline, type TimelineBucket } from '../../client/timeline.js';
import { mergeReports, mergeTimelines } from '../../report/merge.js';
import { DEMO_REPORT, SECOND_REPORT, loadReport } from '../fixtures/reports.js';

const first = loadReport(DEMO_REPORT);
const second = loadReport(SECOND_REPORT);
const both = mergeReports([
  { file: 'first.json', report: first },
  { file: 'second.json', report: second },
]);

t.test('mergeReports() of two runs is the sum of their totals', async (t) => {
  for (const key of ['sessions', 'sent', 'received', 'lost', 'podChanges', 'addressChanges'] as const) {
    t.equal(both.totals[key], first.totals[key] + second.totals[key], key);
  }
  t.same([both.totals.sessions, both.totals.sent, both.totals.podChanges], [42, 1934, 14]);
  t.equal(both.sessions.length, 42);
  t.equal(both.events.length, 28);
  t.same(both.verdict.broken, ['14 pod changes (--max-pod-changes 0)', '14 address changes (--max-address-changes 0)']);
  t.same(both.totals.rtt, { p50Ms: 0.565, p90Ms: 1.292, p99Ms: 12.618, maxMs: 33.14 }, 'p50 weighted by replies, p90/p99/max the worst client\'s');
  t.equal(both.startedAt, first.startedAt);
  t.equal(both.endedAt, second.endedAt);
});

t.test('mergeReports() sums socket errors by code', async (t) => {
  const merged = mergeReports([
    { file: 'a.json', report: { ...first, socketErrors: { ECONNREFUSED: 4 } } },
    { file: 'b.json', report: { ...second, socketErrors: { ECONNREFUSED: 2, EHOSTUNREACH: 1 } } },
  ]);
  t.same(merged.socketErrors, { ECONNREFUSED: 6, EHOSTUNREACH: 1 });
});

t.test('mergeReports() sums the per-pod figures', async (t) => {
  t.same(
    both.pods.map((p) => [p.pod, p.sessions, p.replies]),
    [
      ['pod-a', 15, 524],
      ['pod-b', 0, 369],
      ['pod-c', 23, 933],
      ['pod-d', 4, 108],
    ],
  );
});

t.test('mergeReports() numbers the second client\'s sessions on, in its sessions, events and attributions', async (t) => {
  t.same(both.sessions.map((s) => s.session).slice(28, 33), [29, 30, 31, 32, 33]);
  const secondEvents = both.events.filter((e) => Date.parse(e.time) >= Date.parse(second.startedAt));
  t.same(secondEvents.map((e) => e.session), second.events.map((e) => e.session + 30));
  t.ok(both.cluster.attributions.filter((a) => Date.parse(a.time) >= Date.parse(second.startedAt)).every((a) => a.session! > 30));
  t.same(both.merged!.reports.map((r) => [r.file, r.sessions, r.firstSession]), [
    ['first.json', 30, 1],
    ['second.json', 12, 31],
  ]);
});

t.test('mergeReports() lists where the reports disagree, and that they ran at different times', async (t) => {
  const differences = both.merged!.differences;
  t.equal(differences.length, 4);
  t.match(differences[0], /^target: "127\.0\.0\.1 127\.0\.0\.1:\d+" in first\.json; "127\.0\.0\.1 127\.0\.0\.1:\d+" in second\.json$/);
  t.equal(differences[1], 'intervalMs: 500 in first.json; 1000 in second.json');
  t.equal(differences[2], 'durationMs: 30000 in first.json; 15000 in second.json');
  t.match(differences[3], /^time: the runs do not all overlap: first\.json 2026-11-29T21:47:36/);
});

t.test('mergeReports() takes one timeline whose figures add up to the merged totals', async (t) => {
  const buckets = both.timeline!.buckets;
  t.equal(buckets.length, first.timeline!.buckets.length + second.timeline!.buckets.length);
  t.equal(buckets.reduce((n, b) => n + b.sent, 0), both.totals.sent);
  t.equal(buckets.reduce((n, b) => n + b.podChanges, 0), both.totals.podChanges);
});

t.test('mergeReports() of one report gives it back unchanged', async (t) => {
  t.equal(mergeReports([{ file: 'a.json', report: first }]), first);
});

t.test('mergeReports() of two clients at the same time lists no time difference and adds the gauges', async (t) => {
  const twin: ClientReport = { ...first, settings: { ...first.settings }, target: { ...first.target } };
  const merged = mergeReports([
    { file: 'a.json', report: first },
    { file: 'b.json', report: twin },
  ]);
  t.same(merged.merged!.differences, []);
  t.equal(merged.timeline!.buckets.length, first.timeline!.buckets.length);
  t.same(merged.timeline!.buckets.at(-1)!.pods, { 'pod-a': 20, 'pod-c': 32, 'pod-d': 8 });
  t.equal(merged.timeline!.buckets.at(-1)!.active, 60);
});

/** Three clients' timelines of sessions 0-9, 10-19 and 20-29 against one of all 30 sessions. */
function splitRun(): { whole: ReportTimeline; parts: ReportTimeline[] } {
  const T0 = Date.UTC(2026, 0, 1);
  const podOf = (session: number, second: number): string => (second < 5 || session % 3 !== 0 ? `pod-${session % 3}` : 'pod-new');
  const record = (sessions: number[]): ReportTimeline => {
    const timeline = new TimelineRecorder(T0);
    for (let s = 1; s <= 10; s++) {
      const pods: Record<string, number> = {};
      for (const session of sessions) pods[podOf(session, s)] = (pods[podOf(session, s)] ?? 0) + 1;
      timeline.record(T0 + s * 1000, {
        sent: sessions.length * s,
        received: sessions.length * s - (s > 5 ? sessions.length : 0),
        lost: s > 5 ? sessions.length : 0,
        lostRequests: 0,
        lostReplies: 0,
        podChanges: s > 5 ? sessions.filter((n) => n % 3 === 0).length : 0,
        addressChanges: 0,
        active: sessions.length,
        pods,
        rttP50Ms: 1,
        rttP99Ms: 2,
      });
    }
    return timeline.toReport();
  };
  const all = Array.from({ length: 30 }, (_, i) => i);
  return { whole: record(all), parts: [record(all.slice(0, 10)), record(all.slice(10, 20)), record(all.slice(20))] };
}

t.test('mergeTimelines() of a run split across 3 clients gives the same per-pod picture as one run', async (t) => {
  const { whole, parts } = splitRun();
  const merged = mergeTimelines(parts)!;
  const picture = (b: TimelineBucket): unknown => ({ at: b.at, pods: b.pods, sent: b.sent, lost: b.lost, podChanges: b.podChanges, active: b.active });
  t.same(merged.buckets.map(picture), whole.buckets.map(picture));
});

t.test('mergeTimelines() folds a client\'s seconds into another client\'s wider bucket of the same time', async (t) => {
  const at = '2026-01-01T00:00:00.000Z';
  const bucket = (over: Partial<TimelineBucket>): TimelineBucket => ({
    at,
    seconds: 1,
    sent: 1,
    received: 1,
    lost: 0,
    lostRequests: 0,
    lostReplies: 0,
    podChanges: 0,
    addressChanges: 0,
    active: 1,
    pods: { 'pod-a': 1 },
    rttP50Ms: 1,
    rttP99Ms: 1,
    ...over,
  });
  const longRun = { buckets: [bucket({ seconds: 10, sent: 10, received: 10, active: 3, pods: { 'pod-a': 3 } })] };
  const shortRun = { buckets: [bucket({}), bucket({ at: '2026-01-01T00:00:01.000Z', active: 2, pods: { 'pod-b': 2 } }), bucket({ at: '2026-01-01T00:00:10.000Z' })] };
  t.same(
    mergeTimelines([longRun, shortRun])!.buckets.map((b) => [b.at.slice(17, 19), b.seconds, b.sent, b.active, b.pods]),
    [
      ['00', 10, 12, 5, { 'pod-a': 3, 'pod-b': 2 }],
      ['10', 1, 1, 1, { 'pod-a': 1 }],
    ],
  );
  t.equal(mergeTimelines([]), undefined);
});

t.test('mergeTimelines() carries a client\'s gauges over a second it has no bucket for, inside its run only', async (t) => {
  const T0 = Date.UTC(2026, 0, 1);
  const sample = (n: number, pod: string, sessions: number, stuck?: number) => ({
    sent: n * sessions,
    received: n * sessions,
    lost: 0,
    lostRequests: 0,
    lostReplies: 0,
    podChanges: 0,
    addressChanges: 0,
    active: sessions,
    pods: { [pod]: sessions },
    rttP50Ms: 1,
    rttP99Ms: 2,
    ...(stuck === undefined ? {} : { stuck }),
  });
  // Client a: 10 sessions from T0; its tick at 3 s is late (at 4 s), so seconds 0, 1, 3, 4, 5: none for second 2.
  const a = new TimelineRecorder(T0);
  for (const [n, at] of [1, 2, 4, 5, 6].entries()) a.record(T0 + at * 1000, sample(n + 1, 'pod-a', 10, 1));
  // Client b: 4 sessions, started 1.5 s later and stopped after two ticks: seconds 2 and 3 only.
  const b = new TimelineRecorder(T0 + 1500);
  for (const [n, at] of [2500, 3500].entries()) b.record(T0 + at, sample(n + 1, 'pod-b', 4));
  const [ownA, ownB] = [a.toReport(), b.toReport()];
  t.same(ownA.buckets.map((x) => x.at.slice(17, 19)), ['00', '01', '03', '04', '05'], 'a has no second 2');
  t.same(ownB.buckets.map((x) => x.at.slice(17, 19)), ['02', '03']);
  const merged = mergeTimelines([ownA, ownB])!;
  t.same(
    merged.buckets.map((x) => [x.at.slice(17, 19), x.active, x.stuck, x.pods, x.sent]),
    [
      ['00', 10, 1, { 'pod-a': 10 }, 10],
      ['01', 10, 1, { 'pod-a': 10 }, 10],
      ['02', 14, 1, { 'pod-a': 10, 'pod-b': 4 }, 4],
      ['03', 14, 1, { 'pod-a': 10, 'pod-b': 4 }, 14],
      ['04', 10, 1, { 'pod-a': 10 }, 10],
      ['05', 10, 1, { 'pod-a': 10 }, 10],
    ],
    'a keeps its 10 sessions in second 2 but sends nothing there; b counts only in its own seconds',
  );
  t.equal(
    merged.buckets.reduce((n, x) => n + x.sent, 0),
    [...ownA.buckets, ...ownB.buckets].reduce((n, x) => n + x.sent, 0),
    'counters add up to the clients\' totals',
  );
  t.equal(merged.buckets[2]!.rttP50Ms, 1, 'a gap has no RTT of its own');
  t.same(mergeTimelines([ownA, { buckets: [] }])!.buckets.map((x) => x.active), [10, 10, 10, 10, 10], 'a client that never recorded a second adds nothing');
});
