import t from 'tap';
import { Chalk } from 'chalk';
import { emptyBreakCounts, type BreakCounts, type MoveFinding, type PodBreakCounts } from '../../client/break-classifier.js';
import { breakFindingLine, breakGroupLine, breakSummaryLines, podBreaksText } from '../../client/break-lines.js';
import { endpointRemoved, podA, podB, podC, scaleDownGroup } from '../fixtures/break-sim.js';

const plain = new Chalk({ level: 0 });
const colour = new Chalk({ level: 1 });

function move(fields: Partial<MoveFinding> = {}): MoveFinding {
  return {
    type: 'move',
    time: 10_400,
    session: 7,
    from: podB,
    to: podC,
    silentMs: 1400,
    class: 'expected',
    rule: 'watch-departed',
    confidence: 'high',
    reason: 'removed 400ms before',
    evidence: 'pod-b removed 400ms before',
    decidedAt: 10_400,
    ...fields,
  };
}

const counts = (fields: Partial<BreakCounts> = {}): BreakCounts => ({
  ...emptyBreakCounts(),
  ...fields,
});

t.test('breakFindingLine() of an expected move carries its class and evidence, in yellow', async (t) => {
  const line = '00:00:10.400 session 7 POD CHANGE pod-b (node-2) -> pod-c (node-3) (expected: pod-b removed 400ms before; silent 1.40s)';
  t.equal(breakFindingLine(move(), plain), line);
  t.equal(breakFindingLine(move(), colour), colour.yellow(line));
});

t.test('breakFindingLine() of a violation is red and says the old pod was still ready', async (t) => {
  const line = '00:00:10.400 session 7 POD CHANGE pod-b (node-2) -> pod-c (node-3) (violation: pod-b still ready; silent 1.40s)';
  const violation = move({ class: 'violation', rule: 'watch-still-ready', reason: 'still ready', evidence: 'pod-b still ready' });
  t.equal(breakFindingLine(violation, plain), line);
  t.equal(breakFindingLine(violation, colour), colour.red(line));
});

t.test('breakFindingLine() of an inferred move says so, and a move out of a stuck episode says how long it was stuck', async (t) => {
  const inferred = move({ class: 'violation', rule: 'kept-answering', evidence: 'pod-b still answered 57 other sessions after', stuckMs: 40_001 });
  t.equal(
    breakFindingLine(inferred, plain),
    '00:00:10.400 session 7 POD CHANGE pod-b (node-2) -> pod-c (node-3) (violation, inferred: pod-b still answered 57 other sessions after; silent 1.40s; stuck 40.0s)',
  );
});

t.test('breakFindingLine() of an address change tells a NAT rebinding from a re-balance, in red', async (t) => {
  const line = breakFindingLine(
    {
      type: 'address-change',
      time: 10_400,
      session: 7,
      from: '198.51.100.1:40007',
      to: '198.51.100.9:5000',
      silentMs: 1000,
      class: 'same-pod',
      pod: podA,
      evidence: 'same pod pod-a: a NAT rebinding on the way',
    },
    colour,
  );
  t.equal(line, colour.red('00:00:10.400 session 7 ADDRESS CHANGE 198.51.100.1:40007 -> 198.51.100.9:5000 (same pod pod-a: a NAT rebinding on the way; silent 1.00s)'));
});

t.test('breakFindingLine() of a stuck session says since when, its pod and the likely cause, in red', async (t) => {
  const cause = 'its pod pod-b was removed from the Service 5.00s ago and the session never moved: a stale conntrack entry still sends it to the removed pod';
  const line = breakFindingLine({ type: 'stuck', time: 15_001, session: 7, since: 10_000, pod: podB, cause, causeEvent: endpointRemoved(10_000) }, colour);
  t.equal(
    line,
    colour.red(`00:00:15.001 session 7 STUCK on pod-b (node-2): unanswered for 5.00s since 00:00:10.000 while the Service answers other sessions; ${cause}`),
  );
  t.equal(
    breakFindingLine({ type: 'stuck', time: 6_002, session: 2, since: 1, cause: 'it was never answered' }, plain),
    '00:00:06.002 session 2 STUCK on no pod yet: unanswered for 6.00s since 00:00:00.001 while the Service answers other sessions; it was never answered',
  );
});

