// The run's timed work, called with its own `now`, over real sessions and fakes of what it tells.
import t from 'tap';
import { emptyBreakCounts } from '../../client/break-classifier.js';
import { RttHistogram } from '../../client/rtt-histogram.js';
import { RunTicks, type RunTickParts } from '../../client/run-ticks.js';
import { IdentityRegistry } from '../../client/serving-identity.js';
import { Session } from '../../client/session.js';
import type { ConnectionStep } from '../../client/connection-table.js';
import type { StatsSnapshot } from '../../client/stats-line.js';
import { PeriodTracker } from '../../client/stats.js';

function setUp(connectionStep: (now: number) => ConnectionStep | undefined) {
  const identities = new IdentityRegistry();
  const sessions = [1, 2].map((number) => new Session({ number, sessionId: number, timeoutMs: 1000, identities, emit: () => undefined, random: () => 7 }));
  const calls: string[] = [];
  const stats: [StatsSnapshot, unknown][] = [];
  const lag = new RttHistogram();
  lag.record(3);
  const parts: RunTickParts = {
    sessions,
    tracker: new PeriodTracker(),
    perTarget: { stats: () => undefined },
    classifier: { counts: () => ({ total: { ...emptyBreakCounts(), violations: 1 }, pods: [] }), tick: (now) => calls.push(`classifier.tick ${now}`) },
    output: {
      stats: (snapshot, extra) => stats.push([snapshot, extra]),
      breakTick: (now) => calls.push(`output.breakTick ${now}`),
      connectionStep: (step) => calls.push(`output.connectionStep ${step.time}`),
    },
    transport: { errors: { ECONNREFUSED: 2 }, connectionStep },
    scheduler: { lag },
  };
  return { ticks: new RunTicks(parts), sessions, calls, stats, lag };
}

t.test('stats(now) expires the requests past their timeout at now and hands the output that period, with socket errors and the lag p99', async (t) => {
  const { ticks, sessions, calls, stats, lag } = setUp(() => undefined);
  sessions[0]!.send(0);
  ticks.stats(1500);
  t.equal(stats.length, 1);
  const [snapshot, extra] = stats[0]!;
  t.equal(snapshot.time, 1500);
  t.match(snapshot.totals, { sessions: 2, active: 1, sent: 1, timedOut: 1, lost: 1, pending: 0 });
  t.match(snapshot.period, { sent: 1, timedOut: 1, lossPercent: 100 });
  t.same(snapshot.pods, []);
  t.equal(snapshot.breaks.violations, 1);
  t.notOk('targets' in snapshot, 'one target: no per-target lines');
  t.same(extra, { socketErrors: { ECONNREFUSED: 2 }, schedulingLagP99Ms: lag.percentile(99) });
  t.same(calls, [], 'no connections step over UDP');

  ticks.stats(2500);
  t.match(stats[1]![0].period, { sent: 0, timedOut: 0 }, 'the next period starts where the last ended');
});

t.test('stats(now) hands the output the transport\'s connections step after the stats, when it has one', async (t) => {
  const { ticks, calls, stats } = setUp((now) => ({ time: now, open: { 'pod-a': 2 }, lost: {}, reconnected: {} }));
  ticks.stats(1000);
  t.equal(stats.length, 1);
  t.same(calls, ['output.connectionStep 1000']);
});

t.test('breaks(now) lets the classifier find stuck sessions before the output prints the groups complete at now', async (t) => {
  const { ticks, calls } = setUp(() => undefined);
  ticks.breaks(250);
  t.same(calls, ['classifier.tick 250', 'output.breakTick 250']);
});

t.test('start() puts both ticks on timers that read the run clock; stop() clears them', async (t) => {
  const { ticks, calls, stats } = setUp(() => undefined);
  ticks.start(1, () => 4200);
  // Event driven: resolves on the first break tick (BREAK_TICK_MS), by when the stats tick has run too.
  await new Promise<void>((resolve) => {
    const check = setInterval(() => calls.length > 0 && (clearInterval(check), resolve()), 1);
  });
  ticks.stop();
  t.same(calls.slice(0, 2), ['classifier.tick 4200', 'output.breakTick 4200']);
  t.equal(stats[0]![0].time, 4200);
});
