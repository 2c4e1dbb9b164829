import t from 'tap';
import { BreakClassifier, settleWindowMs, type BreakFinding, type MoveFinding } from '../../client/break-classifier.js';
import { BreakSim, endpointRemoved, identities, podA, podB, podC } from '../fixtures/break-sim.js';

/** The fields of a move a test reads, without the identities' objects. */
function moveSummary(move: BreakFinding) {
  if (move.type !== 'move') return { type: move.type };
  const { session, time, class: moveClass, rule, confidence, reason, evidence, decidedAt } = move;
  return {
    session,
    time,
    from: move.from.label,
    to: move.to.label,
    class: moveClass,
    rule,
    confidence,
    reason,
    evidence,
    decidedAt,
    ...(move.answeredAfter === undefined ? {} : { answeredAfter: move.answeredAfter }),
    ...(move.stuckMs === undefined ? {} : { stuckMs: move.stuckMs }),
  };
}

t.test('settleWindowMs() is two intervals and one timeout', async (t) => {
  t.equal(settleWindowMs(1000, 2000), 4000);
  t.equal(settleWindowMs(200, 500), 900);
});

t.test('a scale-down whose endpoint was removed 400ms before the moves: every move is expected at once, by the watch', async (t) => {
  const sim = new BreakSim(6);
  sim.rounds(0, 9000, [podB, podB, podB, podA, podC, podC]);
  const removal = endpointRemoved(10_000);
  sim.classifier.clusterEvent(removal);
  sim.round(10_399, [podA, podC, podC, podA, podC, podC]);
  const moves = sim.take();
  t.same(moves.map(moveSummary), [
    { session: 1, time: 10_400, from: 'pod-b', to: 'pod-a', class: 'expected', rule: 'watch-departed', confidence: 'high', reason: 'removed 400ms before', evidence: 'pod-b removed 400ms before', decidedAt: 10_400 },
    { session: 2, time: 10_401, from: 'pod-b', to: 'pod-c', class: 'expected', rule: 'watch-departed', confidence: 'high', reason: 'removed 401ms before', evidence: 'pod-b removed 401ms before', decidedAt: 10_401 },
    { session: 3, time: 10_402, from: 'pod-b', to: 'pod-c', class: 'expected', rule: 'watch-departed', confidence: 'high', reason: 'removed 402ms before', evidence: 'pod-b removed 402ms before', decidedAt: 10_402 },
  ]);
  t.equal((moves[0] as MoveFinding).cause, removal, 'the removal is the evidence');
  t.equal((moves[0] as MoveFinding).silentMs, 1399);
  sim.rounds(11_399, 30_399, [podA, podC, podC, podA, podC, podC]);
  for (let now = 11_000; now <= 31_000; now += 500) sim.classifier.tick(now);
  sim.classifier.finish(31_000);
  t.same(sim.take(), [], 'nothing more: no violation, nobody stuck');
  const { total, pods } = sim.classifier.counts();
  t.same(total, { expected: 3, violations: 0, inferred: 0, addressChanges: 0, samePodAddressChanges: 0, stuck: 0, stuckNow: 0, longestStuckMs: 0, undecided: 0 });
  t.same(
    pods.map((p) => [p.pod, p.expected, p.violations, p.addressChanges, p.stuck]),
    [
      ['pod-a', 0, 0, 0, 0],
      ['pod-b', 3, 0, 0, 0],
      ['pod-c', 0, 0, 0, 0],
    ],
  );
});

t.test('a balancer restart that re-balances sessions while every pod stays: every move is a violation, once the watch lag is over', async (t) => {
  const sim = new BreakSim(6);
  sim.rounds(0, 9000, [podA, podB, podC, podA, podB, podC]);
  sim.round(10_000, [podB, podC, podA, podA, podB, podC]);
  t.same(sim.take(), [], 'not decided at the move: the watch may not have seen a removal yet');
  sim.classifier.tick(11_000);
  t.same(sim.take(), []);
  sim.classifier.tick(11_001);
  t.same(sim.take().map(moveSummary), [
    { session: 1, time: 10_001, from: 'pod-a', to: 'pod-b', class: 'violation', rule: 'watch-still-ready', confidence: 'high', reason: 'still ready', evidence: 'pod-a still ready', decidedAt: 11_001 },
  ]);
  t.equal(sim.classifier.counts().total.undecided, 2);
  sim.classifier.tick(11_003);
  t.same(
    sim.take().map((m) => [m.session, (m as MoveFinding).class, (m as MoveFinding).evidence]),
    [
      [2, 'violation', 'pod-b still ready'],
      [3, 'violation', 'pod-c still ready'],
    ],
  );
  t.same(
    sim.classifier.counts().pods.map((p) => [p.pod, p.violations]),
    [
      ['pod-a', 1],
      ['pod-b', 1],
      ['pod-c', 1],
    ],
  );
});

