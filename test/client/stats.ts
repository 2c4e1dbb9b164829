import t from 'tap';
import { Chalk } from 'chalk';
import { lossPercent, PeriodTracker, periodOf, podDistribution, totalsOf, type SessionFigures } from '../../client/stats.js';
import { targetStatsLine } from '../../client/stats-line.js';
import { IdentityRegistry } from '../../client/serving-identity.js';
import { emptyCounters } from '../../client/session.js';

const registry = new IdentityRegistry();
const podA = registry.named('pod-a', 'node-1');
const podB = registry.named('pod-b', 'node-2');

type FlatFigures = Omit<SessionFigures, 'counters'> & Omit<SessionFigures['counters'], 'rttSumMs' | 'rttMaxMs' | 'lastReplyAt'>;

function figures(overrides: Partial<FlatFigures>): SessionFigures {
  const { lost = 0, pending = 0, identity, ...counters } = overrides;
  return {
    lost,
    pending,
    identity,
    counters: { ...emptyCounters(), ...counters },
  };
}

t.test('totalsOf() adds session figures and keeps the longest outage of any session', async (t) => {
  const totals = totalsOf([
    figures({ sent: 10, received: 9, lost: 1, timedOut: 1, firstSentAt: 1, establishedAt: 2, identity: podA, longestOutageMs: 300 }),
    figures({ sent: 5, received: 5, late: 1, timedOut: 1, podChanges: 2, firstSentAt: 1, longestOutageMs: 900, pending: 1 }),
    figures({}),
  ]);
  t.equal(totals.sessions, 3);
  t.equal(totals.active, 2);
  t.equal(totals.established, 1);
  t.equal(totals.sent, 15);
  t.equal(totals.received, 14);
  t.equal(totals.lost, 1);
  t.equal(totals.timedOut, 2);
  t.equal(totals.late, 1);
  t.equal(totals.podChanges, 2);
  t.equal(totals.pending, 1);
  t.equal(totals.longestOutageMs, 900);
});

t.test('lossPercent() leaves pending requests out of the denominator', async (t) => {
  t.equal(lossPercent(1, 101, 1), 1);
  t.equal(lossPercent(0, 0, 0), 0);
  t.equal(lossPercent(0, 5, 5), 0);
});

t.test('periodOf() is the difference of two totals, with loss as timed out over sent in the period', async (t) => {
  const before = totalsOf([figures({ sent: 100, received: 100 })]);
  const after = totalsOf([figures({ sent: 200, received: 190, timedOut: 10, lost: 8, late: 2, podChanges: 1 })]);
  const period = periodOf(after, before);
  t.equal(period.sent, 100);
  t.equal(period.received, 90);
  t.equal(period.timedOut, 10);
  t.equal(period.late, 2);
  t.equal(period.podChanges, 1);
  t.equal(period.lossPercent, 10);
});

t.test('podDistribution() counts sessions per current pod, largest first', async (t) => {
  const shares = podDistribution([{ identity: podB }, { identity: podA }, { identity: podB }, { identity: undefined }]);
  t.same(
    shares.map((s) => [s.label, s.sessions]),
    [
      ['pod-b', 2],
      ['pod-a', 1],
    ],
  );
});

t.test('PeriodTracker reports each period once and its own RTTs', async (t) => {
  const tracker = new PeriodTracker();
  tracker.recordRtt(1);
  tracker.recordRtt(3);
  const first = tracker.next(totalsOf([figures({ sent: 2, received: 2 })]));
  t.equal(first.period.sent, 2);
  t.ok(first.rtt.maxMs! >= 2.9 && first.rtt.maxMs! <= 3.01);
  tracker.recordRtt(10);
  const second = tracker.next(totalsOf([figures({ sent: 3, received: 3 })]));
  t.equal(second.period.sent, 1);
  t.ok(Math.abs(second.rtt.p50Ms! - 10) < 0.2);
  t.equal(tracker.total.count, 3);
});

t.test('targetStatsLine() gives one target\'s running totals under the stats line, yellow once it lost or changed', async (t) => {
  const clean = totalsOf([figures({ sent: 20, received: 20, firstSentAt: 1, establishedAt: 1, identity: podA })]);
  t.equal(
    targetStatsLine({ label: 'IPv6 [2001:db8::1]:3478', totals: clean }, new Chalk({ level: 0 })),
    '           IPv6 [2001:db8::1]:3478  sessions 1 established / 1 active  sent 20  received 20  lost 0 0%  pod changes 0 address changes 0',
  );
  const moved = totalsOf([figures({ sent: 20, received: 20, firstSentAt: 1, establishedAt: 1, identity: podA, podChanges: 1 })]);
  const colour = new Chalk({ level: 1 });
  t.equal(targetStatsLine({ label: 'IPv4 203.0.113.1:3478', totals: moved }, colour), colour.yellow(targetStatsLine({ label: 'IPv4 203.0.113.1:3478', totals: moved }, new Chalk({ level: 0 }))));
  t.notMatch(targetStatsLine({ label: 'x', totals: clean }, colour), /\u001b\[/, 'no colour while all is well');
});