t.test('breakFindingLine() of a recovery says after how long and where, in yellow', async (t) => {
  const base = { type: 'stuck-end' as const, time: 50_001, session: 7, since: 10_000, durationMs: 40_001, recovered: true, pod: podB, cause: 'c' };
  t.equal(breakFindingLine({ ...base, to: podC }, colour), colour.yellow('00:00:50.001 session 7 RECOVERED after 40.0s stuck: answered by pod-c (node-3) (moved from pod-b)'));
  t.equal(breakFindingLine({ ...base, to: podB }, plain), '00:00:50.001 session 7 RECOVERED after 40.0s stuck: answered by pod-b (node-2) again');
  t.equal(
    breakFindingLine({ ...base, pod: undefined, to: podA }, plain),
    '00:00:50.001 session 7 RECOVERED after 40.0s stuck: answered by pod-a (node-1) for the first time',
  );
});

t.test('breakFindingLine() of a session still stuck at the end is red and keeps the cause', async (t) => {
  t.equal(
    breakFindingLine({ type: 'stuck-end', time: 60_000, session: 7, since: 10_000, durationMs: 50_000, recovered: false, pod: podB, cause: 'its pod pod-b was deleted' }, colour),
    colour.red('00:01:00.000 session 7 still STUCK at the end, for 50.0s since 00:00:10.000; its pod pod-b was deleted'),
  );
});

t.test("breakGroupLine() reads as the issue's grouped line: 120 sessions left pod-b (removed 400ms before): pod-a 40, pod-c 80; expected", async (t) => {
  const group = scaleDownGroup;
  t.equal(breakGroupLine(group, colour), colour.yellow('00:00:10.400 120 sessions left pod-b (removed 400ms before): pod-a 40, pod-c 80; expected'));
  t.equal(
    breakGroupLine({ ...group, class: 'violation', inferred: true, reason: 'still answered 57 other sessions after', sessions: 1, to: [{ pod: podA, sessions: 1 }] }, colour),
    colour.red('00:00:10.400 1 session left pod-b (still answered 57 other sessions after): pod-a 1; violation, inferred'),
  );
});

t.test('podBreaksText() lists the pods with a break, and says none when there is none', async (t) => {
  const pods: PodBreakCounts[] = [
    { pod: 'pod-a', node: 'node-1', expected: 0, violations: 0, addressChanges: 0, stuck: 0 },
    { pod: 'pod-b', node: 'node-2', expected: 120, violations: 1, addressChanges: 5, stuck: 2 },
    { pod: '192.0.2.7:3478', expected: 0, violations: 2, addressChanges: 1, stuck: 0 },
  ];
  t.equal(podBreaksText(pods), 'pod-b (node-2): 120 expected, 1 violation, 5 address changes, 2 stuck; 192.0.2.7:3478: 0 expected, 2 violations, 1 address change, 0 stuck');
  t.equal(podBreaksText(pods.slice(0, 1)), 'none');
});

t.test('breakSummaryLines() counts the classes apart and says how moves were classified', async (t) => {
  const pods: PodBreakCounts[] = [{ pod: 'pod-b', expected: 120, violations: 0, addressChanges: 3, stuck: 2 }];
  t.same(breakSummaryLines(counts({ expected: 120, addressChanges: 3, samePodAddressChanges: 1, stuck: 2, longestStuckMs: 40_001 }), pods, true), [
    '  moves           120 expected, 0 violations',
    '  address changes 3 (1 on the same pod: NAT rebinding; 2 with a pod change)',
    '  stuck           2 sessions, longest 40.0s',
    '  breaks by pod   pod-b: 120 expected, 0 violations, 3 address changes, 2 stuck',
  ]);
  t.same(breakSummaryLines(counts({ expected: 3, violations: 1, inferred: 4 }), [], false).slice(0, 3), [
    '  moves           3 expected, 1 violation (inferred from the run: no cluster watch)',
    '  address changes 0',
    '  stuck           none',
  ]);
  t.equal(breakSummaryLines(counts({ violations: 1, inferred: 1 }), [], true)[0], '  moves           0 expected, 1 violation (1 inferred: pods the watch cannot name)');
});
