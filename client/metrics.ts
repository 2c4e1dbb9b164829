// Prometheus metrics of a running client, read at scrape time from the same sessions and RTT
// histogram the report is built from (live-run.ts), so /metrics and the report cannot disagree
// and nothing is counted twice. The hot path never touches prom-client.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { LiveFigures, LiveRun } from './live-run.js';
import type { Totals } from './stats.js';

export const CLIENT_METRIC_PREFIX = 'affinity_tester_client_';

/** The `class` label of changes until the break classifier's classes are fed in. */
export const UNCLASSIFIED = 'unclassified';

/**
 * Pod changes as expected moves and violations, address changes on the same pod or with a move,
 * from the run's classifier; what it has not decided yet (or a run without it) is unclassified.
 */
export function changesByClass(f: LiveFigures, field: 'podChanges' | 'addressChanges'): Record<string, number> {
  const b = f.breaks;
  if (b === undefined) return { [UNCLASSIFIED]: f.totals[field] };
  if (field === 'podChanges') {
    return { expected: b.expected, violation: b.violations, [UNCLASSIFIED]: Math.max(0, f.totals.podChanges - b.expected - b.violations) };
  }
  return { 'same-pod': b.samePodAddressChanges, 'with-move': b.addressChanges - b.samePodAddressChanges, [UNCLASSIFIED]: Math.max(0, f.totals.addressChanges - b.addressChanges) };
}

/** RTT histogram bounds in seconds (Prometheus' unit), from loopback to a far region. */
export const RTT_BUCKETS_SECONDS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

const RTT_BUCKETS_MS = RTT_BUCKETS_SECONDS.map((le) => le * 1000);
const RTT_NAME = `${CLIENT_METRIC_PREFIX}rtt_seconds`;
const RTT_HELP = 'Round-trip time of the replies to our requests, late ones included.';

const COUNTERS: readonly (readonly [string, string, keyof Totals])[] = [
  ['requests_sent_total', 'Binding Requests sent.', 'sent'],
  ['replies_received_total', 'Replies received in time, including reordered ones (the report\'s received).', 'received'],
  ['requests_timed_out_total', 'Requests that reached their timeout; those answered later also count in replies_late_total.', 'timedOut'],
  ['requests_lost_requests_total', 'Lost requests the server never saw (its counter skipped them).', 'lostRequests'],
  ['requests_lost_replies_total', 'Lost requests the server answered: the reply was lost.', 'lostReplies'],
  ['replies_late_total', 'Replies after their request\'s timeout.', 'late'],
  ['replies_duplicate_total', 'Second copies of a reply.', 'duplicates'],
];

const GAUGES: readonly (readonly [string, string, (f: LiveFigures) => number])[] = [
  ['requests_lost', 'Requests timed out and never answered (the report\'s lost; a late reply takes one off).', (f) => f.totals.lost],
  ['sessions_active', 'Sessions that have sent their first request.', (f) => f.totals.active],
  ['sessions_established', 'Sessions that have had at least one reply.', (f) => f.totals.established],
  ['sessions_stuck', 'Sessions unanswered for 5s while others are answered.', (f) => f.stuck],
];

/**
 * prom-client's default metrics that walk every file descriptor or libuv handle at each scrape:
 * with one socket per session that is 10,000 entries read, listed and grouped per scrape, most
 * of what /metrics cost a 10,000-session run. sessions_active counts the sockets that matter.
 */
export const SKIPPED_DEFAULT_METRICS = ['process_open_fds', 'nodejs_active_handles', 'nodejs_active_handles_total', 'nodejs_active_resources', 'nodejs_active_resources_total'];

/** A registry of its own: `live()` is the running client, undefined until its sockets are open. */
export function createClientMetrics(live: () => LiveRun | undefined, options: { defaultMetrics?: boolean } = {}): Registry {
  const registry = new Registry();
  if (options.defaultMetrics ?? true) {
    collectDefaultMetrics({ register: registry });
    for (const name of SKIPPED_DEFAULT_METRICS) registry.removeSingleMetric(name);
  }
  const figures = (): LiveFigures | undefined => live()?.figures();

  for (const [name, help, field] of COUNTERS) {
    new Counter({
      name: CLIENT_METRIC_PREFIX + name,
      help,
      registers: [registry],
      collect() {
        const f = figures();
        this.reset();
        if (f) this.inc(f.totals[field]);
      },
    });
  }
  for (const [name, field] of [
    ['pod_changes_total', 'podChanges'],
    ['address_changes_total', 'addressChanges'],
  ] as const) {
    new Counter({
      name: CLIENT_METRIC_PREFIX + name,
      help: `Sessions' ${field === 'podChanges' ? 'serving pod' : 'reflective address'} changes, by verdict class.`,
      labelNames: ['class'],
      registers: [registry],
      collect() {
        const f = figures();
        this.reset();
        if (f === undefined) return;
        for (const [name, n] of Object.entries(changesByClass(f, field))) this.inc({ class: name }, n);
      },
    });
  }
  for (const [name, help, read] of GAUGES) {
    new Gauge({
      name: CLIENT_METRIC_PREFIX + name,
      help,
      registers: [registry],
      collect() {
        const f = figures();
        this.reset();
        if (f) this.set(read(f));
      },
    });
  }
  new Gauge({
    name: `${CLIENT_METRIC_PREFIX}sessions_per_pod`,
    help: 'Sessions whose latest reply came from this pod; a pod that serves none has no series.',
    labelNames: ['pod', 'node'],
    registers: [registry],
    collect() {
      // reset() drops every series, so pods that left (a rolling update) leave no dead series.
      this.reset();
      for (const pod of figures()?.pods ?? []) this.set({ pod: pod.label, node: pod.node ?? '' }, pod.sessions);
    },
  });
  registry.registerMetric(new RttMetric(live));
  return registry;
}

/**
 * The run's RTT histogram as a Prometheus histogram: its 1%-wide buckets summed up to each bound
 * (so a bound is exact to within 1%), instead of observing every reply a second time.
 */
class RttMetric extends Histogram {
  constructor(private readonly live: () => LiveRun | undefined) {
    super({ name: RTT_NAME, help: RTT_HELP, buckets: RTT_BUCKETS_SECONDS, registers: [] });
  }

  // The registry prints what getForPromString() returns (get() is the JSON form, same values here).
  async getForPromString(): Promise<never> {
    const rtt = this.live()?.source.rtt;
    const bucket = `${RTT_NAME}_bucket`;
    const values =
      rtt === undefined
        ? []
        : [
            ...rtt.cumulativeCounts(RTT_BUCKETS_MS).map((value, i) => ({ labels: { le: RTT_BUCKETS_SECONDS[i]! }, value, metricName: bucket })),
            { labels: { le: '+Inf' }, value: rtt.count, metricName: bucket },
            { labels: {}, value: rtt.sumMs / 1000, metricName: `${RTT_NAME}_sum` },
            { labels: {}, value: rtt.count, metricName: `${RTT_NAME}_count` },
          ];
    return { name: RTT_NAME, help: RTT_HELP, type: 'histogram', values, aggregator: 'sum' } as never;
  }

  override get(): Promise<never> {
    return this.getForPromString();
  }
}
