import t from 'tap';
import type { MoveFinding } from '../../client/break-classifier.js';
import { BreakGroups, GROUP_WINDOW_MS } from '../../client/break-groups.js';
import { BreakSim, endpointRemoved, podA, podB, podC } from '../fixtures/break-sim.js';

function move(session: number, time: number, fields: Partial<MoveFinding> = {}): MoveFinding {
  return {
    type: 'move',
    time,
    session,
    from: podB,
    to: podA,
    silentMs: 1000,
    class: 'expected',
    rule: 'watch-departed',
    confidence: 'high',
    reason: 'removed 400ms before',
    evidence: 'pod-b removed 400ms before',
    decidedAt: time,
    ...fields,
  };
}

const shape = (groups: ReturnType<BreakGroups['tick']>) =>
  groups.map((g) => ({ time: g.time, lastTime: g.lastTime, from: g.from.label, class: g.class, inferred: g.inferred, reason: g.reason, sessions: g.sessions, to: g.to.map((d) => [d.pod.label, d.sessions]) }));

t.test('a scale-down of 120 sessions off pod-b within a second makes one group, complete once no move came for a window', async (t) => {
  const pods = [...Array<typeof podB>(120).fill(podB), podA, podC];
  const sim = new BreakSim(pods.length);
  sim.rounds(0, 9000, pods);
  sim.classifier.clusterEvent(endpointRemoved(10_000));
  sim.round(10_399, [...pods.slice(0, 120).map((_, index) => (index % 3 === 0 ? podA : podC)), podA, podC]);
  const groups = new BreakGroups();
  for (const finding of sim.take()) if (finding.type === 'move') groups.add(finding);
  t.same(groups.tick(11_519), [], 'the last move was decided at 10,519: a full window has not passed');
  t.same(shape(groups.tick(11_520)), [
    {
      time: 10_400,
      lastTime: 10_519,
      from: 'pod-b',
      class: 'expected',
      inferred: false,
      reason: 'removed 400ms before',
      sessions: 120,
      to: [
        ['pod-a', 40],
        ['pod-c', 80],
      ],
    },
  ]);
  t.same(groups.tick(20_000), [], 'a group is given once');
});

t.test('moves further apart than the window start a new group', async (t) => {
  const groups = new BreakGroups();
  groups.add(move(1, 10_000));
  groups.add(move(2, 10_000 + GROUP_WINDOW_MS));
  groups.add(move(3, 12_001));
  groups.add(move(4, 12_500));
  t.same(
    shape(groups.flush()).map((g) => [g.time, g.lastTime, g.sessions]),
    [
      [10_000, 11_000, 2],
      [12_001, 12_500, 2],
    ],
  );
});

t.test('moves off one pod but of another class, or inferred, are grouped apart', async (t) => {
  const groups = new BreakGroups();
  groups.add(move(1, 10_000));
  groups.add(move(2, 10_100));
  groups.add(move(3, 10_000, { class: 'violation', rule: 'watch-still-ready', reason: 'still ready' }));
  groups.add(move(4, 10_100, { class: 'violation', rule: 'watch-still-ready', reason: 'still ready' }));
  groups.add(move(5, 10_000, { rule: 'never-answered', reason: 'answered no other session after' }));
  groups.add(move(6, 10_100, { rule: 'never-answered', reason: 'answered no other session after' }));
  t.same(
    shape(groups.flush()).map((g) => [g.class, g.inferred, g.reason, g.sessions]),
    [
      ['expected', false, 'removed 400ms before', 2],
      ['violation', false, 'still ready', 2],
      ['expected', true, 'answered no other session after', 2],
    ],
  );
});

t.test('a lone move makes no group: its own line says it all', async (t) => {
  const groups = new BreakGroups();
  groups.add(move(1, 10_000));
  t.same(groups.tick(20_000), []);
  const groupsOfOne = new BreakGroups(GROUP_WINDOW_MS, 1);
  groupsOfOne.add(move(1, 10_000));
  t.same(shape(groupsOfOne.tick(20_000)).map((g) => g.sessions), [1], 'unless minSessions says so');
});

t.test('tick() waits for moves decided late: a group stays open while members keep being decided', async (t) => {
  const groups = new BreakGroups();
  groups.add(move(1, 10_000, { decidedAt: 14_000 }));
  groups.add(move(2, 10_600, { decidedAt: 14_600 }));
  t.same(groups.tick(15_000), [], 'decided 400ms ago');
  t.same(shape(groups.tick(15_601)).map((g) => [g.time, g.sessions]), [[10_000, 2]]);
});