t.test('a stale conntrack entry: the session is stuck with its removed pod as the cause, then recovers and counts as an expected move', async (t) => {
  const sim = new BreakSim(4);
  sim.rounds(0, 9000, [podB, podB, podA, podC]);
  sim.classifier.clusterEvent(endpointRemoved(10_000));
  // kube-proxy cleared session 2's entry, not session 1's: session 1 keeps sending into the void.
  sim.rounds(10_000, 49_000, [undefined, podA, podA, podC]);
  t.same(sim.take().map((f) => [f.type, f.session]), [['move', 2]]);
  sim.classifier.tick(15_000);
  t.same(sim.take(), [], 'unanswered for exactly --stuck-after is not yet stuck');
  sim.classifier.tick(15_001);
  t.same(sim.take(), [
    {
      type: 'stuck',
      time: 15_001,
      session: 1,
      since: 10_000,
      pod: podB,
      cause: 'its pod pod-b was removed from the Service 5.00s ago and the session never moved: a stale conntrack entry still sends it to the removed pod',
      causeEvent: endpointRemoved(10_000),
    },
  ]);
  t.equal(sim.classifier.counts().total.stuckNow, 1);
  for (let now = 16_000; now <= 49_000; now += 1000) sim.classifier.tick(now);
  t.same(sim.take(), [], 'stuck once, not once per tick');

  // The stale entry is deleted: the next request reaches pod-c.
  sim.round(50_000, [podC, podA, podA, podC]);
  const [ended, move] = sim.take();
  t.same(ended, {
    type: 'stuck-end',
    time: 50_001,
    session: 1,
    since: 10_000,
    durationMs: 40_001,
    recovered: true,
    pod: podB,
    to: podC,
    cause: 'its pod pod-b was removed from the Service 40.0s ago and the session never moved: a stale conntrack entry still sends it to the removed pod',
    causeEvent: endpointRemoved(10_000),
  });
  t.same(moveSummary(move!), {
    session: 1,
    time: 50_001,
    from: 'pod-b',
    to: 'pod-c',
    class: 'expected',
    rule: 'watch-departed',
    confidence: 'high',
    reason: 'removed 40.0s before',
    evidence: 'pod-b removed 40.0s before',
    decidedAt: 50_001,
    stuckMs: 40_001,
  });
  const { total, pods } = sim.classifier.counts();
  t.same([total.expected, total.violations, total.stuck, total.stuckNow, total.longestStuckMs], [2, 0, 1, 0, 40_001]);
  t.same(pods.find((p) => p.pod === 'pod-b'), { pod: 'pod-b', node: 'node-2', expected: 2, violations: 0, addressChanges: 0, stuck: 1 });
});

t.test('finish() counts a session still stuck at the end up to the end', async (t) => {
  const sim = new BreakSim(3);
  sim.rounds(0, 9000, [podB, podA, podC]);
  sim.classifier.clusterEvent(endpointRemoved(10_000));
  sim.rounds(10_000, 59_000, [undefined, podA, podC]);
  sim.classifier.tick(20_000);
  t.same(sim.take().map((f) => [f.type, f.time]), [['stuck', 20_000]]);
  sim.classifier.finish(60_000);
  const [ended] = sim.take();
  t.same(ended && { ...ended, cause: undefined, causeEvent: undefined }, {
    type: 'stuck-end',
    time: 60_000,
    session: 1,
    since: 10_000,
    durationMs: 50_000,
    recovered: false,
    pod: podB,
    cause: undefined,
    causeEvent: undefined,
  });
  t.same([sim.classifier.counts().total.stuck, sim.classifier.counts().total.longestStuckMs], [1, 50_000]);
});

