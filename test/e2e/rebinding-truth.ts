import t from 'tap';
import { rebindingTruth, type RebindingInput } from './lib/rebinding-truth.js';

const ip = '203.0.113.2';
const event = (session: number, from: number, to: number) => ({ time: '', type: 'address-change', session, from: `${ip}:${from}`, to: `${ip}:${to}`, silentMs: 100 });
const session = (n: number, localPort: number) => ({
  session: n,
  localPort,
  lost: 0,
  lostRequests: 0,
  lostReplies: 0,
  podChanges: 0,
  addressChanges: 0,
  longestOutageMs: 0,
  pod: 'pod-1',
  mappedAddress: null,
});

function input(events: ReturnType<typeof event>[], nodeFlows: [number, string][]): RebindingInput {
  return {
    publicIp: ip,
    report: { sessions: [session(1, 40001), session(2, 40002)], events },
    natBefore: new Map([
      [40001, 40001],
      [40002, 40002],
    ]),
    natAfter: new Map([
      [40001, 5001],
      [40002, 5002],
    ]),
    nodeFlows: new Map(nodeFlows.map(([port, pod]) => [`${ip}:${port}`, pod])),
    podsBefore: new Map(),
  };
}

t.test('rebindingTruth() accepts one change per session from the old to the new binding and counts pod moves', async (t) => {
  const truth = rebindingTruth(
    input(
      [event(1, 40001, 5001), event(2, 40002, 5002)],
      [
        [40001, 'pod-1'],
        [40002, 'pod-2'],
        [5001, 'pod-3'],
        [5002, 'pod-2'],
      ],
    ),
  );
  t.same(truth, { rebound: 2, extraBindings: 0, expectedPodChanges: 1, wrong: [] });
});

t.test('rebindingTruth() accepts a short-lived binding in between that the node saw, as one more change', async (t) => {
  const truth = rebindingTruth(
    input(
      [event(1, 40001, 9626), event(2, 40002, 5002), event(1, 9626, 5001)],
      [
        [40001, 'pod-1'],
        [40002, 'pod-2'],
        [9626, 'pod-3'],
        [5001, 'pod-1'],
        [5002, 'pod-2'],
      ],
    ),
  );
  t.same(truth, { rebound: 2, extraBindings: 1, expectedPodChanges: 2, wrong: [] });
});

t.test('rebindingTruth() rejects a wrong port, a missing change, a broken chain and an in-between binding the node never saw', async (t) => {
  const flows: [number, string][] = [
    [40001, 'pod-1'],
    [40002, 'pod-2'],
    [5001, 'pod-1'],
    [5002, 'pod-2'],
  ];
  t.match(rebindingTruth(input([event(1, 40001, 5009), event(2, 40002, 5002)], flows)).wrong, [/^#1: NAT moved 203.0.113.2:40001 -> 203.0.113.2:5001, reported \[203.0.113.2:40001 -> 203.0.113.2:5009\]$/]);
  t.match(rebindingTruth(input([event(2, 40002, 5002)], flows)).wrong, [/^#1: /]);
  t.match(rebindingTruth(input([event(1, 40001, 7000), event(1, 7001, 5001), event(2, 40002, 5002)], [...flows, [7000, 'pod-1'], [7001, 'pod-1']])).wrong, [/^#1: /]);
  t.match(rebindingTruth(input([event(1, 40001, 7000), event(1, 7000, 5001), event(2, 40002, 5002)], flows)).wrong, [/^#1: /]);
  t.match(rebindingTruth(input([event(1, 40001, 5002), event(1, 5002, 5001), event(2, 40002, 5002)], flows)).wrong, [/^#1: /], 'another session\'s binding is not a short-lived one');
});

t.test('rebindingTruth() reports a session the NAT has no entry for', async (t) => {
  const base = input([], []);
  t.same(rebindingTruth({ ...base, natAfter: new Map() }).wrong, ['#1: no NAT conntrack entry for local port 40001', '#2: no NAT conntrack entry for local port 40002']);
});
