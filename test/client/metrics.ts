import t from 'tap';
import { TypedEmitter, type ClientEvents } from '../../client/events.js';
import { LiveRun } from '../../client/live-run.js';
import { changesByClass, createClientMetrics, SKIPPED_DEFAULT_METRICS } from '../../client/metrics.js';
import type { LiveFigures } from '../../client/live-run.js';
import { RttHistogram } from '../../client/rtt-histogram.js';
import { IdentityRegistry } from '../../client/serving-identity.js';
import { emptyCounters } from '../../client/session.js';
import type { SessionFigures } from '../../client/stats.js';

const registry = new IdentityRegistry();
const podA = registry.named('pod-a', 'node-1');
const podB = registry.named('pod-b', 'node-2');

function session(identity: SessionFigures['identity'], counters: Partial<SessionFigures['counters']>, lost = 0): SessionFigures {
  return { lost, pending: 0, identity, counters: { ...emptyCounters(), ...counters } };
}

/** The series of a scrape without HELP/TYPE lines and the default process metrics. */
async function series(metrics: ReturnType<typeof createClientMetrics>): Promise<string[]> {
  return (await metrics.metrics()).split('\n').filter((line) => line.startsWith('affinity_tester_client_'));
}

t.test('before the run is ready, the metrics read zero and no pod has a series', async (t) => {
  const lines = await series(createClientMetrics(() => undefined, { defaultMetrics: false }));
  t.equal(lines.length, 11);
  t.ok(lines.every((line) => line.endsWith(' 0')));
});

t.test('the metrics are the run\'s own totals, changes labelled unclassified, sessions per pod and the RTT histogram', async (t) => {
  const rtt = new RttHistogram();
  for (const ms of [0.3, 0.8, 2, 40]) rtt.record(ms);
  const sessions = [
    session(podA, { sent: 10, received: 8, timedOut: 2, late: 1, lostRequests: 1, duplicates: 2, podChanges: 1, firstSentAt: 0, establishedAt: 1, lastReplyAt: 9_000 }, 1),
    session(podB, { sent: 10, received: 10, lostReplies: 0, addressChanges: 2, firstSentAt: 0, establishedAt: 1, lastReplyAt: 1_000 }),
    session(undefined, { sent: 3, firstSentAt: 0 }),
  ];
  const live = new LiveRun({ sessions, rtt, events: new TypedEmitter<ClientEvents>(() => undefined) }, () => 10_000);
  t.strictSame(await series(createClientMetrics(() => live, { defaultMetrics: false })), [
    'affinity_tester_client_requests_sent_total 23',
    'affinity_tester_client_replies_received_total 18',
    'affinity_tester_client_requests_timed_out_total 2',
    'affinity_tester_client_requests_lost_requests_total 1',
    'affinity_tester_client_requests_lost_replies_total 0',
    'affinity_tester_client_replies_late_total 1',
    'affinity_tester_client_replies_duplicate_total 2',
    'affinity_tester_client_pod_changes_total{class="unclassified"} 1',
    'affinity_tester_client_address_changes_total{class="unclassified"} 2',
    'affinity_tester_client_requests_lost 1',
    'affinity_tester_client_sessions_active 3',
    'affinity_tester_client_sessions_established 2',
    'affinity_tester_client_sessions_stuck 1',
    'affinity_tester_client_sessions_per_pod{pod="pod-a",node="node-1"} 1',
    'affinity_tester_client_sessions_per_pod{pod="pod-b",node="node-2"} 1',
    'affinity_tester_client_rtt_seconds_bucket{le="0.0005"} 1',
    'affinity_tester_client_rtt_seconds_bucket{le="0.001"} 2',
    'affinity_tester_client_rtt_seconds_bucket{le="0.0025"} 3',
    'affinity_tester_client_rtt_seconds_bucket{le="0.005"} 3',
    'affinity_tester_client_rtt_seconds_bucket{le="0.01"} 3',
    'affinity_tester_client_rtt_seconds_bucket{le="0.025"} 3',
    'affinity_tester_client_rtt_seconds_bucket{le="0.05"} 4',
    'affinity_tester_client_rtt_seconds_bucket{le="0.1"} 4',
    'affinity_tester_client_rtt_seconds_bucket{le="0.25"} 4',
    'affinity_tester_client_rtt_seconds_bucket{le="0.5"} 4',
    'affinity_tester_client_rtt_seconds_bucket{le="1"} 4',
    'affinity_tester_client_rtt_seconds_bucket{le="2.5"} 4',
    'affinity_tester_client_rtt_seconds_bucket{le="5"} 4',
    'affinity_tester_client_rtt_seconds_bucket{le="+Inf"} 4',
    'affinity_tester_client_rtt_seconds_sum 0.0431',
    'affinity_tester_client_rtt_seconds_count 4',
  ]);
});

t.test('the series of a pod that serves no session any more are gone at the next scrape', async (t) => {
  const sessions = [session(podA, {}), session(podB, {})];
  const live = new LiveRun({ sessions, rtt: new RttHistogram(), events: new TypedEmitter<ClientEvents>(() => undefined) }, () => 0);
  const metrics = createClientMetrics(() => live, { defaultMetrics: false });
  t.equal((await series(metrics)).filter((line) => line.includes('sessions_per_pod')).length, 2);
  sessions[0] = session(podB, {});
  // A scrape's figures hold for one turn of the event loop; the next scrape is a new request.
  await new Promise(setImmediate);
  const perPod = (await series(metrics)).filter((line) => line.includes('sessions_per_pod'));
  t.strictSame(perPod, ['affinity_tester_client_sessions_per_pod{pod="pod-b",node="node-2"} 2']);
});

t.test('changesByClass() splits pod changes into expected and violation, address changes by same pod or with a move, the rest unclassified', async (t) => {
  const figures = (breaks?: LiveFigures['breaks']): LiveFigures =>
    ({ now: 0, totals: { podChanges: 10, addressChanges: 6 } as LiveFigures['totals'], pods: [], stuck: 0, lastBreakAt: undefined, ...(breaks ? { breaks } : {}) });
  t.same(changesByClass(figures(), 'podChanges'), { unclassified: 10 }, 'a run without the classifier');
  const breaks = { expected: 6, violations: 3, inferred: 0, addressChanges: 5, samePodAddressChanges: 2, stuck: 0, stuckNow: 0, longestStuckMs: 0, undecided: 1 };
  t.same(changesByClass(figures(breaks), 'podChanges'), { expected: 6, violation: 3, unclassified: 1 }, 'one move not decided yet');
  t.same(changesByClass(figures(breaks), 'addressChanges'), { 'same-pod': 2, 'with-move': 3, unclassified: 1 });
});

t.test('the default process and Node.js metrics come without those that walk every socket at each scrape', async (t) => {
  const text = await createClientMetrics(() => undefined).metrics();
  t.match(text, /^process_cpu_user_seconds_total \S+$/m);
  t.match(text, /^process_resident_memory_bytes \d+$/m);
  t.match(text, /^nodejs_eventloop_lag_seconds \S+$/m);
  t.match(text, /^nodejs_active_requests_total \d+$/m, 'the requests in flight are few: kept');
  const names = new Set(text.split('\n').filter((line) => line.startsWith('# TYPE ')).map((line) => line.split(' ')[2]));
  t.strictSame(SKIPPED_DEFAULT_METRICS.filter((name) => names.has(name)), []);
  t.strictSame(SKIPPED_DEFAULT_METRICS, ['process_open_fds', 'nodejs_active_handles', 'nodejs_active_handles_total', 'nodejs_active_resources', 'nodejs_active_resources_total']);
});