t.test('a pod marked terminating that still serves keeps its sessions, and nothing is reported', async (t) => {
  const sim = new BreakSim(4);
  sim.rounds(0, 9000, [podB, podB, podA, podC]);
  sim.classifier.clusterEvent({ time: 10_000, kind: 'pod-terminating', subject: 'pod-b', text: 'pod pod-b Terminating' });
  sim.classifier.clusterEvent({ ...endpointRemoved(10_000), kind: 'endpoint-terminating', text: 'endpoint 10.1.0.2 (pod-b) terminating' });
  sim.classifier.clusterEvent({ ...endpointRemoved(10_000), kind: 'endpoint-not-ready', text: 'endpoint 10.1.0.2 (pod-b) became not ready' });
  for (let at = 10_000; at <= 40_000; at += 1000) {
    sim.round(at, [podB, podB, podA, podC]);
    sim.classifier.tick(at + 500);
  }
  sim.classifier.finish(41_000);
  t.same(sim.take(), []);
  t.same(sim.classifier.counts().total, { expected: 0, violations: 0, inferred: 0, addressChanges: 0, samePodAddressChanges: 0, stuck: 0, stuckNow: 0, longestStuckMs: 0, undecided: 0 });
});

t.test('without a watch, a scale-down is inferred expected (low confidence) once the settle window shows the old pod answered nobody after', async (t) => {
  const sim = new BreakSim(6, { watched: false, settleMs: 4000 });
  sim.rounds(0, 9000, [podB, podB, podB, podA, podC, podC]);
  sim.rounds(10_399, 13_399, [podA, podC, podC, podA, podC, podC]);
  sim.classifier.tick(14_399);
  t.same(sim.take(), []);
  sim.classifier.tick(14_400);
  t.same(sim.take().map(moveSummary), [
    {
      session: 1,
      time: 10_400,
      from: 'pod-b',
      to: 'pod-a',
      class: 'expected',
      rule: 'never-answered',
      confidence: 'low',
      reason: 'answered no other session after',
      evidence: 'pod-b answered no other session after',
      decidedAt: 14_400,
      answeredAfter: 0,
    },
  ]);
  sim.classifier.tick(14_402);
  t.same(
    sim.take().map((m) => [m.session, (m as MoveFinding).class, (m as MoveFinding).rule]),
    [
      [2, 'expected', 'never-answered'],
      [3, 'expected', 'never-answered'],
    ],
  );
  t.same([sim.classifier.counts().total.expected, sim.classifier.counts().total.inferred], [3, 3]);
});

t.test('without a watch, a restart is inferred a violation: the old pod still answered other sessions after the move', async (t) => {
  const sim = new BreakSim(7, { watched: false, settleMs: 4000 });
  sim.rounds(0, 9000, [podA, podB, podC, podA, podB, podC, podB]);
  sim.rounds(10_000, 13_000, [podB, podC, podA, podA, podB, podC, podB]);
  sim.classifier.tick(14_000);
  t.same(sim.take(), []);
  sim.classifier.tick(14_003);
  t.same(
    sim.take().map((m) => [m.session, (m as MoveFinding).class, (m as MoveFinding).rule, (m as MoveFinding).confidence, (m as MoveFinding).evidence]),
    [
      // pod-a answered sessions 3 (moved onto it) and 4; pod-b sessions 1, 5 and 7; pod-c sessions 2 and 6.
      [1, 'violation', 'kept-answering', 'high', 'pod-a still answered 2 other sessions after'],
      [2, 'violation', 'kept-answering', 'high', 'pod-b still answered 3 other sessions after'],
      [3, 'violation', 'kept-answering', 'high', 'pod-c still answered 2 other sessions after'],
    ],
  );
  t.same([sim.classifier.counts().total.violations, sim.classifier.counts().total.inferred], [3, 3]);
});

t.test('the kept-answering count leaves out the moving session itself when it comes back to the old pod', async (t) => {
  const sim = new BreakSim(2, { watched: false, settleMs: 4000 });
  sim.rounds(0, 9000, [podA, podB]);
  sim.round(10_000, [podB, podB]);
  sim.round(11_000, [podA, podB]);
  sim.classifier.tick(14_001);
  t.same(
    sim.take().map((m) => [m.session, m.time, (m as MoveFinding).evidence]),
    [[1, 10_001, 'pod-a answered no other session after']],
  );
});

