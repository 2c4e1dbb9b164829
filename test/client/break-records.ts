import t from 'tap';
import { breakGroupRecordOf, breakRecordOf } from '../../client/break-records.js';
import { endpointRemoved, identities, podA, podB, podC, scaleDownGroup } from '../fixtures/break-sim.js';

t.test('breakRecordOf() of a move names its pods and nodes, its rule and the cluster event that decided it', async (t) => {
  t.same(
    breakRecordOf({
      type: 'move',
      time: 50_001,
      session: 1,
      from: podB,
      to: podC,
      silentMs: 41_000.1234,
      class: 'expected',
      rule: 'watch-departed',
      confidence: 'high',
      reason: 'removed 40.0s before',
      evidence: 'pod-b removed 40.0s before',
      cause: endpointRemoved(10_000),
      stuckMs: 40_001,
      decidedAt: 50_001,
    }),
    {
      type: 'move',
      time: '1970-01-01T00:00:50.001Z',
      session: 1,
      from: 'pod-b',
      fromNode: 'node-2',
      to: 'pod-c',
      toNode: 'node-3',
      class: 'expected',
      rule: 'watch-departed',
      confidence: 'high',
      evidence: 'pod-b removed 40.0s before',
      silentMs: 41_000.123,
      stuckMs: 40_001,
      cause: { kind: 'endpoint-removed', text: 'endpoint 10.1.0.2 (pod-b) removed', time: '1970-01-01T00:00:10.000Z' },
      answeredAfter: null,
      decidedAt: '1970-01-01T00:00:50.001Z',
    },
  );
});

t.test('breakRecordOf() of an inferred move has no cause but the count that decided it', async (t) => {
  const record = breakRecordOf({
    type: 'move',
    time: 10_001,
    session: 2,
    from: podB,
    to: podC,
    silentMs: 1000,
    class: 'violation',
    rule: 'kept-answering',
    confidence: 'high',
    reason: 'still answered 3 other sessions after',
    evidence: 'pod-b still answered 3 other sessions after',
    answeredAfter: 3,
    decidedAt: 14_003,
  });
  t.same([record.type === 'move' && record.cause, record.type === 'move' && record.answeredAfter, record.type === 'move' && record.stuckMs], [null, 3, null]);
});

t.test('breakRecordOf() of a move between plain STUN servers has no nodes', async (t) => {
  const plain = identities.unnamed('192.0.2.7', '192.0.2.7:3478', undefined);
  const other = identities.unnamed('192.0.2.8', '192.0.2.8:3478', undefined);
  const record = breakRecordOf({
    type: 'move',
    time: 1,
    session: 1,
    from: plain,
    to: other,
    silentMs: 1,
    class: 'expected',
    rule: 'never-answered',
    confidence: 'low',
    reason: 'answered no other session after',
    evidence: '192.0.2.7:3478 answered no other session after',
    answeredAfter: 0,
    decidedAt: 4001,
  });
  t.same(record.type === 'move' && [record.from, record.fromNode, record.to, record.toNode], ['192.0.2.7:3478', null, '192.0.2.8:3478', null]);
});

t.test('breakRecordOf() of an address change keeps both pods of a re-balance', async (t) => {
  t.same(
    breakRecordOf({
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
    }),
    {
      type: 'address-change',
      time: '1970-01-01T00:00:11.001Z',
      session: 1,
      from: '198.51.100.9:5000',
      to: '198.51.100.9:6000',
      class: 'with-pod-change',
      pod: 'pod-a',
      toPod: 'pod-b',
      evidence: 'with the move pod-a -> pod-b: re-balanced through another node or SNAT',
      silentMs: 1000,
    },
  );
});

t.test('breakRecordOf() of a stuck session and of its end say since when, how long and where it went', async (t) => {
  t.same(breakRecordOf({ type: 'stuck', time: 6_002, session: 2, since: 1, cause: 'it was never answered' }), {
    type: 'stuck',
    time: '1970-01-01T00:00:06.002Z',
    session: 2,
    since: '1970-01-01T00:00:00.001Z',
    pod: null,
    node: null,
    cause: 'it was never answered',
  });
  t.same(breakRecordOf({ type: 'stuck-end', time: 50_001, session: 1, since: 10_000, durationMs: 40_001, recovered: true, pod: podB, to: podC, cause: 'c' }), {
    type: 'stuck-end',
    time: '1970-01-01T00:00:50.001Z',
    session: 1,
    since: '1970-01-01T00:00:10.000Z',
    pod: 'pod-b',
    node: 'node-2',
    cause: 'c',
    durationMs: 40_001,
    recovered: true,
    to: 'pod-c',
  });
});

t.test('breakGroupRecordOf() names the pods of a group', async (t) => {
  t.same(
    breakGroupRecordOf(scaleDownGroup),
    {
      time: '1970-01-01T00:00:10.400Z',
      lastTime: '1970-01-01T00:00:10.519Z',
      from: 'pod-b',
      class: 'expected',
      inferred: false,
      reason: 'removed 400ms before',
      sessions: 120,
      to: [
        { pod: 'pod-a', sessions: 40 },
        { pod: 'pod-c', sessions: 80 },
      ],
    },
  );
});
