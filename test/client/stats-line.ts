import t from 'tap';
import { Chalk } from 'chalk';
import { formatBreaks, formatDistribution, STATS_LINE_WIDTH, statsLine, type StatsSnapshot } from '../../client/stats-line.js';
import { emptyBreakCounts, type BreakCounts } from '../../client/break-classifier.js';
import { periodOf, totalsOf, type PodShare, type SessionFigures } from '../../client/stats.js';
import { emptyCounters } from '../../client/session.js';

const plain = new Chalk({ level: 0 });
const TIME = Date.UTC(2026, 0, 1, 12, 0, 5, 250);

function session(counters: Partial<SessionFigures['counters']>, lost = 0): SessionFigures {
  return { lost, pending: 0, identity: undefined, counters: { ...emptyCounters(), firstSentAt: 1, establishedAt: 1, ...counters } };
}

const breaks = (b: Partial<BreakCounts> = {}): BreakCounts => ({ ...emptyBreakCounts(), ...b });

function snapshot(sessions: SessionFigures[], pods: PodShare[], counts: BreakCounts = breaks()): StatsSnapshot {
  const totals = totalsOf(sessions);
  return { time: TIME, totals, period: periodOf(totals, totalsOf([])), rtt: { p50Ms: 0.42, p90Ms: 1, p99Ms: 12.3, maxMs: 20 }, pods, breaks: counts };
}

t.test('formatBreaks() says changes 0, or the classes apart in few columns, with what is undecided and stuck right now', async (t) => {
  t.equal(formatBreaks(breaks()), 'changes 0');
  t.equal(formatBreaks(breaks({ expected: 120, violations: 3, undecided: 2, addressChanges: 5, stuck: 2, stuckNow: 1 })), 'exp 120 viol 3+2? addr 5 stuck 2 (1 now)');
  t.equal(formatBreaks(breaks({ violations: 1 })), 'exp 0 viol 1 addr 0', 'stuck only once a session was');
});

const pods = (...counts: number[]): PodShare[] => counts.map((sessions, i) => ({ label: `pod-${String.fromCharCode(97 + i)}`, sessions }));

t.test('formatDistribution() names the largest pods and counts the rest', async (t) => {
  t.equal(formatDistribution(pods(2, 1)), 'pod-a 2, pod-b 1');
  t.equal(formatDistribution(pods(5, 4, 3, 2, 1, 1)), 'pod-a 5, pod-b 4, pod-c 3, pod-d 2 and 2 more');
  t.equal(formatDistribution(pods(5, 4, 3), 2), 'pod-a 5, pod-b 4 and 1 more');
  t.equal(formatDistribution([]), 'none yet');
});

t.test('statsLine() of a few pods is one line within 120 columns', async (t) => {
  const line = statsLine(snapshot([session({ sent: 20, received: 20 }), session({ sent: 20, received: 20 })], pods(1, 1)), plain);
  t.equal(line, '12:00:05 stats  sessions 2/2  sent +40 (40)  lost +0 (0) 0%  rtt p50 0.42 p99 12.3ms  changes 0  pods: pod-a 1, pod-b 1');
  t.ok(line.length <= STATS_LINE_WIDTH);
});

t.test('statsLine() puts the pods on a second line, top four and the rest counted, when one line would pass 120 columns', async (t) => {
  const sessions = [session({ sent: 6000, received: 5990, timedOut: 10, podChanges: 3, addressChanges: 1 }, 10)];
  const many = [...pods(40, 30, 20, 10, 5, 5).map((p) => ({ ...p, label: `affinity-tester-7d9f8c6b5-${p.label}` }))];
  const line = statsLine(snapshot(sessions, many, breaks({ expected: 2, violations: 1, addressChanges: 1 })), plain);
  t.equal(
    line,
    '12:00:05 stats  sessions 1/1  sent +6000 (6000)  lost +10 (10) 0.167%  rtt p50 0.42 p99 12.3ms  exp 2 viol 1 addr 1\n' +
      '         pods: affinity-tester-7d9f8c6b5-pod-a 40, affinity-tester-7d9f8c6b5-pod-b 30, affinity-tester-7d9f8c6b5-pod-c 20, affinity-tester-7d9f8c6b5-pod-d 10 and 2 more',
  );
  t.ok(line.split('\n')[0]!.length <= STATS_LINE_WIDTH);
});

t.test('statsLine() is green when nothing broke, plain after a change, yellow in a period with loss', async (t) => {
  const colour = new Chalk({ level: 1 });
  t.equal(statsLine(snapshot([session({ sent: 1, received: 1 })], []), colour), colour.green(statsLine(snapshot([session({ sent: 1, received: 1 })], []), plain)));
  const changed = snapshot([session({ sent: 1, received: 1, podChanges: 1 })], []);
  const quiet = { ...changed, period: periodOf(changed.totals, changed.totals) };
  t.equal(statsLine(quiet, colour), statsLine(quiet, plain));
  t.equal(statsLine(changed, colour), colour.yellow(statsLine(changed, plain)));
});