t.test('with a watch, a pod it cannot name (a plain STUN server) is judged by inference', async (t) => {
  const plain = identities.unnamed('192.0.2.7', '192.0.2.7:3478', 'Coturn-4.6');
  const sim = new BreakSim(2, { watched: true, settleMs: 4000 });
  sim.rounds(0, 9000, [plain, podA]);
  sim.rounds(10_000, 13_000, [podA, podA]);
  sim.classifier.tick(11_001);
  t.same(sim.take(), [], 'not decided after the watch lag');
  sim.classifier.tick(14_001);
  t.same(sim.take().map((m) => [(m as MoveFinding).rule, (m as MoveFinding).evidence]), [['never-answered', '192.0.2.7:3478 answered no other session after']]);
});

t.test('a departure the watch reports just after the move, within its lag, still makes it expected', async (t) => {
  const sim = new BreakSim(2);
  sim.rounds(0, 9000, [podB, podA]);
  sim.round(10_000, [podA, podA]);
  sim.classifier.clusterEvent(endpointRemoved(10_301));
  sim.classifier.tick(11_001);
  t.same(sim.take().map(moveSummary), [
    {
      session: 1,
      time: 10_001,
      from: 'pod-b',
      to: 'pod-a',
      class: 'expected',
      rule: 'watch-departed-after',
      confidence: 'high',
      reason: "removed 300ms after, within the watch's lag",
      evidence: "pod-b removed 300ms after, within the watch's lag",
      decidedAt: 11_001,
    },
  ]);
});

t.test('a departure reported after the watch lag does not excuse the move', async (t) => {
  const sim = new BreakSim(2);
  sim.rounds(0, 9000, [podB, podA]);
  sim.round(10_000, [podA, podA]);
  sim.classifier.clusterEvent(endpointRemoved(11_002));
  sim.classifier.tick(11_002);
  t.same(sim.take().map((m) => (m as MoveFinding).class), ['violation']);
});

t.test("a move off a pod whose node went NotReady names the node: pod-b's node node-2 NotReady", async (t) => {
  const sim = new BreakSim(2);
  sim.rounds(0, 7000, [podB, podA]);
  sim.classifier.clusterEvent({ time: 8_001, kind: 'node-not-ready', subject: 'node-2', text: 'node node-2 became NotReady' });
  sim.round(10_000, [podA, podA]);
  t.same(sim.take().map((m) => [(m as MoveFinding).reason, (m as MoveFinding).evidence]), [['node node-2 NotReady 2.00s before', "pod-b's node node-2 NotReady 2.00s before"]]);
});

t.test('finish() decides the moves still waiting, with what is known at the end', async (t) => {
  const sim = new BreakSim(2);
  sim.rounds(0, 9000, [podB, podA]);
  sim.round(10_000, [podA, podA]);
  sim.classifier.finish(10_500);
  t.same(sim.take().map((m) => [(m as MoveFinding).class, (m as MoveFinding).decidedAt]), [['violation', 10_500]]);
  t.equal(sim.classifier.counts().total.undecided, 0);
});

t.test('an address change on the same pod is a NAT rebinding; one in the same reply as a pod change came with it', async (t) => {
  const sim = new BreakSim(2);
  sim.rounds(0, 9000, [podA, podA]);
  sim.request(1, 10_000, podA, '198.51.100.9:5000');
  t.same(sim.take(), [
    {
      type: 'address-change',
      time: 10_001,
      session: 1,
      from: '198.51.100.1:40001',
      to: '198.51.100.9:5000',
      silentMs: 1000,
      class: 'same-pod',
      pod: podA,
      evidence: 'same pod pod-a: a NAT rebinding on the way',
    },
  ]);
  sim.request(1, 11_000, podB, '198.51.100.9:6000');
  const [change] = sim.take();
  t.same(change, {
    type: 'address-change',
    time: 11_001,
    session: 1,
    from: '198.51.100.9:5000',
    to: '198.51.100.9:6000',
    silentMs: 1000,
    class: 'with-pod-change',
    pod: podA,
    toPod: podB,
    evidence: 'with the move pod-a -> pod-b: re-balanced through another node or SNAT',
  });
  const { total, pods } = sim.classifier.counts();
  t.same([total.addressChanges, total.samePodAddressChanges], [2, 1]);
  t.same(pods.map((p) => [p.pod, p.addressChanges]), [
    ['pod-a', 2],
    ['pod-b', 0],
  ]);
});

