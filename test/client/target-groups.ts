import t from 'tap';
import { splitByTarget, targetIndexOf, targetLabel, totalsByTarget } from '../../client/target-groups.js';
import type { SessionFigures } from '../../client/stats.js';

t.test('targetIndexOf() deals sessions round robin', async (t) => {
  t.same([0, 1, 2, 3, 4].map((i) => targetIndexOf(i, 2)), [0, 1, 0, 1, 0]);
  t.same([0, 1, 2].map((i) => targetIndexOf(i, 1)), [0, 0, 0], 'one target takes every session');
});

t.test('targetLabel() names the family before the endpoint', async (t) => {
  t.equal(targetLabel({ family: 4, endpoint: '203.0.113.1:3478' }), 'IPv4 203.0.113.1:3478');
  t.equal(targetLabel({ family: 6, endpoint: '[2001:db8::1]:3478' }), 'IPv6 [2001:db8::1]:3478');
});

t.test('splitByTarget() keeps the order within each target and leaves a target with no item empty', async (t) => {
  t.same(splitByTarget(['s1', 's2', 's3', 's4', 's5'], 2), [['s1', 's3', 's5'], ['s2', 's4']]);
  t.same(splitByTarget(['s1'], 2), [['s1'], []]);
});

t.test('totalsByTarget() sums each target\'s sessions alone', async (t) => {
  const session = (sent: number, podChanges: number): SessionFigures =>
    ({ counters: { sent, received: sent, late: 0, timedOut: 0, duplicates: 0, reordered: 0, lostRequests: 0, lostReplies: 0, podChanges, addressChanges: 0, lossBursts: 0, ignored: 0, longestOutageMs: 0, firstSentAt: 0, establishedAt: 1 }, lost: 0, pending: 0, identity: undefined }) as unknown as SessionFigures;
  const [v4, v6] = totalsByTarget([session(10, 1), session(20, 0), session(30, 2)], 2);
  t.same([v4!.sessions, v4!.sent, v4!.podChanges], [2, 40, 3]);
  t.same([v6!.sessions, v6!.sent, v6!.podChanges], [1, 20, 0]);
});