t.test('no session is stuck while the whole Service is silent; one that stays silent when the others are answered again is', async (t) => {
  const sim = new BreakSim(3);
  sim.rounds(0, 9000, [podA, podB, podC]);
  sim.rounds(10_000, 20_000, [undefined, undefined, undefined]);
  sim.classifier.tick(20_500);
  t.same(sim.take(), [], 'an outage of all is loss, not stuck');
  sim.round(21_000, [undefined, podB, podC]);
  sim.classifier.tick(21_500);
  t.same(sim.take(), [
    {
      type: 'stuck',
      time: 21_500,
      session: 1,
      since: 10_000,
      pod: podA,
      cause: 'its pod pod-a is still a ready endpoint but answers no session: the pod stopped answering before Kubernetes noticed',
    },
  ]);
});

t.test('a stuck session answered again by its own pod recovers there, and the cause says its pod still served others', async (t) => {
  const sim = new BreakSim(4);
  sim.rounds(0, 9000, [podA, podB, podC, podA]);
  sim.rounds(10_000, 16_000, [undefined, podB, podC, podA]);
  sim.classifier.tick(15_001);
  const [stuck] = sim.take();
  t.equal(
    stuck?.type === 'stuck' && stuck.cause,
    "its pod pod-a is still a ready endpoint and answers other sessions: something on this session's path drops its datagrams",
  );
  sim.round(17_000, [podA, podB, podC, podA]);
  t.same(sim.take().map((f) => (f.type === 'stuck-end' ? [f.recovered, f.to?.label, f.durationMs] : f.type)), [[true, 'pod-a', 7_001]]);
});

t.test('without a watch the stuck cause is inferred from whether its pod still answers anyone', async (t) => {
  const sim = new BreakSim(3, { watched: false });
  sim.rounds(0, 9000, [podB, podA, podC]);
  sim.rounds(10_000, 15_000, [undefined, podA, podC]);
  sim.classifier.tick(15_001);
  t.same(
    sim.take().map((f) => f.type === 'stuck' && f.cause),
    ['its pod pod-b answers no session any more and the session never moved: likely a stale conntrack entry still sending it to a pod that is gone (inferred)'],
  );
});

t.test('a session never answered while others are is stuck with no pod', async (t) => {
  const sim = new BreakSim(2);
  sim.rounds(0, 6000, [podA, undefined]);
  sim.classifier.tick(6_002);
  t.same(sim.take(), [{ type: 'stuck', time: 6_002, session: 2, since: 1, cause: 'it was never answered' }]);
});

t.test('reply() to a request older than the first unanswered one does not end the unanswered time', async (t) => {
  const findings: BreakFinding[] = [];
  const classifier = new BreakClassifier({ sessions: 2, watched: true, settleMs: 4000, emit: (f) => findings.push(f) });
  classifier.sent(1, 1_000);
  classifier.reply(1, podA, 900, 1_100);
  classifier.sent(2, 2_000);
  classifier.reply(2, podA, 2_000, 2_001);
  classifier.tick(6_001);
  t.same(
    findings.map((f) => [f.type, f.session]),
    [['stuck', 1]],
  );
});

t.test('--stuck-after and the watch lag are options', async (t) => {
  const classifier = new BreakClassifier({ sessions: 1, watched: true, settleMs: 900, stuckAfterMs: 2000, watchLagMs: 250, emit: () => {} });
  t.same([classifier.settleMs, classifier.stuckAfterMs, classifier.watchLagMs, classifier.watched], [900, 2000, 250, true]);
  const defaults = new BreakClassifier({ sessions: 1, watched: false, settleMs: 4000, emit: () => {} });
  t.same([defaults.stuckAfterMs, defaults.watchLagMs], [5000, 1000]);
});

t.test('sessionEvent() of a loss burst changes nothing: loss is counted elsewhere, stuck by time', async (t) => {
  const sim = new BreakSim(1);
  sim.rounds(0, 2000, [podA]);
  sim.classifier.sessionEvent({ type: 'loss-burst', time: 2_500, session: 1, consecutive: 3, silentMs: 1500 });
  sim.classifier.finish(3_000);
  t.same(sim.take(), []);
  t.same(sim.classifier.counts().total.stuck, 0);
});
